"""`python -m keerpunt.compose up [--scale] | down | sizes` (the Makefile's compose targets)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from keerpunt.compose import host
from keerpunt.compose.files import prepare
from keerpunt.compose.stack import Stack, StackError

REPO = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m keerpunt.compose")
    parser.add_argument("command", choices=["up", "down", "sizes"])
    parser.add_argument("--scale", action="store_true", help="with the scale profile (Synapse workers, Redis)")
    args = parser.parse_args(argv)
    stack = Stack(REPO, scale=args.scale)
    try:
        if args.command == "down":
            stack.down()
            print("compose: removed the local stack (containers, networks, volumes, .keerpunt-compose)")
        elif args.command == "sizes":
            for image, size in host.image_sizes().items():
                print(f"{image}\t{size / 1e6:.0f} MB")
        else:
            started = time.monotonic()
            host.set_up_host(REPO)
            host.download_wheels(REPO)
            host.build_widget(REPO)
            built = host.build_images(REPO)
            what = f"built {', '.join(built)}" if built else "none built: their inputs did not change"
            print(f"compose: images ready after {time.monotonic() - started:.1f}s ({what})", flush=True)
            prepare(stack.folder, REPO / "deploy" / "keerpunt.yaml", stack.port, workers=args.scale)
            stack.up()
            print(f"compose: up in {time.monotonic() - started:.1f}s; see {stack.info_file}")
    except (host.HostError, StackError) as exc:
        print(f"compose: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
