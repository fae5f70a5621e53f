"""A new counsellor's first device reads the queue (issue 24): seconds from the device setting up
its cross-signing to both waiting cards decrypted, on Element's own crypto stack.

Usage: .venv/bin/python -m bench.new_device [--runs 3]   (the widget's packages: make setup)

Starts a test Synapse (SQLite) and the bots (``bench.stack``). Each run: two visitors (nio,
cross-signed) answer the triage and wait; then a new counsellor account is made as
``keerpunt staff add`` makes one (staff, in the queue room) and signs in for the first time with
matrix-js-sdk and the Rust crypto in strict mode (``tests/support/element_jssdk.mjs``), which
sets up the account's cross-signing as Element does; the clock runs from that moment to both
cards being readable. Before issue 24 they never were: the cards were posted again only for a
counsellor whose devices the cards had reached before.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.stack import widget_stack
from bots.db import create_database
from bots.db.staff import StaffStore
from bots.db.system_room import SystemRoomStore
from bots.homeserver.account import load_session
from bots.ids import RoomID
from tests.support.bots import ORIGIN, api_url
from tests.support.element import ElementClient
from tests.support.matrix_clients import ClientFactory
from tests.support.triage import answer_all, start_visitor

CALM = {"audience": "self", "danger": "no", "topic": "debts", "region": "friesland"}
GIVE_UP = 60.0


async def one_run(
    clients: ClientFactory, synapse_url: str, api: str, bot: str, staff: StaffStore, queue_room: str, token: str
) -> float:
    visitors = [await start_visitor(clients, api, bot) for _ in range(2)]
    for visitor in visitors:
        await answer_all(visitor, CALM)
    password = secrets.token_urlsafe(16)
    registration = await (await clients.admin()).register(f"bench-{secrets.token_hex(5)}", password)
    await staff.add(registration.user_id, "counsellor")
    await (await clients.admin(token)).force_join(RoomID(queue_room), registration.user_id)
    element = await ElementClient.start(synapse_url, registration.user_id, password)
    try:
        assert element.signed_at is not None
        numbers = {v.number for v in visitors}
        await element.wait_for(
            lambda: all(element.card(queue_room, n) for n in numbers), within=GIVE_UP, what="both cards"
        )
        return time.monotonic() - element.signed_at
    finally:
        await element.close()


async def bench(runs: int) -> None:
    async with widget_stack("new_device", {"bots": {"api": {"allowed_origins": [ORIGIN]}}}) as synapse:
        config = synapse.config
        session = load_session(config)
        assert session is not None
        db = create_database(config)
        await db.start()
        tmp = Path(tempfile.mkdtemp(prefix="keerpunt-bench-clients-"))
        clients = ClientFactory(synapse, tmp)
        try:
            queue_room = await SystemRoomStore(db).get("queue")
            assert queue_room is not None
            api, staff = api_url(config), StaffStore(db)
            times = [
                await one_run(clients, synapse.url, api, config.bot_user_id, staff, queue_room, session.access_token)
                for _ in range(runs)
            ]
        finally:
            await clients.close()
            await db.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    shown = ", ".join(f"{t:.2f}" for t in times)
    print(f"first device signed → both waiting cards decrypted: p50 {statistics.median(times):.2f} s ({shown})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(bench(args.runs))


if __name__ == "__main__":
    main()
