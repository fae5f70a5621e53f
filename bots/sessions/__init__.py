"""Anonymous visitor sessions: the HTTP edge (api), the rules (domain), validation, ready
sessions (pool), and the end of a session's life (erasing accounts, purging rooms). What other
concerns need of a visitor (accounts, case rooms, closing a case, invites) is in
``bots.visitors``."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from bots.commands.table import Place
from bots.concern import Concern, Parts, Periodic
from bots.declarations import Declared, RoomKind
from bots.homeserver.appservice import VisitorAppservice
from bots.ids import RoomID
from bots.sessions.api import Entries, SessionsApi, StartLimits
from bots.sessions.challenge import Challenges, ChallengeSettings
from bots.sessions.domain import SessionManager
from bots.sessions.pool import ReadySessions
from bots.sessions.retention import RetentionTask
from bots.sessions.settings import SessionSettings
from bots.texts import as_language, text
from bots.triage import TriageDefinition
from bots.turn import Where
from bots.visitors.accounts import VisitorAccounts, appservice_registrar
from bots.visitors.campaigns import known_campaigns
from bots.visitors.http import ApiEdge
from bots.visitors.invites import InviteKeyer, invite_key
from bots.visitors.ratelimit import SessionRateLimiter
from keerpunt.base.config import Config, read_secret


class Sessions:
    # A visitor's case room; some staff commands work there only.
    declares: ClassVar[Declared] = Declared(
        rooms=(RoomKind("case"),),
        places=(Place("case", frozenset({"case"}), "commands.only_in_case_room"),),
    )

    def __init__(self, config: Config, definition: TriageDefinition) -> None:
        self.config = config
        self.settings = SessionSettings.of(config)

    def names(self, language: str) -> tuple[str, str]:
        """A visitor's display and device name in ``language`` (the default for any other)."""
        code = as_language(language, self.config.languages.default)
        return text(code, "visitor.display_name"), text(code, "visitor.device_name")

    async def build(self, parts: Parts) -> Concern:
        cfg, settings = self.config, self.settings
        token_file = cfg.homeserver.visitor_appservice_token_file
        appservice = VisitorAppservice(parts.admin, read_secret(cfg, token_file)) if token_file else None
        register = appservice_registrar(appservice) if appservice is not None else None
        accounts = VisitorAccounts(parts.admin, parts.stores.cases, parts.clock, register)
        slots = asyncio.Semaphore(max(1, settings.concurrent_starts))
        pool = ReadySessions(accounts, appservice, parts.stores, parts.clock, settings.pool, self.names, slots)
        manager = SessionManager(
            accounts,
            parts.stores,
            parts.clock,
            settings,
            slots=slots,
            pool=pool,
            ended=parts.wakeups.changed,
            keep=parts.hooks.ending,
        )
        # Before the first sync: undo what a crash left half made (DESIGN.md: no room without
        # its case or ready session, no case without its room).
        await manager.repair(set(parts.rooms.values()))
        retention = RetentionTask(accounts, parts.stores, parts.clock, parts.client)
        rate = cfg.bots.rate_limit
        challenges = Challenges(
            ChallengeSettings.of(cfg), parts.networks, lambda: (pool.ready, pool.target), parts.clock
        )
        limits = StartLimits(
            start=SessionRateLimiter(rate.per_client_per_hour, rate.global_per_minute, parts.clock),
            end=SessionRateLimiter(rate.per_client_per_hour, rate.global_per_minute, parts.clock),
            first_contact=parts.limits,
            challenges=challenges,
            networks=parts.networks,
        )
        entries = Entries(known_campaigns(cfg), InviteKeyer(invite_key(cfg)), settings.timezone)
        api = SessionsApi(
            ApiEdge(cfg), manager, settings, limits, parts.hours, parts.clock, entries, ended=parts.wakeups.changed
        )
        cases = parts.stores.cases

        async def case_rooms(room_id: RoomID) -> Where | None:
            case = await cases.by_room(room_id)
            return Where(room_id, "case", case) if case is not None else None

        return Concern(
            "sessions",
            rooms=(case_rooms,),
            devices=(manager.devices_changed,),
            workers=(
                Periodic("retention", retention.step),
                Periodic("ready sessions", pool.step),
                Periodic("challenge counts", lambda: challenges.flush_forever(parts.stores)),
            ),
            routes=api.routes,
            services=(manager, pool, retention, api, challenges),
        )
