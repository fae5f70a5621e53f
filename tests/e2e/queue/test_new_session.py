"""A counsellor who signs in on a new session (a new laptop, a cleared browser) reads the waiting
cards: the bot posts every live card again once the new device is cross-signed (issue 13)."""

from __future__ import annotations

import shutil
import time

import pytest

from bots.crypto.cross_signing import KEY_FILE
from bots.db.system_room import SystemRoomStore
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor
from tests.support.triage import answer_all, start_visitor

pytestmark = pytest.mark.integration

ANSWERS = {"audience": "self", "danger": "no", "topic": "debts", "region": "friesland"}


@pytest.mark.fresh_bots("counts the live cards of its own queue")
async def test_a_new_cross_signed_session_decrypts_the_waiting_cards_within_ten_seconds(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    visitors = [await start_visitor(clients, bots.api, bots.user_id) for _ in range(2)]
    for visitor in visitors:
        await answer_all(visitor, ANSWERS)
        await counsellor.wait_for(lambda v=visitor: counsellor.card(queue_room, v.number), what="the card")

    old_cards = {counsellor.card(queue_room, v.number)["event_id"] for v in visitors}  # type: ignore[index]

    # The new session: same account, a new device, cross-signed with the account's own keys.
    laptop = await clients.second_device(counsellor.user)
    assert laptop.store is not None and counsellor.user.store is not None
    shutil.copyfile(counsellor.user.store / KEY_FILE, laptop.store / KEY_FILE)
    await clients.cross_sign(laptop)
    assert laptop.cross_signing is not None
    assert laptop.cross_signing.master_public == counsellor.user.cross_signing.master_public  # type: ignore[union-attr]
    new = Observer(laptop)
    signed_at = time.monotonic()
    for visitor in visitors:
        await new.wait_for(
            lambda v=visitor: new.card(queue_room, v.number), within=10, what=f"card {visitor.number}, new session"
        )
    assert time.monotonic() - signed_at < 10

    # The cards they replace are redacted: one live card per case for everyone.
    def redacted() -> set[str]:
        return {e.get("redacts", "") for e in counsellor.events(queue_room, bots.user_id, "m.room.redaction")}

    await counsellor.wait_for(lambda: old_cards <= redacted(), what="the replaced cards to be redacted")
