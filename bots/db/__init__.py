"""The bots' own database (mautrix async_db: SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, cast

from mautrix.util.async_db import Database
from mautrix.util.logging import TraceLogger
from yarl import URL

from bots.db.upgrade import upgrade_table
from keerpunt.config import Config, ConfigError, read_secret


def database_url(config: Config) -> str:
    url = config.bots.database
    if url.startswith("sqlite:"):
        path = config.path(url.removeprefix("sqlite:").removeprefix("//"))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return f"sqlite:///{path}"
    if url.startswith(("postgresql://", "postgres://")):
        if URL(url).password:
            raise ConfigError("bots.database", "no password in the URL; use bots.database_password_file")
        return url
    raise ConfigError("bots.database", "expected sqlite:<path> or a postgresql:// URL")


def create_database(config: Config, url: str | None = None) -> Database:
    db_args: dict[str, object] = {}
    target = url or database_url(config)
    if target.startswith("postgres") and config.bots.database_password_file:
        db_args["password"] = read_secret(config, config.bots.database_password_file)
    if target.startswith("postgres"):
        db_args.update(min_size=1, max_size=10)
    log = logging.getLogger("keerpunt.db")
    if not isinstance(log, TraceLogger):  # created before mautrix set its logger class
        log = TraceLogger("keerpunt.db")
    return Database.create(target, upgrade_table=upgrade_table, db_args=db_args, log=log)


@asynccontextmanager
async def transaction(db: Database) -> AsyncIterator[None]:
    """One transaction; store calls made inside it (same task) use its connection."""
    # mautrix declares acquire() as a coroutine; it is an async context manager.
    acquire = cast(AbstractAsyncContextManager[Any], db.acquire())
    async with acquire as conn, conn.transaction():
        yield


__all__ = ["Database", "create_database", "database_url", "transaction", "upgrade_table"]
