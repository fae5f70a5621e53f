"""Outside opening hours: the session API says when the chat opens; the bot says so in the room."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bots.db.case import CaseStore
from bots.db.queue_case import QueueStore
from bots.db.system_room import SystemRoomStore
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor
from tests.support.triage import DEFINITION, Visitor, answer_all, start_visitor
from tests.support.visitor import join, new_session, post_session, speak_first

from .conftest import QUEUE

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("Europe/Amsterdam")
TODAY = datetime.now(ZONE).date()


def closed_on(day: date) -> dict[str, Any]:
    """Open around the clock, except all of ``day``."""
    return {**QUEUE, "hours": {"closed_dates": [day.isoformat()]}}


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=ZONE)


@pytest.mark.fresh_bots("hours of its own")
@pytest.mark.parametrize("bots_extra", [closed_on(TODAY)])
async def test_the_session_api_says_closed_with_the_next_opening_and_creates_nothing(bots: InProcessBots) -> None:
    status, body, _ = await post_session(bots.api, {"language": "nl", "entry": "widget"})
    assert status == 200
    tomorrow = midnight(TODAY + timedelta(days=1))
    assert body == {"open": False, "opens_at": tomorrow.isoformat(timespec="seconds")}
    assert datetime.fromisoformat(body["opens_at"]) == tomorrow
    assert await CaseStore(bots.db).count() == 0
    # Bad input is still bad input.
    status, body, _ = await post_session(bots.api, {"language": "xx", "entry": "widget"})
    assert status == 400


@pytest.mark.fresh_bots("hours of its own, and moves the clock")
@pytest.mark.parametrize("bots_extra", [closed_on(TODAY + timedelta(days=1))])
async def test_when_the_chat_closes_the_bot_says_when_it_opens_again(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    waiting = await start_visitor(clients, bots.api, bots.user_id, "en")
    await answer_all(waiting, {q.id: "skip" for q in DEFINITION.questions})
    # A session started just before closing, whose visitor only speaks after it.
    late_session = await new_session(bots.api, "nl")
    late_user = await clients.visitor(late_session)
    await join(late_user, late_session["room_id"], bots.user_id)

    closing = midnight(TODAY + timedelta(days=1)) + timedelta(seconds=30)
    bots.clock.advance(closing.timestamp() - time.time())
    portal = bots.config.portal.public_url
    expected = text("en", "queue.visitor.hours_closed", opens=text("en", "when.tomorrow", time="00:00"), portal=portal)
    notice = await waiting.observer.wait_message(
        waiting.room, bots.user_id, lambda e: e["content"].get("nl.keerpunt.message") == "queue.hours_closed"
    )
    assert notice["content"]["body"] == expected
    assert "112" in expected and "0900-8844" in expected and portal in expected

    late = Visitor(Observer(late_user), late_session, bots.user_id)
    await speak_first(late_user, late.room, "nl")
    greeting, closed = await late.next_from_bot(0, count=2)
    assert greeting["content"]["body"] == text("nl", "greeting.welcome")
    assert closed["content"]["body"] == text(
        "nl", "queue.visitor.hours_closed", opens=text("nl", "when.tomorrow", time="00:00"), portal=portal
    )
    # No questions now; the case waits in the queue with a card, so nobody is forgotten.
    await counsellor.wait_for(lambda: counsellor.card(queue_room, late.number), what="the late visitor's card")
    q = await QueueStore(bots.db).by_number(late.number)
    assert q is not None and q.stage == "waiting" and q.triage_done

    status, body, _ = await post_session(bots.api, {"language": "nl", "entry": "widget"})
    assert status == 200 and body["open"] is False
    assert datetime.fromisoformat(body["opens_at"]) == midnight(TODAY + timedelta(days=2))
