"""Rendered pages held in memory: rendered once, answered with ETag/304 and optional gzip."""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from .static import accepts_gzip, etag_matches

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

    def respond(self, request: web.Request) -> web.Response:
        if "ETag" in self.headers and etag_matches(request.headers.get("If-None-Match", ""), self.etag):
            return web.Response(status=304, headers=self.headers)
        if accepts_gzip(request.headers.get("Accept-Encoding", "")):
            return web.Response(
                status=self.status, body=self.gzipped, headers={**self.headers, "Content-Encoding": "gzip"}
            )
        return web.Response(status=self.status, body=self.body, headers=self.headers)


class LRU:
    """A small bounded cache (search result pages), oldest entry out first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, CachedPage] = OrderedDict()

    def get(self, key: str) -> CachedPage | None:
        page = self.items.get(key)
        if page is not None:
            self.items.move_to_end(key)
        return page

    def put(self, key: str, page: CachedPage) -> None:
        self.items[key] = page
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)
