"""The bot without a homeserver: the production assembly (``bots.app``) over a temporary database,
with a recording fake Matrix and a clock the test moves (maubot's ``TestBot`` is the model).

Synthetic room events go into the real router; what comes out is what the bot would send
(recorded by the fake client, through the real outbox sender) and what it stored. The fakes
stand in for the network only: the database, the stores, the router, the command table, the
domains and the workers are the ones production runs. Rules that need real end-to-end
encryption, real Synapse behaviour or a real browser are tested in the e2e and browser layers.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from nio import EncryptionError, Event, RoomSendResponse, UploadResponse

from bots.app import PLUGS, App, Assembled
from bots.concern import Plug, Reconciler
from bots.db import Database, Stores
from bots.db.case import Case
from bots.homeserver.admin import Registration, SynapseError
from bots.ids import DeviceID, EventID, RoomID, UserID
from bots.sessions.domain import SessionManager, VisitorNames
from bots.sessions.validation import EndReason, StartRequest
from bots.texts import Language, text
from keerpunt.base.config import Config

# Rounds of "send what is queued, let every worker catch up" before settle() gives up.
SETTLE_ROUNDS = 20


class ManualClock:
    """A clock that only moves when the test says so (wall and monotonic time together)."""

    def __init__(self, start: float | None = None) -> None:
        self.wall = time.time() if start is None else start
        self.mono = 1000.0

    def now(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


@dataclass
class FakeRoom:
    """What the bot's nio client knows of a room after a sync: its members."""

    room_id: RoomID
    users: dict[str, str] = field(default_factory=dict)  # user → membership
    encrypted: bool = False  # the sender then skips nio's device bookkeeping


@dataclass(frozen=True)
class Sent:
    room_id: RoomID
    event_type: str
    content: dict[str, Any]
    event_id: EventID
    txn_id: str

    @property
    def body(self) -> str:
        return str(self.content.get("body", ""))

    @property
    def kind(self) -> str | None:
        kind = self.content.get("nl.keerpunt.message")
        return kind if isinstance(kind, str) else None


