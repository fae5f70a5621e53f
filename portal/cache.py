"""Rendered pages held in memory: rendered once, answered with ETag/304 and optional gzip."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from portal.static import accepts_gzip, etag_matches

# Public pages may be kept by the browser but are checked with the ETag on each visit.
PUBLIC = "no-cache"
# Chat and search pages are never stored: a query or a chat says something about the visitor.
PRIVATE = "no-store"


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    gzipped: bytes
    etag: str
    status: int
    headers: Mapping[str, str]

    @classmethod
    def build(
        cls, html: str, language: str, base_headers: Mapping[str, str], status: int = 200, cache: str = PUBLIC
    ) -> CachedPage:
        body = html.encode("utf-8")
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        headers = {
            **base_headers,
            "Content-Type": "text/html; charset=utf-8",
            "Content-Language": language,
            "Cache-Control": cache,
            "Vary": "Accept-Encoding",
        }
        if cache == PUBLIC and status == 200:
            headers["ETag"] = etag
        return cls(body, gzip.compress(body, compresslevel=9, mtime=0), etag, status, headers)

    def respond(self, request: web.BaseRequest) -> web.Response:
        if "ETag" in self.headers and etag_matches(request.headers.get("If-None-Match", ""), self.etag):
            return web.Response(status=304, headers=self.headers)
        if accepts_gzip(request.headers.get("Accept-Encoding", "")):
            return web.Response(
                status=self.status, body=self.gzipped, headers={**self.headers, "Content-Encoding": "gzip"}
            )
        return web.Response(status=self.status, body=self.body, headers=self.headers)


def fresh_response(
    html: str, language: str, base_headers: Mapping[str, str], request: web.Request, *, status: int = 200
) -> web.Response:
    """A page rendered for this request only (search): never stored, gzipped quickly if accepted."""
    body = html.encode("utf-8")
    headers = {
        **base_headers,
        "Content-Type": "text/html; charset=utf-8",
        "Content-Language": language,
        "Cache-Control": PRIVATE,
        "Vary": "Accept-Encoding",
    }
    if accepts_gzip(request.headers.get("Accept-Encoding", "")):
        compressed = gzip.compress(body, compresslevel=5)
        return web.Response(status=status, body=compressed, headers={**headers, "Content-Encoding": "gzip"})
    return web.Response(status=status, body=body, headers=headers)
