"""The digest a warm `make compose-up` compares before it builds an image (keerpunt/compose/inputs.py):
it changes with every input of the build and with nothing else."""

from __future__ import annotations

from pathlib import Path

from keerpunt.compose import host, inputs
from keerpunt.compose.inputs import context_files, copy_sources, digest, ignore_rules, ignored

DOCKERFILE = """\
FROM debian:bookworm-slim AS build
COPY requirements.lock /build/requirements.lock
RUN echo built
FROM debian:bookworm-slim
COPY --from=build /opt/venv /opt/venv
COPY --chown=991 app.py \\
     lib /opt/app/
"""


def _context(tmp_path: Path) -> Path:
    files = {
        "requirements.lock": "a==1\n",
        "app.py": "print(1)\n",
        "lib/mod.py": "x = 1\n",
        "lib/__pycache__/mod.pyc": "junk",
        "lib/notes.md": "kept: *.md is only the top level\n",
        "NOTES.md": "ignored\n",
        "README.md": "kept by a negation\n",
        "deploy/local/keep.sh": "kept by a negation under an ignored folder\n",
        "deploy/other.yaml": "ignored\n",
        "unrelated.txt": "not copied by any COPY line\n",
        "Dockerfile": DOCKERFILE,
        ".dockerignore": "# comment\n**/__pycache__\n*.md\n!README.md\ndeploy\n!deploy/local/keep.sh\n",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_copy_sources_are_the_context_paths_of_copy_lines(tmp_path: Path) -> None:
    context = _context(tmp_path)
    assert copy_sources(context / "Dockerfile") == ["requirements.lock", "app.py", "lib"]


def test_dockerignore_as_the_builder_reads_it(tmp_path: Path) -> None:
    rules = ignore_rules(_context(tmp_path))
    assert ignored("lib/__pycache__/mod.pyc", rules)
    assert ignored("NOTES.md", rules) and not ignored("lib/notes.md", rules)
    assert not ignored("README.md", rules)
    assert ignored("deploy/other.yaml", rules) and not ignored("deploy/local/keep.sh", rules)
    assert not ignored("app.py", rules)
    found = [p.relative_to(tmp_path).as_posix() for p in context_files(tmp_path, ["."])]
    assert found == [
        ".dockerignore",
        "Dockerfile",
        "README.md",
        "app.py",
        "deploy/local/keep.sh",
        "lib/mod.py",
        "lib/notes.md",
        "requirements.lock",
        "unrelated.txt",
    ]


def test_the_digest_moves_with_the_inputs_only(tmp_path: Path) -> None:
    context = _context(tmp_path)
    dockerfile = context / "Dockerfile"

    def now(base: str = "sha256:base", extra: tuple[str, ...] = ()) -> str:
        return digest(dockerfile, context, base_id=base, extra=extra)

    first = now()
    assert now() == first
    # Not inputs: an ignored file, a file no COPY line takes.
    (context / "lib" / "__pycache__" / "mod.pyc").write_text("other junk")
    (context / "unrelated.txt").write_text("changed")
    assert now() == first
    # Inputs: the base image, the build arguments, a copied file's content and its mode, the
    # Dockerfile itself, a new file in a copied folder.
    assert now(base="sha256:other") != first
    assert now(extra=("--build-arg", "X=1")) != first
    (context / "lib" / "mod.py").write_text("x = 2\n")
    second = now()
    assert second != first
    (context / "app.py").chmod(0o755)
    third = now()
    assert third != second
    (context / "lib" / "new.py").write_text("")
    fourth = now()
    assert fourth != third
    dockerfile.write_text(DOCKERFILE + "ENV A=1\n")
    assert now() != fourth


def test_the_repository_images_hash_what_they_copy() -> None:
    """The project's own Dockerfiles: the keerpunt image takes the source tree (not the tests, the
    docs or the downloaded wheels), the stand-ins only their scripts."""
    repo = Path(__file__).resolve().parents[2]
    by_tag = {image.tag: image for image in host.images(repo)}
    keerpunt = by_tag[host.KEERPUNT_IMAGE]
    files = {p.relative_to(repo).as_posix() for p in context_files(repo, copy_sources(keerpunt.dockerfile))}
    assert "keerpunt/compose/inputs.py" in files and "requirements.lock" in files
    assert not any(f.startswith(("tests/", "docs/", "deploy/wheels/", ".venv/", "bench/")) for f in files)
    synapse = by_tag[host.SYNAPSE_IMAGE]
    assert copy_sources(synapse.dockerfile) == ["requirements.lock", "deploy/local/standin-synapse.sh"]
    assert inputs.LABEL.startswith("io.keerpunt.")
