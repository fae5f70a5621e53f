"""What the sessions concern reads from the config, read once when it is built."""

from __future__ import annotations

from dataclasses import dataclass

from bots.ids import UserID
from bots.texts import Language
from keerpunt.base.config import Config


@dataclass(frozen=True)
class PoolSettings:
    """Ready sessions (``bots.sessions.pool``): how many, how old at most, in which language."""

    bot: UserID
    server_name: str
    target: int
    max_age_minutes: int
    language: Language
    # Ready sessions made at the same time while the pool fills up.
    parallel: int = 3


@dataclass(frozen=True)
class SessionSettings:
    bot: UserID
    server_name: str
    # What the widget is told to talk to, in the answer to a start.
    public_url: str
    timezone: str
    case_room_days: int
    # Session starts in Synapse at once; more wait their turn (``bots.api.concurrent_session_starts``).
    concurrent_starts: int
    pool: PoolSettings
    # Write now, answered later (``async:``, docs/write-later.md): a session may start while the
    # chat is closed, to leave a message. Only with return codes on.
    later: bool = False

    @classmethod
    def of(cls, config: Config) -> SessionSettings:
        api = config.bots.api
        return cls(
            bot=UserID(config.bot_user_id),
            server_name=config.homeserver.server_name,
            public_url=config.homeserver.public_url,
            timezone=config.hours.timezone,
            case_room_days=config.retention.case_room_days,
            concurrent_starts=api.concurrent_session_starts,
            pool=PoolSettings(
                UserID(config.bot_user_id),
                config.homeserver.server_name,
                api.ready_sessions,
                api.ready_session_max_age_minutes,
                config.languages.default,
            ),
            later=config.async_.enabled and config.return_code.enabled,
        )
