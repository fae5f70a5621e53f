"""``!stats [today|week|month]`` in the queue room: the headline numbers and the queue now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bots.commands.table import Call, Command, args
from bots.db import Stores
from bots.errors import UserError
from bots.stats.report import Report, Value, build
from bots.texts import Language, text
from keerpunt.base.config import Config

PERIODS = ("today", "week", "month")
STAFF = frozenset({"counsellor", "outreach"})


def period(name: str, today: date) -> tuple[date, date]:
    """``today``; ``week``: the last 7 days; ``month``: the last 30 days (both ends included)."""
    days = {"today": 1, "week": 7, "month": 30}[name]
    return today - timedelta(days=days - 1), today


class StatsCommands:
    def __init__(self, stores: Stores, config: Config, zone: ZoneInfo) -> None:
        self.stores = stores
        self.zone = zone
        self.min_cell = config.statistics.min_cell
        self.language: Language = config.languages.default

    @property
    def commands(self) -> tuple[Command, ...]:
        return (Command("stats", args("period:word?"), "staff", self.stats, STAFF),)

    async def stats(self, call: Call) -> str | None:
        name = call.values.get("period", "today")
        if name not in PERIODS:
            raise UserError("stats.period_unknown", periods=", ".join(PERIODS))
        today = datetime.fromtimestamp(call.now / 1000, tz=UTC).astimezone(self.zone).date()
        first, last = period(name, today)
        report = build(await self.stores.stats.between(first.isoformat(), last.isoformat()), first, last, self.min_cell)
        waiting = len(await self.stores.queue.workflow.in_stage("waiting"))
        claimed = len(await self.stores.queue.workflow.in_stage("claimed"))
        return "\n".join(
            [
                text(self.language, f"stats.header.{name}", first=first.isoformat(), last=last.isoformat()),
                *self._lines(report),
                text(self.language, "stats.now", waiting=waiting, claimed=claimed),
            ]
        )

    def _lines(self, report: Report) -> list[str]:
        def get(measure: str, dimension: str | None = None) -> Value:
            found = report.measures.get(measure)
            if found is None:
                return 0
            return found.total if dimension is None else found.by.get(dimension, 0)

        lang = self.language
        return [
            text(lang, "stats.started", count=get("sessions_started")),
            text(lang, "stats.picked_up", count=get("queue", "picked_up"), waited=get("queue", "waited")),
            text(lang, "stats.abandoned", count=get("queue", "abandoned_before_pickup")),
            text(lang, "stats.urgent", count=get("urgent")),
            text(lang, "stats.handovers", count=get("handovers"), arrived=get("handovers", "result:arrived")),
        ]
