"""The staff command table: parsing, who may use what where, !help, and unexpected failures."""

from __future__ import annotations

import logging

import pytest

from bots.commands.table import Command, CommandTable, args, is_command
from bots.errors import UserError
from bots.queue.domain import QueueDomain
from bots.texts import STAFF_LANGUAGES, catalogue, text
from tests.support.core import CoreBot

ANSWERS = {"audience": "self", "danger": "no", "topic": "other", "region": "unknown"}


@pytest.mark.parametrize(
    ("body", "name", "values"),
    [
        ("!claim 4821", "claim", {"case": "4821"}),
        ("!claim #4821", "claim", {"case": "4821"}),
        ("!CLAIM", "claim", {}),
        ("!release", "release", {}),
        ("!transfer 12 @anna:keerpunt.nl", "transfer", {"case": "12", "user": "@anna:keerpunt.nl"}),
        ("!close", "close", {}),
        ("!close Doorverwezen", "close", {"outcome": "doorverwezen"}),
        ("!note 12 belt morgen terug, is bang", "note", {"case": "12", "text": "belt morgen terug, is bang"}),
        ("!queue", "queue", {}),
        ("!handover politie Jongen van 16", "handover", {"partner": "politie", "summary": "Jongen van 16"}),
        ("!decline geen plek", "decline", {"reason": "geen plek"}),
        ("  !help  ", "help", {}),
    ],
)
async def test_commands_parse(core: CoreBot, body: str, name: str, values: dict[str, str]) -> None:
    parsed = core.bot.commands.table.parse(body)
    assert parsed.command.name == name
    assert parsed.values == values


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("!claimm 1", "commands.unknown"),
        ("!transfer 12", "commands.missing_argument"),
        ("!transfer twelve @a:b", "commands.bad_case"),
        ("!transfer 12 anna", "commands.bad_user"),
        ("!release now", "commands.too_many_arguments"),
        ("!note 12", "commands.missing_argument"),
    ],
)
async def test_bad_commands_get_a_helpful_error(core: CoreBot, body: str, key: str) -> None:
    with pytest.raises(UserError) as info:
        core.bot.commands.table.parse(body)
    assert info.value.key == key
    if key != "commands.unknown":
        assert info.value.values["usage"].startswith("!")


def test_only_bang_messages_are_commands() -> None:
    assert is_command("!queue")
    assert not is_command("hallo !queue")
    assert not is_command("!")


async def _nothing(call: object) -> str | None:
    return None


def test_a_two_word_name_is_a_subcommand_and_the_bare_word_lists_them() -> None:
    table = CommandTable(
        [
            Command("outreach link", args("campaign:word? article:word?"), "any", _nothing),
            Command("outreach revoke", args("code:word"), "any", _nothing),
            Command("queue", args(""), "any", _nothing),
        ]
    )
    parsed = table.parse("!outreach link geldezel")
    assert parsed.command.name == "outreach link" and parsed.values == {"campaign": "geldezel"}
    assert table.parse("!Outreach REVOKE abcd").values == {"code": "abcd"}
    for body in ("!outreach", "!outreach lnk"):
        with pytest.raises(UserError) as info:
            table.parse(body)
        assert info.value.key == "commands.subcommands"
        assert info.value.values["usages"].splitlines() == [
            "!outreach link [campaign] [article]",
            "!outreach revoke <code>",
        ]
    with pytest.raises(ValueError, match="two concerns"):
        CommandTable([Command("queue", (), "any", _nothing), Command("queue", (), "any", _nothing)])


async def test_every_command_has_a_usage_line_and_help_in_both_languages(core: CoreBot) -> None:
    table = core.bot.commands.table
    assert {c.name for c in table} >= {"claim", "release", "transfer", "close", "note", "queue", "help"}
    assert {c.name for c in table} >= {"partners", "handover", "handover-status", "accept", "decline"}
    for command in table:
        assert command.usage.startswith(f"!{command.name}")
        for language in STAFF_LANGUAGES:  # staff work in Dutch or English
            assert command.help_key in catalogue(language), f"{language}: {command.help_key}"


async def test_help_is_generated_from_the_table_in_its_order(core: CoreBot) -> None:
    counsellor = await core.add_staff("anna")
    listing = await core.command(core.queue_room, counsellor, "!help")
    assert listing is not None
    lines = listing.splitlines()
    assert lines[0] == text("nl", "commands.help_header")
    assert [line.split(" – ")[0] for line in lines[1:]] == [c.usage for c in core.bot.commands.table]
    outcomes = ", ".join(core.config.queue.outcomes)
    assert outcomes in next(line for line in lines if line.startswith("!close"))


