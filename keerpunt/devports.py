"""The ports of `keerpunt dev`: every one is checked before anything starts.

A second `keerpunt dev` beside a running one used to register its bots against the first
stack's Synapse and die with ``403 M_UNKNOWN: HMAC incorrect``. Now the stack lists every port
it will listen on (a ``Listener``, with the keerpunt.yaml key that chooses it), tries to bind
each one, and when one is taken names it, its key, and a keerpunt.yaml snippet with ports that
are free (the URLs that name those ports moved with them).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

from keerpunt.base.config import Config

# URLs in keerpunt.yaml that name the stack's ports: the suggested config moves them with the port.
URL_KEYS = (
    "homeserver.public_url",
    "homeserver.internal_url",
    "portal.public_url",
    "portal.api_url",
    "bots.api.allowed_origins",
)
ANY_HOST = ("", "0.0.0.0", "::")  # noqa: S104 - names the wildcard addresses, binds nothing


@dataclass(frozen=True)
class Listener:
    """A port the stack will listen on, and the keerpunt.yaml key that chooses it."""

    what: str
    # A port key, or a URL key whose port this is.
    key: str
    host: str
    port: int
    # The port is the key's value plus this: one key can set a block of ports (the workers').
    offset: int = 0


def service_listeners(config: Config) -> list[Listener]:
    """The bots' and the portal's ports, with or without Synapse's workers."""
    out = [
        Listener("the session API", "bots.api.port", config.bots.api.host, config.bots.api.port),
        Listener("the portal", "portal.port", config.portal.host, config.portal.port),
    ]
    if config.bots.metrics_port:
        out.append(Listener("the bots' metrics", "bots.metrics_port", "127.0.0.1", config.bots.metrics_port))
    if config.portal.metrics_port:
        out.append(Listener("the portal's metrics", "portal.metrics_port", "127.0.0.1", config.portal.metrics_port))
    return out


def dev_listeners(config: Config) -> list[Listener]:
    """Every port of the single-process stack."""
    synapse = config.synapse
    out = [Listener("Synapse", "synapse.port", synapse.bind_address, synapse.port)]
    if synapse.metrics_port:
        out.append(Listener("Synapse's metrics", "synapse.metrics_port", synapse.bind_address, synapse.metrics_port))
    return out + service_listeners(config)


def bind_problem(host: str, port: int) -> str | None:
    """Why nothing could listen on host:port now (None: it could)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        return f"unknown address ({exc.strerror})"
    with socket.socket(family, kind, proto) as sock:
        # SO_REUSEADDR as the servers set it, so a port a stopped stack left in TIME_WAIT counts
        # as free; never SO_REUSEPORT, so a portal that shares its port with its workers does not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            return (exc.strerror or type(exc).__name__).lower()
    return None


def _clash(a: Listener, b: Listener) -> bool:
    return a.port == b.port and (a.host == b.host or a.host in ANY_HOST or b.host in ANY_HOST)


def taken_ports(listeners: Sequence[Listener]) -> list[tuple[Listener, str]]:
    """The listeners that could not listen, each with why."""
    out = []
    for index, listener in enumerate(listeners):
        twin = next((other for other in listeners[:index] if _clash(other, listener)), None)
        if twin is not None and twin.key != listener.key:
            out.append((listener, f"the same port as {twin.key} ({twin.what})"))
            continue
        problem = bind_problem(listener.host, listener.port)
        if problem:
            out.append((listener, problem))
    return out


def _value(config: Config, key: str) -> Any:
    value: Any = config
    for part in key.split("."):
        value = getattr(value, part)
    return value


def _with_port(url: str, moved: dict[int, int]) -> str:
    parts = urlsplit(url)
    if parts.port not in moved or parts.hostname is None:
        return url
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return parts._replace(netloc=f"{host}:{moved[parts.port]}").geturl()


def _free_base(block: Sequence[Listener], others: set[int]) -> int | None:
    """A value for the block's key, 10 or 100 apart from today's, at which all of it is free now."""
    base = block[0].port - block[0].offset
    step = 10 if max(listener.offset for listener in block) < 10 else 100
    for candidate in range(base + step, min(base + 50 * step, 65536), step):
        ports = [candidate + listener.offset for listener in block]
        if all(port <= 65535 and port not in others for port in ports) and not any(
            bind_problem(listener.host, port) for listener, port in zip(block, ports, strict=True)
        ):
            return candidate
    return None


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *path, last = key.split(".")
        node = nested
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return nested


def free_ports_config(config: Config, listeners: Sequence[Listener], keys: Iterable[str]) -> dict[str, Any]:
    """keerpunt.yaml settings that move ``keys`` to ports free right now, with the URLs that name them."""
    flat: dict[str, Any] = {}
    moved: dict[int, int] = {}  # old port -> new port
    for key in dict.fromkeys(keys):
        block = [listener for listener in listeners if listener.key == key]
        others = {listener.port for listener in listeners if listener.key != key} | set(moved.values())
        base = _free_base(block, others)
        if base is None:
            continue
        for listener in block:
            # A URL follows the first key that had its port (two keys on one port: both move).
            moved.setdefault(listener.port, base + listener.offset)
        if not key.endswith("_url"):
            flat[key] = base
    for key in URL_KEYS:
        value = _value(config, key)
        if isinstance(value, str):
            if _with_port(value, moved) != value:
                flat[key] = _with_port(value, moved)
        elif [_with_port(url, moved) for url in value] != list(value):
            flat[key] = [_with_port(url, moved) for url in value]
    return _nested(flat)


def refusal(
    config: Config, listeners: Sequence[Listener], config_path: str | None, command: str = "keerpunt dev"
) -> str | None:
    """What to tell the user when a port of the stack is taken (None: every one is free)."""
    taken = taken_ports(listeners)
    if not taken:
        return None
    lines = [f"{command}: nothing was started, because a port this stack needs is taken:"]
    lines += [f"  - {at.host}:{at.port}, {at.what} ({at.key}): {why}" for at, why in taken]
    where = config_path or "./keerpunt.yaml (or a file you give with --config)"
    lines += [
        "Another `keerpunt dev` may be running: stop it, or give this one its own --data-dir and",
        f"other ports in {where}, for example (these were free just now):",
        "",
    ]
    example = free_ports_config(config, listeners, (at.key for at, _ in taken))
    lines += ["  " + line for line in yaml.safe_dump(example, sort_keys=False).splitlines()]
    return "\n".join(lines)
