"""Networks a counsellor dismissed, remembered without keeping an identifier (SECURITY.md 39).

A network is a client address truncated as the rate limits truncate it (/24 for IPv4, /48 for
IPv6: ``bots.limits.client_network``), and it is only ever known here as an HMAC-SHA256 under a
key made at random for one UTC day. The keys of the last ``KEEP_DAYS`` days are held in memory;
an older key is forgotten, and with it every hash made under it, so no hash lives longer than
three days and none can be matched with another day's. Nothing here is logged or written to
the database or a file; a restart forgets it all (a dismissed network is then no longer slowed).

Two things are remembered, both in memory only:

- each case's network hash (under the key of the day the case started), from its start until
  its day's key is forgotten or the case is dismissed, so that ``!dismiss`` knows the network;
- the dismissed networks: the hash of a dismissed case's network, until 24 hours after the
  dismissal. A new start from such a network must solve the hard challenge (``bots.sessions
  .challenge``); it is never refused, since a victim may share the abuser's network.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict

from bots.clock import Clock
from bots.limits import client_network

DAY_SECONDS = 86_400
# Keys held: today's and the two days before. A case started late on one day and dismissed
# late the next still slows its network for the full 24 hours before its key goes.
KEEP_DAYS = 3
# At most this many cases are remembered (the oldest first forgotten: the limit fails open,
# a forgotten case's network is simply not slowed).
MAX_CASES = 100_000

NetworkHash = tuple[int, bytes]  # (the day of the key, the HMAC)


class NetworkMemory:
    def __init__(self, clock: Clock, *, dismiss_seconds: float = DAY_SECONDS) -> None:
        self.clock = clock
        self.dismiss_seconds = dismiss_seconds
        self._keys: dict[int, bytes] = {}
        self._cases: OrderedDict[str, NetworkHash] = OrderedDict()
        self._dismissed: dict[NetworkHash, float] = {}

    def _today(self) -> int:
        """Today's key day, after forgetting every key (and hash) past ``KEEP_DAYS``."""
        today = int(self.clock.now() // DAY_SECONDS)
        if today not in self._keys:
            self._keys[today] = secrets.token_bytes(32)
            old = {day for day in self._keys if day <= today - KEEP_DAYS}
            for day in old:
                del self._keys[day]
            if old:
                self._cases = OrderedDict((c, h) for c, h in self._cases.items() if h[0] not in old)
                self._dismissed = {h: until for h, until in self._dismissed.items() if h[0] not in old}
        return today

    def _hash(self, day: int, address: str | None) -> bytes:
        return hmac.new(self._keys[day], client_network(address), hashlib.sha256).digest()[:16]

    def started(self, case_id: str, address: str | None) -> None:
        """A case started from ``address``: its network's hash is kept for the case."""
        today = self._today()
        self._cases[case_id] = (today, self._hash(today, address))
        while len(self._cases) > MAX_CASES:
            self._cases.popitem(last=False)

    def forget(self, case_id: str) -> None:
        self._cases.pop(case_id, None)

    def dismiss(self, case_id: str) -> bool:
        """The case's network needs the hard challenge for 24 hours; False when its network is
        not known (started before the last restart, or more than two days ago)."""
        self._today()
        network = self._cases.pop(case_id, None)
        if network is None:
            return False
        self._dismissed[network] = self.clock.now() + self.dismiss_seconds
        return True

    def dismissed(self, address: str | None) -> bool:
        """Whether ``address`` is on a network dismissed in the last 24 hours."""
        self._today()
        now = self.clock.now()
        for day in self._keys:
            until = self._dismissed.get((day, self._hash(day, address)))
            if until is not None:
                if until > now:
                    return True
                del self._dismissed[(day, self._hash(day, address))]
        return False

    def __len__(self) -> int:
        """How many hashes are held (cases and dismissed networks), for the tests."""
        return len(self._cases) + len(self._dismissed)
