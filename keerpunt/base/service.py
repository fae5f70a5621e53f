"""One lifecycle for every Keerpunt process (after mautrix-python's util/program.py).

Synchronous prepare (config, logging) happens in the CLI; ``start()`` opens databases and
starts background tasks; the process runs until SIGTERM/SIGINT; ``stop()`` undoes ``start()``
in reverse, bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

STOP_TIMEOUT = 15.0


class Service(ABC):
    name = "service"

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...


async def _run(service: Service, stop_timeout: float) -> int:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await service.start()
    except Exception:
        log.exception("%s failed to start", service.name)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(service.stop(), stop_timeout)
        return 1
    log.info("%s started", service.name)
    await stopping.wait()
    log.info("%s stopping", service.name)
    try:
        await asyncio.wait_for(service.stop(), stop_timeout)
    except TimeoutError:
        log.error("%s did not stop within %.0fs", service.name, stop_timeout)
        return 1
    return 0


def run_service(service: Service, stop_timeout: float = STOP_TIMEOUT) -> int:
    return asyncio.run(_run(service, stop_timeout))


async def backoff_loop(
    name: str,
    step: Callable[[], Awaitable[None]],
    *,
    initial: float = 0.5,
    cap: float = 30.0,
) -> None:
    """Run ``step`` forever; on failure back off exponentially up to ``cap`` and log recovery."""
    delay = initial
    failing = False
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; retrying in %.1fs", name, delay)
            failing = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, cap)
            continue
        if failing:
            log.info("%s recovered", name)
            failing = False
        delay = initial


async def wake_loop(
    name: str,
    step: Callable[[], Awaitable[bool]],
    wake: asyncio.Event,
    *,
    busy: float,
    idle: float,
    cap: float = 30.0,
) -> None:
    """Run ``step`` in rounds forever: again after ``busy`` seconds while it returns True (more
    to do), after ``idle`` otherwise, at once whenever ``wake`` is set; on failure back off
    exponentially up to ``cap`` and log the recovery."""
    delay = busy
    failing = False
    while True:
        wake.clear()
        try:
            more = await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; retrying in %.1fs", name, delay)
            failing, wait, delay = True, delay, min(delay * 2, cap)
        else:
            if failing:
                log.info("%s recovered", name)
            failing, delay = False, busy
            wait = busy if more else idle
        await wait_or_timeout(wake, wait)


async def wait_or_timeout(event: asyncio.Event, seconds: float) -> None:
    """Wait until ``event`` is set or ``seconds`` pass, whichever comes first.

    Not ``asyncio.wait_for``: on Python 3.11 it swallows a cancellation that arrives in the
    same loop iteration as the event (gh-86296), so a background loop built on it can
    outlive ``stop()`` and hang shutdown. ``asyncio.timeout`` has no such race.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
