"""Outreach rules: invites (made, listed, revoked), duty, and approaches logged elsewhere.

No HTTP, no Matrix, no sentences: the commands edge turns these into answers. An invite is
stored only as the keyed hash of its code, with the worker, an optional campaign and article,
and its expiry. Using it (the session API, in the transaction that opens the case), revoking
it or its expiry deletes the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bots.db import Stores
from bots.db.outreach_invite import Invite
from bots.errors import UserError
from bots.ids import UserID
from bots.visitors.invites import InviteKeyer, new_code
from keerpunt.base.config.model import OutreachConfig
from keerpunt.site.campaigns import Campaign

HOUR_MS = 3_600_000
NEW_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class NewInvite:
    code: str
    expires_at: int
    campaign: str | None
    article: str | None


class OutreachDomain:
    def __init__(
        self,
        stores: Stores,
        keyer: InviteKeyer,
        settings: OutreachConfig,
        *,
        campaigns: Mapping[str, Campaign],
        articles: frozenset[str],
        zone: ZoneInfo,
    ) -> None:
        self.stores = stores
        self.keyer = keyer
        self.settings = settings
        self.campaigns = campaigns
        self.articles = articles
        self.zone = zone

    async def new_invite(self, worker: UserID, first: str | None, second: str | None, now: int) -> NewInvite:
        campaign, article = None, None
        day = datetime.fromtimestamp(now / 1000, tz=UTC).astimezone(self.zone).date()
        running = sorted(slug for slug, c in self.campaigns.items() if c.running(day))
        for word in (first, second):
            if word is None:
                continue
            if word in self.campaigns and campaign is None:
                if not self.campaigns[word].running(day):
                    # New links only for a running campaign; old links keep working after it ends.
                    raise UserError("outreach.campaign_not_running", campaign=word, campaigns=", ".join(running) or "–")
                campaign = word
            elif word in self.articles and article is None:
                article = word
            else:
                raise UserError(
                    "outreach.unknown_word",
                    word=word,
                    campaigns=", ".join(running) or "–",
                )
        open_now = await self.stores.invites.open_of(worker, now)
        if len(open_now) >= self.settings.open_invites_per_worker:
            raise UserError("outreach.too_many", limit=str(self.settings.open_invites_per_worker))
        expires = now + int(self.settings.invite_valid_hours * HOUR_MS)
        for _ in range(NEW_CODE_ATTEMPTS):
            code = new_code()
            code_hash = self.keyer.hash(code)
            assert code_hash is not None
            if await self.stores.invites.exists(code_hash):
                continue  # astronomically unlikely; draw again rather than fail
            await self.stores.invites.add(Invite(code_hash, worker, campaign, article, now, expires))
            return NewInvite(code, expires, campaign, article)
        raise RuntimeError("no free invite code")

    async def open_invites(self, worker: UserID, now: int) -> list[Invite]:
        return await self.stores.invites.open_of(worker, now)

    async def revoke(self, worker: UserID, code: str) -> None:
        code_hash = self.keyer.hash(code)
        if code_hash is None or not await self.stores.invites.revoke(code_hash, worker):
            raise UserError("outreach.revoke_unknown")

    async def set_duty(self, worker: UserID, on_duty: bool) -> None:
        await self.stores.staff.set_duty(worker, on_duty)

    async def log_approach(self, channel: str, result: str, now: int, day: str) -> None:
        """An approach made outside the platform: one count for the day, nothing about anyone."""
        if channel not in self.settings.channels:
            raise UserError("outreach.channel_unknown", values=", ".join(self.settings.channels))
        if result not in self.settings.results:
            raise UserError("outreach.result_unknown", values=", ".join(self.settings.results))
        await self.stores.stats.add(day, "outreach_approaches", "total")
        await self.stores.stats.add(day, "outreach_approaches", f"channel:{channel}")
        await self.stores.stats.add(day, "outreach_approaches", f"approach:{result}")

    async def drop_expired(self, now: int) -> bool:
        return await self.stores.invites.drop_expired(now) > 0


def expiry_moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
