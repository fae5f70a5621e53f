"""Crash points for the crash tests: the process kills itself (SIGKILL) at a named point.

``KEERPUNT_CRASH_AT=<name>`` in the environment arms one point; nothing is armed otherwise.
The crash tests start the bots as a child process with it set, to stop them at exactly the
step they want to test (e.g. after the handover room is made, before its ID is saved).
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)

ARMED = os.environ.get("KEERPUNT_CRASH_AT") or None


def crash_point(name: str) -> None:
    if name == ARMED:
        log.warning("Crash point %s reached: killing the process (test)", name)
        logging.shutdown()
        os.kill(os.getpid(), signal.SIGKILL)
