"""How long `make compose-up` takes, warm and cold, and how big the images are (issue 22).

    python -m bench.compose_up            # warm: images built, the stack down
    python -m bench.compose_up --cold     # cold: the three images and the downloaded packages
                                          # removed first (the Debian base stays: made once per
                                          # machine by host-setup.sh, ~35 s)

Each run ends with `compose down`. As root (podman). Minutes; the machine is shared, so run it
when it is quiet and report the load with the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from keerpunt.compose import host

REPO = Path(__file__).resolve().parents[1]


def _compose(*args: str) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "keerpunt.compose", *args], cwd=REPO, check=True)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compose_up")
    parser.add_argument("--cold", action="store_true", help="remove the images and downloaded packages first")
    parser.add_argument("--scale", action="store_true", help="with the scale profile")
    args = parser.parse_args()
    _compose("down")
    if args.cold:
        for image in (host.KEERPUNT_IMAGE, host.STANDIN_IMAGE, host.SYNAPSE_IMAGE):
            subprocess.run(["podman", "rmi", "-f", image], capture_output=True, check=False)
        subprocess.run(["podman", "image", "prune", "-f"], capture_output=True, check=False)
        (REPO / "deploy" / "wheels" / ".lock-sha256").unlink(missing_ok=True)
    load = os.getloadavg()[0]
    seconds = _compose("up", *(["--scale"] if args.scale else []))
    _compose("down")
    kind = "cold" if args.cold else "warm"
    print(f"compose-up {kind}{' (scale)' if args.scale else ''}: {seconds:.0f} s (load {load:.1f} at the start)")
    for image, size in host.image_sizes().items():
        print(f"{image}: {size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
