"""The state store's behaviour, the same on SQLite and on a real PostgreSQL (``where`` is parametrized)."""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.store import LATEST, MIGRATIONS, DatabaseUrl, Migration, Store, StoreError, open_store
from tests.store.racer import race

EXTRA = Migration(
    2, "test: one more table", ("CREATE TABLE extra (id TEXT PRIMARY KEY, n INTEGER NOT NULL)",)
)


# --- schema ------------------------------------------------------------------------------------------------------


def test_a_new_database_gets_the_schema_and_a_restart_migrates_nothing(reopen: Callable[..., Store]) -> None:
    first = reopen(migrate=False)
    assert first.schema_version() == 0
    assert first.migrate(now=1.0) == list(range(1, LATEST + 1))
    assert first.migrate(now=2.0) == []
    assert reopen().schema_version() == LATEST
    assert reopen().migrate(now=3.0) == []


def test_migrations_apply_in_order_once_and_newer_databases_are_refused(reopen: Callable[..., Store]) -> None:
    reopen()
    newer = (*MIGRATIONS, EXTRA)
    assert reopen(migrate=False).migrate(now=1.0, migrations=newer) == [2]
    assert reopen(migrate=False).migrate(now=2.0, migrations=newer) == []
    with pytest.raises(StoreError, match="schema version 2, newer than this qlocks knows"):
        reopen()  # this code knows only version 1: an older replica must not write to the newer schema


def test_a_failing_migration_leaves_the_database_at_the_version_before(reopen: Callable[..., Store]) -> None:
    reopen()
    broken = Migration(2, "test: half done", ("CREATE TABLE half (id TEXT)", "CREATE TABLE half (id TEXT)"))
    with pytest.raises(StoreError):
        reopen(migrate=False).migrate(now=1.0, migrations=(*MIGRATIONS, broken))
    assert reopen().schema_version() == 1
    # the first statement of the failed migration was rolled back with it: version 2 can be applied cleanly later
    fixed = Migration(2, "test: done", ("CREATE TABLE half (id TEXT)",))
    assert reopen(migrate=False).migrate(now=2.0, migrations=(*MIGRATIONS, fixed)) == [2]


def test_migration_versions_must_be_consecutive(store: Store) -> None:
    with pytest.raises(ValueError, match="expected 2"):
        store.migrate(now=1.0, migrations=(*MIGRATIONS, Migration(3, "gap", ())))


def test_concurrent_starts_migrate_once(where: DatabaseUrl) -> None:
    start = threading.Barrier(4)
    applied: list[list[int]] = []
    errors: list[BaseException] = []

    def boot() -> None:
        try:
            store = open_store(where, migrate=False)
            try:
                start.wait(timeout=30)
                applied.append(store.migrate(now=1.0))
            finally:
                store.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=boot) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(applied) == [[], [], [], list(range(1, LATEST + 1))]


# --- audit ---------------------------------------------------------------------------------------------------------


def test_audit_records_are_kept_in_order_and_survive_a_restart(reopen: Callable[..., Store]) -> None:
    store = reopen()
    ids = [
        store.add_audit(
            {"at": 10.0 + i, "event": "close_handle", "result": r, "user_id": "U1", "file": f"/f{i}"}
        )
        for i, r in enumerate(["closed", "denied", "gone"])
    ]
    assert ids == sorted(ids)
    again = reopen().audit_records()
    assert [r["result"] for r in again] == ["closed", "denied", "gone"]
    assert [r["id"] for r in again] == ids
    assert again[0]["file"] == "/f0"
    assert [r["result"] for r in reopen().audit_records(after_id=ids[0])] == ["denied", "gone"]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=0, max_size=200))
def test_audit_records_keep_any_text(store: Store, text: str) -> None:
    record_id = store.add_audit({"at": 1.0, "event": "close_handle", "result": "closed", "file": text})
    assert store.audit_records(after_id=record_id - 1, limit=1)[0]["file"] == text


def test_an_audit_record_needs_a_time(store: Store) -> None:
    with pytest.raises(ValueError):
        store.add_audit({"result": "closed"})


# --- close claims --------------------------------------------------------------------------------------------------


def test_a_claim_is_exclusive_until_released_settled_or_expired(store: Store) -> None:
    assert store.claim("c|loc1", owner="a", user_id="U1", now=100.0, expires_at=200.0) is None
    held = store.claim("c|loc1", owner="b", user_id="U2", now=101.0, expires_at=201.0)
    assert (
        held is not None and held.user_id == "U1" and held.state == "in_flight" and held.claimed_at == 100.0
    )
    assert store.claim("c|loc2", owner="b", user_id="U2", now=101.0, expires_at=201.0) is None  # other handle
    assert not store.release_claim("c|loc1", owner="b")  # only the owner releases
    assert not store.settle_claim("c|loc1", owner="b", now=102.0, expires_at=900.0)
    assert store.settle_claim("c|loc1", owner="a", now=102.0, expires_at=900.0)
    held = store.claim("c|loc1", owner="b", user_id="U2", now=500.0, expires_at=600.0)
    assert held is not None and held.state == "settled" and held.settled_at == 102.0 and held.user_id == "U1"
    assert (
        store.claim("c|loc1", owner="b", user_id="U2", now=900.0, expires_at=1000.0) is None
    )  # expired: taken
    assert not store.settle_claim("c|loc1", owner="a", now=901.0, expires_at=2000.0)  # a's claim is gone
    assert store.release_claim("c|loc1", owner="b")
    assert store.claim("c|loc1", owner="c", user_id="U3", now=902.0, expires_at=1000.0) is None


