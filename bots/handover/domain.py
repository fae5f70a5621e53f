"""The handover's rules: asking the visitor, reading the answer, the partner's reply, the outcome.

Like the queue's domain, every method runs inside the caller's transaction (the one that also
records the handled event) and only writes to the database: the handover record, the case's
event log, outbox rows and staff posts. Making the room in Synapse follows from the stored
consent and is the handover worker's job. A problem the user should hear about is raised as a
``UserError`` before anything is written. No consent, no room, no partner invite.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import UTC, datetime
from typing import Any

from bots.db import Stores
from bots.db.case import Case
from bots.db.handover import Handover, Outcome
from bots.errors import UserError
from bots.handover.consent import HANDOVER_KEY, Answer, consent_content
from bots.ids import RoomID, UserID
from bots.matrix.content import staff_text, visitor_message
from bots.partners.directory import Directory, Partner
from bots.texts import Language, as_language, text
from keerpunt.base.config import Config

HOUR_MS = 3_600_000
PARTNER_KEY = "nl.keerpunt.partner"
# The most of a partner's display name the visitor is shown (it is the partner's own to set).
SHOWN_NAME_MAX = 40


def shown_name(name: str, fallback: str) -> str:
    """A partner's display name as the visitor reads it: no control, format or line characters
    (no right-to-left overrides, no line breaks), spaces collapsed, at most ``SHOWN_NAME_MAX``
    characters; ``fallback`` when nothing is left (review L7)."""
    kept = "".join(" " if ch.isspace() else ch for ch in name if unicodedata.category(ch)[0] != "C" or ch.isspace())
    words = " ".join(kept.split())
    if len(words) > SHOWN_NAME_MAX:
        words = words[: SHOWN_NAME_MAX - 1].rstrip() + "…"
    return words or fallback


def summary_hash(summary: str) -> str:
    return hashlib.sha256(summary.encode()).hexdigest()


class HandoverDomain:
    def __init__(self, stores: Stores, directory: Directory, config: Config) -> None:
        self.store = stores.handovers
        self.queue = stores.queue.workflow
        self.staff = stores.staff
        self.log = stores.case_log
        self.posts = stores.posts
        self.outbox = stores.outbox
        self.directory = directory
        self.settings = config.handover
        self.staff_language: Language = config.languages.default

    def partner(self, partner_id: str) -> Partner:
        partner = self.directory.get(partner_id)
        if partner is None:
            if not self.directory.partners:
                raise UserError("handover.staff.no_partners")
            raise UserError("handover.staff.unknown_partner", partner=partner_id)
        return partner

    async def intake(self, partner_id: str) -> list[UserID]:
        """The partner's intake staff: listed in the directory, or local accounts made for it."""
        partner = self.directory.get(partner_id)
        listed = list(partner.intake) if partner is not None else []
        local = [m.user_id for m in await self.staff.all("partner") if m.partner_id == partner_id]
        return listed + [user for user in local if user not in listed]

    def reminder_ms(self) -> int:
        return max(1, int(self.settings.reminder_hours * HOUR_MS))

    async def _to_room(self, room_id: RoomID, body: str, kind: str, now: int, **extra: Any) -> None:
        await self.outbox.enqueue(room_id, "m.room.message", {**visitor_message(body, kind), **extra}, now)

    # The counsellor asks

    async def ask(self, case: Case, counsellor: UserID, partner_id: str, summary: str | None, now: int) -> None:
        partner = self.partner(partner_id)
        summary = (summary or "").strip()
        if not summary:
            raise UserError("handover.staff.summary_missing", partner=partner.id)
        if len(summary) > self.settings.summary_max_chars:
            raise UserError("handover.staff.summary_too_long", limit=str(self.settings.summary_max_chars))
        q = await self.queue.get(case.id)
        if case.state != "open" or q is None or q.departure is not None:
            raise UserError("handover.staff.visitor_gone")
        if q.stage != "claimed" or q.claimed_by != counsellor:
            raise UserError("queue.staff.not_yours", number=case.number)
        if not await self.intake(partner.id):
            raise UserError("handover.staff.no_intake", partner=partner.name)
        live = await self.store.latest_live(case.id)
        if live is not None and live.partner_id == partner.id:
            raise UserError("handover.staff.already_active", partner=partner.name, number=case.number)
        assert case.room_id is not None
        handover_id = secrets.token_hex(12)
        await self.store.ask(handover_id, case.id, partner.id, counsellor, summary, summary_hash(summary), now)
        await self.log.add(case.id, "handover_asked", now, counsellor, partner.id)
        content = consent_content(as_language(case.language), partner, summary, handover_id)
        await self.outbox.enqueue(case.room_id, "m.room.message", content, now)

    # The visitor answers

    async def answer(self, case: Case, handover: Handover, answer: Answer, now: int) -> None:
        assert case.room_id is not None
        language = as_language(case.language)
        partner = self.directory.get(handover.partner_id)
        name = partner.name if partner else handover.partner_id
        if answer == "yes":
            if await self.store.consent(handover.id, now, now + self.reminder_ms()) is None:
                return
            await self.log.add(case.id, "handover_consented", now, None, handover.partner_id)
            kind = "consented"
        elif answer == "no":
            if await self.store.decline(handover.id, now) is None:
                return
            await self.log.add(case.id, "handover_declined", now, None, handover.partner_id)
            kind = "declined"
        else:
            await self.log.add(case.id, "handover_later", now, None, handover.partner_id)
            kind = "later"
        body = text(language, f"handover.visitor.{kind}", partner=name)
        await self._to_room(case.room_id, body, f"handover.{kind}", now)

    async def cancel(self, case: Case, handover: Handover, now: int) -> None:
        """The visitor left before the room was made: the question or consent lapses."""
        if await self.store.cancel(handover.id, now) is not None:
            await self.log.add(case.id, "handover_cancelled", now, None, handover.partner_id)

    # The room is there

    async def introduce(self, case: Case, handover: Handover, now: int) -> None:
        """Queue the introduction and the agreed summary in the handover room (once)."""
        assert handover.room_id is not None and handover.summary is not None
        language = as_language(case.language)
        name = self._name(handover)
        intro = text(language, "handover.visitor.intro", partner=name)
        await self._to_room(
            handover.room_id,
            intro,
            "handover.intro",
            now,
            # The partner's name only: the case room's ID never reaches a partner (review L7).
            **{HANDOVER_KEY: {"partner": name}},
        )
        summary = text(language, "handover.visitor.summary", summary=handover.summary)
        await self._to_room(handover.room_id, summary, "handover.summary", now)
        await self.store.posted(handover.id, now)
        await self.log.add(case.id, "handover_room", now, None, handover.partner_id)

    async def joined(self, case: Case, handover: Handover, user: UserID, display_name: str, now: int) -> None:
        """An intake member joined: the visitor reads who, from which organisation."""
        assert handover.room_id is not None
        name = self._name(handover)
        shown = shown_name(display_name, name)
        body = text(as_language(case.language), "handover.visitor.partner_joined", user=shown, partner=name)
        extra = {PARTNER_KEY: {"user": user, "organisation": name}}
        await self._to_room(handover.room_id, body, "handover.partner_joined", now, **extra)

    async def visitor_left(self, handover: Handover, now: int) -> None:
        """Said in the staff language: only the counsellor and the partner are left to read it."""
        assert handover.room_id is not None
        body = text(self.staff_language, "handover.staff.visitor_left")
        await self._to_room(handover.room_id, body, "handover.visitor_left", now)

    # The partner answers

    async def accept(self, case: Case, handover: Handover, user: UserID, now: int) -> None:
        name = self._name(handover)
        if handover.stage == "accepted":
            raise UserError("handover.staff.accept_again", partner=name)
        if await self.store.accept(handover.id, user, now) is None:
            raise UserError("handover.staff.not_open")
        assert handover.room_id is not None
        await self.log.add(case.id, "handover_accepted", now, None, handover.partner_id)
        body = text(as_language(case.language), "handover.visitor.accepted", partner=name)
        await self._to_room(handover.room_id, body, "handover.accepted", now)

    async def refuse(self, case: Case, handover: Handover, user: UserID, reason: str | None, now: int) -> None:
        if not (reason or "").strip():
            raise UserError("handover.staff.decline_reason")
        if await self.store.refuse(handover.id, now) is None:
            raise UserError("handover.staff.not_open")
        assert handover.room_id is not None
        name = self._name(handover)
        await self.log.add(case.id, "handover_refused", now, None, handover.partner_id)
        body = text(as_language(case.language), "handover.visitor.partner_declined", partner=name)
        await self._to_room(handover.room_id, body, "handover.partner_declined", now)
        # The reason is for staff only: in the card's thread, mentioning the counsellor.
        staff = text(
            self.staff_language,
            "handover.staff.declined_by_partner",
            user=user,
            partner=name,
            number=case.number,
            reason=(reason or "").strip(),
        )
        await self.posts.add(case.id, "thread", staff_text(staff, mention=handover.counsellor), now)

    # The counsellor's follow-up

    async def settle(self, case: Case, outcome: str, actor: UserID, now: int) -> str:
        if outcome not in ("arrived", "failed"):
            raise UserError("handover.staff.status_unknown")
        settled: Outcome = "arrived" if outcome == "arrived" else "failed"
        handover = await self.store.latest_live(case.id)
        if handover is None:
            earlier = await self.store.of_case(case.id)
            latest = earlier[-1] if earlier else None
            if latest is not None and latest.stage in ("arrived", "failed"):
                raise UserError("handover.staff.status_already", number=case.number, status=latest.stage)
            raise UserError("handover.staff.no_handover", number=case.number)
        if await self.store.settle(handover.id, settled, now) is None:
            raise UserError("handover.staff.not_open")
        await self.log.add(case.id, f"handover_{settled}", now, actor, handover.partner_id)
        return text(
            self.staff_language,
            "handover.staff.status_done",
            number=case.number,
            partner=self._name(handover),
            status=settled,
        )

    async def remind(self, case: Case, handover: Handover, now: int) -> bool:
        """Remind the counsellor under the case card; False when this reminder was sent before."""
        assert handover.reminder_due is not None
        if not await self.store.next_reminder(handover.id, handover.reminder_due, now + self.reminder_ms()):
            return False
        body = text(self.staff_language, "handover.staff.reminder", number=case.number, partner=self._name(handover))
        await self.posts.add(case.id, "reply", staff_text(body, mention=handover.counsellor), now)
        await self.log.add(case.id, "handover_reminder", now)
        return True

    # Listing

    def listing(self, region: str | None, kind: str | None, now: int) -> str:
        if not self.directory.partners:
            raise UserError("handover.staff.no_partners")
        found = self.directory.find(region, kind)
        if not found:
            return text(self.staff_language, "handover.staff.partners_none")
        moment = datetime.fromtimestamp(now / 1000, tz=UTC)
        lines = [text(self.staff_language, "handover.staff.partners_header", region=region, kind=kind)]
        for partner in found:
            lines.append(
                text(
                    self.staff_language,
                    "handover.staff.partners_line",
                    id=partner.id,
                    name=partner.name,
                    kind=partner.kind,
                    open=partner.open_at(moment),
                    regions=", ".join(partner.regions),
                )
            )
        return "\n".join(lines)

    def _name(self, handover: Handover) -> str:
        partner = self.directory.get(handover.partner_id)
        return partner.name if partner else handover.partner_id
