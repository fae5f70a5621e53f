"""``!pause`` / ``!pauze``, ``!resume`` / ``!verder`` and ``!capacity [N]``: a counsellor's own
state, in any staff room. A break's length is counted (day, bucket, minutes) without a name."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bots.commands.table import Call, Command, args
from bots.counsellors.counting import count_action
from bots.counsellors.roster import Roster
from bots.db import Stores
from bots.errors import UserError
from bots.texts import Language, text
from keerpunt.base.config.loader import MAX_CAPACITY

COUNSELLORS = frozenset({"counsellor"})
# Minutes: how long breaks were (a break at the end of a shift lasts until the next one).
BREAK_EDGES = (15, 30, 60, 120, 480)


def break_bucket(minutes: float) -> str:
    low = 0
    for edge in BREAK_EDGES:
        if minutes < edge:
            return f"{low}-{edge}"
        low = edge
    return f"{low}+"


class ShiftCommands:
    def __init__(self, stores: Stores, roster: Roster, zone: ZoneInfo, language: Language) -> None:
        self.stores = stores
        self.roster = roster
        self.zone = zone
        self.language = language

    @property
    def commands(self) -> tuple[Command, ...]:
        return (
            Command("pause", args(""), "staff", self.pause, COUNSELLORS, aliases=("pauze",)),
            Command("resume", args(""), "staff", self.resume, COUNSELLORS, aliases=("verder",)),
            Command("capacity", args("chats:word?"), "staff", self.capacity, COUNSELLORS),
        )

    async def pause(self, call: Call) -> str | None:
        if not await self.stores.staff.start_break(call.sender, call.now):
            raise UserError("shift.already_on_break")
        load = await self.roster.load_of(call.sender)
        await count_action(self.stores, self.zone, call.now, "pause")
        return text(self.language, "shift.paused", chats=load.chats if load else 0)

    async def resume(self, call: Call) -> str | None:
        since = await self.stores.staff.end_break(call.sender)
        if since is None:
            raise UserError("shift.not_on_break")
        minutes = max(0.0, (call.now - since) / 60_000)
        day = datetime.fromtimestamp(call.now / 1000, tz=UTC).astimezone(self.zone).date().isoformat()
        await self.stores.stats.add(day, "breaks", "total")
        await self.stores.stats.add(day, "breaks", f"minutes:{break_bucket(minutes)}")
        await self.stores.stats.add(day, "break_minutes", "total", round(minutes))
        await count_action(self.stores, self.zone, call.now, "resume")
        return text(self.language, "shift.resumed", minutes=round(minutes))

    async def capacity(self, call: Call) -> str | None:
        given = call.values.get("chats")
        load = await self.roster.load_of(call.sender)
        assert load is not None  # only counsellors may use it
        if given is None:
            return text(self.language, "shift.capacity_now", capacity=load.capacity, chats=load.chats)
        if not given.isdigit() or not 1 <= int(given) <= MAX_CAPACITY:
            raise UserError("shift.capacity_bad", value=given, most=str(MAX_CAPACITY))
        await self.stores.staff.set_capacity(call.sender, int(given))
        await count_action(self.stores, self.zone, call.now, "capacity")
        return text(self.language, "shift.capacity_set", capacity=int(given), chats=load.chats)
