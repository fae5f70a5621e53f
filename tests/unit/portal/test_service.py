"""`keerpunt run portal` serves the portal and stops cleanly on SIGTERM."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from keerpunt.base.config import ConfigError
from portal.process import worker_count
from tests.support.synapse import free_port, make_test_config


@contextmanager
def running_portal(tmp_path: Path, **portal: object) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """`keerpunt run portal` on a free port with ``portal`` settings; killed if a test leaves it running."""
    port = free_port()
    data_dir = tmp_path / "data"
    secret = data_dir / "synapse" / "secrets" / "registration_shared_secret"
    secret.parent.mkdir(parents=True)
    secret.write_text("test-secret\n", "utf-8")
    (secret.parent / "visitor_appservice_token").write_text("test-token\n", "utf-8")
    config = tmp_path / "keerpunt.yaml"
    public = f"http://127.0.0.1:{port}"
    config.write_text(
        yaml.safe_dump({"data_dir": str(data_dir), "portal": {"port": port, "public_url": public, **portal}})
    )
    log = tmp_path / "portal.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "keerpunt", "--config", str(config), "run", "portal"], stdout=out, stderr=out
        )
    try:
        yield proc, public, log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_keerpunt_run_portal_serves_pages_and_stops_on_sigterm(tmp_path: Path) -> None:
    with running_portal(tmp_path) as (proc, public, log):
        deadline = time.monotonic() + 30
        page = ""
        while time.monotonic() < deadline and not page:
            try:
                with urllib.request.urlopen(public + "/nl/artikel/zo-word-je-geronseld", timeout=2) as response:  # noqa: S310
                    page = response.read().decode()
            except OSError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.1)
        assert '<html lang="nl"' in page and "data-quick-exit" in page
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()


def _children(pid: int) -> list[int]:
    return [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]


def test_keerpunt_run_portal_with_two_workers_starts_both_and_stops_them_all(tmp_path: Path) -> None:
    with running_portal(tmp_path, workers=2) as (proc, public, log):
        deadline = time.monotonic() + 30
        started = 0
        while time.monotonic() < deadline and started < 2:
            assert proc.poll() is None, log.read_text()
            started = log.read_text().count("portal started")
            time.sleep(0.1)
        assert started == 2, log.read_text()
        workers = _children(proc.pid)
        assert len(workers) == 2
        for _ in range(20):  # new connections, spread by the kernel; every one gets the page
            with urllib.request.urlopen(public + "/nl/", timeout=5) as response:  # noqa: S310
                assert response.status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
        assert log.read_text().count("portal stopping") == 2
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_workers_zero_means_one_per_core_in_production_and_one_in_dev(tmp_path: Path) -> None:
    dev = make_test_config(tmp_path / "a")
    assert dev.portal.workers == 0 and worker_count(dev) == 1
    production = dataclasses.replace(dev, mode="production")
    assert worker_count(production) == len(os.sched_getaffinity(0))
    three = make_test_config(tmp_path / "b", {"portal": {"workers": 3}})
    assert worker_count(three) == 3


def test_a_negative_worker_count_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        make_test_config(tmp_path, {"portal": {"workers": -1}})
    assert caught.value.key == "portal.workers"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own loopback URL
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_two_workers_count_into_one_metrics_endpoint_on_loopback(tmp_path: Path) -> None:
    metrics_port = free_port()
    with running_portal(tmp_path, workers=2, metrics_port=metrics_port) as (proc, public, log):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and log.read_text().count("portal started") < 2:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
        for _ in range(20):  # spread over both workers by the kernel
            assert _get(public + "/nl/artikel/zo-word-je-geronseld")[0] == 200
        assert _get(public + "/nl/zoeken")[0] == 200
        assert _get(public + "/nl/bestaat-niet")[0] == 404
        status, text = _get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert status == 200
        found = {
            line.split(" ")[0]: float(line.split(" ")[1])
            for line in text.splitlines()
            if line.startswith("keerpunt_portal_requests_total{")
        }
        per_route = {key: value for key, value in found.items() if 'status="200"' in key}
        assert sum(per_route.values()) >= 21, found
        assert any('status="404"' in key for key in found), found
        assert "geheim" not in text and "zo-word-je-geronseld" not in text, "labels are route patterns only"
        assert "keerpunt_portal_request_seconds_bucket" in text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()
