"""The partner directory for warm handovers (YAML, validated like all configuration).

Each partner: id, name, kind, regions served (province ids from the triage definition, or
``national``), a short description for visitors in Dutch and English, the Matrix IDs of its
intake staff and its opening hours. Local intake accounts made with ``keerpunt staff add
--role partner --partner <id>`` count as intake staff too, listed here or not. Intake
staff must live on our own server or on a server in ``synapse.federation_allowlist``;
anything else is refused with the key named, because Synapse would not federate with it and
a handover would silently fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from bots.ids import UserID
from bots.texts import STAFF_LANGUAGES, Language
from bots.triage import TriageDefinition
from keerpunt.base.config import Config, ConfigError
from keerpunt.base.config.model import HoursConfig
from keerpunt.base.hours import OpeningHours

Kind = Literal["care", "police", "shelter", "victim-support", "municipality", "youth-care", "debt-help", "other"]
KINDS: tuple[str, ...] = get_args(Kind)
NATIONAL = "national"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
USER_RE = re.compile(r"^@[a-z0-9._=/+-]+:(?P<server>[A-Za-z0-9.-]+(?::\d+)?)$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PARTNER_KEYS = {"id", "name", "kind", "regions", "description", "intake", "hours"}


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    kind: Kind
    regions: tuple[str, ...]
    description: dict[Language, str]
    intake: tuple[UserID, ...]
    hours: OpeningHours | None  # None: always reachable (e.g. a 24/7 police desk)

    def serves(self, region: str | None) -> bool:
        return region is None or NATIONAL in self.regions or region in self.regions

    def open_at(self, now: datetime) -> bool:
        return self.hours is None or self.hours.is_open(now)


@dataclass(frozen=True)
class Directory:
    partners: tuple[Partner, ...]

    def get(self, partner_id: str) -> Partner | None:
        return next((p for p in self.partners if p.id == partner_id), None)

    def find(self, region: str | None = None, kind: str | None = None) -> list[Partner]:
        return [p for p in self.partners if p.serves(region) and (kind is None or p.kind == kind)]

    def partner_of(self, user_id: str) -> Partner | None:
        return next((p for p in self.partners if user_id in p.intake), None)


def _hours(node: Any, key: str) -> OpeningHours | None:
    if node is None:
        return None
    if not isinstance(node, dict) or set(node) - set(WEEKDAYS):
        raise ConfigError(key, f"expected weekdays ({', '.join(WEEKDAYS)}) with HH:MM-HH:MM ranges")
    days = {}
    for day in WEEKDAYS:
        ranges = node.get(day, [])
        if not isinstance(ranges, list) or not all(isinstance(r, str) for r in ranges):
            raise ConfigError(f"{key}.{day}", "expected a list of HH:MM-HH:MM ranges")
        days[day] = tuple(ranges)
    config = HoursConfig(
        timezone="Europe/Amsterdam",
        closed_on_public_holidays=True,
        closed_dates=(),
        special_hours=(),
        apply_in_dev=True,  # a partner's hours are its own: dev does not open them
        **days,
    )
    try:
        return OpeningHours(config)
    except ConfigError as exc:
        raise ConfigError(exc.key.replace("hours", key, 1), exc.problem) from None


def _text(node: Any, key: str) -> str:
    if not isinstance(node, str) or not node.strip():
        raise ConfigError(key, "needs a non-empty text")
    return node.strip()


def _regions(node: Any, key: str, regions: set[str]) -> list[str]:
    if not isinstance(node, list) or not node:
        raise ConfigError(key, "needs at least one region")
    for i, region in enumerate(node):
        if region not in regions:
            raise ConfigError(f"{key}[{i}]", f"unknown region {region!r}")
    return node


def _intake(node: Any, key: str, servers: set[str]) -> tuple[UserID, ...]:
    if node is None:
        return ()
    if not isinstance(node, list):
        raise ConfigError(key, "expected a list of intake Matrix IDs")
    for i, user in enumerate(node):
        match = USER_RE.match(str(user))
        if not match:
            raise ConfigError(f"{key}[{i}]", f"{user!r} is not a Matrix user ID")
        if match["server"] not in servers:
            raise ConfigError(
                f"{key}[{i}]",
                f"{match['server']} is not our server and not in synapse.federation_allowlist; "
                "add it there only after an agreement with the partner",
            )
    return tuple(UserID(str(u)) for u in node)


def _partner(node: Any, key: str, regions: set[str], servers: set[str]) -> Partner:
    if not isinstance(node, dict):
        raise ConfigError(key, "expected a mapping")
    for name in node:
        if name not in PARTNER_KEYS:
            raise ConfigError(f"{key}.{name}", f"unknown key; known keys: {', '.join(sorted(PARTNER_KEYS))}")
    partner_id = str(node.get("id", ""))
    if not ID_RE.match(partner_id):
        raise ConfigError(f"{key}.id", f"{partner_id!r} is not an id (a-z, 0-9 and -)")
    kind = node.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"{key}.kind", f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    raw_regions = _regions(node.get("regions"), f"{key}.regions", regions)
    description = node.get("description")
    # Staff write these in Dutch and English; a visitor in another language reads the English one.
    if not isinstance(description, dict) or set(description) != set(STAFF_LANGUAGES):
        raise ConfigError(f"{key}.description", f"needs exactly the languages {', '.join(STAFF_LANGUAGES)}")
    intake = _intake(node.get("intake"), f"{key}.intake", servers)
    return Partner(
        id=partner_id,
        name=_text(node.get("name"), f"{key}.name"),
        kind=kind,
        regions=tuple(raw_regions),
        description={lang: _text(description[lang], f"{key}.description.{lang}") for lang in STAFF_LANGUAGES},
        intake=intake,
        hours=_hours(node.get("hours"), f"{key}.hours"),
    )


def parse_directory(data: Any, config: Config, triage: TriageDefinition, origin: str = "partners") -> Directory:
    region_question = triage.question("region")
    regions = {o.id for o in region_question.options} if region_question else set()
    regions = (regions - {"unknown"}) | {NATIONAL}
    servers = {config.homeserver.server_name, *config.synapse.federation_allowlist}
    if not isinstance(data, dict) or not isinstance(data.get("partners"), list):
        raise ConfigError(f"{origin}.partners", "needs a list of partners")
    partners = [_partner(p, f"{origin}.partners[{i}]", regions, servers) for i, p in enumerate(data["partners"])]
    _unique(p.id for p in partners)
    return Directory(tuple(partners))


def _unique(ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for partner_id in ids:
        if partner_id in seen:
            raise ConfigError("partners", f"duplicate partner id {partner_id!r}")
        seen.add(partner_id)


def load_directory(path: Path, config: Config, triage: TriageDefinition) -> Directory:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError("handover.partners_file", f"cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError("handover.partners_file", f"{path} is not valid YAML: {exc}") from None
    return parse_directory(data, config, triage, path.name)


def configured_directory(config: Config, triage: TriageDefinition) -> Directory:
    """The directory named by ``handover.partners_file``; empty when none is set."""
    if not config.handover.partners_file:
        return Directory(())
    return load_directory(config.path(config.handover.partners_file), config, triage)
