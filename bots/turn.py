"""The room events the router hands to the concerns: where each came from, and its turn.

A *turn* is one event being handled inside the transaction that also records it as handled
(the router opens it): whatever a hook writes through the stores commits with that record or
not at all, so a replayed sync batch never acts twice. What must wait until the commit (a
redaction in Synapse) is registered with ``after_commit``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from bots.db.case import Case
from bots.ids import EventID, RoomID, UserID

R = TypeVar("R")


@dataclass(frozen=True)
class Where:
    """A room the bots know: its kind, the case it belongs to (if any), and the owning concern's
    own record of it (a handover room's ``Handover``), read back typed with ``record_as``."""

    room_id: RoomID
    # A room kind its concern declares (bots.declarations): "case" is a visitor's case room.
    kind: str
    case: Case | None = None
    record: object | None = None

    def record_as(self, kind: type[R]) -> R | None:
        """The owning concern's record of this room, if it is a ``kind``."""
        return self.record if isinstance(self.record, kind) else None

    @property
    def case_room(self) -> Case | None:
        """The case, when this is its case room (where the visitor reads along)."""
        return self.case if self.kind == "case" else None


@dataclass
class Turn:
    """One event, handled inside the transaction that records it."""

    where: Where
    event_id: EventID
    sender: UserID
    type: str
    content: dict[str, Any]
    now: int
    after: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # False for an event sent in the clear (a reaction): it names no device of its sender.
    encrypted: bool = True

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` once the transaction committed (never when it rolled back)."""
        self.after.append(action)

    @property
    def body(self) -> str | None:
        body = self.content.get("body") if self.type == "m.room.message" else None
        return body if isinstance(body, str) else None


@dataclass(frozen=True)
class Membership:
    """Someone joined or left (left, was removed or declined) a room."""

    user: UserID
    change: Literal["join", "leave"]
    display_name: str


def membership_of(source: dict[str, Any]) -> Membership | None:
    """The join or leave an ``m.room.member`` event shows; None for anything else (a profile
    change, an invite)."""
    raw = source.get("content")
    content: dict[str, Any] = raw if isinstance(raw, dict) else {}
    user = source.get("state_key")
    if source.get("type") != "m.room.member" or not isinstance(user, str):
        return None
    membership = content.get("membership")
    if membership in ("leave", "ban"):
        return Membership(UserID(user), "leave", user)
    if membership != "join":
        return None
    unsigned = source.get("unsigned")
    previous = unsigned.get("prev_content") if isinstance(unsigned, dict) else None
    if isinstance(previous, dict) and previous.get("membership") == "join":
        return None  # a profile change, not a join
    name = content.get("displayname")
    return Membership(UserID(user), "join", name if isinstance(name, str) and name.strip() else user)
