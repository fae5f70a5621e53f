"""Who to wake when something changed: the outbox sender and the background workers.

Handlers and workers decide in the database and the reconcilers catch up; these signals only
shorten the wait (every reconciler also runs on a timer, so a lost wake-up costs a delay, never
an action). Three moments matter:

- ``changed()``: a transaction was committed that may need sending or reconciling;
- ``to_send()``: only new outbox rows (a worker wrote them; the other workers need not look);
- ``sent()``: a message left the outbox (a card's event ID is known, edits and posts can follow).
"""

from __future__ import annotations

from collections.abc import Callable


class Wakeups:
    def __init__(self) -> None:
        self._sender: list[Callable[[], None]] = []
        self._workers: list[Callable[[], None]] = []

    def add_sender(self, wake: Callable[[], None]) -> None:
        self._sender.append(wake)

    def add_worker(self, wake: Callable[[], None]) -> None:
        self._workers.append(wake)

    def changed(self) -> None:
        for wake in (*self._sender, *self._workers):
            wake()

    def to_send(self) -> None:
        for wake in self._sender:
            wake()

    def sent(self) -> None:
        for wake in self._workers:
            wake()
