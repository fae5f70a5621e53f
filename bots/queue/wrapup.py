"""The wrap-up at ``!close``: topics and kinds of referral, from the closed lists in
``queue.wrap_up`` only. Pure: the words a counsellor typed in, ids out (never free text).

Words are separated by spaces or commas, in any order: each is a topic or a referral (the
config keeps the lists apart, and apart from the outcomes). ``-`` (or nothing) says "none".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bots.errors import UserError
from keerpunt.base.config.model import WrapUpConfig

NONE_WORDS = frozenset({"-", "none", "geen"})


@dataclass(frozen=True)
class WrapUp:
    topics: tuple[str, ...]
    referrals: tuple[str, ...]

    @property
    def detail(self) -> str:
        """As the case's event log keeps it (enumerated ids only)."""
        return f"topics={','.join(self.topics) or '-'} referrals={','.join(self.referrals) or '-'}"


def parse_wrap_up(words: str, lists: WrapUpConfig) -> WrapUp:
    topics: list[str] = []
    referrals: list[str] = []
    for word in re.split(r"[\s,]+", words.strip().lower()):
        if not word or word in NONE_WORDS:
            continue
        if word in lists.topics:
            if word not in topics:
                topics.append(word)
        elif word in lists.referrals:
            if word not in referrals:
                referrals.append(word)
        else:
            raise UserError(
                "queue.staff.wrap_up_unknown",
                word=word,
                topics=", ".join(lists.topics),
                referrals=", ".join(lists.referrals),
            )
    return WrapUp(tuple(topics), tuple(referrals))
