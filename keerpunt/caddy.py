"""Caddy's configuration, rendered from the routing table (keerpunt/base/routing.py) and keerpunt.yaml.

One renderer for both places Caddy routes Synapse's requests:

- ``production``: ``deploy/Caddyfile`` for compose.yaml (TLS, the homeserver, portal and
  Element sites, the internal router for the bots); a unit test keeps the checked-in file
  equal to this rendering.
- ``local``: the router of `keerpunt dev --workers`, on loopback, plain HTTP.

The homeserver's public site refuses the admin paths (routing.REFUSED) before anything else,
forwards only what Synapse serves to clients, and replaces X-Forwarded-For with the client's
address truncated to its /24 (IPv4) or /48 (IPv6): Synapse and the bots never see a full
address. The internal router (``homeserver.internal_url``, never published) is how the bots
reach Synapse: the same table, plus the admin API on the main process.

Routes to a generic worker (``Process.main_fallback``) name the main process as a second
upstream (``lb_policy first``): while the worker restarts, the main process answers instead;
without workers (``synapse.workers.enabled`` off, compose without the `scale` profile) the
workers do not exist and main serves everything. With workers, routes to a stream writer name
only the writer: main is not the `to_device` writer and fails every
`sendToDevice` (Synapse 1.163, storage/databases/main/deviceinbox.py:756 asserts
``_can_write_to_device``), so a room key for a new session would be lost; Caddy retries
dialling the writer for ``lb_try_duration`` instead, and a request it cannot reach gets 502,
which the client retries. That 502 has an empty body (a ``sendToDevice`` whose body Caddy had
already sent to the dying writer cannot be replayed): matrix-nio alone took it for success and
lost room keys; the bots and the test clients use ``bots.matrix.resilient.ResilientClient``.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from keerpunt.base.config import Config
from keerpunt.base.routing import MAIN, PUBLIC_PREFIXES, REFUSED, ROUTES, process, routes_of
from keerpunt.workers import address

Kind = Literal["production", "local"]

CLIENT = "{keerpunt_client}"
HEALTH_PATH = "/_keerpunt/proxy/health"
DOT_SEGMENTS = "{path}.matches('(^|/)[.][.]?(/|$)')"
HSTS = 'header Strict-Transport-Security "max-age=63072000; includeSubDomains"'

# The client's address truncated to its network, by regular expressions over Caddy's
# {remote_host} (Go prints IPv4 dotted and IPv6 lower-case and compressed). IPv6: the first
# three groups when none of them is compressed away, else the groups before "::" (the rest of
# the /48 is then zero). Anything else (no address) maps to 0.0.0.0.
TRUNCATE = (
    ("~^([0-9]+[.][0-9]+[.][0-9]+)[.][0-9]+$", "${1}.0"),
    ("~^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+):", "${1}:${2}:${3}::"),
    ("~^([0-9a-f]+):([0-9a-f]+)::", "${1}:${2}::"),
    ("~^([0-9a-f]+)::", "${1}::"),
    ("~^::", "::"),
)


def _q(value: str) -> str:
    assert '"' not in value and "\\" not in value, value
    return f'"{value}"'


def _alternation(patterns: list[str] | tuple[str, ...]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


def _main_fallback(config: Config, name: str) -> bool:
    return name != MAIN and config.synapse.workers.enabled and process(name).main_fallback


def _upstreams(config: Config, name: str) -> str:
    main = address(config, MAIN).http
    if name == MAIN or not config.synapse.workers.enabled:
        # Without workers main writes every stream and answers all; the worker hosts do not
        # exist, and naming them first would cost every request a failed dial, after which
        # Caddy 2.6 cannot send a request body on (Go closes it: "invalid Read on closed Body").
        return main
    if not _main_fallback(config, name):
        return address(config, name).http
    return f"{address(config, name).http} {main}"


def _proxy(config: Config, matcher: str, name: str, *, public: bool) -> list[str]:
    options = []
    if _main_fallback(config, name):
        options += ["\tlb_policy first", "\tlb_try_duration 5s", "\tfail_duration 10s"]
    elif name != MAIN and config.synapse.workers.enabled:
        # The only upstream: keep dialling it while it restarts; no passive health check, which
        # would refuse every request for fail_duration after the writer was back.
        options += ["\tlb_try_duration 5s"]
    if public:
        options += _forwarded_lines()
    head = f"reverse_proxy {matcher}{_upstreams(config, name)}"
    return [f"{head} {{", *options, "}"] if options else [head]


def _forwarded_lines() -> list[str]:
    # One hop, truncated; headers a client could send to pose as a proxy go.
    return [f"\theader_up X-Forwarded-For {CLIENT}", "\theader_up -X-Real-IP", "\theader_up -Forwarded"]


def _truncation_map() -> list[str]:
    lines = [f"map {{remote_host}} {CLIENT} {{"]
    lines += [f"\t{_q(pattern)} {_q(out)}" for pattern, out in TRUNCATE]
    lines += ['\tdefault "0.0.0.0"', "}"]
    return lines


def _routed_workers() -> list[str]:
    """Workers with routes, in the order their first route appears in the table (first match wins)."""
    return list(dict.fromkeys(r.process for r in ROUTES if r.process != MAIN))


def _routing(config: Config, *, public: bool) -> list[str]:
    lines = []
    for name in _routed_workers():
        lines.append(f"@to_{name} path_regexp to_{name} {_q(_alternation(routes_of(name)))}")
    lines.append("route {")
    body: list[str] = []
    if public:
        body += ["respond @refused 404", "respond @dots 404"]
    else:
        body.append(f'respond {HEALTH_PATH} "ok" 200')
    for name in _routed_workers():
        body += _proxy(config, f"@to_{name} ", name, public=public)
    body += _proxy(config, "@synapse " if public else "", MAIN, public=public)
    if public:
        body.append("respond 404")
    lines += ["\t" + line for line in body]
    lines.append("}")
    return lines


def homeserver_site(config: Config, kind: Kind) -> list[str]:
    url = urlsplit(config.homeserver.public_url)
    lines = [f"{_site_address(url.geturl(), kind)} {{"]
    inner: list[str] = []
    if kind == "local":
        inner.append(f"bind {url.hostname}")
    inner.append("# Never to Synapse: the admin API, client-API admin paths, the bots' module endpoint.")
    inner.append(f"@refused path_regexp refused {_q(_alternation(REFUSED))}")
    # Caddy's path matchers see the path with dot segments resolved, Synapse the raw one: a
    # path with "." or ".." segments (also percent-encoded) is refused outright.
    inner.append(f"@dots expression {_q(DOT_SEGMENTS)}")
    inner.append("@synapse path " + " ".join(p + "*" for p in PUBLIC_PREFIXES))
    inner += _truncation_map()
    inner += _routing(config, public=True)
    if kind == "production":
        inner.append(HSTS)
    lines += ["\t" + line for line in inner]
    lines.append("}")
    return lines


def internal_site(config: Config, kind: Kind) -> list[str]:
    url = urlsplit(config.homeserver.internal_url)
    port = url.port or 80
    lines = ["# The bots' router: not published (loopback, or the compose network only)."]
    if kind == "local":
        lines.append(f"http://{_host(url.hostname)}:{port} {{")
        inner = [f"bind {url.hostname}"]
    else:
        lines.append(f"http://:{port} {{")
        inner = []
    inner += _routing(config, public=False)
    lines += ["\t" + line for line in inner]
    lines.append("}")
    return lines


def _host(hostname: str | None) -> str:
    host = hostname or ""
    return f"[{host}]" if ":" in host else host


def _site_address(public_url: str, kind: Kind) -> str:
    url = urlsplit(public_url)
    if kind == "local":
        return f"http://{_host(url.hostname)}:{url.port or 80}"
    return url.hostname or ""


def _www_site(config: Config) -> list[str]:
    host = urlsplit(config.portal.public_url).hostname
    inner = [*_truncation_map()]
    inner.append(f"reverse_proxy /api/* {config.proxy.bots_upstream} {{")
    inner += _forwarded_lines()
    inner.append("}")
    inner.append(f"reverse_proxy {config.proxy.portal_upstream} {{")
    inner += _forwarded_lines()
    inner += ["}", HSTS]
    return [f"{host} {{", *("\t" + line for line in inner), "}"]


def _staff_site(config: Config) -> list[str]:
    if not config.proxy.staff_url:
        return []
    host = urlsplit(config.proxy.staff_url).hostname
    # Element needs no client address: staff's, too, arrive truncated (review 3, N13).
    inner = [*_truncation_map(), f"reverse_proxy {config.proxy.staff_upstream} {{", *_forwarded_lines(), "}", HSTS]
    return [f"{host} {{", *("\t" + line for line in inner), "}"]


# Caddy's default logger, the only one it writes. An error line (any 5xx, e.g. every request
# while an upstream restarts) carries the whole request (client address and port, user agent,
# path with room IDs, headers): the filter deletes that field from every line of every logger,
# and keeps the rest (status, duration, the upstream's error), so an operator still sees why.
# There is no access log (no `log` directive in a site). SECURITY.md H.36, review 3 N1.
LOG_OPTIONS = [
    "log default {",
    "\toutput stderr",
    "\tformat filter {",
    "\t\twrap json",
    "\t\tfields {",
    "\t\t\trequest delete",
    "\t\t}",
    "\t}",
    "}",
]


def render_caddyfile(config: Config, kind: Kind) -> str:
    header = [
        "# Rendered by `keerpunt caddyfile` from the routing table in keerpunt/base/routing.py and",
        "# keerpunt.yaml. Do not edit: change those and render again.",
        "# No access log, and no request in any other line: no client address, agent or path is kept.",
        "{",
        "\tadmin off",
    ]
    if kind == "local":
        header += ["\tauto_https off", f"\tstorage file_system {config.path('caddy')}"]
    elif config.proxy.local_ca:
        # A test stack on one machine (`make compose-up`): certificates from Caddy's local CA.
        header += ["\tlocal_certs", "\tskip_install_trust"]
    header += ["\t" + line for line in LOG_OPTIONS]
    header.append("}")
    blocks = [header, homeserver_site(config, kind), internal_site(config, kind)]
    if kind == "production":
        blocks.append(_www_site(config))
        staff = _staff_site(config)
        if staff:
            blocks.append(staff)
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"
