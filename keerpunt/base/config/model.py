"""Typed, frozen view of keerpunt.yaml. Defaults live only in example.yaml."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Mode = Literal["dev", "production"]
Language = Literal["nl", "en"]


@dataclass(frozen=True)
class HomeserverConfig:
    server_name: str
    public_url: str
    internal_url: str
    registration_shared_secret_file: str
    visitor_appservice_token_file: str


WorkersLayout = Literal["loopback", "compose"]


@dataclass(frozen=True)
class WorkersConfig:
    enabled: bool
    layout: WorkersLayout
    base_port: int
    redis_host: str
    redis_port: int
    dev_postgres: str


@dataclass(frozen=True)
class SynapseConfig:
    bind_address: str
    port: int
    database: str
    database_password_file: str
    federation_allowlist: tuple[str, ...]
    retention_max_lifetime_days: int
    user_ips_max_age_days: int
    metrics_port: int
    workers: WorkersConfig


@dataclass(frozen=True)
class ApiConfig:
    host: str
    port: int
    allowed_origins: tuple[str, ...]
    trust_forwarded_for: bool
    trusted_proxies: tuple[str, ...]
    concurrent_session_starts: int
    ready_sessions: int
    ready_session_max_age_minutes: int


@dataclass(frozen=True)
class RateLimitConfig:
    per_client_per_hour: int
    global_per_minute: int
    restarts_per_client_per_hour: int
    urgent_per_client_per_hour: int


@dataclass(frozen=True)
class ChallengeConfig:
    enabled: bool
    cost: int
    normal: int
    raised: int
    hard: int
    expires_minutes: int
    raise_below_ready: float
    raise_starts_per_minute: int


@dataclass(frozen=True)
class BotsConfig:
    localpart: str
    display_name: str
    database: str
    database_password_file: str
    store_dir: str
    metrics_port: int
    api: ApiConfig
    rate_limit: RateLimitConfig
    challenge: ChallengeConfig


@dataclass(frozen=True)
class ContactConfig:
    email: str
    privacy_email: str


@dataclass(frozen=True)
class PortalConfig:
    host: str
    port: int
    public_url: str
    api_url: str
    quick_exit_url: str
    contact: ContactConfig
    content_dir: str
    frame_ancestors: tuple[str, ...]
    workers: int
    metrics_port: int


@dataclass(frozen=True)
class RetentionConfig:
    case_room_days: int


@dataclass(frozen=True)
class LanguagesConfig:
    default: Language


@dataclass(frozen=True)
class HoursConfig:
    timezone: str
    monday: tuple[str, ...]
    tuesday: tuple[str, ...]
    wednesday: tuple[str, ...]
    thursday: tuple[str, ...]
    friday: tuple[str, ...]
    saturday: tuple[str, ...]
    sunday: tuple[str, ...]
    closed_on_public_holidays: bool
    closed_dates: tuple[str, ...]
    special_hours: tuple[str, ...]
    # Only the chat's own hours read this (keerpunt.base.hours.hours_in_force); a partner's hours
    # (bots/partners/directory.py) are built without it.
    apply_in_dev: bool = False


@dataclass(frozen=True)
class WrapUpConfig:
    topics: tuple[str, ...]
    referrals: tuple[str, ...]


@dataclass(frozen=True)
class QueueConfig:
    urgent_reminder_minutes: float
    reminder_minutes: float
    outcomes: tuple[str, ...]
    position_update_minutes: float
    default_handling_minutes: float
    estimate_history: int
    erase_after_minutes: float
    max_chats_per_counsellor: int
    wrap_up: WrapUpConfig


@dataclass(frozen=True)
class HandoverConfig:
    partners_file: str
    reminder_hours: float
    summary_max_chars: int


@dataclass(frozen=True)
class LifecycleConfig:
    never_wrote_minutes: float
    silent_in_triage_minutes: float
    silent_in_queue_minutes: float
    idle_warning_minutes: float
    idle_close_minutes: float


@dataclass(frozen=True)
class StatisticsConfig:
    min_cell: int


@dataclass(frozen=True)
class OutreachConfig:
    invite_key_path: str
    invite_valid_hours: float
    open_invites_per_worker: int
    channels: tuple[str, ...]
    results: tuple[str, ...]


@dataclass(frozen=True)
class ReturnCodeConfig:
    enabled: bool
    valid_days: int
    max_wrong: int
    key_path: str


@dataclass(frozen=True)
class AsyncConfig:
    """``async:`` (docs/write-later.md): write now, answered later."""

    enabled: bool
    offer_after_minutes: float
    answer_within_hours: int
    keep_days: int


@dataclass(frozen=True)
class FeedbackAnswer:
    id: str
    nl: str
    en: str


@dataclass(frozen=True)
class FeedbackQuestion:
    id: str
    nl: str
    en: str
    answers: tuple[FeedbackAnswer, ...]


@dataclass(frozen=True)
class FeedbackConfig:
    questions: tuple[FeedbackQuestion, ...]
    ticket_valid_hours: float


@dataclass(frozen=True)
class ProxyConfig:
    staff_url: str
    staff_upstream: str
    bots_upstream: str
    portal_upstream: str
    local_ca: bool


@dataclass(frozen=True)
class Config:
    mode: Mode
    data_dir: str
    homeserver: HomeserverConfig
    synapse: SynapseConfig
    bots: BotsConfig
    portal: PortalConfig
    retention: RetentionConfig
    languages: LanguagesConfig
    hours: HoursConfig
    queue: QueueConfig
    handover: HandoverConfig
    lifecycle: LifecycleConfig
    statistics: StatisticsConfig
    outreach: OutreachConfig
    proxy: ProxyConfig
    return_code: ReturnCodeConfig
    feedback: FeedbackConfig
    # ``async`` is a Python keyword: the YAML key is named in the field's metadata.
    async_: AsyncConfig = field(metadata={"key": "async"})

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).resolve()

    def path(self, relative: str) -> Path:
        """Resolve a path from the config against the data directory."""
        p = Path(relative)
        return p if p.is_absolute() else self.data_path / p

    @property
    def bot_user_id(self) -> str:
        return f"@{self.bots.localpart}:{self.homeserver.server_name}"
