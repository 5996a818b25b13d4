"""QLOCKS_STATE_DIR / QLOCKS_DATABASE_URL: one clear line per mistake, TLS verified by default, the password never
shown or logged; the audit log's two writes; start-up refuses an unusable store in one line."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.audit import AuditLog, AuditRecord
from bot.config import ConfigError, QlocksConfig
from bot.logs import MASK, Redactor
from bot.store import StoreError, open_store, parse_database_url, sqlite_in
from bot.store.url import secrets_in


def qlocks(**env: str) -> QlocksConfig:
    return QlocksConfig.from_env(env)


def test_the_default_is_a_sqlite_file_in_the_state_dir(tmp_path: Path) -> None:
    assert qlocks().database.shown == "sqlite:///qlocks-state/qlocks.db"
    where = qlocks(QLOCKS_STATE_DIR=str(tmp_path / "s")).database
    assert where.kind == "sqlite" and where.path == str(tmp_path / "s" / "qlocks.db")
    assert (
        qlocks(QLOCKS_DATABASE_URL="sqlite:////var/lib/qlocks/x.db").database.path == "/var/lib/qlocks/x.db"
    )
    assert qlocks(QLOCKS_DATABASE_URL="sqlite:///rel/x.db").database.path == "rel/x.db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"QLOCKS_DATABASE_URL": "qlocks.db"}, "QLOCKS_DATABASE_URL: must be a URL"),
        ({"QLOCKS_DATABASE_URL": "mysql://u:p@h/db"}, "unsupported scheme 'mysql://'"),
        ({"QLOCKS_DATABASE_URL": "sqlite://qlocks.db"}, "three slashes"),
        ({"QLOCKS_DATABASE_URL": "sqlite:///:memory:"}, "would lose every audit record"),
        ({"QLOCKS_DATABASE_URL": "sqlite:///dir/"}, "must name a file"),
        ({"QLOCKS_DATABASE_URL": "sqlite:///x.db?mode=ro"}, "takes no options"),
        ({"QLOCKS_DATABASE_URL": "postgresql://u:hunter22@db:port/q"}, "not a valid PostgreSQL URL"),
        ({"QLOCKS_DATABASE_URL": "postgresql://u@db/q?sslmode=maybe"}, "sslmode must be one of"),
        ({"QLOCKS_DATABASE_URL": "postgresql://u@db/q?password=hunter22"}, "user:password@ part"),
        ({"QLOCKS_DATABASE_URL": "postgresql://u@db/a/b"}, "has a '/' in it"),
        ({"QLOCKS_DATABASE_URL": "postgresql://u@db/q", "QLOCKS_STATE_DIR": "/tmp"}, "set only one"),
    ],
)
def test_bad_settings_are_one_line_naming_the_setting_without_the_password(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        QlocksConfig.from_env(env)
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert text.startswith(("QLOCKS_DATABASE_URL", "QLOCKS_STATE_DIR"))
    assert "hunter22" not in text


def test_a_state_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match=r"QLOCKS_STATE_DIR: .* is a file, not a directory"):
        qlocks(QLOCKS_STATE_DIR=str(tmp_path / "f"))


def test_tls_is_verified_by_default_for_a_server_elsewhere() -> None:
    remote = parse_database_url("postgres://qlocks:s3cret-pw@db.example.com:5432/qlocks")
    assert remote.kind == "postgresql"
    assert "sslmode=verify-full" in remote.url and "sslrootcert=system" in remote.url
    assert remote.password == "s3cret-pw" and "s3cret-pw" not in remote.shown and MASK in remote.shown
    assert "s3cret-pw" not in repr(remote) and "s3cret-pw" not in repr(qlocks(QLOCKS_DATABASE_URL=remote.url))
    chosen = parse_database_url("postgresql://q@db.example.com/q?sslmode=require")
    assert "sslmode=require" in chosen.url and "sslrootcert" not in chosen.url
    for local in ("postgresql://q@127.0.0.1/q", "postgresql://q@localhost/q", "postgresql:///q?host=/run/pg"):
        assert "sslmode" not in parse_database_url(local).url, local


@given(
    password=st.text(
        alphabet=st.characters(codec="ascii", exclude_characters="\x00"), min_size=1, max_size=20
    )
)
def test_the_url_password_is_masked_in_logs_whatever_it_is(password: str) -> None:
    from urllib.parse import quote

    url = f"postgresql://qlocks:{quote(password, safe='')}@db.example.com:5432/qlocks"
    r = Redactor()
    r.add(secrets_in(url))
    out = r.redact(f"cannot connect to {url}: connection refused")
    assert f":{quote(password, safe='')}@" not in out and MASK in out
    if len(password) >= 6:
        assert password not in r.redact(f"server said: password {password} rejected")


def test_logging_configure_registers_the_database_password(caplog: pytest.LogCaptureFixture) -> None:
    from bot.logs import REDACTOR, configure

    configure(logging.INFO, {"QLOCKS_DATABASE_URL": "postgresql://qlocks:Pa55-w0rd-x@db/qlocks"})
    assert "Pa55-w0rd-x" not in REDACTOR.redact("libpq: authentication failed for Pa55-w0rd-x")


def _record(**kw: Any) -> AuditRecord:
    fields: dict[str, Any] = dict(
        at=1_750_000_000.5, result="closed", user_id="U0ADMIN01", user_name="ada", channel_id="C1",
        file="/a", location="loc-1", holder="dana", client="10.0.0.1",
    )  # fmt: skip
    fields.update(kw)
    return AuditRecord(**fields)


def test_the_audit_log_commits_to_the_store_and_exports_the_same_record(tmp_path: Path) -> None:
    with open_store(sqlite_in(str(tmp_path / "state"))) as store:
        log = AuditLog(tmp_path / "audit.jsonl", store)
        log.append(_record())
        log.append(_record(result="denied"))
        stored = store.audit_records()
    assert [r["result"] for r in stored] == ["closed", "denied"]
    assert log.read() == stored  # the JSONL lines carry the store's ids


def test_a_failing_store_still_exports_the_record_and_raises(tmp_path: Path) -> None:
    store = open_store(sqlite_in(str(tmp_path / "state")))
    store.close()
    log = AuditLog(tmp_path / "audit.jsonl", store)
    with pytest.raises(StoreError):
        log.append(_record())
    assert [r["location"] for r in log.read()] == ["loc-1"]  # not lost: the export has it


def test_a_failing_export_still_commits_the_record_and_raises(tmp_path: Path) -> None:
    with open_store(sqlite_in(str(tmp_path / "state"))) as store:
        log = AuditLog(tmp_path / "no-such-dir" / "audit.jsonl", store)
        with pytest.raises(OSError):
            log.append(_record())
        assert [r["location"] for r in store.audit_records()] == ["loc-1"]


def test_start_up_refuses_an_unreachable_database_in_one_line(sim_ro: Any, tmp_path: Path) -> None:
    from bot.compose import bot_from_env

    with socket.socket() as s:  # bound, never listening: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        env = {
            "QUMULO_HOST": f"http://127.0.0.1:{sim_ro.port}",
            "QUMULO_ACCESS_TOKEN": sim_ro.admin_token,
            "SLACK_BOT_TOKEN": "xoxb-0000000001-0000000002-qlockstest",
            "SLACK_SIGNING_SECRET": "test-signing-secret",
            "QLOCKS_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
            "QLOCKS_DATABASE_URL": f"postgresql://qlocks:hunter2-secret@127.0.0.1:{port}/qlocks",
        }
        with pytest.raises(ConfigError) as caught:
            bot_from_env(env)
    text = str(caught.value)
    assert text.startswith("QLOCKS_DATABASE_URL: the state store cannot be used: cannot connect to ")
    assert "hunter2-secret" not in text and "\n" not in text


def test_start_up_refuses_a_state_dir_it_cannot_create(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="its parent folder does not exist"):
        open_store(sqlite_in(str(tmp_path / "no" / "such")))
    assert not (tmp_path / "no").exists()
