from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from bot.audit import AuditLog, AuditRecord


def record(**kw: object) -> AuditRecord:
    fields: dict[str, object] = {
        "at": 1_750_000_000.25,
        "result": "closed",
        "user_id": "U0ADMIN01",
        "user_name": "ada",
        "channel_id": "C0OPS0001",
        "file": "/projects/q3/forecast.xlsx",
        "location": "loc-1",
        "holder": "dana",
        "client": "10.1.2.3 (laptop-42)",
        "message": "closed",
        "searcher_id": "U0SEARCH1",
    }
    fields.update(kw)
    return AuditRecord(**fields)  # type: ignore[arg-type]


def test_append_writes_one_json_line_per_record(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append(record())
    log.append(record(result="denied", user_id="U0OTHER01", message="Not authorized"))
    lines = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["result"] == "closed" and first["user_id"] == "U0ADMIN01" and first["user_name"] == "ada"
    assert first["channel_id"] == "C0OPS0001" and first["file"] == "/projects/q3/forecast.xlsx"
    assert (
        first["location"] == "loc-1"
        and first["holder"] == "dana"
        and first["client"] == "10.1.2.3 (laptop-42)"
    )
    assert first["time"] == "2025-06-15T15:06:40.250Z" and first["event"] == "close_handle"
    assert second["result"] == "denied"
    assert log.read() == [first, second]


def test_unknown_result_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        AuditLog(tmp_path / "a.jsonl").append(record(result="maybe"))


def test_unwritable_log_raises_oserror(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "missing-dir" / "audit.jsonl")
    with pytest.raises(OSError):
        log.append(record())
    with pytest.raises(OSError):
        log.check_writable()
    ok = AuditLog(tmp_path / "ok.jsonl")
    ok.check_writable()
    assert (tmp_path / "ok.jsonl").exists()
    assert os.stat(tmp_path / "ok.jsonl").st_mode & 0o007 == 0  # not world-readable


def test_concurrent_appends_never_interleave(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    big = "x" * 20_000

    def write(i: int) -> None:
        for j in range(10):
            log.append(record(location=f"loc-{i}-{j}", message=big))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = log.read()
    assert len(records) == 80 and len({r["location"] for r in records}) == 80
