"""``keerpunt run portal``: one process, or one worker process per CPU core on a shared port.

The portal keeps no state between requests (every page is rendered at start-up, a search is
rendered per request and forgotten), so workers need nothing from each other: each listens
on the same port with ``SO_REUSEPORT`` and the kernel spreads the connections over them. The
parent loads and checks the content once (a content error stops it before any worker
starts), forks the workers, and waits. SIGTERM or SIGINT stops every worker gracefully (each
runs its own ``stop()``); when a worker exits by itself the parent stops the others and exits
non-zero, so the service manager restarts the portal as a whole.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import wait

from keerpunt.base.config import Config
from keerpunt.base.service import STOP_TIMEOUT, run_service
from keerpunt.site.folder import content_dir
from portal.metrics import enable as enable_metrics
from portal.service import PortalService
from portal.site import load_site

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


def use_uvloop() -> None:
    """Run this process on uvloop: the portal answers cached pages about 25% faster with it."""
    try:
        import uvloop
    except ImportError:  # optional speed-up; asyncio's own loop works the same
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def worker_count(config: Config) -> int:
    """``portal.workers``, where 0 means one per CPU this process may use (one in dev)."""
    if config.portal.workers > 0:
        return config.portal.workers
    return 1 if config.mode == "dev" else len(os.sched_getaffinity(0))


def run_portal(config: Config) -> int:
    site = load_site(content_dir(config))
    count = worker_count(config)
    metrics = enable_metrics(config)
    try:
        if metrics is not None:
            metrics.serve()
            log.info("metrics on loopback port %d (/metrics)", metrics.port)
        if count == 1:
            use_uvloop()
            return run_service(PortalService(config, site))
        log.info("starting %d portal workers", count)

        def work() -> int:
            use_uvloop()
            return run_service(PortalService(config, site, reuse_port=True))

        return supervise(count, work)
    finally:
        if metrics is not None:
            metrics.close()


def supervise(count: int, work: Callable[[], int], stop_timeout: float = STOP_TIMEOUT + 5) -> int:
    """Run ``work`` in ``count`` forked processes until a signal or until one of them exits."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in SIGNALS}
    previous_fd = signal.set_wakeup_fd(write_fd)  # a signal makes read_fd readable
    context = multiprocessing.get_context("fork")  # the workers share the loaded content
    workers: list[multiprocessing.process.BaseProcess] = []
    try:
        for number in range(1, count + 1):
            worker = context.Process(target=_worker, args=(work, (read_fd, write_fd)), name=f"portal-{number}")
            worker.start()
            workers.append(worker)
        ready = wait([read_fd, *(w.sentinel for w in workers)])
        asked = read_fd in ready
        if not asked:
            ended = next(w for w in workers if w.sentinel in ready)
            log.error("portal worker %s exited with code %s; stopping the others", ended.name, ended.exitcode)
        return 0 if _stop_all(workers, stop_timeout) and asked else 1
    finally:
        _stop_all(workers, stop_timeout)
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(read_fd)
        os.close(write_fd)


def _worker(work: Callable[[], int], parent_fds: tuple[int, int]) -> None:
    signal.set_wakeup_fd(-1)
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    for fd in parent_fds:
        os.close(fd)
    sys.exit(work())


def _stop_all(workers: list[multiprocessing.process.BaseProcess], timeout: float) -> bool:
    """SIGTERM to every live worker, then wait; True when all stopped cleanly within ``timeout``."""
    for worker in workers:
        if worker.exitcode is None:
            worker.terminate()
    deadline = time.monotonic() + timeout
    clean = True
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.exitcode is None:
            log.error("portal worker %s did not stop within %.0fs; killing it", worker.name, timeout)
            worker.kill()
            worker.join()
        clean = clean and worker.exitcode == 0
    return clean
