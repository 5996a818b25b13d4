"""``qlocks doctor`` checks the state store read-only: on SQLite and PostgreSQL, empty, current, newer, unreachable."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from bot.doctor import run_doctor
from bot.store import MIGRATIONS, Migration, open_store, parse_database_url


def _doctor(sim: Any, **settings: str) -> tuple[int, list[str]]:
    env = {"QUMULO_HOST": f"http://127.0.0.1:{sim.port}", "QUMULO_ACCESS_TOKEN": sim.admin_token, **settings}
    out = io.StringIO()
    code = run_doctor(env, out=out)
    return code, [line for line in out.getvalue().splitlines() if "state store" in line]


def test_a_new_state_dir_is_reported_and_not_created(sim_ro: Any, tmp_path: Path) -> None:
    code, (line,) = _doctor(
        sim_ro, QLOCKS_STATE_DIR=str(tmp_path / "state"), QLOCKS_AUDIT_LOG=str(tmp_path / "a")
    )
    assert code == 0
    assert line.startswith("[ok  ] state store (QLOCKS_STATE_DIR): sqlite:///") and "will create it" in line
    assert not (tmp_path / "state").exists()


def test_a_state_dir_whose_parent_is_missing_fails(sim_ro: Any, tmp_path: Path) -> None:
    code, (line,) = _doctor(
        sim_ro, QLOCKS_STATE_DIR=str(tmp_path / "a" / "b"), QLOCKS_AUDIT_LOG=str(tmp_path / "x")
    )
    assert code == 1 and line.startswith("[FAIL] state store (QLOCKS_STATE_DIR)") and "does not exist" in line


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_current_database_and_a_newer_one(
    sim_ro: Any, tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    url = f"sqlite:///{tmp_path}/s/q.db" if kind == "sqlite" else request.getfixturevalue("pg_url")
    audit = str(tmp_path / "a.jsonl")
    code, (line,) = _doctor(sim_ro, QLOCKS_DATABASE_URL=url, QLOCKS_AUDIT_LOG=audit)
    assert code == 0 and ("does not exist yet" in line if kind == "sqlite" else "empty" in line), line
    open_store(parse_database_url(url)).close()
    code, (line,) = _doctor(sim_ro, QLOCKS_DATABASE_URL=url, QLOCKS_AUDIT_LOG=audit)
    assert code == 0 and line.endswith(f"schema version {MIGRATIONS[-1].version} (current)"), line
    newer = (*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "from the future", ()))
    open_store(parse_database_url(url), migrations=newer).close()
    code, (line,) = _doctor(sim_ro, QLOCKS_DATABASE_URL=url, QLOCKS_AUDIT_LOG=audit)
    assert code == 1 and "newer than this qlocks" in line, line


def test_an_unreachable_postgresql_fails_without_showing_the_password(
    sim_ro: Any, tmp_path: Path, refused_port: int
) -> None:
    url = f"postgresql://qlocks:doctor-secret@127.0.0.1:{refused_port}/qlocks"
    code, (line,) = _doctor(sim_ro, QLOCKS_DATABASE_URL=url, QLOCKS_AUDIT_LOG=str(tmp_path / "a"))
    assert code == 1 and line.startswith("[FAIL] state store (QLOCKS_DATABASE_URL): cannot connect to ")
    assert "doctor-secret" not in line and "[redacted]" in line
