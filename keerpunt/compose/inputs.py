"""What an image is built from, as one digest: a warm `make compose-up` builds nothing unchanged.

podman caches no ``RUN`` step that mounts a volume (the locked wheels), so rebuilding an
unchanged image costs minutes here. Instead the harness labels each image with the digest of
its inputs and skips the build when the image it has carries the same label. The inputs:

- the Dockerfile's text and the build arguments;
- the base image's ID (a base made again rebuilds everything on it);
- the files its ``COPY`` lines take from the build context (not ``COPY --from``), with
  ``.dockerignore`` applied as the builder applies it, each by path, mode and content;
- what the build mounts besides the context (the wheels: named by the lock's digest).

The ``RUN`` steps' own downloads (Debian packages) are not inputs, as for any layer cache:
`bench.compose_up --cold` (or `podman rmi`) builds afresh.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

LABEL = "io.keerpunt.build-inputs"


@dataclass(frozen=True)
class IgnoreRule:
    pattern: re.Pattern[str]
    prefix: str  # the literal start of the pattern (for "may a negation match under here")
    negated: bool


def _translate(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match plus ``**``) as a regex on a relative path."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            if pattern.startswith("/", i):  # "**/x" also matches "x"
                out[-1] = "(?:.*/)?"
                i += 1
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def ignore_rules(context: Path) -> list[IgnoreRule]:
    """The context's .dockerignore (none: nothing is ignored)."""
    path = context / ".dockerignore"
    if not path.exists():
        return []
    rules = []
    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        rules.append(IgnoreRule(_translate(pattern), literal, negated))
    return rules


def ignored(relative: str, rules: list[IgnoreRule]) -> bool:
    """As the builder decides: the last rule that matches the path or one of its parents wins."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for rule in rules:
        if any(rule.pattern.match(candidate) for candidate in candidates):
            verdict = not rule.negated
    return verdict


def _may_hold_kept(relative: str, rules: list[IgnoreRule]) -> bool:
    """Whether a negation could keep something under an ignored directory (then walk it)."""
    return any(rule.negated and (rule.prefix.startswith(relative + "/") or not rule.prefix) for rule in rules)


def context_files(context: Path, sources: Iterable[str]) -> Iterator[Path]:
    """Every file of the context under ``sources`` that the builder would send, sorted."""
    rules = ignore_rules(context)
    found: set[Path] = set()
    for source in sources:
        start = context / os.path.normpath(source)
        if start.is_file():
            if not ignored(start.relative_to(context).as_posix(), rules):
                found.add(start)
            continue
        for root, dirs, files in os.walk(start):
            base = Path(root)
            for name in list(dirs):
                relative = (base / name).relative_to(context).as_posix()
                if ignored(relative, rules) and not _may_hold_kept(relative, rules):
                    dirs.remove(name)
            for name in files:
                path = base / name
                if not ignored(path.relative_to(context).as_posix(), rules):
                    found.add(path)
    yield from sorted(found)


def copy_sources(dockerfile: Path) -> list[str]:
    """The context paths of the Dockerfile's COPY and ADD lines (not ``--from``)."""
    text = dockerfile.read_text("utf-8").replace("\\\n", " ")
    sources = []
    for line in text.splitlines():
        words = shlex.split(line, comments=True) if line.strip() else []
        if len(words) < 3 or words[0].upper() not in ("COPY", "ADD"):
            continue
        args = words[1:]
        if any(arg.startswith("--from") for arg in args):
            continue
        paths = [arg for arg in args if not arg.startswith("--")]
        sources += paths[:-1]
    return sources


def digest(dockerfile: Path, context: Path, *, base_id: str, extra: Iterable[str] = ()) -> str:
    """The digest of everything the image is built from (see the module's docstring)."""
    h = hashlib.sha256()
    h.update(dockerfile.read_bytes())
    for part in (base_id, *extra):
        h.update(b"\0" + part.encode())
    for path in context_files(context, copy_sources(dockerfile)):
        h.update(b"\0" + path.relative_to(context).as_posix().encode())
        h.update(b"\0" + oct(path.stat().st_mode & 0o777).encode())
        h.update(b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()
