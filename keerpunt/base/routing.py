"""Synapse's processes and the one routing table: which request goes to which process.

Both the Synapse worker configs (keerpunt/workers.py) and every Caddy config (keerpunt/caddy.py:
the production Caddyfile in deploy/ and the local router of `keerpunt dev --workers`) are
rendered from this module, so the proxy never sends a request to a process that was not
configured to serve it.

The endpoint lists follow Synapse's worker documentation (docs/workers.md, Synapse 1.163):
"synapse.app.generic_worker" for the client reads, /sync and event creation, and the stream
writers' sections for `to_device` and `device_lists`. Only client-API paths are routed to
workers; federation (partners only), media, account data, push rules, typing, receipts and
everything else stay on the main process, which can serve any request.

Patterns are regular expressions in the syntax Python's ``re`` and Go's RE2 (Caddy) share,
matched against the request path from its start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAIN = "main"

# Client-API versions Synapse serves; written out as in Synapse's docs so a reader can compare.
_C = "/_matrix/client/(api/v1|r0|v3|unstable)"
_C3 = "/_matrix/client/(r0|v3|unstable)"


@dataclass(frozen=True)
class Process:
    """One Synapse process: the main process or a worker."""

    name: str
    # What it does, for the rendered config's comments and the docs.
    role: str
    # Serves client requests through the proxy (an HTTP listener with the client resource).
    client: bool
    # Writes a stream, so other processes call it over HTTP replication (instance_map).
    replication: bool
    # The main process can answer this worker's routes too: while the worker is down (a
    # restart, a crash) the proxy sends them to main instead of failing. Not for stream
    # writers: only they may write their stream.
    main_fallback: bool


PROCESSES: tuple[Process, ...] = (
    Process(MAIN, "everything not routed elsewhere; the admin API (internal router only)", True, True, False),
    Process("sync1", "generic worker: /sync and the other long-polls", True, False, True),
    Process("client1", "generic worker: client reads, keys, login, and creating events", True, False, True),
    Process("persister1", "event persister: writes the events stream", False, True, False),
    Process("streams1", "stream writer: to_device and device_lists (key uploads, devices)", True, True, False),
    Process("background1", "background tasks (purges, retention jobs, cleanups)", False, False, False),
)
WORKERS: tuple[Process, ...] = tuple(p for p in PROCESSES if p.name != MAIN)

# `stream_writers` in homeserver.yaml, and the background worker.
STREAM_WRITERS: dict[str, list[str]] = {
    "events": ["persister1"],
    "to_device": ["streams1"],
    "device_lists": ["streams1"],
}
BACKGROUND = "background1"


@dataclass(frozen=True)
class Route:
    pattern: str
    process: str


def _routes(process: str, *patterns: str) -> list[Route]:
    return [Route(p, process) for p in patterns]


# The routing table, in order: the first match wins. Anything not listed goes to main.
ROUTES: tuple[Route, ...] = (
    # The to_device and device_lists streams: their writer must handle these.
    *_routes(
        "streams1",
        f"^{_C3}/sendToDevice/",
        "^/_matrix/client/(r0|v3)/delete_devices$",
        f"^{_C}/devices(/|$)",
        f"^{_C3}/keys/upload",
        f"^{_C}/keys/device_signing/upload$",
        f"^{_C}/keys/signatures/upload$",
    ),
    # Sync requests.
    *_routes(
        "sync1",
        "^/_matrix/client/(r0|v3)/sync$",
        "^/_matrix/client/(api/v1|r0|v3)/events$",
        "^/_matrix/client/(api/v1|r0|v3)/initialSync$",
        "^/_matrix/client/(api/v1|r0|v3)/rooms/[^/]+/initialSync$",
    ),
    # Client reads, encryption, login, and event creation (the persister stores the events).
    *_routes(
        "client1",
        f"^{_C}/createRoom$",
        f"^{_C}/rooms/.*/joined_members$",
        f"^{_C}/rooms/.*/context/.*$",
        f"^{_C}/rooms/.*/members$",
        f"^{_C}/rooms/.*/state$",
        "^/_matrix/client/v1/rooms/.*/hierarchy$",
        "^/_matrix/client/(v1|unstable)/rooms/.*/relations/",
        "^/_matrix/client/v1/rooms/.*/threads$",
        f"^{_C3}/account/whoami$",
        f"^{_C3}/account/deactivate$",
        "^/_matrix/client/versions$",
        f"^{_C}/rooms/.*/event/",
        f"^{_C}/joined_rooms$",
        f"^{_C3}/user/.*/filter(/|$)",
        f"^{_C3}/capabilities$",
        f"^{_C3}/keys/query$",
        f"^{_C3}/keys/changes$",
        f"^{_C3}/keys/claim$",
        f"^{_C3}/room_keys/",
        f"^{_C}/login$",
        f"^{_C3}/password_policy$",
        f"^{_C}/rooms/.*/redact",
        f"^{_C}/rooms/.*/send",
        f"^{_C}/rooms/.*/state/",
        f"^{_C}/rooms/.*/(join|invite|leave|ban|unban|kick)$",
        f"^{_C}/join/",
        f"^{_C}/profile/",
    ),
)

# Refused by the public site of the proxy, before any routing: Synapse's admin API, every
# admin path of the client API (`/_matrix/client/v3/admin/whois/...` returns a user's IP
# addresses), and Keerpunt's Synapse module's endpoint for the bots. Repeated slashes and any
# case are refused too, so a spelling Synapse would not route still never reaches it. The
# client-API rule refuses any path segment that is exactly "admin" (a state key "admin" too:
# nothing Keerpunt or Element sends has one).
REFUSED: tuple[str, ...] = (
    "(?i:^/+_synapse/+admin(/|$))",
    "(?i:^/+_matrix/+client/+(.*/+)?admin(/|$))",
    "(?i:^/+_synapse/+client/+keerpunt(/|$))",
)

# What the public site forwards to Synapse at all (the routing table picks the process);
# everything else gets 404 from the proxy.
PUBLIC_PREFIXES: tuple[str, ...] = ("/_matrix/", "/_synapse/client/", "/.well-known/matrix/")


def process(name: str) -> Process:
    for p in PROCESSES:
        if p.name == name:
            return p
    raise KeyError(name)


def route(path: str) -> str:
    """The process the routing table sends ``path`` to (for tests and docs)."""
    for r in ROUTES:
        if re.match(r.pattern, path):
            return r.process
    return MAIN


def refused(path: str) -> bool:
    return any(re.search(p, path) for p in REFUSED)


def routes_of(name: str) -> list[str]:
    return [r.pattern for r in ROUTES if r.process == name]


def _check() -> None:
    names = {p.name for p in PROCESSES}
    for r in ROUTES:
        assert r.process in names and process(r.process).client, r
        re.compile(r.pattern)
    for writers in STREAM_WRITERS.values():
        for name in writers:
            assert process(name).replication, name
    assert BACKGROUND in names


_check()
