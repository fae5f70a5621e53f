"""Statistics for the pilot evaluation: the case events, counted as they happen into daily
counts that cannot be joined back to a case; the report and ``!stats`` read them."""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from bots.concern import Concern, Parts
from bots.declarations import Declared
from bots.partners.directory import configured_directory
from bots.stats.commands import StatsCommands
from bots.stats.counting import Known
from bots.stats.worker import StatsWorker
from bots.triage import TriageDefinition
from bots.visitors.campaigns import known_campaigns
from keerpunt.base.config import Config


class Statistics:
    declares: ClassVar[Declared] = Declared()

    def __init__(self, config: Config, definition: TriageDefinition) -> None:
        self.config = config
        directory = configured_directory(config, definition)
        # Campaigns are counted by slug only when the platform knows them (the portal's
        # campaign pages); the session API keeps no other.
        campaigns = known_campaigns(config)
        self.known = Known(
            outcomes=frozenset(config.queue.outcomes),
            campaigns=frozenset(campaigns),
            partner_kinds={p.id: p.kind for p in directory.partners},
            topics=frozenset(config.queue.wrap_up.topics),
            referrals=frozenset(config.queue.wrap_up.referrals),
        )

    async def build(self, parts: Parts) -> Concern:
        zone = ZoneInfo(self.config.hours.timezone)
        worker = StatsWorker(parts.stores, self.known, zone)
        commands = StatsCommands(parts.stores, self.config, zone)
        return Concern("statistics", commands=commands.commands, workers=(worker,))
