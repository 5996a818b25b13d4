"""SQLite backend (stdlib ``sqlite3``): one file, WAL journal, zero setup; the default for one process.

One connection per store, shared by the process's threads under a lock; ``BEGIN IMMEDIATE`` takes the write lock
at the start of every transaction, so processes sharing the file queue (``busy_timeout``) instead of deadlocking.
``synchronous=FULL``: a committed audit record survives a power cut, not only a crash.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from bot.store.base import Row, StoreError

BUSY_TIMEOUT_S = 10.0
MIN_SQLITE = (3, 35, 0)  # RETURNING


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._rowcount = 0

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        cursor = self._conn.execute(sql, tuple(params))
        rows = cursor.fetchall()
        self._rowcount = cursor.rowcount
        return rows

    @property
    def rowcount(self) -> int:
        return self._rowcount


class SqliteBackend:
    dialect: Literal["sqlite"] = "sqlite"

    def __init__(self, path: str, *, read_only: bool = False) -> None:
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise StoreError(
                f"SQLite {sqlite3.sqlite_version} is too old (qlocks needs {'.'.join(map(str, MIN_SQLITE))}+)"
            )
        self.shown = f"sqlite:///{path}"
        self._lock = threading.Lock()
        try:
            if read_only:
                uri = Path(path).absolute().as_uri() + "?mode=ro"
                self._conn = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S
                )
            else:
                if path != ":memory:":
                    _make_parent(Path(path))
                self._conn = sqlite3.connect(
                    path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S
                )
                if path != ":memory:":
                    mode = _switch_to_wal(self._conn)
                    if not mode or str(mode[0]).lower() != "wal":
                        raise StoreError(f"{self.shown}: could not switch to WAL mode (got {mode!r})")
                self._conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.shown}: {_reason(exc)}") from None

    @contextmanager
    def transaction(self) -> Iterator[_SqliteTx]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.shown}: {_reason(exc)}") from None
            try:
                yield _SqliteTx(self._conn)
            except sqlite3.Error as exc:
                self._conn.rollback()
                raise StoreError(f"{self.shown}: {_reason(exc)}") from None
            except BaseException:
                self._conn.rollback()
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._conn.rollback()
                raise StoreError(f"{self.shown}: commit failed ({_reason(exc)})") from None

    def lock_schema(self, tx: object) -> None:
        """``BEGIN IMMEDIATE`` already holds the database's one write lock."""

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _switch_to_wal(conn: sqlite3.Connection) -> tuple[object, ...] | None:
    """``PRAGMA journal_mode=WAL``, waiting for other processes opening a new file at the same moment: SQLite
    answers "database is locked" there at once instead of calling the busy handler."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            row: tuple[object, ...] | None = conn.execute("PRAGMA journal_mode=WAL").fetchone()
            return row
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _make_parent(path: Path) -> None:
    """The state directory is created at start (one level: its own parent must exist)."""
    parent = path.parent
    if parent.is_dir():
        return
    if parent.exists() and not parent.is_dir():
        raise StoreError(f"{parent} is not a directory")
    try:
        parent.mkdir(mode=0o750)
    except FileExistsError:  # another process starting at the same time made it
        if not parent.is_dir():
            raise StoreError(f"{parent} is not a directory") from None
    except FileNotFoundError:
        raise StoreError(f"cannot create {parent}: its parent folder does not exist") from None
    except OSError as exc:
        raise StoreError(f"cannot create {parent} ({exc.strerror or type(exc).__name__})") from None


def _reason(exc: sqlite3.Error) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
