"""PostgreSQL backend (psycopg 3): for N replicas sharing one database.

One connection per store, shared by the process's threads under a lock, in autocommit mode with an explicit
transaction per call; a broken connection is dropped and the next call connects again (the failed call raises
``StoreError``: nothing is retried blindly, since a commit whose answer was lost may have happened). Statements are
bounded (``statement_timeout``) so a stuck server fails a click instead of hanging it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from bot.store.base import Row, StoreError

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT_S = 10
STATEMENT_TIMEOUT_MS = 15_000
# pg_advisory_xact_lock key for migrations: any constant, the same in every qlocks ("qlocks" in ASCII).
MIGRATION_LOCK = 0x716C6F636B73


class _PgTx:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self._rowcount = 0

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        cursor = self._conn.execute(_placeholders(sql), tuple(params))  # type: ignore[arg-type]
        self._rowcount = cursor.rowcount
        return list(cursor.fetchall()) if cursor.description is not None else []

    @property
    def rowcount(self) -> int:
        return self._rowcount


class PostgresBackend:
    dialect: Literal["postgresql"] = "postgresql"

    def __init__(self, url: str, *, shown: str, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self.shown = shown
        self._url = url
        self._timeout = max(1, int(connect_timeout_s))
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        with self._lock:
            self._connection()  # fail at start-up, not at the first click

    def _connection(self) -> psycopg.Connection[Any]:
        import psycopg

        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        self._drop()
        try:
            conn = psycopg.connect(
                self._url, autocommit=True, connect_timeout=self._timeout, application_name="qlocks"
            )
            conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {self.shown} ({_reason(exc)})") from None
        self._conn = conn
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    @contextmanager
    def transaction(self) -> Iterator[_PgTx]:
        import psycopg

        with self._lock:
            conn = self._connection()
            try:
                with conn.transaction():
                    yield _PgTx(conn)
            except psycopg.Error as exc:
                if conn.broken or conn.closed:
                    self._drop()
                raise StoreError(f"{self.shown}: {_reason(exc)}") from None

    def lock_schema(self, tx: Any) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))

    def close(self) -> None:
        with self._lock:
            self._drop()


def _placeholders(sql: str) -> str:
    """qlocks' SQL uses ``?`` (sqlite3's style) and never a literal ``?`` or ``%``; psycopg wants ``%s``."""
    return sql.replace("?", "%s")


def _reason(exc: BaseException) -> str:
    """psycopg's message in one line (libpq's are several), without the DETAIL/HINT noise."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
