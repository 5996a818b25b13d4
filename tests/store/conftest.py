"""The store suite runs twice: on SQLite (a file in tmp_path) and on a real PostgreSQL (tests/pgcluster.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.store import DatabaseUrl, Store, open_store, parse_database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseUrl:
    if request.param == "sqlite":
        return parse_database_url(f"sqlite:///{tmp_path}/state/qlocks.db")
    return parse_database_url(request.getfixturevalue("pg_url"))


@pytest.fixture
def reopen(where: DatabaseUrl) -> Iterator[Callable[..., Store]]:
    """Open a (new) store object on the same database, as a restarted or second process would."""
    opened: list[Store] = []

    def make(**kw: object) -> Store:
        store = open_store(where, **kw)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(reopen: Callable[..., Store]) -> Store:
    return reopen()
