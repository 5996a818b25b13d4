"""Clicks against the state store: the audit record is committed before Slack hears, claims are shared by every bot
on one database, and a restarted bot still knows what was closed. On SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.store import DatabaseUrl, open_store, parse_database_url
from tests.slack.conftest import ADMIN, Harness

PATH = "/Finance/2026/budget-q3.xlsx"
OTHER_ADMIN = "U0ADMIN02"


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseUrl:
    if request.param == "sqlite":
        return parse_database_url(f"sqlite:///{tmp_path}/shared/qlocks.db")
    return parse_database_url(request.getfixturevalue("pg_url"))


def _bot(make_harness: Callable[..., Harness], where: DatabaseUrl) -> Harness:
    return make_harness(admins=(ADMIN, OTHER_ADMIN), store=open_store(where))


def _closed_records(h: Harness) -> list[dict[str, Any]]:
    return [r for r in h.store.audit_records() if r["result"] == "closed"]


def test_the_audit_record_is_committed_before_anything_is_posted(
    make_harness: Callable[..., Harness], where: DatabaseUrl
) -> None:
    h = _bot(make_harness, where)
    location = str(h.sim.state.add_handle(PATH, user="dana", client_ip="10.9.8.7", write=True))
    message = h.search("budget-q3.xlsx")
    seen: list[tuple[str, list[str]]] = []

    def on_call(call: Any) -> None:
        if (call.key and call.key.startswith("click")) or call.method == "chat.postMessage":
            with open_store(where) as reader:  # another connection: only committed rows are visible
                seen.append((call.method, [r["result"] for r in reader.audit_records()]))

    h.fake.on_call = on_call
    resp, _ = h.click(message, user=ADMIN, block_id=h.row_of(message, location))
    assert resp.status == 200
    assert location not in h.open_locations()
    assert seen and all(results == ["closed"] for _, results in seen), seen
    record = _closed_records(h)[0]
    assert record["location"] == location and record["user_id"] == ADMIN and record["file"] == PATH
    assert [r["id"] for r in h.audit.read()] == [record["id"]]  # the JSONL export has the same record


def test_two_bots_on_one_database_close_a_handle_once(
    make_harness: Callable[..., Harness], where: DatabaseUrl
) -> None:
    first, second = _bot(make_harness, where), _bot(make_harness, where)
    location = str(first.sim.state.add_handle(PATH, user="dana", client_ip="10.9.8.7", write=True))
    message = first.search("budget-q3.xlsx")
    block_id = first.row_of(message, location)
    first.click(message, user=ADMIN, block_id=block_id)
    assert location not in first.open_locations()
    _, name = second.click(message, user=OTHER_ADMIN, block_id=block_id)
    told = " ".join(p.get("text", "") for p in second.posted(name))
    assert ADMIN in told, told  # "already closed by <@ADMIN>": the first bot's settled claim, from the store
    # "duplicate", not "gone": the second bot was stopped by the shared claim before it asked the cluster
    assert [r["result"] for r in second.store.audit_records()] == ["closed", "duplicate"]


def test_a_restarted_bot_remembers_the_close_and_the_records(
    make_harness: Callable[..., Harness], where: DatabaseUrl
) -> None:
    before = _bot(make_harness, where)
    location = str(before.sim.state.add_handle(PATH, user="dana", client_ip="10.9.8.7", write=True))
    message = before.search("budget-q3.xlsx")
    before.click(message, user=ADMIN, block_id=before.row_of(message, location))
    before.store.close()  # the process is gone

    after = _bot(make_harness, where)
    assert [r["location"] for r in _closed_records(after)] == [location]
    _, name = after.click(message, user=OTHER_ADMIN, block_id=after.row_of(message, location))
    told = " ".join(p.get("text", "") for p in after.posted(name))
    assert ADMIN in told, told
    assert [r["result"] for r in after.store.audit_records()] == ["closed", "duplicate"]
