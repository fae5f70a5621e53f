"""Static files, held in memory with content-hashed names and gzip made once at start-up.

``/static/site.<hash>.css`` is immutable and cached for a year; the plain name
(``/static/quick-exit.js``, for the chat widget to reuse) is revalidated with its ETag.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
COMPRESSIBLE = ("text/", "application/javascript", "image/svg+xml", "application/json")
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".txt": "text/plain"}


@dataclass(frozen=True)
class Asset:
    name: str
    hashed: str
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str


def accepts_gzip(header: str) -> bool:
    """True when Accept-Encoding allows gzip (``gzip``, ``gzip;q=0.5``, ``*``; not ``q=0``)."""
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


def etag_matches(header: str, etag: str) -> bool:
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return etag in candidates or "*" in candidates


class StaticFiles:
    def __init__(self, folder: Path = STATIC_DIR) -> None:
        self.assets: dict[str, Asset] = {}
        self.urls: dict[str, str] = {}
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
            name = path.relative_to(folder).as_posix()
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()
            stem, dot, suffix = name.rpartition(".")
            hashed = f"{stem}.{digest[:12]}.{suffix}" if dot else f"{name}.{digest[:12]}"
            content_type = TYPES.get(path.suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
            gzipped = None
            if content_type.startswith(COMPRESSIBLE):
                packed = gzip.compress(body, compresslevel=9, mtime=0)
                gzipped = packed if len(packed) < len(body) else None
            asset = Asset(name, hashed, body, gzipped, content_type, f'"{digest[:32]}"')
            self.assets[name] = asset
            self.assets[hashed] = asset
            self.urls[name] = f"/static/{hashed}"

    def url(self, name: str) -> str:
        return self.urls[name]

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        asset = self.assets.get(name)
        if asset is None:
            raise web.HTTPNotFound()
        headers = {
            "Cache-Control": IMMUTABLE if name == asset.hashed else REVALIDATE,
            "ETag": asset.etag,
            "Vary": "Accept-Encoding",
            "Content-Type": asset.content_type
            if not asset.content_type.startswith("text/")
            else f"{asset.content_type}; charset=utf-8",
        }
        if etag_matches(request.headers.get("If-None-Match", ""), asset.etag):
            return web.Response(status=304, headers=headers)
        body = asset.body
        if asset.gzipped is not None and accepts_gzip(request.headers.get("Accept-Encoding", "")):
            body = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, headers=headers)
