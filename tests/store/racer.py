"""Run in child processes by the claim-race test: open the store, wait at the barrier, claim once."""

from __future__ import annotations

from typing import Any


def race(url: str, key: str, index: int, barrier: Any, results: Any) -> None:
    from bot.store import open_store, parse_database_url

    where = parse_database_url(url)
    with open_store(where) as store:
        barrier.wait(timeout=30)
        held = store.claim(key, owner=f"p{index}", user_id=f"U{index}", now=1000.0, expires_at=2000.0)
        results.put((index, held is None))
