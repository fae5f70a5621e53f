"""One local run of compose.yaml: start it in the order of its ``depends_on``, poll its health
commands, make the demo staff, write ``.keerpunt-compose.json``; and remove everything again.

podman-compose (PyPI) reads the compose files; podman 4.3 ignores ``condition:
service_healthy`` and has no timers for health checks here, so the harness starts one layer
of services at a time (``up --no-deps``) and runs each health command itself
(``podman healthcheck run``) until the services the next layer needs are healthy.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from keerpunt.compose.files import HOSTS, Folder, public_urls, recipient

PROJECT = "keerpunt-local"
LABEL = "io.podman.compose.project"
CONFIG_IN_CONTAINER = "/etc/keerpunt/keerpunt.yaml"
# The demo staff, as `keerpunt dev` makes them (login, role, the name visitors see).
DEMO_STAFF = {"counsellors": ("counsellor", "counsellor", "Sam"), "outreach": ("outreach", "outreach", "Noor")}
CA_IN_PROXY = "/data/caddy/pki/authorities/local/root.crt"


class StackError(Exception):
    """The stack did not come up (or down) as it should; the message says where."""


@dataclass
class Stack:
    """The local stack of one repository checkout."""

    repo: Path
    scale: bool = False
    port: int = 8443  # compose.local.yaml publishes the proxy there
    project: str = PROJECT
    timeout: float = 600
    log: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Folder:
        return Folder(self.repo / ".keerpunt-compose")

    @property
    def info_file(self) -> Path:
        return self.repo / ".keerpunt-compose.json"

    def env(self) -> dict[str, str]:
        folder = self.folder
        env = dict(os.environ)
        env.update(
            KEERPUNT_CONFIG=str(folder.config),
            KEERPUNT_SECRETS=str(folder.secrets),
            KEERPUNT_BACKUP_DIR=str(folder.backups),
        )
        if folder.recipient.exists():
            env["KEERPUNT_BACKUP_RECIPIENT"] = recipient(folder)
        return env

    def compose_argv(self, *args: str, profiles: Iterable[str] = ()) -> list[str]:
        argv = [sys.executable, "-m", "podman_compose", "-p", self.project]
        argv += ["-f", str(self.repo / "compose.yaml"), "-f", str(self.repo / "compose.local.yaml")]
        for profile in (*(["scale"] if self.scale else []), *profiles):
            argv += ["--profile", profile]
        return [*argv, *args]

    def compose(
        self, *args: str, profiles: Iterable[str] = (), check: bool = True, timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.compose_argv(*args, profiles=profiles),
            cwd=self.repo,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout or self.timeout,
        )
        if check and done.returncode != 0:
            output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            raise StackError(f"podman-compose {' '.join(args)} failed ({done.returncode}):\n{output}")
        return done

    # --- what is running ------------------------------------------------------------------

    def services(self) -> dict[str, Any]:
        """The merged services (compose.yaml with compose.local.yaml) of the active profiles."""
        merged = yaml.safe_load(self.compose("config").stdout)
        active = {"scale"} if self.scale else set()
        return {
            name: service
            for name, service in merged["services"].items()
            if not service.get("profiles") or set(service["profiles"]) & active
        }

    def container(self, service: str) -> str:
        """The name of the service's container (podman-compose: <project>_<service>_1)."""
        return f"{self.project}_{service}_1"

    def state(self, service: str) -> dict[str, Any]:
        done = _podman("inspect", "--type", "container", self.container(service), check=False)
        if done.returncode != 0:
            return {}
        return dict(json.loads(done.stdout)[0]["State"])

    def healthy(self, service: str) -> bool:
        return _podman("healthcheck", "run", self.container(service), check=False).returncode == 0

    def exec(self, service: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _podman("exec", self.container(service), *argv, check=check)

    def logs(self, service: str) -> str:
        done = _podman("logs", self.container(service), check=False)
        return done.stdout + done.stderr

    # --- up ---------------------------------------------------------------------------------

    def up(self) -> dict[str, Any]:
        """Start every service of compose.yaml (and the scale profile), healthy, with demo staff."""
        services = self.services()
        started = time.monotonic()
        for layer in _layers(services):
            # Recreated: a container made from an older build of the image is replaced.
            self.compose("up", "-d", "--no-deps", "--force-recreate", *layer)
            self._note(f"started {', '.join(layer)}", started)
            for name in layer:
                self._wait_for(name, services, _needed_as(name, services))
        for name, service in services.items():
            if "healthcheck" in service:
                self._wait_for(name, services, "service_healthy")
        self._note("every service is healthy", started)
        accounts = self._demo_staff()
        info = self._write_info(accounts)
        self._note("demo staff made, .keerpunt-compose.json written", started)
        return info

    def wait_healthy(self, *names: str) -> None:
        """Until each service's health command passes (after a restart)."""
        services = self.services()
        for name in names:
            self._wait_for(name, services, "service_healthy")

    def _note(self, what: str, since: float) -> None:
        self.log.append(f"{time.monotonic() - since:6.1f}s {what}")
        print(f"compose: {self.log[-1]}", flush=True)

    def _wait_for(self, name: str, services: dict[str, Any], condition: str | None) -> None:
        if condition is None:
            return
        deadline = time.monotonic() + self.timeout
        while not self._met(name, services, condition):
            if time.monotonic() > deadline:
                raise StackError(f"{name} not {condition} after {self.timeout:.0f}s:\n{self.logs(name)[-3000:]}")
            time.sleep(1)

    def _met(self, name: str, services: dict[str, Any], condition: str) -> bool:
        state = self.state(name)
        stopped = state.get("Status") in ("exited", "stopped")
        if condition == "service_completed_successfully":
            if stopped and state.get("ExitCode") != 0:
                raise StackError(f"{name} exited with {state.get('ExitCode')}:\n{self.logs(name)[-3000:]}")
            return stopped
        if stopped and services[name].get("restart") == "no":
            raise StackError(f"{name} stopped:\n{self.logs(name)[-3000:]}")
        if condition == "service_started":
            return bool(state.get("Running"))
        return bool(state.get("Running")) and self.healthy(name)

    def _demo_staff(self) -> dict[str, list[dict[str, str]]]:
        path = self.folder.accounts
        if path.exists():
            return dict(json.loads(path.read_text("utf-8")))
        accounts: dict[str, list[dict[str, str]]] = {"counsellors": [], "outreach": [], "partners": []}
        for group, (login, role, shown) in DEMO_STAFF.items():
            done = self.exec("bots", "keerpunt", "--config", CONFIG_IN_CONTAINER, "staff", "add", shown, "--role", role)
            user = re.search(r"Created (@\S+)", done.stdout)
            password = re.search(r"One-time password[^:]*: (\S+)", done.stdout)
            if not user or not password:
                raise StackError(f"staff add {login}: {done.stdout} {done.stderr}")
            accounts[group].append({"user_id": user[1], "password": password[1]})
        path.write_text(json.dumps(accounts, indent=2), "utf-8")
        path.chmod(0o600)
        return accounts

    def staff_room(self, kind: str) -> str | None:
        sql = f"SELECT room_id FROM system_room WHERE kind = '{kind}'"  # noqa: S608 - a fixed kind
        done = self.exec("postgres", "psql", "-U", "postgres", "-d", "keerpunt", "-tAc", sql, check=False)
        return done.stdout.strip() or None

    def _write_info(self, accounts: dict[str, Any]) -> dict[str, Any]:
        homeserver, portal = public_urls(self.port)
        deadline = time.monotonic() + 60
        while not self.staff_room("queue") and time.monotonic() < deadline:
            time.sleep(1)
        ca = self.folder.ca_file
        _podman("cp", f"{self.container('proxy')}:{CA_IN_PROXY}", str(ca))
        info = {
            "public_url": portal,
            "ca_file": str(ca),
            "homeserver": homeserver,
            "server_name": HOSTS[0],
            "portal": portal,
            "api": portal,
            # Every host name above is reached at this address (no DNS for keerpunt.test).
            "connect": {host: f"127.0.0.1:{self.port}" for host in HOSTS},
            "queue_room": self.staff_room("queue"),
            "outreach_room": self.staff_room("outreach"),
            "accounts": accounts,
            "project": self.project,
            "scale": self.scale,
        }
        tmp = self.info_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(info, indent=2), "utf-8")
        tmp.chmod(0o600)
        os.replace(tmp, self.info_file)
        return info

    # --- down -------------------------------------------------------------------------------

    def down(self) -> None:
        """Remove every container, network and volume of the project, and the local folder."""
        if (self.repo / "compose.yaml").exists() and self.folder.config.exists():
            self.compose("down", "-v", "-t", "5", profiles=("scale", "tools"), check=False)
        for kind in ("container", "pod", "volume", "network"):
            for name in leftovers(kind, self.project):
                _podman(kind, "rm", "-f", name, check=False)
        _remove(self.folder.root)
        self.info_file.unlink(missing_ok=True)