class FakeMatrix:
    """The homeserver as the bot sees it, in memory: rooms made, memberships, calls, and every
    message sent (by transaction ID, so a retried send is one event, as in Synapse)."""

    def __init__(self, server_name: str, bot: UserID) -> None:
        self.server_name = server_name
        self.user_id = bot
        self.rooms: dict[str, FakeRoom] = {}
        self.should_query_keys = False  # no encrypted room: the sender never asks
        self.state: dict[RoomID, dict[tuple[str, str], dict[str, Any]]] = {}
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, str]] = []
        self.deactivated: list[UserID] = []
        self.redacted: list[tuple[RoomID, EventID]] = []
        self.forgotten_users: list[UserID] = []
        self.signed_out: set[str] = set()
        self.forgotten_keys: list[tuple[list[str], list[str]]] = []
        self.olm = None
        self.fail: dict[str, SynapseError] = {}  # call label → the error it answers with
        self._ids = itertools.count(1)
        self._by_txn: dict[str, Sent] = {}
        self._tokens: dict[str, UserID] = {}
        # The return code (docs/return-code.md): passwords set, locked accounts, devices deleted,
        # and each visitor's dehydrated device (a test adds one as the widget would).
        self.passwords: dict[UserID, str] = {}
        self.locked: set[UserID] = set()
        self.deleted_devices: dict[UserID, list[str]] = {}
        self.dehydrated: dict[UserID, str] = {}
        self.signed_in: dict[UserID, list[str]] = {}  # devices signed in later (a returning visitor's)
        self.uploads: list[tuple[str, bytes]] = []
        # Every event the router was fed, per room (what /messages pages back through).
        self.timeline: dict[str, list[Event]] = {}
        self.next_batch: str | None = "s1"

    def new_id(self, sigil: str) -> str:
        return f"{sigil}fake{next(self._ids)}:{self.server_name}"

    # The nio client's part (what OutboxSender uses)

    async def room_send(
        self, room_id: str, message_type: str, content: dict[str, Any], tx_id: str | None = None
    ) -> Any:
        assert tx_id is not None, "the outbox always names its transaction"
        if tx_id not in self._by_txn:
            sent = Sent(RoomID(room_id), message_type, content, EventID(self.new_id("$")), tx_id)
            self._by_txn[tx_id] = sent
            self.sent.append(sent)
        return RoomSendResponse(self._by_txn[tx_id].event_id, room_id)

    async def upload(self, provider: Any, /, *, content_type: str, filename: str, encrypt: bool, filesize: int) -> Any:
        """Media upload (the outreach QR code): recorded, answered with a content URI."""
        self._call("upload")
        data = provider(content_type, filename).read()
        self.uploads.append((content_type, data))
        keys = {"key": {"k": "fake"}, "iv": "fake", "hashes": {"sha256": "fake"}, "v": "v2"} if encrypt else None
        return UploadResponse.from_dict({"content_uri": f"mxc://{self.server_name}/fake{len(self.uploads)}"}), keys

    async def keys_query(self) -> Any:
        return None

    async def room_messages(self, room_id: str, start: str, **_: Any) -> Any:
        """One page back from now: every event fed to the room, newest first."""
        return SimpleNamespace(chunk=list(reversed(self.timeline.get(room_id, []))), end=None)

    def decrypt_event(self, event: Any) -> Any:
        raise EncryptionError("the fake client holds no room keys")

    async def close(self) -> None:
        return None

    # The Synapse HTTP part (what SynapseAdmin offers)

    def _call(self, label: str) -> None:
        self.calls.append((label, ""))
        if label in self.fail:
            raise self.fail[label]

    def _member(self, room_id: str, user: str, membership: str) -> None:
        room = self.rooms.setdefault(room_id, FakeRoom(RoomID(room_id)))
        room.users[user] = membership
        self.state.setdefault(RoomID(room_id), {})[("m.room.member", user)] = {"membership": membership}

    async def create_room(self, body: Mapping[str, Any]) -> RoomID:
        self._call("createRoom")
        room_id = RoomID(self.new_id("!"))
        self._member(room_id, self.user_id, "join")
        for user in body.get("invite", []):
            self._member(room_id, user, "invite")
        for event in body.get("initial_state", []):
            self.state[room_id][(event["type"], event.get("state_key", ""))] = dict(event["content"])
        self.state[room_id][("m.room.create", "")] = dict(body.get("creation_content", {}))
        self.state[room_id][("m.room.power_levels", "")] = dict(body.get("power_level_content_override", {}))
        return room_id

    async def request(self, method: str, path: str, body: Mapping[str, Any] | None = None, **_: Any) -> dict[str, Any]:
        self._call(f"{method} {path}")
        return {}

    async def state_event(self, room_id: RoomID, event_type: str, state_key: str = "") -> dict[str, Any]:
        self._call(f"GET state {event_type}")
        found = self.state.get(room_id, {}).get((event_type, state_key))
        if found is None:
            raise SynapseError(404, "M_NOT_FOUND", "no such state")
        return dict(found)

    async def put_state(self, room_id: RoomID, event_type: str, state_key: str, content: Mapping[str, Any]) -> None:
        self._call(f"PUT state {event_type}")
        self.state.setdefault(room_id, {})[(event_type, state_key)] = dict(content)

    async def invite(self, room_id: RoomID, user_id: UserID) -> None:
        self._call("invite")
        self._member(room_id, user_id, "invite")

    async def kick(self, room_id: RoomID, user_id: UserID) -> None:
        self._call("kick")
        self._member(room_id, user_id, "leave")

    async def redact(self, room_id: RoomID, event_id: EventID, txn_id: str) -> None:
        self._call("redact")
        self.redacted.append((room_id, event_id))

    async def joined_rooms(self) -> list[RoomID]:
        return [RoomID(room) for room, info in self.rooms.items() if info.users.get(self.user_id) == "join"]

    async def joined_members(self, room_id: str) -> list[str]:
        room = self.rooms.get(room_id)
        return [u for u, m in room.users.items() if m == "join"] if room else []

    async def force_join(self, room_id: RoomID, user_id: UserID) -> None:
        self._member(room_id, user_id, "join")

    async def room_state(self, room_id: RoomID) -> list[dict[str, Any]]:
        return [
            {"type": kind, "state_key": key, "content": content}
            for (kind, key), content in self.state.get(room_id, {}).items()
        ]

    async def register(self, localpart: str, password: str, **_: Any) -> Registration:
        self._call("register")
        user = UserID(f"@{localpart}:{self.server_name}")
        token = f"token-{next(self._ids)}"
        self._tokens[token] = user
        return Registration(user, token, DeviceID(self.new_id("D")))

    async def set_display_name(self, user_id: UserID, name: str, *, token: str | None = None) -> None:
        self._call("displayname")

    async def deactivate(self, user_id: UserID, *, erase: bool) -> None:
        self._call("deactivate")
        self.deactivated.append(user_id)
        for room_id, room in self.rooms.items():
            if room.users.get(user_id) in ("invite", "join"):
                self._member(room_id, user_id, "leave")

    async def devices(self, user_id: UserID) -> list[dict[str, Any]]:
        """A visitor has their one device (and a dehydrated one, if made) until deactivated or
        signed out."""
        if user_id in self.deactivated:
            return []
        found = [] if user_id in self.signed_out else [{"device_id": "WIDGET", "user_id": user_id}]
        if user_id in self.dehydrated:
            found.append({"device_id": self.dehydrated[user_id], "user_id": user_id})
        found += [{"device_id": device, "user_id": user_id} for device in self.signed_in.get(user_id, [])]
        return [d for d in found if d["device_id"] not in self.deleted_devices.get(user_id, [])]

    async def set_password(self, user_id: UserID, password: str) -> None:
        self._call("reset_password")
        self.passwords[user_id] = password

    async def set_locked(self, user_id: UserID, locked: bool) -> None:
        self._call("lock" if locked else "unlock")
        (self.locked.add if locked else self.locked.discard)(user_id)

    async def delete_devices(self, user_id: UserID, device_ids: list[str]) -> None:
        self._call("delete_devices")
        self.deleted_devices.setdefault(user_id, []).extend(device_ids)

    async def dehydrated_device(self, token: str) -> str | None:
        return self.dehydrated.get(await self.whoami(token))

    async def forget_user(self, user_id: UserID) -> None:
        self._call("forget_user")
        self.forgotten_users.append(user_id)

    def forget(self, rooms: Any, users: Any) -> None:
        """The bot client's crypto store forgetting purged rooms and devices."""
        self.forgotten_keys.append((sorted(rooms), sorted(users)))

    async def delete_room(self, room_id: RoomID, *, purge: bool = True) -> str:
        self._call("delete room")
        self.rooms.pop(room_id, None)
        return "delete"

    async def delete_status(self, delete_id: str, room_id: RoomID) -> str:
        return "complete"

    async def forget_rooms(self) -> None:
        self._call("forget_rooms")

    async def whoami(self, token: str) -> UserID:
        if token not in self._tokens or self._tokens[token] in self.deactivated or self._tokens[token] in self.locked:
            raise SynapseError(401, "M_UNKNOWN_TOKEN", "unknown token")
        return self._tokens[token]

    async def override_ratelimit(self, user_id: UserID) -> None:
        return None


