"""What the bench counts: every message sent (by content id) and every copy the other side
decrypted, in the fault window that was current when it was sent; session starts; and when
each side first saw traffic again after a fault.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tests.support.staff import Observer

BENCH_KEY = "nl.keerpunt.bench"  # the content id every bench message carries
WARM_UP = "warm-up"


@dataclass
class Sent:
    id: str
    side: str  # "visitor" or "counsellor": who sent it
    room: str
    window: str  # where it counts: the window it was taken in (sent in, until then)
    at: float
    accepted: bool = False  # the homeserver answered the send with an event ID


@dataclass
class Window:
    """One fault (or the warm-up before the first): from the kill until the next fault."""

    name: str
    began: float
    began_wall: float = field(default_factory=time.time)  # to place events by origin_server_ts
    back_after: float | None = None  # seconds until the process answered again
    seen_again: dict[str, float] = field(default_factory=dict)  # side → seconds to the first receipt
    starts: int = 0
    starts_failed: int = 0
    starts_retried: int = 0


class Ledger:
    def __init__(self) -> None:
        self.sent: dict[str, Sent] = {}
        self.copies: dict[str, set[str]] = {}  # content id → event IDs the other side decrypted
        self.windows: list[Window] = [Window(WARM_UP, time.monotonic())]
        self.scanned: dict[int, int] = {}  # id(observer) → timeline entries already read
        self.impossible: dict[str, int] = {}
        self.undecryptable: dict[str, int] = {}  # window → events no key came for
        self.held_to_device = 0  # to-device messages Synapse kept and never delivered

    @property
    def window(self) -> Window:
        return self.windows[-1]

    def begin(self, name: str) -> Window:
        self.windows.append(Window(name, time.monotonic()))
        return self.window

    def window_at(self, wall_ms: int) -> str:
        """The window an event the server stamped at ``wall_ms`` was sent in."""
        found = self.windows[0].name
        for window in self.windows:
            if window.began_wall * 1000 <= wall_ms:
                found = window.name
        return found

    def new_id(self, side: str, room: str) -> Sent:
        sent = Sent(f"{side[0]}{len(self.sent):05d}", side, room, self.window.name, time.monotonic())
        self.sent[sent.id] = sent
        return sent

    def read(self, observer: Observer, side: str) -> None:
        """Take the copies ``observer`` decrypted since the last call (messages of the other side)."""
        key = id(observer)
        entries = [e for room in observer.timeline.values() for e in room]
        total = sum(len(room) for room in observer.timeline.values())
        if self.scanned.get(key) == total:
            return
        self.scanned[key] = total
        now = time.monotonic()
        for event in entries:
            content = event.get("content") or {}
            bench_id = content.get(BENCH_KEY)
            sent = self.sent.get(bench_id) if isinstance(bench_id, str) else None
            if sent is None or sent.side == side or content.get("m.relates_to"):
                continue
            copies = self.copies.setdefault(sent.id, set())
            if event["event_id"] not in copies:
                copies.add(event["event_id"])
                self._seen(side, sent, now)

    def _seen(self, side: str, sent: Sent, now: float) -> None:
        for window in reversed(self.windows):
            if window.name == WARM_UP:
                return
            if sent.at >= window.began:
                window.seen_again.setdefault(side, now - window.began)
                return

    def pending(self, side: str | None = None) -> list[Sent]:
        """Accepted sends the other side has not decrypted yet."""
        return [s for s in self.sent.values() if s.accepted and not self.copies.get(s.id) and side in (None, s.side)]

    def counts(self, window: str | None = None) -> dict[str, int]:
        chosen = [s for s in self.sent.values() if window in (None, s.window)]
        return {
            "sent": len(chosen),
            "not_accepted": sum(1 for s in chosen if not s.accepted),
            "received": sum(1 for s in chosen if self.copies.get(s.id)),
            "lost": sum(1 for s in chosen if s.accepted and not self.copies.get(s.id)),
            "doubled": sum(1 for s in chosen if len(self.copies.get(s.id, ())) > 1),
        }
