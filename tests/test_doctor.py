"""`qlocks doctor` against the simulator, through cli.main."""

from __future__ import annotations

from typing import Any

import pytest

from bot import cli


def _env(monkeypatch: pytest.MonkeyPatch, sim: Any, token: str) -> None:
    monkeypatch.setenv("QUMULO_HOST", f"http://{sim.host}")
    monkeypatch.setenv("QUMULO_PORT", str(sim.port))
    monkeypatch.setenv("QUMULO_ACCESS_TOKEN", token)
    monkeypatch.chdir("/")  # no stray .env


def test_doctor_all_good(
    sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch, sim, sim.admin_token)
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "cluster reachable" in out and "All checks passed." in out
    assert sim.admin_token not in out


def test_doctor_names_every_missing_privilege(
    sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = sim.mint_token("helpdesk", ["PRIVILEGE_SMB_FILE_HANDLE_READ", "PRIVILEGE_FS_LOCK_READ"])
    _env(monkeypatch, sim, token)
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    for missing in (
        "PRIVILEGE_SMB_FILE_HANDLE_WRITE",
        "PRIVILEGE_SMB_SESSION_READ",
        "PRIVILEGE_IDENTITY_READ",
    ):
        assert f"{missing} is missing" in out
    assert "PRIVILEGE_FS_LOCK_READ is missing" not in out


def test_doctor_cluster_down(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], refused_port: int
) -> None:
    monkeypatch.setenv("QUMULO_HOST", "http://127.0.0.1")
    monkeypatch.setenv("QUMULO_PORT", str(refused_port))
    monkeypatch.setenv("QUMULO_ACCESS_TOKEN", "x")
    monkeypatch.setenv("QUMULO_TIMEOUT_S", "1")
    monkeypatch.chdir("/")
    assert cli.main(["doctor"]) == 1
    assert "Cannot reach the cluster" in capsys.readouterr().out


def test_doctor_config_error_names_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir("/")
    assert cli.main(["doctor"]) == 1
    assert "QUMULO_HOST" in capsys.readouterr().out


def test_no_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "search" in capsys.readouterr().out