async def test_commands_of_someone_who_is_not_staff_are_refused(core: CoreBot) -> None:
    visitor = await core.open_case()
    await visitor.answer_all(ANSWERS)
    stranger = "@stranger:localhost"
    not_staff = text("nl", "commands.not_staff")
    for command in (f"!claim {visitor.number}", "!queue", "!help", f"!note {visitor.number} hallo"):
        assert await core.command(core.queue_room, stranger, command) == not_staff
    card = core.card(visitor.number)
    await core.react(core.queue_room, stranger, card.event_id)
    assert core.replies(core.queue_room, card.event_id) == [not_staff]
    q = await core.stores.queue.workflow.by_number(visitor.number)
    assert q is not None and q.stage == "waiting" and q.claimed_by is None
    # A staff member's commands work in the same room.
    counsellor = await core.add_staff("anna")
    listing = await core.command(core.queue_room, counsellor, "!queue")
    assert listing is not None and listing.startswith(text("nl", "queue.staff.queue_header", count=1))


async def test_a_partner_account_is_nobody_outside_its_handover_rooms(core: CoreBot) -> None:
    partner = await core.add_staff("intake", "partner", "politie")
    assert await core.command(core.queue_room, partner, "!queue") == text("nl", "commands.not_staff")
    assert await core.command(core.queue_room, partner, "!help") == text("nl", "commands.not_staff")


async def test_mistakes_get_a_helpful_answer(core: CoreBot) -> None:
    counsellor = await core.add_staff("anna")
    room = core.queue_room
    transfer = core.bot.commands.table.get("transfer")
    assert transfer is not None
    assert await core.command(room, counsellor, "!claimm 12") == text("nl", "commands.unknown", name="claimm")
    assert await core.command(room, counsellor, "!transfer 12") == text(
        "nl", "commands.missing_argument", usage=transfer.usage, argument="user"
    )
    assert await core.command(room, counsellor, "!close helped") == text("nl", "commands.only_in_case_room")
    assert await core.command(room, counsellor, "!accept") == text("nl", "commands.not_staff")
    assert await core.command(room, counsellor, "!claim 99999999") == text(
        "nl", "queue.staff.unknown_case", number="99999999"
    )
    assert await core.command(room, counsellor, "!claim") == text("nl", "queue.staff.which_case")
    listing = await core.command(room, counsellor, "!queue")
    assert listing is not None and listing.splitlines()[0] == text("nl", "queue.staff.queue_empty")


async def test_an_answer_in_a_thread_stays_in_that_thread(core: CoreBot) -> None:
    counsellor = await core.add_staff("anna")
    root = "$somecard"
    relates = {"rel_type": "m.thread", "event_id": root, "m.in_reply_to": {"event_id": root}}
    command = await core.say(core.queue_room, counsellor, "!queue", **{"m.relates_to": relates})
    (answer,) = [
        s for s in core.sent(core.queue_room) if s.content["m.relates_to"]["m.in_reply_to"]["event_id"] == command
    ]
    assert answer.content["msgtype"] == "m.notice"
    assert (
        answer.content["m.relates_to"]["event_id"] == root and answer.content["m.relates_to"]["rel_type"] == "m.thread"
    )


async def test_a_command_that_fails_unexpectedly_is_answered_with_a_reference_and_changes_nothing(
    core: CoreBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    visitor = await core.open_case()
    await visitor.answer_all(ANSWERS)
    counsellor = await core.add_staff("anna")

    async def broken(self: QueueDomain, *args: object, **kwargs: object) -> None:
        await self.log.add((await core.case(visitor)).id, "claimed", 1)  # a write that must be rolled back
        raise RuntimeError("a bug")

    monkeypatch.setattr(QueueDomain, "claim", broken)
    with caplog.at_level(logging.ERROR):
        answer = await core.command(core.queue_room, counsellor, f"!claim {visitor.number}")
    assert answer is not None
    ref = answer.rsplit(" ", 1)[-1]
    assert answer == text("nl", "commands.failed", ref=ref) and len(ref) == 6
    assert any(ref in record.getMessage() and record.exc_info for record in caplog.records)
    case = await core.case(visitor)
    assert "claimed" not in [entry.kind for entry in await core.stores.case_log.of_case(case.id)]
    q = await core.stores.queue.workflow.by_number(visitor.number)
    assert q is not None and q.stage == "waiting"
    (record,) = [r for r in await core.stores.handled.in_room(core.queue_room) if r.outcome == "failed"]
    assert record.event_id.startswith("$in")
