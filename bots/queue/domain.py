"""The queue's rules: entering the queue, claiming, releasing, transferring, closing, leaving.

Every method runs inside the caller's database transaction (the one that also records the
handled event) and only writes to the database: the case's stage, its event log, outbox
rows for the visitor, and staff posts under the card. What must happen in Synapse besides
sending (card edits, invites and kicks, the Space link) follows from the stored state and
is applied by the queue's reconcilers (``bots.queue.workers``). A problem the user should hear about is raised as a
``UserError`` *before* anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bots.counsellors.availability import nobody_there, refusal
from bots.counsellors.roster import Roster
from bots.db import Stores
from bots.db.case import Case
from bots.db.queue.workflow import RETURNABLE, Departure, Workflow
from bots.errors import UserError
from bots.ids import UserID
from bots.matrix.content import place_message, staff_text, visitor_message
from bots.matrix.staff_rooms import direct_room_kind
from bots.queue.cards import CaseFacts, LaterFacts, summary_text
from bots.queue.order import Waiting, estimate_wait_minutes, positions
from bots.queue.reminding import first_reminder
from bots.queue.wrapup import WrapUp
from bots.texts import Language, as_language, text
from bots.triage import TriageDefinition
from bots.visitors.closing import close_case
from bots.visitors.feedback import offer
from keerpunt.base.config import Config
from keerpunt.base.hours import OpeningHours

MINUTE_MS = 60_000
CLOSED_BY_COUNSELLOR = "counsellor"


@dataclass(frozen=True)
class Place:
    position: int
    minutes: int


class QueueDomain:
    def __init__(self, stores: Stores, definition: TriageDefinition, config: Config, hours: OpeningHours) -> None:
        self.stores = stores
        self.hours = hours
        self.cases = stores.cases
        self.workflow = stores.queue.workflow
        self.triage = stores.queue.triage
        self.notices = stores.queue.notices
        self.log = stores.case_log
        self.posts = stores.posts
        self.outbox = stores.outbox
        self.definition = definition
        self.settings = config.queue
        self.staff_language: Language = config.languages.default
        self.case_room_days = config.retention.case_room_days
        self.roster = Roster(stores, config.queue.max_chats_per_counsellor)
        self.feedback = config.feedback
        self.zone = ZoneInfo(config.hours.timezone)

    # Reading

    def reminder_ms(self, urgent: bool) -> int:
        minutes = self.settings.urgent_reminder_minutes if urgent else self.settings.reminder_minutes
        return max(1, int(minutes * MINUTE_MS))

    async def facts(self, case: Case, q: Workflow) -> CaseFacts:
        worker = await self.stores.staff.get(case.routed_to) if case.routed_to else None
        later = await self.stores.later.get(case.id)
        written = None
        if later is not None and later.reason is not None and later.left_at is not None:
            written = LaterFacts(later.reason, later.left_at, later.came_back)
        return CaseFacts(
            number=case.number,
            stage=q.stage,
            urgent=q.urgent,
            answers=await self.triage.answers(case.id),
            entry=case.entry,
            campaign=case.campaign,
            waiting_since=q.waiting_since,
            claimed_by=q.claimed_by,
            outcome=q.outcome,
            departure=q.departure,
            organisation=worker.organisation if worker else None,
            later=written,
            language=case.language,
        )

    async def places(self) -> dict[str, Place]:
        """Every waiting case's place and estimated wait."""
        waiting = await self.workflow.in_stage("waiting")
        order = positions(Waiting(q.case_id, q.urgent, q.since / 1000) for q in waiting)
        if not order:
            return {}
        handling = [ms / 1000 for ms in await self.workflow.recent_handling_ms(self.settings.estimate_history)]
        on_duty = max(1, await self.workflow.counsellors_busy())
        default = self.settings.default_handling_minutes * 60
        return {
            case_id: Place(position, estimate_wait_minutes(position, handling, on_duty, default))
            for case_id, position in order.items()
        }

    # Visitor side

    async def nobody_there(self) -> bool:
        """Every counsellor is on a break (bots.counsellors.availability.nobody_there)."""
        return nobody_there(await self.roster.loads())

    async def tell_place(self, case: Case, now: int, *, lead: str | None = None) -> None:
        """Tell the visitor their place (after ``lead``); just ``lead`` if they are not waiting."""
        assert case.room_id is not None
        language = as_language(case.language)
        place = (await self.places()).get(case.id)
        if place is not None and await self.nobody_there():
            # Every counsellor is on a break: no place or estimate that nobody can keep, but
            # what the visitor can do now (the notices worker tells it once; bots.queue.workers).
            place = None
        if place is None:
            if lead:
                await self.outbox.enqueue(case.room_id, "m.room.message", visitor_message(lead, "queue.status"), now)
            return
        content = place_message(language, place.position, place.minutes, lead=lead)
        await self.outbox.enqueue(case.room_id, "m.room.message", content, now)
        await self.notices.notified(case.id, place.position, now)

    async def _tell_visitor(self, case: Case, key: str, now: int, *, verdict: bool = False) -> None:
        """``verdict``: a counsellor picks the chat up for the first time; the message carries
        the one-time ticket for the visitor's verdict after the chat (bots.visitors.feedback)."""
        assert case.room_id is not None
        body = text(as_language(case.language), key)
        content = visitor_message(body, key)
        if verdict:
            content.update(await offer(self.stores, self.feedback, now))
        await self.outbox.enqueue(case.room_id, "m.room.message", content, now)

    async def _tell_staff_in_room(self, case: Case, key: str, now: int) -> None:
        assert case.room_id is not None
        content = {"msgtype": "m.notice", "body": text(self.staff_language, key), "m.mentions": {}}
        await self.outbox.enqueue(case.room_id, "m.room.message", content, now)

    async def _thread(self, case: Case, body: str, now: int, *, mention: str | None = None) -> None:
        await self.posts.add(case.id, "thread", staff_text(body, mention=mention), now)

    # Transitions

    async def enter_queue(self, case: Case, now: int) -> Workflow | None:
        q = await self.workflow.get(case.id)
        if q is None:
            return None
        entered = await self.workflow.enter_queue(case.id, now, now + self.reminder_ms(q.urgent))
        if entered is not None:
            await self.log.add(case.id, "queued", now)
        return entered

    async def route(self, case: Case, now: int) -> bool:
        """A case an outreach invite opened goes straight to that worker (invited to the case
        room by the worker's next round) while the triage goes on; True if it did. Off duty (or
        no longer an outreach worker), it goes the normal way and the worker is told."""
        if case.routed_to is None:
            return False
        worker = await self.stores.staff.get(case.routed_to)
        if worker is None or worker.role != "outreach":
            return False
        if not worker.on_duty:
            await self.log.add(case.id, "routed_off_duty", now)
            body = text(self.staff_language, "outreach.off_duty_case", number=case.number)
            await self.tell_staff_member(worker.user_id, body, now)
            return False
        routed = await self.workflow.route(case.id, worker.user_id, now)
        if routed is None:
            return False
        await self.log.add(case.id, "claimed", now, worker.user_id, "outreach")
        await self._tell_visitor(case, "queue.visitor.routed", now, verdict=True)
        facts = await self.facts(case, routed)
        await self._thread(case, summary_text(facts, self.definition, self.staff_language), now, mention=worker.user_id)
        return True

    async def tell_staff_member(self, user: UserID, body: str, now: int) -> None:
        """A notice for one staff member: in their direct room with the bot, else (mentioning
        them) in the outreach room."""
        room = await self.stores.system_rooms.get(direct_room_kind(user))
        if room is None:
            room = await self.stores.system_rooms.get("outreach")
            if room is None:
                return
            await self.outbox.enqueue(room, "m.room.message", staff_text(body, mention=user), now)
            return
        await self.outbox.enqueue(room, "m.room.message", staff_text(body), now)

    async def mark_urgent(self, case: Case, now: int) -> None:
        q = await self.workflow.get(case.id)
        if q is None or q.urgent:
            return
        await self.workflow.mark_urgent(case.id)
        await self.log.add(case.id, "urgent", now)
        if q.stage == "waiting":
            await self.notices.remind_by(case.id, now + self.reminder_ms(True))

    async def urgent_held_back(self, case: Case, limit: int, now: int) -> None:
        """An urgent answer past the client's limit: the case keeps its place, the card says why."""
        body = text(self.staff_language, "queue.staff.urgent_held_back", number=case.number, limit=limit)
        await self._thread(case, body, now)
        await self.log.add(case.id, "urgent_held_back", now)

    def _refusal(self, case: Case, q: Workflow, counsellor: UserID) -> UserError:
        """Why ``counsellor`` cannot have this case now."""
        if q.stage == "claimed":
            if q.claimed_by == counsellor:
                return UserError("queue.staff.yours_already", number=case.number)
            return UserError("queue.staff.taken", number=case.number, counsellor=str(q.claimed_by))
        if q.stage == "triage":
            return UserError("queue.staff.in_triage", number=case.number)
        return UserError("queue.staff.closed_case", number=case.number)

    async def claim(self, case: Case, counsellor: UserID, now: int) -> Workflow:
        """Take a waiting case: refused to a counsellor on a break or at their limit."""
        q = await self.workflow.get(case.id)
        if q is not None and q.claimable:
            refused = refusal(await self.roster.load_of(counsellor), case.number)
            if refused is not None:
                raise refused
        claimed = await self.workflow.claim(case.id, counsellor, now)
        if claimed is None:
            q = await self.workflow.get(case.id)
            assert q is not None
            raise self._refusal(case, q, counsellor)
        first = not any(event.kind == "claimed" for event in await self.log.of_case(case.id))
        await self.count_load(counsellor, now, first_pickup=first)
        await self.log.add(case.id, "claimed", now, counsellor)
        later = q is not None and q.stage == "waiting_async"  # they read it when they come back
        await self._tell_visitor(
            case, "queue.visitor.claimed_later" if later else "queue.visitor.claimed", now, verdict=first
        )
        facts = await self.facts(case, claimed)
        await self._thread(case, summary_text(facts, self.definition, self.staff_language), now, mention=counsellor)
        return claimed

    async def release(self, case: Case, counsellor: UserID, now: int, *, walked_out: bool = False) -> None:
        """Back to the queue at the old place; ``walked_out``: the counsellor left the room themselves."""
        q = await self.workflow.get(case.id)
        assert q is not None
        released = await self.workflow.release(case.id, counsellor, now + self.reminder_ms(q.urgent))
        if released is None:
            raise UserError("queue.staff.not_yours", number=case.number)
        await self.log.add(case.id, "released", now, counsellor, "left_room" if walked_out else None)
        key = "queue.staff.counsellor_left" if walked_out else "queue.staff.released"
        await self._thread(case, text(self.staff_language, key, counsellor=counsellor, number=case.number), now)
        if released.departure is None:
            await self.tell_place(case, now, lead=text(as_language(case.language), "queue.visitor.released"))

    async def transfer(self, case: Case, actor: UserID, to: UserID, now: int) -> None:
        """Only the counsellor who has the chat hands it on; from the queue, a counsellor can
        only take it themselves (nobody is handed a chat they did not ask for unannounced)."""
        q = await self.workflow.get(case.id)
        assert q is not None
        if not (q.claimable or q.stage == "claimed"):
            raise self._refusal(case, q, to)
        if q.stage == "claimed" and q.claimed_by != actor:
            raise UserError("queue.staff.not_yours", number=case.number)
        if q.claimable and to != actor:
            raise UserError("queue.staff.transfer_unclaimed", number=case.number)
        if q.claimed_by == to:
            raise UserError("queue.staff.transfer_done", number=case.number, counsellor=to)
        refused = refusal(await self.roster.load_of(to), case.number, who=to)
        if refused is not None:
            raise refused
        moved = await self.workflow.transfer(case.id, q.stage, q.claimed_by, to, now)
        if moved is None:  # it changed hands in the meantime
            fresh = await self.workflow.get(case.id)
            assert fresh is not None
            raise self._refusal(case, fresh, actor)
        await self.count_load(to, now, first_pickup=False)
        await self.log.add(case.id, "transferred", now, actor, to)
        body = text(self.staff_language, "queue.staff.transferred", actor=actor, number=case.number, counsellor=to)
        await self._thread(case, body, now, mention=to)
        if q.claimable:
            await self._thread(
                case, summary_text(await self.facts(case, moved), self.definition, self.staff_language), now
            )
        if moved.departure is None:
            key = "queue.visitor.transferred" if q.stage == "claimed" else "queue.visitor.claimed"
            await self._tell_visitor(case, key, now)

    async def close(self, case: Case, counsellor: UserID, outcome: str, now: int, wrap_up: WrapUp | None) -> None:
        """The counsellor closes the chat; without a wrap-up they are asked for one under the card."""
        closed = await self.workflow.close(case.id, counsellor, outcome, now)
        if closed is None:
            q = await self.workflow.get(case.id)
            assert q is not None
            if q.stage == "closed":
                raise UserError("queue.staff.closed_case", number=case.number)
            raise UserError("queue.staff.not_yours", number=case.number)
        await self.log.add(case.id, "closed", now, counsellor, outcome)
        if wrap_up is not None:
            await self.log.add(case.id, "wrap_up", now, counsellor, wrap_up.detail)
        else:
            body = text(self.staff_language, "queue.staff.wrap_up_ask", number=case.number, **self.wrap_up_lists)
            await self._thread(case, body, now, mention=counsellor)
        if closed.departure is None:
            await self._tell_visitor(case, "queue.visitor.closed", now)
        await close_case(self.stores, case.id, CLOSED_BY_COUNSELLOR, now, self.case_room_days)

    async def depart(self, case: Case, departure: Departure, now: int) -> None:
        """The visitor left (or ended, or fled): the card says so, a counsellor in the room is told."""
        remind_at = None
        if departure == "async":  # a message left for later: reminded of once the chat is open
            q = await self.workflow.get(case.id)
            remind_at = first_reminder(self.hours, now, self.reminder_ms(q is not None and q.urgent))
        moved = await self.workflow.depart(case.id, departure, now, remind_at)
        if moved is None:
            return  # unknown case or told before
        await self.log.add(case.id, "departed", now, None, departure)
        if moved.stage != "claimed":
            return
        key = f"queue.staff.visitor_{departure}"
        if departure in RETURNABLE:
            # The visitor may come back and read the case room's history: staff-only words go
            # under the card, to the counsellor who has the chat.
            await self._thread(case, text(self.staff_language, key), now, mention=moved.claimed_by)
        else:
            await self._tell_staff_in_room(case, key, now)

    async def returned(self, case: Case, q: Workflow, now: int) -> None:
        """The visitor came back with a return code: back to the counsellor who had the case if
        they are still a counsellor and on duty, else into the queue; the card's thread says
        after how many days (docs/return-code.md)."""
        dormancy = await self.stores.dormancy.get(case.id)
        days = dormancy.days_away(now) if dormancy is not None else 0
        holder = await self.stores.staff.get(q.claimed_by) if q.claimed_by is not None else None
        back = None
        if holder is not None and holder.role == "counsellor" and holder.on_duty:
            back = await self.workflow.back_to(case.id, holder.user_id)
        if back is None and await self.workflow.requeue(case.id, now, now + self.reminder_ms(q.urgent)) is None:
            return  # handled by an earlier round
        await self.log.add(case.id, "requeued" if back is None else "back_to_counsellor", now)
        key = "queue.staff.returned_to_you" if back is not None else "queue.staff.returned_to_queue"
        body = text(self.staff_language, key, number=case.number, days=days)
        await self.posts.add(case.id, "reply", staff_text(body, mention=back.claimed_by if back else None), now)

    async def note(self, case: Case, counsellor: UserID, note: str, now: int) -> None:
        body = text(self.staff_language, "queue.staff.note", counsellor=counsellor, text=note)
        await self._thread(case, body, now)
        await self.log.add(case.id, "note", now, counsellor)

    # The shift (bots.counsellors): what a claim adds to the counts, the wrap-up's lists

    async def count_load(self, counsellor: UserID, now: int, *, first_pickup: bool) -> None:
        """Counted without a name or a case: how many chats the counsellor holds now (this one
        included), and for a chat's first pick-up the hour of the day it happened in."""
        local = datetime.fromtimestamp(now / 1000, tz=UTC).astimezone(self.zone)
        day = local.date().isoformat()
        held = await self.workflow.claimed_count(counsellor)
        await self.stores.stats.add(day, "concurrent_chats", "total")
        await self.stores.stats.add(day, "concurrent_chats", f"chats:{held}")
        if first_pickup:
            await self.stores.stats.add(day, "chats_per_hour", f"hour:{local.hour:02d}")

    @property
    def wrap_up_lists(self) -> dict[str, str]:
        lists = self.settings.wrap_up
        return {"topics": ", ".join(lists.topics), "referrals": ", ".join(lists.referrals)}
