"""`keerpunt dev` as a child process for tests: start until the banner, stop with SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

READY_LINE = "All accounts and room IDs"  # the last line of the banner


class DevStack:
    def __init__(self, config: Path, data_dir: Path, *dev_args: str) -> None:
        self.argv = [sys.executable, "-m", "keerpunt", "--config", str(config), "--data-dir", str(data_dir)]
        self.dev_args = list(dev_args)
        self.data_dir = data_dir
        self.proc: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    def start(self, timeout: float = 180) -> float:
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [*self.argv, "dev", *self.dev_args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        for line in self.proc.stdout:
            self.output.append(line)
            if READY_LINE in line:
                return time.monotonic() - started
            if time.monotonic() > deadline:
                break
        self.stop()
        raise AssertionError("keerpunt dev did not become ready:\n" + "".join(self.output))

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        assert self.proc.stdout is not None
        self.output.extend(self.proc.stdout.readlines())
        self.proc.stdout.close()
        return code

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.argv, *args], capture_output=True, text=True, timeout=120, check=False)

    def stack(self) -> dict[str, Any]:
        return dict(json.loads((self.data_dir / "dev-stack.json").read_text()))