class FakeTrust:
    """Every device is cross-signed unless the test says a user's is not."""

    def __init__(self, on_change: Callable[[UserID, str], Awaitable[None]]) -> None:
        self.untrusted: set[str] = set()
        self.expected: list[str] = []  # visitors announced on a new device (a return)
        # The concerns' hooks, as the real policy is given them (a test calls it for a new identity).
        self.on_change = on_change
        self.devices: dict[str, set[str]] = {}  # a user's cross-signed devices (default: one)

    async def sent_by_trusted_device(self, client: Any, room_id: str, event: Event) -> bool:
        return event.sender not in self.untrusted

    def was_sent_by_trusted_device(self, client: Any, room_id: str, event: Event) -> bool:
        return event.sender not in self.untrusted

    def settling(self, users: Any) -> bool:
        return False

    async def expect_new_device(self, user: str) -> None:
        self.expected.append(user)

    async def all_devices_cross_signed(self, user: str) -> bool:
        return user not in self.untrusted

    async def cross_signed_devices(self, user: str) -> set[str]:
        return set() if user in self.untrusted else set(self.devices.get(user, {"DEVICE1"}))

    async def apply(self, client: Any, users: Any) -> None:
        return None

    def forget(self, users: Any) -> None:
        return None


class CoreBot:
    """The assembled bot, driven by synthetic events."""

    def __init__(
        self, config: Config, db: Database, clock: ManualClock, *, plugs: tuple[type[Plug], ...] = PLUGS
    ) -> None:
        self.config = config
        self.db = db
        self.stores = Stores.over(db)
        self.clock = clock
        self.bot_id = UserID(config.bot_user_id)
        self.matrix = FakeMatrix(config.homeserver.server_name, self.bot_id)
        self.app = App(config, plugs=plugs)
        self.trust = FakeTrust(self.app.hooks.identity_changed)
        self._bot: Assembled | None = None
        self._events = itertools.count(1)
        self._read = 0

    @property
    def bot(self) -> Assembled:
        assert self._bot is not None, "start() first"
        return self._bot

    async def start(self) -> None:
        self._bot = await self.app.assemble(
            self.stores,
            self.matrix,  # the recording fake client
            self.matrix,  # and the recording fake Synapse API
            self.trust,
            self.clock,
        )

    @property
    def queue_room(self) -> RoomID:
        return self.bot.parts.rooms["queue"]

    # Events in

    def event(
        self,
        sender: str,
        event_type: str,
        content: dict[str, Any],
        *,
        encrypted: bool = True,
        state_key: str | None = None,
    ) -> Event:
        source: dict[str, Any] = {
            "event_id": f"$in{next(self._events)}",
            "sender": sender,
            "type": event_type,
            "content": content,
            "origin_server_ts": int(self.clock.now() * 1000),
        }
        if state_key is not None:
            source["state_key"] = state_key
        event = Event.parse_event(source)
        event.decrypted = encrypted and state_key is None
        return event

    async def feed(self, room_id: RoomID, event: Event) -> EventID:
        """The event as the sync would hand it to the router; then the bot catches up."""
        self.matrix.timeline.setdefault(room_id, []).append(event)
        await self.bot.router.on_room_event(room_id, event)
        await self.settle()
        return EventID(event.event_id)

    async def say(self, room_id: RoomID, sender: str, body: str, **extra: Any) -> EventID:
        return await self.feed(
            room_id, self.event(sender, "m.room.message", {"msgtype": "m.text", "body": body, **extra})
        )

    async def react(self, room_id: RoomID, sender: str, target: EventID, key: str = "👍") -> EventID:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}
        return await self.feed(room_id, self.event(sender, "m.reaction", content, encrypted=False))

    async def leave(self, room_id: RoomID, user: str) -> EventID:
        return await self.feed(room_id, self.event(user, "m.room.member", {"membership": "leave"}, state_key=user))

    async def join(self, room_id: RoomID, user: str, name: str) -> EventID:
        self.matrix._member(room_id, user, "join")
        content = {"membership": "join", "displayname": name}
        return await self.feed(room_id, self.event(user, "m.room.member", content, state_key=user))

    # The bot catching up

    async def settle(self) -> None:
        """Send what is queued and let every worker catch up, until two rounds in a row change
        nothing (a worker may leave work for another that ran before it in the round)."""
        quiet = 0
        for _ in range(SETTLE_ROUNDS):
            before = (len(self.matrix.sent), len(self.matrix.calls))
            await self.bot.sender.flush()
            for worker in self.bot.workers:
                if isinstance(worker, Reconciler):  # the periodic ones keep their own, long, time
                    await worker.step()
            await self.bot.sender.flush()
            quiet = quiet + 1 if (len(self.matrix.sent), len(self.matrix.calls)) == before else 0
            if quiet == 2:
                return
        raise AssertionError("the bot did not settle")

    def sent(self, room_id: RoomID | None = None) -> list[Sent]:
        return [s for s in self.matrix.sent if room_id is None or s.room_id == room_id]

    def new(self, room_id: RoomID | None = None) -> list[Sent]:
        """What was sent since the last call of ``new`` (in ``room_id``, if given)."""
        fresh = self.matrix.sent[self._read :]
        self._read = len(self.matrix.sent)
        return [s for s in fresh if room_id is None or s.room_id == room_id]

    def replies(self, room_id: RoomID, event_id: EventID) -> list[str]:
        """The bodies of the notices that answer ``event_id`` (not the posts threaded under a card)."""
        return [
            s.body
            for s in self.sent(room_id)
            if s.content.get("msgtype") == "m.notice"
            and (s.content.get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == event_id
        ]

    async def command(self, room_id: RoomID, sender: str, body: str, **extra: Any) -> str | None:
        """Send a command; the bot's one answer to it (None when it answers nothing).

        In the queue room (and to a partner in their handover room) the answer replies to the
        command; typed where a visitor reads along, a staff member's answer goes under the
        case's card, mentioning them, and nothing is posted in that room.
        """
        before = len(self.matrix.sent)
        event_id = await self.say(room_id, sender, body, **extra)
        answers = self.replies(room_id, event_id)
        private = [
            s.body
            for s in self.matrix.sent[before:]
            if s.room_id == self.queue_room
            and room_id != self.queue_room
            and sender in (s.content.get("m.mentions") or {}).get("user_ids", [])
        ]
        assert len(answers) + len(private) <= 1, (answers, private)
        found = answers or private
        return found[0] if found else None

    # Cases

    async def open_case(self, language: Language = "nl", *, client: str | None = None) -> Visitor:
        """A session as the session API makes it: account, case room, open case (from ``client``'s address)."""
        names = VisitorNames(text("nl", "visitor.display_name"), text("nl", "visitor.device_name"))
        new = await self.bot.service(SessionManager).start(StartRequest(language, "widget"), names)
        if client is not None:
            limits = self.bot.parts.limits
            limits.started(new.case_id, limits.keyer.key(client))
        self.matrix._member(new.room_id, new.user_id, "join")
        return Visitor(self, new.user_id, new.room_id, new.case_number, new.access_token, language)

    async def case(self, visitor: Visitor) -> Case:
        case = await self.stores.cases.by_room(visitor.room_id)
        assert case is not None
        return case

    async def add_staff(self, name: str, role: str = "counsellor", partner: str | None = None) -> UserID:
        user = UserID(f"@{name}:{self.config.homeserver.server_name}")
        await self.stores.staff.add(user, role, partner)
        return user

    def card(self, number: str) -> Sent:
        """The case card as first posted in the queue room."""
        cards = [
            s
            for s in self.sent(self.queue_room)
            if (s.content.get("nl.keerpunt.card") or {}).get("case") == number and "m.new_content" not in s.content
        ]
        assert len(cards) == 1, f"{len(cards)} cards for case {number}"
        return cards[0]

    def card_now(self, number: str) -> str:
        """The card's text after its last edit."""
        card = self.card(number)
        body = card.body
        for s in self.sent(self.queue_room):
            relates = s.content.get("m.relates_to") or {}
            if relates.get("rel_type") == "m.replace" and relates.get("event_id") == card.event_id:
                body = s.content["m.new_content"]["body"]
        return body

    def reminders(self, number: str) -> list[dict[str, Any]]:
        """The reminders (⏰, 🚨) posted in reply to the card, as sent."""
        card = self.card(number)
        return [
            s.content
            for s in self.sent(self.queue_room)
            if (s.content.get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == card.event_id
            and s.body.startswith(("⏰", "🚨"))
        ]

    def thread(self, number: str) -> list[str]:
        """The bodies posted under the card (its thread and replies to it)."""
        card = self.card(number)
        out = []
        for s in self.sent(self.queue_room):
            relates = s.content.get("m.relates_to") or {}
            if relates.get("rel_type") == "m.replace":
                continue
            if (
                relates.get("event_id") == card.event_id
                or (relates.get("m.in_reply_to") or {}).get("event_id") == card.event_id
            ):
                out.append(s.body)
        return out


@dataclass
class Visitor:
    bot: CoreBot
    user_id: UserID
    room_id: RoomID
    number: str
    token: str
    language: str = "nl"

    async def end(self, reason: EndReason = "ended") -> None:
        """The widget's ``POST /api/v1/sessions/end`` (the API's own checks are e2e-tested)."""
        await self.bot.bot.service(SessionManager).end(self.token, reason)
        self.bot.bot.parts.wakeups.changed()
        await self.bot.settle()

    async def start(self, language: str | None = None) -> None:
        """The widget's first event (DESIGN.md rule 7: the visitor speaks first)."""
        content = {"language": language or self.language}
        await self.bot.feed(self.room_id, self.bot.event(self.user_id, "nl.keerpunt.start", content))

    async def say(self, body: str, **extra: Any) -> EventID:
        return await self.bot.say(self.room_id, self.user_id, body, **extra)

    async def press(self, prompt: str, option: str, label: str = "") -> EventID:
        return await self.say(label or option, **{"nl.keerpunt.reply": {"prompt": prompt, "option": option}})

    def heard(self) -> list[Sent]:
        return self.bot.sent(self.room_id)

    def last(self) -> Sent:
        return self.heard()[-1]

    async def answer_all(self, answers: Mapping[str, str]) -> None:
        """Start, then press the button for each triage question in turn."""
        await self.start()
        for question, option in answers.items():
            await self.press(question, option)
