"""qlocks' state store: audit records, close claims, pending requests, watches and server-held queries.

SQLite in ``QLOCKS_STATE_DIR`` by default (zero setup, one process or several on one host); PostgreSQL with
``QLOCKS_DATABASE_URL=postgresql://…`` for N replicas. One schema for both, created or migrated by ``open_store``.
The domain and the Slack layer use ``Store``'s typed methods; no SQL outside this package.
"""

from __future__ import annotations

import time
from pathlib import Path

from bot.store.base import (
    Backend,
    HeldQuery,
    PendingRequest,
    Store,
    StoredClaim,
    StoreError,
    Watch,
)
from bot.store.migrations import LATEST, MIGRATIONS, Migration
from bot.store.url import DatabaseUrl, DatabaseUrlError, memory, parse_database_url, sqlite_in


def open_store(
    where: DatabaseUrl, *, migrate: bool = True, migrations: tuple[Migration, ...] = MIGRATIONS
) -> Store:
    """Connect and (by default) bring the schema up to date; raises ``StoreError`` with one line."""
    store = Store(_backend(where))
    if migrate:
        try:
            store.migrate(now=time.time(), migrations=migrations)
        except BaseException:
            store.close()
            raise
    return store


def memory_store() -> Store:
    """A private in-memory store (one object, one process): for components built without configuration."""
    return open_store(memory())


def inspect(where: DatabaseUrl) -> str:
    """For ``qlocks doctor``: what is there, read-only (nothing is created or migrated). Raises ``StoreError``."""
    if where.kind == "sqlite":
        path = Path(where.path or "")
        if not path.exists():
            parent = path.parent
            if parent.is_dir():
                _writable(parent)
                return f"{where.shown} does not exist yet; qlocks run will create it"
            if parent.exists():
                raise StoreError(f"{parent} is not a directory")
            if not parent.parent.is_dir():
                raise StoreError(f"the folder {str(parent.parent)!r} does not exist")
            _writable(parent.parent)
            return f"{where.shown} does not exist yet; qlocks run will create it (and {parent})"
        _writable(path)
        from bot.store.sqlite import SqliteBackend

        backend: Backend = SqliteBackend(str(path), read_only=True)
    else:
        from bot.store.postgres import PostgresBackend

        backend = PostgresBackend(where.url, shown=where.shown)
    with Store(backend) as store:
        version = store.schema_version()
    if version == 0:
        return f"{where.shown} answers; empty: qlocks run will create the schema (version {LATEST})"
    if version < LATEST:
        return f"{where.shown} answers; schema version {version}: qlocks run will migrate it to {LATEST}"
    if version > LATEST:
        raise StoreError(
            f"{where.shown} has schema version {version}, newer than this qlocks ({LATEST}): qlocks run will refuse"
        )
    return f"{where.shown} answers; schema version {version} (current)"


def _writable(path: Path) -> None:
    import os

    if not os.access(path, os.W_OK):
        raise StoreError(f"{path} is not writable by this user")


def _backend(where: DatabaseUrl) -> Backend:
    if where.kind == "sqlite":
        from bot.store.sqlite import SqliteBackend

        return SqliteBackend(where.path or ":memory:")
    from bot.store.postgres import PostgresBackend

    return PostgresBackend(where.url, shown=where.shown)


__all__ = [
    "LATEST",
    "MIGRATIONS",
    "DatabaseUrl",
    "DatabaseUrlError",
    "HeldQuery",
    "Migration",
    "PendingRequest",
    "Store",
    "StoreError",
    "StoredClaim",
    "Watch",
    "inspect",
    "memory_store",
    "open_store",
    "parse_database_url",
    "sqlite_in",
]
