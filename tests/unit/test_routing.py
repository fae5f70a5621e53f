"""One routing table for Synapse's workers: the worker configs and every Caddyfile come from it."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from keerpunt.base.routing import MAIN, PROCESSES, REFUSED, ROUTES, STREAM_WRITERS, WORKERS, process, refused, route
from keerpunt.caddy import LOG_OPTIONS, render_caddyfile
from keerpunt.synapse_config import SYNAPSE_MODULE_CLASS, init_synapse
from keerpunt.workers import worker_argv, worker_config_path
from tests.support.proxy import DEPLOY_CADDYFILE, NO_ADDRESS, production_config, truncate_like_caddy
from tests.support.routing import ADMIN_PATHS, EXPECTED
from tests.support.synapse import make_test_config


def test_every_kind_of_request_goes_to_the_process_the_table_names() -> None:
    assert {path: route(path) for path in EXPECTED} == EXPECTED


def test_admin_paths_are_refused_and_ordinary_ones_are_not() -> None:
    for path in ADMIN_PATHS:
        assert refused(path), path
    for path in EXPECTED:
        if not path.startswith("/_synapse/admin"):
            assert not refused(path), path
    assert not refused("/_synapse/client/password_reset/email/submit_token")
    assert not refused("/_matrix/client/v3/rooms/!r:s/state/m.room.member/@admin:s")


def test_routes_name_only_client_workers_and_writers_are_in_the_instance_map(tmp_path: Path) -> None:
    for r in ROUTES:
        assert r.process != MAIN
        re.compile(r.pattern)
    config = make_test_config(
        tmp_path, {"synapse": {"database": "postgresql://postgres@127.0.0.1/x", "workers": {"enabled": True}}}
    )
    shared = yaml.safe_load(init_synapse(config, variant="dev").read_text())
    assert shared["stream_writers"] == STREAM_WRITERS
    for writers in STREAM_WRITERS.values():
        assert set(writers) <= set(shared["instance_map"])
    assert MAIN in shared["instance_map"]
    assert shared["redis"] == {"enabled": True, "host": "127.0.0.1", "port": 6379}
    assert shared["run_background_tasks_on"] == "background1"
    assert Path(shared["worker_replication_secret_path"]).stat().st_mode & 0o077 == 0


def _worker(sdir: Path, name: str) -> dict[str, Any]:
    return dict(yaml.safe_load(worker_config_path(sdir, name).read_text()))


def test_every_worker_loads_keerpunts_module_and_logs_to_its_own_scrubbed_file(tmp_path: Path) -> None:
    config = make_test_config(
        tmp_path, {"synapse": {"database": "postgresql://postgres@127.0.0.1/x", "workers": {"enabled": True}}}
    )
    hs_yaml = init_synapse(config, variant="dev")
    shared = yaml.safe_load(hs_yaml.read_text())
    sdir = hs_yaml.parent
    ports: set[int] = {listener["port"] for listener in shared["listeners"]}
    for worker in WORKERS:
        own = _worker(sdir, worker.name)
        assert own["worker_app"] == "synapse.app.generic_worker" and own["worker_name"] == worker.name
        # The module and the hardened settings come from the shared file, which no worker overrides.
        assert "modules" not in own and SYNAPSE_MODULE_CLASS in str(shared["modules"])
        argv = worker_argv("python", sdir, worker.name)
        assert argv[argv.index("-c") + 1] == str(hs_yaml)
        log = yaml.safe_load(Path(own["worker_log_config"]).read_text())
        assert log["handlers"]["file"]["filename"].endswith(f"workers/{worker.name}.log")
        assert {"scrub_access", "scrub_ids"} <= set(log["handlers"]["file"]["filters"])
        for listener in own["worker_listeners"]:
            assert listener["port"] not in ports, "two processes on one port"
            ports.add(listener["port"])
            if "client" in str(listener["resources"]):
                assert listener["x_forwarded"] is True
        names = {name for listener in own["worker_listeners"] for r in listener["resources"] for name in r["names"]}
        assert names == ({"client"} if worker.client else set()) | (
            {"replication"} if worker.replication else set()
        ) or (names == {"health"} and not worker.client and not worker.replication)


def test_turning_workers_off_removes_their_configs(tmp_path: Path) -> None:
    on = {"synapse": {"database": "postgresql://postgres@127.0.0.1/x", "workers": {"enabled": True}}}
    hs_yaml = init_synapse(make_test_config(tmp_path, on), variant="dev")
    assert worker_config_path(hs_yaml.parent, "sync1").exists()
    init_synapse(make_test_config(tmp_path), variant="dev")
    assert not worker_config_path(hs_yaml.parent, "sync1").exists()
    assert "instance_map" not in yaml.safe_load(hs_yaml.read_text())


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("198.51.100.23", "198.51.100.0"),
        ("10.0.0.255", "10.0.0.0"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"),
        ("2001:db8:abcd::1", "2001:db8:abcd::"),
        ("2001:db8::1", "2001:db8::"),
        ("2001::1:2:3:4", "2001::"),
        ("fe80::1", "fe80::"),
        ("::1", "::"),
        ("", NO_ADDRESS),
    ],
)
def test_the_proxy_truncates_addresses_to_their_24_or_48(address: str, network: str) -> None:
    assert truncate_like_caddy(address) == network
    if address:
        prefix = 24 if "." in address else 48
        expected = ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address
        assert ipaddress.ip_address(network) == expected


def _site(caddyfile: str, address: str) -> str:
    start = caddyfile.index(f"\n{address} {{\n")
    end = caddyfile.index("\n}\n", start)
    return caddyfile[start:end]


def test_the_production_caddyfile_is_rendered_from_the_table() -> None:
    rendered = render_caddyfile(production_config(), "production")
    assert DEPLOY_CADDYFILE.read_text() == rendered, "run: keerpunt --config deploy/keerpunt.yaml caddyfile"


def test_the_public_site_refuses_admin_paths_first_and_truncates_every_forwarded_address() -> None:
    caddyfile = render_caddyfile(production_config(workers=True), "production")
    public = _site(caddyfile, "chat.example.org")
    route_block = public[public.index("route {") :]
    assert route_block.index("respond @refused 404") < route_block.index("reverse_proxy")
    assert route_block.index("respond @dots 404") < route_block.index("reverse_proxy")
    refused_line = next(line for line in public.splitlines() if "@refused path_regexp" in line)
    regex = refused_line.split('"')[1]
    for path in ADMIN_PATHS:
        assert re.search(regex, path), path
    assert len(REFUSED) == regex.count("(?:")
    proxies = public.count("reverse_proxy ")
    assert proxies == public.count("header_up X-Forwarded-For {keerpunt_client}") == len(WORKERS) - 2 + 1
    www = _site(caddyfile, "www.example.org")
    assert www.count("reverse_proxy ") == www.count("header_up X-Forwarded-For {keerpunt_client}") == 2
    # No access log in any site; Caddy's one log (its default) deletes the request from every
    # line: no client address, agent or path on an error either (review 3, N1).
    end_of_globals = caddyfile.index("\n}\n")
    assert "log" not in re.findall(r"^\s*(\w+)", caddyfile[end_of_globals:], re.MULTILINE)
    assert "\n".join("\t" + line for line in LOG_OPTIONS) in caddyfile[:end_of_globals]
    assert "\t\t\trequest delete" in LOG_OPTIONS
    # Staff's addresses reach Element truncated too (review 3, N13).
    staff = _site(caddyfile, "staff.example.org")
    assert staff.count("reverse_proxy ") == staff.count("header_up X-Forwarded-For {keerpunt_client}") == 1
    assert "header_up -X-Real-IP" in staff and "header_up -Forwarded" in staff


def test_without_workers_every_route_names_main_alone() -> None:
    # Without workers (compose without the `scale` profile) the worker hosts do not exist and
    # main, the writer of every stream, answers everything. Naming a worker first would cost a
    # failed dial per request, after which Caddy 2.6 sends no request body on (seen in
    # `make compose-up`: the bots' key upload got 502 "invalid Read on closed Body").
    caddyfile = render_caddyfile(production_config(), "production")
    assert "synapse-" not in caddyfile and "lb_policy" not in caddyfile
    for proc in PROCESSES:
        if proc.name != MAIN and any(r.process == proc.name for r in ROUTES):
            assert f"reverse_proxy @to_{proc.name} synapse:8008\n" in caddyfile
    internal = _site(caddyfile, "http://:8008")
    assert "@refused" not in internal and "reverse_proxy synapse:8008" in internal


def test_with_workers_no_stream_writer_route_falls_back_to_main() -> None:
    """Main is no stream writer then: Synapse 1.163 asserts ``_can_write_to_device`` on every
    sendToDevice there (storage/databases/main/deviceinbox.py:756), so a room key the proxy
    sent to main while the writer was down or marked down was lost, and a counsellor's new
    session could not read the cards (tests/e2e/test_dev_workers.py restarts the writer first)."""
    writers = {name for names in STREAM_WRITERS.values() for name in names}
    for name in writers:
        assert not process(name).main_fallback, name
    caddyfile = render_caddyfile(production_config(workers=True), "production")
    for proc in PROCESSES:
        if proc.name != MAIN and any(r.process == proc.name for r in ROUTES):
            upstreams = f"synapse-{proc.name}:8008" + (" synapse:8008" if proc.main_fallback else "")
            assert caddyfile.count(f"reverse_proxy @to_{proc.name} {upstreams} {{") == 2, proc.name
    for path in ("/_matrix/client/v3/sendToDevice/m.room.encrypted/t", "/_matrix/client/v3/keys/upload"):
        assert route(path) in writers
