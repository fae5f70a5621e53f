"""`keerpunt run portal` serves the portal and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from keerpunt.testing import free_port


def test_keerpunt_run_portal_serves_pages_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    secret = data_dir / "synapse" / "secrets" / "registration_shared_secret"
    secret.parent.mkdir(parents=True)
    secret.write_text("test-secret\n", "utf-8")
    config = tmp_path / "keerpunt.yaml"
    public = f"http://127.0.0.1:{port}"
    config.write_text(yaml.safe_dump({"data_dir": str(data_dir), "portal": {"port": port, "public_url": public}}))
    log = tmp_path / "portal.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "keerpunt", "--config", str(config), "run", "portal"], stdout=out, stderr=out
        )
    try:
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
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
