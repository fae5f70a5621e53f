"""Warm handovers: a partner directory whose intake staff are users of the test Synapse, and the
steps of a handover as the counsellor, the visitor and a partner take them in their clients."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import yaml

from bots.db import Database
from bots.db.system_room import SystemRoomStore
from keerpunt.base.config import Config

from .matrix_clients import ClientFactory
from .staff import Event, Observer, add_counsellor
from .triage import Visitor, answer_all, start_visitor

ANSWERS = {"audience": "self", "danger": "no", "topic": "forced-crime", "region": "utrecht"}
SUMMARY = "Jongen van 16 moet pakketjes rondbrengen voor een oudere jongen en durft niet te stoppen."


@dataclass
class Partners:
    """Two partners: ``care`` (Utrecht, its intake member listed in the directory) and
    ``police`` (national, its intake member a local partner account of the staff table)."""

    file: Path
    care: Observer
    police: Observer


def directory(care: str) -> dict[str, Any]:
    return {
        "partners": [
            {
                "id": "jeugdzorg-utrecht",
                "name": "Jeugdzorg Utrecht",
                "kind": "youth-care",
                "regions": ["utrecht"],
                "description": {"nl": "Hulp voor jongeren in Utrecht.", "en": "Help for young people in Utrecht."},
                "intake": [care],
            },
            {
                # No intake listed: its intake member is a local account of the staff table,
                # as `keerpunt staff add NAME --role partner --partner politie` makes it.
                "id": "politie",
                "name": "Politie",
                "kind": "police",
                "regions": ["national"],
                "description": {"nl": "De politie.", "en": "The police."},
            },
        ]
    }


async def make_partners(clients: ClientFactory, folder: Path) -> Partners:
    """Cross-signed intake members of both partners and the directory file that names them."""
    care = Observer(await clients.user("intake-zorg", cross_sign=True))
    police = Observer(await clients.user("intake-politie", cross_sign=True))
    path = folder / "partners.yaml"
    path.write_text(yaml.safe_dump(directory(care.user_id), allow_unicode=True))
    return Partners(path, care, police)


def handover_extra(partners: Partners) -> dict[str, Any]:
    return {"handover": {"partners_file": str(partners.file), "reminder_hours": 1}}


async def claimed_case(clients: ClientFactory, config: Config, db: Database, api: str) -> tuple[Visitor, Observer]:
    """A visitor through triage and a cross-signed counsellor who claimed the chat and joined it."""
    counsellor = await add_counsellor(clients, config, db)
    queue_room = await SystemRoomStore(db).get("queue")
    assert queue_room is not None
    visitor = await start_visitor(clients, api, config.bot_user_id)
    await answer_all(visitor, ANSWERS)
    await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), what="the case card")
    await counsellor.say(queue_room, f"!claim {visitor.number}")
    await counsellor.wait_for(lambda: visitor.room in counsellor.user.client.invited_rooms, what="the invite")
    await counsellor.join(visitor.room)
    await visitor.observer.wait_for(
        lambda: counsellor.user_id in visitor.observer.user.client.rooms[visitor.room].users, what="the counsellor"
    )
    return visitor, counsellor


def of_kind(observer: Observer, room: str, bot: str, kind: str) -> list[Event]:
    return [e for e in observer.messages(room, bot) if e["content"].get("nl.keerpunt.message") == kind]


async def wait_kind(observer: Observer, room: str, bot: str, kind: str, *, within: float = 30.0) -> Event:
    found: list[Event] = await observer.wait_for(
        lambda: of_kind(observer, room, bot, kind), within=within, what=f"a {kind} message"
    )
    return found[0]


async def answer_consent(visitor: Visitor, option: str) -> None:
    """Press a button of the newest consent question, as the widget does."""
    labels = {"yes": "Ja, dat wil ik", "no": "Nee, liever niet", "later": "Ik wil erover nadenken"}
    question = of_kind(visitor.observer, visitor.room, visitor.bot, "handover.consent")[-1]
    await visitor.answer(labels[option], prompt=question["content"]["nl.keerpunt.prompt"]["id"], option=option)


async def handover_room(
    visitor: Visitor, counsellor: Observer, partner: Observer, partner_id: str, summary: str, *, within: float = 30.0
) -> str:
    """``!handover``, the visitor's yes, the partner joins and reads the summary: the room's ID."""
    await counsellor.say(visitor.room, f"!handover {partner_id} {summary}")
    await wait_kind(visitor.observer, visitor.room, visitor.bot, "handover.consent")
    await answer_consent(visitor, "yes")
    room = await new_invite(partner, within=within)
    await partner.join(room)
    await wait_kind(partner, room, visitor.bot, "handover.summary", within=within)
    return room


async def new_invite(observer: Observer, *, within: float = 30.0) -> str:
    """The first room ``observer`` is invited to that it has not joined."""
    client = observer.user.client

    def pending() -> str | None:
        return next((r for r in observer.invites if r not in client.rooms or r in client.invited_rooms), None)

    room: str = await observer.wait_for(pending, within=within, what="an invite")
    return room


_OPERATORS: dict[ClientFactory, str] = {}


async def admin_get(clients: ClientFactory, path: str) -> tuple[int, dict[str, Any]]:
    """GET with a Synapse server admin's token (one operator account per test)."""
    if clients not in _OPERATORS:
        _OPERATORS[clients] = (await clients.user("operator", admin=True)).registration.access_token
    headers = {"Authorization": f"Bearer {_OPERATORS[clients]}"}
    async with aiohttp.ClientSession() as http, http.get(clients.synapse.url + path, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def room_state(clients: ClientFactory, room_id: str) -> list[dict[str, Any]]:
    status, data = await admin_get(clients, f"/_synapse/admin/v1/rooms/{quote(room_id)}/state")
    assert status == 200, data
    return list(data["state"])


async def member_events(clients: ClientFactory, room_id: str) -> list[dict[str, Any]]:
    """Every membership event of the room, in order (from the admin API's room messages)."""
    events: list[dict[str, Any]] = []
    token = ""
    while True:
        path = f"/_synapse/admin/v1/rooms/{quote(room_id)}/messages?dir=f&limit=100"
        if token:
            path += f"&from={quote(token)}"
        status, data = await admin_get(clients, path)
        assert status == 200, data
        chunk = data.get("chunk", [])
        events += [e for e in chunk if e.get("type") == "m.room.member"]
        if not chunk or not data.get("end") or data.get("end") == token:
            return events
        token = data["end"]
