"""Child processes for `keerpunt dev`: started together, stopped in reverse, never orphaned."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to send SIGTERM to the child if `keerpunt dev` itself dies (even by SIGKILL)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    log_path: Path | None = None
    # Started again when it exits on its own (as compose's restart policy would): every child
    # of `keerpunt dev --workers`. In `keerpunt dev` a child that exits ends the stack.
    restart: bool = False
    argv: Sequence[str] = ()
    cwd: Path | None = None
    env: Mapping[str, str] | None = None
    restarts: int = 0


@dataclass
class ProcessGroup:
    children: list[Child] = field(default_factory=list)

    async def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        restart: bool = False,
    ) -> Child:
        process = await _spawn(argv, cwd, env, log_path)
        child = Child(name, process, log_path, restart, tuple(argv), cwd, env)
        self.children.append(child)
        log.debug("started %s (pid %d)", name, process.pid)
        return child

    async def stop(self, grace: float = 15.0) -> None:
        """Stop children in reverse order of start: SIGTERM, then SIGKILL after ``grace`` seconds."""
        for child in reversed(self.children):
            proc = child.process
            if proc.returncode is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                log.warning("%s did not stop within %.0fs; killing it", child.name, grace)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        self.children.clear()

    async def supervise(self, backoff: float = 1.0) -> Child:
        """Restart children marked ``restart`` when they exit; return the first other child that exits."""
        while True:
            child = await self.first_exit()
            if not child.restart:
                return child
            log.warning("%s exited (code %s); starting it again", child.name, child.process.returncode)
            await asyncio.sleep(backoff)
            child.process = await _spawn(child.argv, child.cwd, child.env, child.log_path)
            child.restarts += 1

    async def first_exit(self) -> Child:
        """Wait until any child exits and return it."""
        waiters = {asyncio.ensure_future(c.process.wait()): c for c in self.children}
        try:
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        return waiters[next(iter(done))]


async def _spawn(
    argv: Sequence[str], cwd: Path | None, env: Mapping[str, str] | None, log_path: Path | None
) -> asyncio.subprocess.Process:
    full_env = {**os.environ, **(env or {})}
    stdout = open(log_path, "ab") if log_path else None  # noqa: SIM115, ASYNC230 - local log file for the child
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=full_env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=stdout,
            stderr=asyncio.subprocess.STDOUT if stdout else None,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    finally:
        if stdout:
            stdout.close()


async def wait_http(url: str, *, within: float, child: Child | None = None) -> float:
    """Poll ``url`` until it answers 200; fail early if ``child`` exits. Returns seconds waited."""
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while True:
            if child is not None and child.process.returncode is not None:
                hint = f"; see {child.log_path}" if child.log_path else ""
                raise RuntimeError(f"{child.name} exited with code {child.process.returncode}{hint}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return time.monotonic() - started
            if time.monotonic() - started > within:
                raise TimeoutError(f"{url} did not answer within {within:.0f}s")
            await asyncio.sleep(0.1)