def leftovers(kind: str, project: str) -> list[str]:
    """What of ``kind`` (container, pod, volume, network) podman still has of the project."""
    fmt = {"container": "{{.Names}}", "pod": "{{.Name}}", "volume": "{{.Name}}", "network": "{{.Name}}"}[kind]
    verb = "ps" if kind == "container" else "ls"
    argv = [kind, verb, "--format", fmt] if kind != "container" else ["ps", "-a", "--format", fmt]
    names = set()
    for line in _podman(*argv, "--filter", f"label={LABEL}={project}", check=False).stdout.split():
        names.add(line)
    for line in _podman(*argv, check=False).stdout.split():
        if line.startswith((f"{project}_", f"pod_{project}")):
            names.add(line)
    return sorted(names)


def _remove(path: Path) -> None:
    if not path.exists():
        return
    # The backup folder belongs to the image's user; root removes it all.
    shutil.rmtree(path)


def _podman(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["podman", *argv], capture_output=True, text=True, check=False, timeout=300)
    if check and done.returncode != 0:
        raise StackError(f"podman {' '.join(argv[:3])} failed: {done.stderr[-2000:]}")
    return done


def _depends(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _layers(services: dict[str, Any]) -> list[list[str]]:
    """Services in start order: each layer depends only on the layers before it."""
    active = set(services)
    done: set[str] = set()
    layers = []
    while active - done:
        layer = sorted(n for n in active - done if set(_depends(services[n])) & active <= done)
        if not layer:
            raise StackError(f"depends_on has a cycle among {sorted(active - done)}")
        layers.append(layer)
        done |= set(layer)
    return layers


def _needed_as(name: str, services: dict[str, Any]) -> str | None:
    """The strictest condition another service waits for on ``name``."""
    order = ("service_started", "service_healthy", "service_completed_successfully")
    wanted = [_depends(s).get(name) for s in services.values()]
    found = [c for c in wanted if c]
    return max(found, key=order.index) if found else None