def test_settled_claims_survive_a_restart(reopen: Callable[..., Store]) -> None:
    store = reopen()
    assert store.claim("c|loc", owner="a", user_id="U1", now=1.0, expires_at=50.0) is None
    assert store.settle_claim("c|loc", owner="a", now=2.0, expires_at=100.0)
    store.close()
    later = reopen()
    held = later.get_claim("c|loc", now=3.0)
    assert held is not None and held.state == "settled" and held.user_id == "U1"
    assert later.claim("c|loc", owner="b", user_id="U2", now=3.0, expires_at=60.0) == held
    assert later.get_claim("c|loc", now=100.0) is None


def test_threads_racing_for_one_claim_have_exactly_one_winner(reopen: Callable[..., Store]) -> None:
    stores = [reopen() for _ in range(2)]  # two store objects = two connections, as two processes would have
    start = threading.Barrier(12)
    winners: list[int] = []

    def click(i: int) -> None:
        start.wait(timeout=30)
        if stores[i % 2].claim("c|hot", owner=f"o{i}", user_id=f"U{i}", now=1.0, expires_at=99.0) is None:
            winners.append(i)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(winners) == 1
    held = stores[0].get_claim("c|hot", now=2.0)
    assert held is not None and held.owner == f"o{winners[0]}"


def test_processes_racing_for_one_claim_have_exactly_one_winner(where: DatabaseUrl, store: Store) -> None:
    """Real processes, each with its own connection, released together by a barrier: one claim wins."""
    ctx = multiprocessing.get_context("spawn")
    n = 4
    barrier = ctx.Barrier(n)
    results: Any = ctx.Queue()
    procs = [ctx.Process(target=race, args=(where.url, "c|raced", i, barrier, results)) for i in range(n)]
    for p in procs:
        p.start()
    outcomes = []
    try:
        for _ in range(n):
            outcomes.append(results.get(timeout=60))
    except queue.Empty:
        pytest.fail(f"only {len(outcomes)} of {n} processes answered")
    finally:
        for p in procs:
            p.join(timeout=30)
    assert [p.exitcode for p in procs] == [0] * n
    winners = [i for i, won in outcomes if won]
    assert len(winners) == 1
    held = store.get_claim("c|raced", now=1001.0)
    assert held is not None and held.owner == f"p{winners[0]}"


# --- pending requests, watches, held queries -----------------------------------------------------------------------


def test_a_pending_request_is_resolved_exactly_once_and_not_after_it_expired(
    reopen: Callable[..., Store],
) -> None:
    store = reopen()
    asked = store.add_pending(kind="close", requester="U1", now=10.0, expires_at=100.0, data={"path": "/a"})
    late = store.add_pending(kind="close", requester="U2", now=11.0, expires_at=20.0)
    other = store.add_pending(kind="other", requester="U3", now=12.0, expires_at=100.0)
    again = reopen()  # another replica
    assert [r.id for r in again.open_requests(now=15.0, kind="close")] == [asked.id, late.id]
    assert [r.id for r in again.open_requests(now=30.0)] == [asked.id, other.id]
    assert again.resolve_pending(asked.id, state="approved", by="U9", now=30.0)
    assert not store.resolve_pending(asked.id, state="denied", by="U8", now=31.0)  # second answer loses
    got = store.get_pending(asked.id)
    assert (
        got is not None and got.state == "approved" and got.resolved_by == "U9" and got.data == {"path": "/a"}
    )
    assert not store.resolve_pending(late.id, state="approved", by="U9", now=30.0)  # expired
    assert store.purge_expired(now=30.0) >= 1
    expired = store.get_pending(late.id)
    assert expired is not None and expired.state == "expired"
    assert store.get_pending("no-such-id") is None
    with pytest.raises(ValueError):
        store.resolve_pending(other.id, state="pending", by=None, now=30.0)


def test_watches_by_target_expire_and_fire_once(store: Store) -> None:
    a = store.add_watch(user_id="U1", target="/share/a.xlsx", now=1.0, channel_id="C1", data={"note": "ü"})
    b = store.add_watch(user_id="U2", target="/share/a.xlsx", now=2.0, expires_at=10.0)
    store.add_watch(user_id="U3", target="/share/b.docx", now=3.0)
    assert [w.id for w in store.watches(now=5.0, target="/share/a.xlsx")] == [a.id, b.id]
    assert [w.id for w in store.watches(now=11.0, target="/share/a.xlsx")] == [a.id]
    assert store.watches(now=5.0, target="/share/a.xlsx")[0].data == {"note": "ü"}
    assert len(store.watches(now=5.0)) == 3
    assert store.remove_watch(a.id)
    assert not store.remove_watch(a.id)
    store.purge_expired(now=11.0)
    assert [w.user_id for w in store.watches(now=0.0)] == ["U3"]  # b was purged, a removed


def test_held_queries_are_found_by_id_until_they_expire(reopen: Callable[..., Store]) -> None:
    store = reopen()
    held = store.hold_query(
        query="path:/share/*.xlsx", now=1.0, expires_at=60.0, user_id="U1", data={"offset": 50}
    )
    found = reopen().held_query(held.id, now=30.0)
    assert found == held
    assert store.held_query(held.id, now=60.0) is None
    assert store.held_query("forged-id", now=1.0) is None
    assert len(held.id) >= 16  # unguessable: it travels in button values
    store.purge_expired(now=61.0)
    assert store.held_query(held.id, now=2.0) is None
