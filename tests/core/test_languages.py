"""Routing by language (issue 26): a Polish visitor hears Polish, the card shows ``pl``, the
reminder names the counsellors on shift who speak it first, and with none on shift the visitor
is offered Dutch or English in Polish."""

from __future__ import annotations

import pytest

from bots.ids import UserID
from bots.texts import Language, language_label, text
from bots.triage.definition import load_definition
from tests.support.core import CoreBot, Visitor

CALM = {"audience": "self", "danger": "no", "topic": "money-mule", "region": "zeeland"}


async def polish_visitor(core: CoreBot) -> Visitor:
    visitor = await core.open_case("pl")
    await visitor.answer_all(CALM)
    return visitor


async def counsellor(core: CoreBot, name: str, *languages: str) -> UserID:
    user = await core.add_staff(name)
    if languages:
        await core.stores.staff.set_languages(user, languages)
    return user


async def test_a_polish_visitor_reads_polish_and_the_card_shows_pl(core: CoreBot) -> None:
    await counsellor(core, "anna")
    visitor = await polish_visitor(core)
    bodies = [s.body for s in visitor.heard()]
    assert text("pl", "greeting.welcome") in bodies
    assert bodies[0] != text("nl", "greeting.welcome")
    # The triage's questions came with Polish buttons.
    prompts = [s.content["nl.keerpunt.prompt"] for s in visitor.heard() if "nl.keerpunt.prompt" in s.content]
    danger = next(p for p in prompts if p["id"] == "danger")
    assert [o["label"] for o in danger["options"]][:3] == ["Tak", "Nie", "Nie wiem"]
    # The card, in the staff's language (Dutch here), says the visitor's.
    card = core.card_now(visitor.number)
    assert text("nl", "queue.card.line", name="Taal", value="pl – Pools") in card.splitlines()


async def test_the_reminder_mentions_the_polish_speaker_on_shift_first(core: CoreBot) -> None:
    anna = await counsellor(core, "anna")
    zofia = await counsellor(core, "zofia", "nl", "en", "pl")
    visitor = await polish_visitor(core)
    core.clock.advance(30 * 60 + 1)
    await core.settle()
    (ping,) = core.reminders(visitor.number)
    assert ping["m.mentions"] == {"user_ids": [zofia, anna]}, "the Polish speaker first"
    assert ping["body"].index(zofia) < ping["body"].index(anna)
    speaks = text("nl", "queue.staff.reminder_language", visitor_language="pl – Pools", speakers=zofia)
    assert speaks in ping["body"]
    # Someone on shift speaks it: the visitor is not offered another language.
    assert text("pl", "queue.visitor.other_language") not in [s.body for s in visitor.heard()]


async def test_with_no_polish_speaker_on_shift_the_visitor_is_offered_dutch_or_english_in_polish(
    core: CoreBot,
) -> None:
    anna = await counsellor(core, "anna")
    zofia = await counsellor(core, "zofia", "pl")
    await core.command(core.queue_room, zofia, "!pause")
    visitor = await polish_visitor(core)
    await core.settle()
    offer = text("pl", "queue.visitor.other_language")
    assert "po niderlandzku albo po angielsku" in offer
    assert [s.body for s in visitor.heard()].count(offer) == 1
    # Told once only, however often the notices run.
    core.clock.advance(60)
    await core.settle()
    assert [s.body for s in visitor.heard()].count(offer) == 1
    # The reminder says so to staff, and mentions who may take it.
    core.clock.advance(30 * 60 + 1)
    await core.settle()
    (ping,) = core.reminders(visitor.number)
    assert ping["m.mentions"] == {"user_ids": [anna]}
    nobody = text("nl", "queue.staff.reminder_language", visitor_language="pl – Pools", speakers="")
    assert nobody in ping["body"]


async def test_a_dutch_visitor_gets_no_language_notice_and_an_unchanged_reminder(core: CoreBot) -> None:
    anna = await counsellor(core, "anna", "pl")  # speaks neither Dutch nor English (an edge case)
    visitor = await core.open_case("nl")
    await visitor.answer_all(CALM)
    core.clock.advance(30 * 60 + 1)
    await core.settle()
    assert not [s for s in visitor.heard() if s.kind == "queue.other_language"]
    (ping,) = core.reminders(visitor.number)
    assert ping["m.mentions"] == {"user_ids": [anna]}
    assert "Taal van de bezoeker" not in ping["body"]


async def test_an_outreach_invite_carries_the_visitors_language(core: CoreBot) -> None:
    olga = await core.add_staff("olga", role="outreach")
    room = core.bot.parts.rooms["outreach"]
    answer = await core.command(room, olga, "!outreach link pl")
    assert answer is not None and "/pl/czat#invite=" in answer and "(taal pl – Pools)" in answer
    invite = core.sent(room)[-2].content["nl.keerpunt.invite"]
    assert invite["language"] == "pl" and "/pl/czat#invite=" in invite["link"]
    # With an article: the link opens that article (its own language decides the page).
    article = await core.command(room, olga, "!outreach link ar geldezel-je-rekening-uitlenen")
    assert article is not None and "/nl/artikel/geldezel-je-rekening-uitlenen#invite=" in article
    assert await core.command(room, olga, "!outreach link pl ro") == text("nl", "outreach.two_languages")
    # Without a language: the staff's default, as before.
    plain = await core.command(room, olga, "!outreach link")
    assert plain is not None and "/nl/chat#invite=" in plain


@pytest.mark.parametrize("language", ["pl", "ro", "bg", "uk", "ar"])
async def test_each_new_language_greets_asks_and_queues_in_that_language(core: CoreBot, language: Language) -> None:
    visitor = await core.open_case(language)
    await visitor.start()
    greeting = visitor.heard()[0]
    assert greeting.body == text(language, "greeting.welcome")
    definition = load_definition()
    first = definition.questions[0]
    prompt = next(s.content["nl.keerpunt.prompt"] for s in visitor.heard() if "nl.keerpunt.prompt" in s.content)
    assert prompt["id"] == first.id
    labels = [o["label"] for o in prompt["options"]]
    assert labels == [*(o.label[language] for o in first.options), definition.skip.label[language]]
    assert len(set(labels) & {o.label["nl"] for o in first.options}) == 0, "nothing in Dutch"
    for question, option in CALM.items():
        await visitor.press(question, option)
    # Done, with the place in the queue, in the visitor's language.
    assert any(s.body.startswith(text(language, "triage.done")) for s in visitor.heard())
    line = text("nl", "queue.card.line", name="Taal", value=language_label("nl", language))
    assert line in core.card_now(visitor.number).splitlines()
