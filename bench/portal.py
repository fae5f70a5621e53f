"""Portal throughput and p99 latency, beside nginx serving the same bytes.

Usage: .venv/bin/python -m bench.portal [--duration 10] [--runs 3] [--connections 32] [--workers 1] [--no-pin]

Needs Debian's wrk and nginx (``apt-get install -y wrk nginx``); says so and exits 2 when
either is missing. Starts ``keerpunt run portal`` (the production process, with uvloop) on a free
loopback port and nginx (one worker, in the foreground, as a child of this script) on another,
serving a copy of the portal's rendered article page with the same headers. Then measures with
wrk, one thread:

- article page (cached HTML), a search with a new query on every request (searches are never
  cached: index look-up and rendering each time), a static file, and nginx serving the
  article bytes;
- requests/second at ``--connections`` (median of ``--runs`` runs of ``--duration`` seconds,
  targets interleaved so background noise hits all alike), requests per CPU-second the server
  process used (read from /proc: a ratio that other load on the machine barely moves), and p99
  latency at that load and at a moderate fixed load of 4 connections (median of ``--runs``
  runs; Debian's wrk has no ``-R`` rate option).

With one worker (the default), on a machine with 2 or more CPUs the server under test is
pinned to CPU 1 and wrk to CPU 0 (``taskset``), so server and load generator do not steal each
other's core; ``--no-pin`` turns that off. ``--workers N`` compares like with like on the whole
machine instead: the portal with ``portal.workers: N`` and nginx with ``worker_processes N``,
nothing pinned (wrk shares the cores with them). Everything stays on 127.0.0.1, bounded in
time; both servers are stopped at the end. The load average before and after is printed:
other work on the machine moves the requests per second, much less the requests per
CPU-second.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.common import cpu_seconds
from tests.support.synapse import free_port

ARTICLE = "/nl/artikel/zo-word-je-geronseld"
MODERATE = 4
# wrk script: a different search query on every request, posted as the portal's own form is.
FRESH_SEARCH_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers["Sec-Fetch-Site"] = "same-origin"
  return wrk.format("POST", "/nl/zoeken", headers, "q=uitgebuit+geldezel+" .. counter)
end
"""
NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {tmp}/www;
    default_type "text/html; charset=utf-8";
{headers}
    location = {article} {{ try_files /article.html =404; }}
  }}
}}
"""


@dataclass
class Result:
    rps: list[float]
    per_cpu: list[float]
    p99_ms: list[float]
    p99_moderate_ms: list[float]


def need(tool: str) -> str:
    found = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if not found:
        print(f"bench/portal.py: `{tool}` is missing; install it with: apt-get install -y wrk nginx", file=sys.stderr)
        raise SystemExit(2)
    return found


def pinned(cpu: int | None, argv: list[str]) -> list[str]:
    return argv if cpu is None else ["taskset", "-c", str(cpu), *argv]


def wait_http(url: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench/portal.py: {url} did not answer within {within:.0f}s")


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own loopback URL
        return response.read(), dict(response.headers.items())


def parse_latency(text: str) -> float:
    match = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not match:
        raise SystemExit(f"bench/portal.py: no p99 in wrk output:\n{text}")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def wrk(
    wrk_bin: str, cpu: int | None, url: str, connections: int, duration: int, script: Path | None
) -> tuple[float, float, int]:
    argv = [wrk_bin, "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if script is not None:
        argv += ["-s", str(script)]
    out = subprocess.run(pinned(cpu, [*argv, url]), capture_output=True, text=True, check=True, timeout=duration + 30)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    count = re.search(r"(\d+) requests in", out.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    if not rps or not count or errors:
        raise SystemExit(f"bench/portal.py: wrk failed for {url}:\n{out.stdout}{out.stderr}")
    return float(rps.group(1)), parse_latency(out.stdout), int(count.group(1))


def start_portal(stack: ExitStack, tmp: Path, cpu: int | None, workers: int) -> tuple[str, int]:
    port = free_port()
    secret = tmp / "data" / "synapse" / "secrets" / "registration_shared_secret"
    secret.parent.mkdir(parents=True)
    secret.write_text("bench-only\n")
    config = tmp / "keerpunt.yaml"
    config.write_text(
        f"data_dir: {tmp / 'data'}\nportal:\n  port: {port}\n  public_url: http://127.0.0.1:{port}\n"
        f"  workers: {workers}\n"
    )
    env = {**os.environ, "KEERPUNT_LOG_LEVEL": "WARNING"}
    argv = [sys.executable, "-m", "keerpunt", "--config", str(config), "run", "portal"]
    proc = subprocess.Popen(pinned(cpu, argv), env=env)  # taskset execs: same pid
    stack.callback(stop, proc)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/")
    return base, proc.pid


def start_nginx(
    stack: ExitStack, nginx_bin: str, tmp: Path, cpu: int | None, workers: int, body: bytes, headers: dict[str, str]
) -> tuple[str, int]:
    port = free_port()
    (tmp / "www").mkdir()
    (tmp / "www" / "article.html").write_bytes(body)
    # nginx's worker runs as an unprivileged user when started as root: let it read the page.
    for path in (tmp.parent, tmp, tmp / "www", tmp / "www" / "article.html"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    same = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy",
            "Cross-Origin-Opener-Policy", "Cache-Control", "Content-Language", "Vary")  # fmt: skip
    lines = "\n".join(f'    add_header {name} "{headers[name]}";' for name in same if name in headers)
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, headers=lines, article=ARTICLE, workers=workers))
    proc = subprocess.Popen(pinned(cpu, [nginx_bin, "-c", str(conf), "-p", str(tmp)]), stdout=subprocess.DEVNULL)
    stack.callback(stop, proc)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + ARTICLE)
    return base, proc.pid


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="runs per target at full load (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="connections at full load (default 32)")
    parser.add_argument("--workers", type=int, default=1, help="portal workers = nginx workers; >1: nothing pinned")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and wrk to separate CPUs")
    args = parser.parse_args()
    wrk_bin, nginx_bin = need("wrk"), need("nginx")
    pin = args.workers == 1 and not args.no_pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    load_before = os.getloadavg()
    server_cpu, load_cpu = (1, 0) if pin else (None, None)

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="keerpunt-bench-")))
        (tmp / "portal").mkdir()
        portal_base, portal_pid = start_portal(stack, tmp / "portal", server_cpu, args.workers)
        body, headers = fetch(portal_base + ARTICLE)
        page = body.decode()
        css = re.search(r'href="(/static/site\.[0-9a-f]+\.css)"', page)
        assert css, "no stylesheet link in the article page"
        (tmp / "nginx").mkdir()
        nginx_base, nginx_pid = start_nginx(stack, nginx_bin, tmp / "nginx", server_cpu, args.workers, body, headers)
        lua = tmp / "fresh-search.lua"
        lua.write_text(FRESH_SEARCH_LUA)

        targets: dict[str, tuple[str, Path | None, int]] = {
            "portal: article page": (portal_base + ARTICLE, None, portal_pid),
            "portal: search (rendered per request)": (portal_base + "/", lua, portal_pid),
            "portal: static file (CSS)": (portal_base + css.group(1), None, portal_pid),
            "nginx: same article bytes": (nginx_base + ARTICLE, None, nginx_pid),
        }
        results = {name: Result([], [], [], []) for name in targets}
        print(f"article page: {len(body)} bytes; {args.workers} worker(s) each; "
              f"pinned: {'server CPU 1, wrk CPU 0' if pin else 'no'}; "
              f"{args.runs} x {args.duration}s at {args.connections} connections", flush=True)  # fmt: skip
        for run in range(args.runs):
            for name, (url, script, pid) in targets.items():
                before = cpu_seconds(pid)
                rps, p99, count = wrk(wrk_bin, load_cpu, url, args.connections, args.duration, script)
                per_cpu = count / max(cpu_seconds(pid) - before, 0.01)
                results[name].rps.append(rps)
                results[name].p99_ms.append(p99)
                results[name].per_cpu.append(per_cpu)
                print(f"  run {run + 1}: {name:<38} {rps:>9.0f} req/s  p99 {p99:6.2f} ms  "
                      f"{per_cpu:>9.0f} req/CPU-s", flush=True)  # fmt: skip
        for _run in range(args.runs):
            for name, (url, script, _pid) in targets.items():
                _rps, p99, _count = wrk(wrk_bin, load_cpu, url, MODERATE, args.duration, script)
                results[name].p99_moderate_ms.append(p99)

    load_after = os.getloadavg()
    print()
    print(f"load average (1, 5, 15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}; "
          f"after: {' '.join(f'{x:.2f}' for x in load_after)} (on {os.cpu_count()} CPUs)")  # fmt: skip
    print(f"| target | req/s (median) | req per server CPU-second | p99 at {args.connections} conn. "
          f"| p99 at {MODERATE} conn. |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        print(f"| {name} | {statistics.median(r.rps):,.0f} | {statistics.median(r.per_cpu):,.0f} "
              f"| {statistics.median(r.p99_ms):.2f} ms | {statistics.median(r.p99_moderate_ms):.2f} ms |")  # fmt: skip
    article = statistics.median(results["portal: article page"].rps)
    nginx_rps = statistics.median(results["nginx: same article bytes"].rps)
    static = statistics.median(results["portal: static file (CSS)"].rps)
    print()
    rounds = zip(results["portal: article page"].rps, results["nginx: same article bytes"].rps, strict=True)
    paired = statistics.median(p / n for p, n in rounds)
    print(f"article page portal/nginx: {article / nginx_rps:.2f} of the medians, {paired:.2f} median of the "
          "per-round ratios (target >= 0.5)")  # fmt: skip
    print(f"article page portal/portal static file: {article / static:.2f}")
    efficiency = statistics.median(results["portal: article page"].per_cpu) / statistics.median(
        results["nginx: same article bytes"].per_cpu
    )
    print(f"article page portal/nginx in requests per server CPU-second (insensitive to other load): {efficiency:.2f}")
    p99 = statistics.median(results["portal: article page"].p99_moderate_ms)
    print(f"article page p99 at moderate load ({MODERATE} connections): {p99:.2f} ms  (target < 20 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
