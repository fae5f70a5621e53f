"""`keerpunt dev`: the embedded default stack on loopback.

Check that every port the stack will listen on is free, initialise the data directory, start
Synapse (SQLite) as a child process, create the demo counsellor, start the bots and the portal,
write ``dev-stack.json`` and run until Ctrl-C or SIGTERM, then stop everything in reverse order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bots.db import create_database
from bots.db.system_room import SystemRoomStore
from keerpunt.base.config import EXIT_CONFIG, Config, check_secret_files
from keerpunt.devports import dev_listeners, refusal
from keerpunt.procs import Child, ProcessGroup, wait_http
from keerpunt.staff import StaffError, add_staff
from keerpunt.synapse_config import init_synapse, synapse_dir

log = logging.getLogger(__name__)

DEMO_ACCOUNTS = {"counsellors": ["counsellor"], "outreach": ["outreach"], "partners": []}
ROLE_OF_GROUP = {"counsellors": "counsellor", "outreach": "outreach", "partners": "partner"}
# The names visitors see for the demo accounts (staff are pseudonymous to visitors).
DEMO_NAMES = {"counsellor": "Sam", "outreach": "Noor", "partner": "Intake"}


def _self_argv(config_path: str | None, config: Config) -> list[str]:
    argv = [sys.executable, "-m", "keerpunt", "--data-dir", str(config.data_path)]
    if config_path:
        argv += ["--config", config_path]
    return argv


async def ensure_demo_accounts(config: Config) -> dict[str, list[dict[str, str]]]:
    """Create the demo staff once; their passwords are kept in the data dir (dev only)."""
    path = config.path("dev-accounts.json")
    accounts: dict[str, list[dict[str, str]]] = (
        json.loads(path.read_text("utf-8")) if path.exists() else {group: [] for group in DEMO_ACCOUNTS}
    )
    for group, names in DEMO_ACCOUNTS.items():
        have = {a["user_id"] for a in accounts.setdefault(group, [])}
        for name in names:
            user_id = f"@{name}:{config.homeserver.server_name}"
            if user_id in have:
                continue
            try:
                role = ROLE_OF_GROUP[group]
                new = await add_staff(config, DEMO_NAMES[role], role, login=name)
            except StaffError:
                log.warning("%s exists but its password is unknown; skipping it", user_id)
                continue
            accounts[group].append({"user_id": new.user_id, "password": new.password})
            path.write_text(json.dumps(accounts, indent=2), "utf-8")
            os.chmod(path, 0o600)
    return accounts


async def _staff_room(config: Config, kind: str = "queue") -> str | None:
    db = create_database(config)
    await db.start()
    try:
        return await SystemRoomStore(db).get(kind)
    finally:
        await db.stop()


async def _queue_room(config: Config) -> str | None:
    return await _staff_room(config, "queue")


def write_dev_stack(
    config: Config, accounts: dict[str, Any], queue_room: str | None, outreach_room: str | None = None
) -> Path:
    stack = {
        "homeserver": config.homeserver.public_url,
        "server_name": config.homeserver.server_name,
        "portal": config.portal.public_url,
        "api": f"http://{config.bots.api.host}:{config.bots.api.port}",
        "queue_room": queue_room,
        "outreach_room": outreach_room,
        "accounts": accounts,
    }
    path = config.path("dev-stack.json")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(stack, indent=2), "utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def _banner(config: Config, stack_path: Path, accounts: dict[str, Any], seconds: float) -> str:
    counsellor = accounts["counsellors"][0] if accounts.get("counsellors") else None
    lines = [
        "",
        f"Keerpunt is running (ready in {seconds:.1f}s). Press Ctrl-C to stop.",
        f"  Portal:      {config.portal.public_url}",
        f"  Homeserver:  {config.homeserver.public_url}",
        f"  Session API: http://{config.bots.api.host}:{config.bots.api.port}/api/v1/",
        "",
        "Sign in as a counsellor with Element (https://app.element.io or Element Desktop):",
        f"  homeserver {config.homeserver.public_url}",
    ]
    if counsellor:
        lines += [f"  user {counsellor['user_id']}", f"  password {counsellor['password']}"]
    lines += [f"All accounts and room IDs: {stack_path}", ""]
    return "\n".join(lines)


StartSynapse = Callable[[ProcessGroup, Config, Path], Awaitable[Child]]


async def run_dev(config: Config, config_path: str | None, *, start_synapse: StartSynapse | None = None) -> int:
    """The dev stack; ``start_synapse`` replaces the single Synapse process (`--workers`, which
    checks its own ports first). With `--workers` every child is started again when it exits, as
    compose's ``restart: unless-stopped`` would (bench/faults kills each in turn)."""
    restart = start_synapse is not None
    if start_synapse is None:
        problem = refusal(config, dev_listeners(config), config_path)
        if problem:
            print(problem, file=sys.stderr)
            return EXIT_CONFIG
    started = time.monotonic()
    hs_yaml = init_synapse(config, variant="dev")
    check_secret_files(config)
    sdir = synapse_dir(config)
    logs = config.path("logs")
    logs.mkdir(exist_ok=True)
    group = ProcessGroup()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    code = 0
    try:
        if start_synapse is None:
            synapse = await group.start(
                "synapse",
                [sys.executable, "-m", "synapse.app.homeserver", "-c", str(hs_yaml)],
                cwd=sdir,
                env={"PYTHONPATH": str(sdir)},
                log_path=logs / "synapse.out",
            )
            await _until(
                stopping,
                wait_http(f"{config.homeserver.internal_url}/_matrix/client/versions", within=120, child=synapse),
            )
        else:
            await _until(stopping, start_synapse(group, config, logs))
        bots = await group.start(
            "bots", [*_self_argv(config_path, config), "run", "bots"], log_path=logs / "bots.log", restart=restart
        )
        await _until(
            stopping,
            wait_http(f"http://{config.bots.api.host}:{config.bots.api.port}/api/v1/health", within=120, child=bots),
        )
        accounts = await _until(stopping, ensure_demo_accounts(config))
        portal = await group.start(
            "portal", [*_self_argv(config_path, config), "run", "portal"], log_path=logs / "portal.log", restart=restart
        )
        await _until(stopping, wait_http(f"http://{config.portal.host}:{config.portal.port}/", within=60, child=portal))
        stack_path = write_dev_stack(config, accounts, await _queue_room(config), await _staff_room(config, "outreach"))
        print(_banner(config, stack_path, accounts, time.monotonic() - started), flush=True)
        exit_waiter = asyncio.ensure_future(group.supervise())
        stop_waiter = asyncio.ensure_future(stopping.wait())
        done, _ = await asyncio.wait({exit_waiter, stop_waiter}, return_when=asyncio.FIRST_COMPLETED)
        if exit_waiter in done:
            child = exit_waiter.result()
            print(
                f"{child.name} stopped unexpectedly (code {child.process.returncode}); see {child.log_path}",
                file=sys.stderr,
            )
            code = 1
        for waiter in (exit_waiter, stop_waiter):
            waiter.cancel()
    except _Interrupted:
        pass
    except (RuntimeError, TimeoutError) as exc:
        print(f"keerpunt dev: {exc}", file=sys.stderr)
        code = 1
    finally:
        await group.stop()
        print("Keerpunt stopped.", flush=True)
    return code


class _Interrupted(Exception):
    pass


async def _until(stopping: asyncio.Event, coro: Any) -> Any:
    """Await ``coro`` unless Ctrl-C/SIGTERM comes first."""
    task = asyncio.ensure_future(coro)
    stop = asyncio.ensure_future(stopping.wait())
    done, _ = await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        stop.cancel()
        return task.result()
    task.cancel()
    raise _Interrupted
