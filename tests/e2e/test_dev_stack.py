"""`keerpunt dev` brings up Synapse, the bots and the portal, and stops them all."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.support.devstack import DevStack
from tests.support.synapse import free_port

pytestmark = pytest.mark.integration


def _write_config(path: Path) -> dict[str, int]:
    ports = {"synapse": free_port(), "api": free_port(), "portal": free_port()}
    hs = f"http://127.0.0.1:{ports['synapse']}"
    portal = f"http://127.0.0.1:{ports['portal']}"
    path.write_text(
        yaml.safe_dump(
            {
                "homeserver": {"public_url": hs, "internal_url": hs},
                "synapse": {"port": ports["synapse"]},
                "bots": {"api": {"port": ports["api"], "allowed_origins": [portal]}},
                "portal": {
                    "port": ports["portal"],
                    "public_url": portal,
                    "api_url": f"http://127.0.0.1:{ports['api']}",
                },
            }
        )
    )
    return ports


@pytest.fixture
def dev_stack(tmp_path: Path) -> Iterator[DevStack]:
    config = tmp_path / "keerpunt.yaml"
    _write_config(config)
    stack = DevStack(config, tmp_path / "data")
    yield stack
    if stack.proc is not None:
        if stack.proc.poll() is None:
            stack.proc.kill()
            stack.proc.wait()
        if stack.proc.stdout is not None:
            stack.proc.stdout.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still "exists"; treat it as gone.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


async def _login(homeserver: str, user_id: str, password: str) -> dict[str, Any]:
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user_id}, "password": password}
    async with aiohttp.ClientSession() as http, http.post(f"{homeserver}/_matrix/client/v3/login", json=body) as resp:
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())


async def _login_status(homeserver: str, user_id: str, password: str) -> int:
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user_id}, "password": password}
    async with aiohttp.ClientSession() as http, http.post(f"{homeserver}/_matrix/client/v3/login", json=body) as resp:
        return resp.status


async def _token_works(homeserver: str, token: str) -> bool:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.get(f"{homeserver}/_matrix/client/v3/account/whoami") as resp,
    ):
        return resp.status == 200


async def _joined_rooms(homeserver: str, token: str) -> list[str]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.get(f"{homeserver}/_matrix/client/v3/joined_rooms") as resp,
    ):
        assert resp.status == 200
        return list((await resp.json())["joined_rooms"])


async def test_dev_stack_starts_works_and_stops_without_orphans(dev_stack: DevStack) -> None:
    dev_stack.start()
    stack = dev_stack.stack()
    assert set(stack) >= {"homeserver", "server_name", "portal", "api", "queue_room", "outreach_room", "accounts"}
    async with aiohttp.ClientSession() as http:
        async with http.get(stack["portal"] + "/") as resp:
            assert resp.status == 200
        async with http.get(stack["homeserver"] + "/_matrix/client/versions") as resp:
            assert resp.status == 200
    # The printed credentials work, and the demo counsellor is in the queue room.
    counsellor = stack["accounts"]["counsellors"][0]
    login = await _login(stack["homeserver"], counsellor["user_id"], counsellor["password"])
    assert stack["queue_room"] in await _joined_rooms(stack["homeserver"], login["access_token"])
    assert any(counsellor["password"] in line for line in dev_stack.output), "password not printed"
    worker = stack["accounts"]["outreach"][0]
    worker_login = await _login(stack["homeserver"], worker["user_id"], worker["password"])
    worker_rooms = await _joined_rooms(stack["homeserver"], worker_login["access_token"])
    assert stack["outreach_room"] in worker_rooms and stack["queue_room"] not in worker_rooms

    # A partner's outreach worker: the organisation is listed and is part of the name visitors see.
    spine = dev_stack.run("staff", "add", "Mo", "--role", "outreach", "--organisation", "Spine")
    assert spine.returncode == 0, spine.stderr
    spine_id = re.search(r"@outreach-[0-9a-f]{6}:localhost", spine.stdout)
    assert spine_id is not None, spine.stdout
    listing = dev_stack.run("staff", "list").stdout.splitlines()
    assert f"{spine_id[0]}\toutreach (Spine)\tnl,en\tMo (Spine)\tactive" in listing
    refused = dev_stack.run("staff", "add", "Mo", "--role", "counsellor", "--organisation", "Spine")
    assert refused.returncode == 1 and "--organisation is only for --role outreach" in refused.stderr

    # A new staff member gets a one-time password and lands in the staff rooms.
    # Staff are pseudonymous: the name is what visitors see, the Matrix ID carries no name.
    added = dev_stack.run("staff", "add", "Anna", "--role", "counsellor", "--languages", "nl,en,pl")
    assert added.returncode == 0, added.stderr
    assert "speaks nl,en,pl" in added.stdout
    anna_id = re.search(r"@counsellor-[0-9a-f]{6}:localhost", added.stdout)
    assert anna_id is not None, added.stdout
    password = added.stdout.strip().splitlines()[-1].split(": ")[-1]
    anna = await _login(stack["homeserver"], anna_id[0], password)
    assert stack["queue_room"] in await _joined_rooms(stack["homeserver"], anna["access_token"])
    listed = dev_stack.run("staff", "list")
    assert f"{anna_id[0]}\tcounsellor\tnl,en,pl\tAnna\tactive" in listed.stdout.splitlines()
    unknown = dev_stack.run("staff", "add", "Ola", "--role", "counsellor", "--languages", "nl,xx")
    assert unknown.returncode == 2 and "unknown language xx" in unknown.stderr
    changed = dev_stack.run("staff", "languages", anna_id[0], "nl,ar")
    assert changed.returncode == 0 and f"{anna_id[0]} speaks nl,ar." in changed.stdout, changed.stderr
    assert f"{anna_id[0]}\tcounsellor\tnl,ar\tAnna\tactive" in dev_stack.run("staff", "list").stdout.splitlines()
    again = dev_stack.run("staff", "add", "Anna", "--role", "counsellor", "--login", "counsellor")
    assert again.returncode == 1 and "already exists" in again.stderr
    # Disabled: signed out everywhere, out of the staff rooms, no longer staff.
    disabled = dev_stack.run("staff", "disable", anna_id[0])
    assert disabled.returncode == 0, disabled.stderr
    assert await _login_status(stack["homeserver"], anna_id[0], password) == 403
    assert not await _token_works(stack["homeserver"], anna["access_token"])
    assert f"{anna_id[0]}\tcounsellor\tnl,ar\tAnna\tactive" not in dev_stack.run("staff", "list").stdout

    found = subprocess.run(
        ["pgrep", "-f", str(dev_stack.data_dir / "synapse" / "homeserver.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    synapse_pid = int(found.stdout.split()[0])
    assert _pid_alive(synapse_pid)
    assert dev_stack.stop() == 0
    for _ in range(50):
        if not _pid_alive(synapse_pid):
            break
        time.sleep(0.1)
    assert not _pid_alive(synapse_pid), "Synapse was orphaned"
    out = subprocess.run(["pgrep", "-f", str(dev_stack.data_dir)], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "", f"processes left behind: {out.stdout}"


async def test_dev_stack_reuses_its_data_dir(dev_stack: DevStack) -> None:
    dev_stack.start()
    first = dev_stack.stack()
    session = json.loads((dev_stack.data_dir / "bots" / "store" / "session.json").read_text())
    assert dev_stack.stop() == 0
    dev_stack.output.clear()
    dev_stack.start()
    second = dev_stack.stack()
    assert second["queue_room"] == first["queue_room"]
    assert second["accounts"] == first["accounts"]
    again = json.loads((dev_stack.data_dir / "bots" / "store" / "session.json").read_text())
    assert again["device_id"] == session["device_id"]
    counsellor = second["accounts"]["counsellors"][0]
    await _login(second["homeserver"], counsellor["user_id"], counsellor["password"])
    assert dev_stack.stop() == 0


def test_production_init_refuses_the_shipped_placeholders(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "keerpunt",
            "--config",
            str(repo / "deploy" / "keerpunt.yaml"),
            "--data-dir",
            str(tmp_path),
            "init",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 78
    assert "placeholder" in result.stderr
    assert not (tmp_path / "synapse").exists()
