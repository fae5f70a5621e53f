"""A visitor going through triage, as the widget would (structured replies) or as a person
typing in a plain client (numbers, labels)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bots.triage import TriageDefinition, load_definition

from .matrix_clients import ClientFactory
from .staff import Event, Observer
from .visitor import join, new_session, speak_first

DEFINITION: TriageDefinition = load_definition()


@dataclass
class Visitor:
    observer: Observer
    session: dict[str, Any]
    bot: str

    @property
    def room(self) -> str:
        return str(self.session["room_id"])

    @property
    def number(self) -> str:
        return str(self.session["case"])

    def from_bot(self) -> list[Event]:
        return self.observer.messages(self.room, self.bot)

    async def next_from_bot(self, seen: int, *, count: int = 1, within: float = 20.0) -> list[Event]:
        """Wait until the bot has sent ``count`` messages after the first ``seen``; return them."""
        await self.observer.wait_for(
            lambda: len(self.from_bot()) >= seen + count, within=within, what=f"{count} bot message(s) after {seen}"
        )
        return self.from_bot()[seen : seen + count]

    async def answer(self, body: str, *, prompt: str | None = None, option: str | None = None) -> str:
        extra: dict[str, Any] = {}
        if prompt is not None:
            extra["nl.keerpunt.reply"] = {"prompt": prompt, "option": option}
        return await self.observer.say(self.room, body, **extra)


async def start_visitor(
    clients: ClientFactory, api: str, bot: str, language: str = "nl", *, within: float = 20.0
) -> Visitor:
    """Session → cross-signed visitor → join → speak first → greeting and the first question."""
    session = await new_session(api, language)
    user = await clients.visitor(session)
    await join(user, session["room_id"], bot)
    visitor = Visitor(Observer(user), session, bot)
    await speak_first(user, session["room_id"], language)
    await visitor.next_from_bot(0, count=2, within=within)
    return visitor


def prompt_of(event: Event) -> dict[str, Any] | None:
    prompt = event["content"].get("nl.keerpunt.prompt")
    return prompt if isinstance(prompt, dict) else None


def label(question: str, option: str, language: str = "nl") -> str:
    q = DEFINITION.question(question)
    assert q is not None
    found = q.option(option)
    assert found is not None
    return found.label[language]  # type: ignore[index]


def number_of(question: str, option: str) -> str:
    q = DEFINITION.question(question)
    assert q is not None
    ids = [o.id for o in q.options] + [DEFINITION.skip.id]
    return str(ids.index(option) + 1)


async def answer_all(visitor: Visitor, answers: dict[str, str], *, within: float = 20.0) -> None:
    """Answer every question with structured replies, waiting for each next bot message."""
    for question in DEFINITION.questions:
        seen = len(visitor.from_bot())
        option = answers[question.id]
        await visitor.answer(
            label(question.id, option) if option != "skip" else "skip", prompt=question.id, option=option
        )
        await visitor.next_from_bot(seen, within=within)
