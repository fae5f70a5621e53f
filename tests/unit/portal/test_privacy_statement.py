"""The public privacy statement is true (issue 23, N11; SECURITY.md F.28).

Where the statement names a number, the number comes from the configuration the platform runs
with (retention, how long Synapse remembers an address, how long a return code works and how many
wrong words erase it), and the test changes the configuration and reads the page. Where it makes a
claim about how the system works, the test checks that claim against the code or the rendered
Synapse config, and no content page may repeat a sentence that was found untrue.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import yaml

from keerpunt.site.folder import DEFAULT_CONTENT_DIR
from keerpunt.synapse_config import init_synapse
from tests.support.synapse import make_test_config

from .conftest import ClientFactory

ROOT = Path(__file__).resolve().parents[3]
STATEMENTS = {
    "nl": DEFAULT_CONTENT_DIR / "nl" / "privacyverklaring.md",
    "en": DEFAULT_CONTENT_DIR / "en" / "privacy-statement.md",
}
# The chat start screen's sentence (issue 23): the statement says the same.
ENCRYPTION = {
    "nl": (
        "versleuteld tussen je browser en Keerpunt",
        "Alleen de hulpverleners in het gesprek en het chatsysteem van Keerpunt",
    ),
    "en": (
        "encrypted between your browser and Keerpunt",
        "Only the counsellors in the conversation and Keerpunt's chat system",
    ),
}
# Sentences that were untrue (review 3, N11): the bots read every chat; an account with a code
# is kept until the code expires; a website that keeps a scrambled network code does not
# "never store" anything for "a few minutes".
UNTRUE = [
    "alleen de mensen in het gesprek",
    "alleen jij en de mensen in het gesprek",
    "only the people in the conversation",
    "only you and the people in the conversation",
    "wordt dit account verwijderd en gewist",
    "this account is deleted and erased",
    "dat slaan we nooit op",
    "we never store it",
    "hooguit een uur",
    "for at most an hour",
]


def page_text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


async def test_the_statements_numbers_come_from_the_configuration(make_client: ClientFactory) -> None:
    config = {
        "retention": {"case_room_days": 21},
        "synapse": {"user_ips_max_age_days": 3},
        "return_code": {"enabled": True, "valid_days": 9, "max_wrong": 4},
    }
    client = await make_client(config)
    nl = page_text(await (await client.get("/nl/privacy")).text())
    en = page_text(await (await client.get("/en/privacy")).text())
    assert "na 21 dagen helemaal verwijderd" in nl and "after 21 days" in en
    assert "hooguit 3 dagen" in nl and "at most 3 days" in en
    assert "werkt 9 dagen" in nl and "Na 4 foute geheime woorden" in nl
    assert "works for 9 days" in en and "After 4 wrong secret words" in en
    assert "niemand het binnen" not in nl  # write-later off: its keeping time is not named
    # With write-later on, its keeping time too.
    client = await make_client({**config, "async": {"enabled": True, "keep_days": 5}})
    nl = page_text(await (await client.get("/nl/privacy")).text())
    en = page_text(await (await client.get("/en/privacy")).text())
    assert "niemand het binnen 5 dagen beantwoordt" in nl and "nobody answers it within 5 days" in en
    # Without return codes the page names no code's days.
    client = await make_client({"return_code": {"enabled": False}})
    nl = page_text(await (await client.get("/nl/privacy")).text())
    assert "foute geheime woorden" not in nl and "niemand het binnen" not in nl


def test_synapse_forgets_addresses_when_the_statement_says(tmp_path: Path) -> None:
    config = make_test_config(tmp_path, {"synapse": {"user_ips_max_age_days": 3}})
    homeserver = yaml.safe_load(init_synapse(config).read_text())
    assert homeserver["user_ips_max_age"] == "3d"


def test_the_statement_says_who_can_read_the_chat_as_the_chat_does() -> None:
    for language, path in STATEMENTS.items():
        text = path.read_text("utf-8")
        for sentence in ENCRYPTION[language]:
            assert sentence in text, (language, sentence)
    # The chat system can read because the bots are members of every case room: the statement
    # must say so, and the page about privacy too.
    for path in (
        DEFAULT_CONTENT_DIR / "nl" / "je-privacy-en-anonimiteit.md",
        DEFAULT_CONTENT_DIR / "en" / "your-privacy-and-anonymity.md",
    ):
        text = path.read_text("utf-8")
        assert "chatsysteem" in text or "chat system" in text, path


def test_the_statement_explains_the_return_code_and_the_account_it_keeps() -> None:
    nl, en = (STATEMENTS[lang].read_text("utf-8") for lang in ("nl", "en"))
    assert "**Je code om later verder te praten**" in nl and "**Your code to talk again later**" in en
    assert "op slot bestaan tot de code verloopt" in nl and "locked, until the code expires" in en
    assert "kan het gesprek lezen" in nl and "can read the conversation" in en


def test_no_content_page_repeats_an_untrue_sentence() -> None:
    for path in sorted(DEFAULT_CONTENT_DIR.glob("*/*.md")):
        text = " ".join(path.read_text("utf-8").split())
        for sentence in UNTRUE:
            assert sentence.lower() not in text.lower(), (path.name, sentence)


def test_the_rate_limiter_keeps_only_a_keyed_hash_in_memory() -> None:
    """The statement: a scrambled code of your network, only in memory, never on a disk."""
    (module,) = [p for p in (ROOT / "bots").rglob("*.py") if "class ClientKeyer" in p.read_text("utf-8")]
    tree = ast.parse(module.read_text("utf-8"))
    imported = {
        alias.name.split(".")[0] if isinstance(node, ast.Import) else (node.module or "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    # Memory and hashing only: no database, file, log or network module.
    assert imported <= {
        "__future__",
        "hashlib",
        "hmac",
        "ipaddress",
        "secrets",
        "collections",
        "dataclasses",
        "bots.clock",
        "typing",
    }, imported
    source = module.read_text("utf-8")
    assert "secrets.token_bytes(32)" in source  # a random key per process: a restart forgets everything
    assert "open(" not in source and "log." not in source
    # The key covers the network (/24, /48), never the address itself.
    assert "prefix = 24 if ip.version == 4 else 48" in source
