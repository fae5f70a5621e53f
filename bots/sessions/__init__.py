"""Anonymous visitor sessions: the HTTP edge (api), the rules (domain), validation and abuse
control, ready sessions (pool), and the end of a session's life (erasing accounts, purging rooms)."""

from __future__ import annotations

from bots.concern import Concern, Parts, Periodic
from bots.homeserver.appservice import VisitorAppservice
from bots.ids import RoomID
from bots.sessions.api import SessionsApi
from bots.sessions.campaigns import known_campaigns
from bots.sessions.domain import SessionManager, VisitorNames
from bots.sessions.invites import InviteKeyer, invite_key, secret_key
from bots.sessions.ratelimit import SessionRateLimiter
from bots.sessions.retention import RetentionTask
from bots.sessions.return_api import ReturnApi
from bots.sessions.returning import CodeKeyer, ReturnCodes
from bots.texts import as_language, text
from bots.triage import TriageDefinition
from bots.turn import Where
from keerpunt.base.config import Config, read_secret


class Sessions:
    def __init__(self, config: Config, definition: TriageDefinition) -> None:
        self.config = config
        # Kept after ``build`` for the tests and benchmarks that drive them directly.
        self.manager: SessionManager | None = None
        self.retention: RetentionTask | None = None
        self.codes: ReturnCodes | None = None

    async def build(self, parts: Parts) -> Concern:
        cfg = self.config
        language = cfg.languages.default
        token_file = cfg.homeserver.visitor_appservice_token_file
        appservice = VisitorAppservice(parts.admin, read_secret(cfg, token_file)) if token_file else None

        def names(lang: str) -> VisitorNames:
            code = as_language(lang, language)
            return VisitorNames(text(code, "visitor.display_name"), text(code, "visitor.device_name"))

        manager = SessionManager(
            parts.admin,
            parts.stores,
            parts.clock,
            bot=parts.bot,
            server_name=cfg.homeserver.server_name,
            case_room_days=cfg.retention.case_room_days,
            concurrent_starts=cfg.bots.api.concurrent_session_starts,
            appservice=appservice,
            ready_sessions=cfg.bots.api.ready_sessions,
            ready_max_age_minutes=cfg.bots.api.ready_session_max_age_minutes,
            language=language,
            names=names,
            ended=parts.wakeups.changed,
        )
        # Before the first sync: undo what a crash left half made (DESIGN.md: no room without
        # its case or ready session, no case without its room).
        await manager.repair(set(parts.rooms.values()))
        retention = RetentionTask(parts.admin, parts.stores, parts.clock, parts.client)
        self.manager, self.retention = manager, retention
        limits = cfg.bots.rate_limit
        limiter = SessionRateLimiter(limits.per_client_per_hour, limits.global_per_minute, parts.clock)
        api = SessionsApi(
            cfg,
            manager,
            limiter,
            hours=parts.hours,
            clock=parts.clock,
            ended=parts.wakeups.changed,
            campaigns=known_campaigns(cfg),
            first_contact=parts.limits,
            invites=InviteKeyer(invite_key(cfg)),
        )
        workers = [Periodic("retention", retention.step), Periodic("ready sessions", manager.pool.step)]
        codes = None
        if cfg.return_code.enabled:  # docs/return-code.md; off by default
            codes = ReturnCodes(
                parts.admin,
                parts.stores,
                parts.clock,
                CodeKeyer(secret_key(cfg.path(cfg.return_code.key_path))),
                valid_days=cfg.return_code.valid_days,
                max_wrong=cfg.return_code.max_wrong,
                staff_language=parts.staff_language,
                changed=parts.wakeups.changed,
                expect_device=parts.trust.expect_new_device,
            )
            manager.dormant = codes.end_with_code
            workers.append(Periodic("return codes", codes.step))
        self.codes = codes
        app = api.make_app()
        return_limiter = SessionRateLimiter(min(10, limits.per_client_per_hour), limits.global_per_minute, parts.clock)
        self.return_limiter = return_limiter  # capped at 10 per client even in tests: they reset it
        ReturnApi(api, codes, return_limiter).add_routes(app)
        cases = parts.stores.cases

        async def case_rooms(room_id: RoomID) -> Where | None:
            case = await cases.by_room(room_id)
            return Where(room_id, "case", case) if case is not None else None

        return Concern(
            "sessions",
            rooms=(case_rooms,),
            devices=(manager.devices_changed,),
            workers=tuple(workers),
            api=app,
        )
