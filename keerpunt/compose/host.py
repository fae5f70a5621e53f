"""The machine and the images: set up once, then build only what changed.

A build here cannot reach PyPI (the host trusts a CA a fresh image does not) nor pull an image,
so the host downloads every file of requirements.lock, each checked against its hash, into
deploy/wheels/, and the Dockerfile installs from there (``PIP_SOURCES``); the widget is built
on the host as for `make dev`. The base image is made with debootstrap by host-setup.sh.
Each image carries the digest of its inputs as a label (inputs.py); an image whose inputs did
not change is not built again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from keerpunt.compose import inputs

KEERPUNT_IMAGE = "localhost/keerpunt:0.1.0"
STANDIN_IMAGE = "localhost/keerpunt-standin:0.1.0"
SYNAPSE_IMAGE = "localhost/keerpunt-synapse:1.163.2"
# Made by host-setup.sh with debootstrap (FIELD-NOTES.md); pulled as usual elsewhere.
BASE_IMAGE = "docker.io/library/debian:bookworm-slim"
# What the build stage installs psycopg2 and the project with: pip's build backends.
BUILD_BACKENDS = ("setuptools>=69", "wheel")


class HostError(Exception):
    """A step of the set-up failed; the message says which."""


@dataclass(frozen=True)
class Image:
    tag: str
    context: Path
    dockerfile: Path
    args: tuple[str, ...] = ()


def run(argv: list[str], *, cwd: Path | None = None, quiet: bool = False) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=quiet, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or "")[-2000:] if quiet else ""
        raise HostError(f"{' '.join(argv[:3])} … failed ({done.returncode}) {detail}")


def set_up_host(repo: Path) -> None:
    """podman, runc, debootstrap, /etc/containers and the base image (idempotent; as root)."""
    script = repo / "deploy" / "local" / "host-setup.sh"
    argv = ["sh", str(script)] if os.geteuid() == 0 else ["sudo", "sh", str(script)]
    run(argv)


def _pip_download(target: Path, *args: str) -> None:
    # --isolated: this machine's pip settings (extra indexes, find-links) play no part; the
    # system's CA bundle is the one that reaches PyPI here.
    argv = [sys.executable, "-m", "pip", "download", "--isolated", "--quiet", "--dest", str(target)]
    cert = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")
    if cert:
        argv += ["--cert", cert]
    run([*argv, *args])


def download_wheels(repo: Path) -> None:
    """requirements.lock's files into deploy/wheels/, again only when the lock changed."""
    lock = repo / "requirements.lock"
    target = repo / "deploy" / "wheels"
    stamp = target / ".lock-sha256"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text("utf-8") == digest:
        return
    for old in target.iterdir():
        if old.name != "README.md":
            old.unlink()
    _pip_download(target, "--no-deps", "--require-hashes", "-r", str(lock))
    _pip_download(target, "--only-binary=:all:", *BUILD_BACKENDS)
    stamp.write_text(digest, "utf-8")


def build_widget(repo: Path) -> None:
    """The widget's dist/ (what `make setup` does; quick when it is up to date)."""
    run(["make", "--no-print-directory", "-C", str(repo / "widget"), "build"], quiet=True)


def images(repo: Path) -> list[Image]:
    local = repo / "deploy" / "local"
    # The locked files, mounted into the build's RUN steps (not in the build context).
    wheels = ("-v", f"{repo / 'deploy' / 'wheels'}:/build/wheels:ro")
    pip = ("--build-arg", "PIP_SOURCES=--no-index --find-links /build/wheels", *wheels)
    return [
        Image(KEERPUNT_IMAGE, repo, repo / "Dockerfile", pip),
        Image(STANDIN_IMAGE, local, local / "Dockerfile.standin"),
        Image(SYNAPSE_IMAGE, repo, local / "Dockerfile.synapse", pip),
    ]


def _inspect(image: str, fmt: str) -> str | None:
    done = subprocess.run(
        ["podman", "image", "inspect", "--format", fmt, image], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def build_inputs(repo: Path, image: Image) -> str:
    """The digest of what ``image`` is built from (keerpunt/compose/inputs.py)."""
    extra = [arg for arg in image.args if not arg.startswith(("-v", str(repo)))]
    if "-v" in image.args:  # the mounted wheels: what requirements.lock names, by its digest
        extra.append((repo / "deploy" / "wheels" / ".lock-sha256").read_text("utf-8"))
    base = _inspect(BASE_IMAGE, "{{.Id}}") or ""
    return inputs.digest(image.dockerfile, image.context, base_id=base, extra=extra)


def build_images(repo: Path) -> list[str]:
    """Build each image whose inputs changed since it was built; the tags built."""
    built = []
    for image in images(repo):
        wanted = build_inputs(repo, image)
        if _inspect(image.tag, f'{{{{index .Labels "{inputs.LABEL}"}}}}') == wanted:
            continue
        before = _inspect(image.tag, "{{.Id}}")
        argv = ["podman", "build", "--pull=never", "--layers", "--quiet", "--label", f"{inputs.LABEL}={wanted}"]
        run([*argv, *image.args, "-f", str(image.dockerfile), "-t", image.tag, str(image.context)], quiet=True)
        built.append(image.tag)
        if before and before != _inspect(image.tag, "{{.Id}}"):
            # The replaced build, now untagged: under vfs every image is a full copy (~800 MB).
            # Kept when a container still uses it (podman refuses, and that is fine).
            subprocess.run(["podman", "rmi", before], capture_output=True, check=False)
    return built


def image_sizes() -> dict[str, int]:
    """Each image's size in bytes, as podman reports it."""
    sizes = {}
    for image in (KEERPUNT_IMAGE, STANDIN_IMAGE, SYNAPSE_IMAGE, BASE_IMAGE):
        size = _inspect(image, "{{.Size}}")
        if size:
            sizes[image] = int(size)
    return sizes
