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


# -- probes, not just the privilege list (#12 item 2) ---------------------------------------------------------


def _fails(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("[FAIL]")]


def test_doctor_probes_every_endpoint_qlocks_reads_once_with_limit_1(
    sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch, sim, sim.admin_token)
    sim.state.reset_request_log()
    assert cli.main(["doctor"]) == 0
    seen = sim.state.request_log
    for method, path in (
        ("GET", "/v1/smb/files/"),
        ("GET", "/v1/files/locks/smb/share-mode/"),
        ("GET", "/v1/smb/sessions/"),
    ):
        (hit,) = [p for m, p in seen if m == method and p.startswith(path + "?")]
        assert "limit=1" in hit
    assert ("GET", "/v1/files/%2F/info/attributes") in seen
    assert any(p == "/v1/identity/find" for _, p in seen)
    assert any(p.startswith("/v3/smb/shares/") for _, p in seen)
    assert not any("close" in p for _, p in seen)  # closing is never probed
    assert _fails(capsys.readouterr().out) == []


def test_doctor_reports_every_refused_probe_at_once_naming_the_privilege(
    sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = sim.mint_token("helpdesk", ["PRIVILEGE_SMB_FILE_HANDLE_READ", "PRIVILEGE_FS_LOCK_READ"])
    _env(monkeypatch, sim, token)
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    fails = _fails(out)
    for missing in (
        "PRIVILEGE_SMB_SESSION_READ",
        "PRIVILEGE_FS_ATTRIBUTES_READ",
        "PRIVILEGE_IDENTITY_READ",
        "PRIVILEGE_SMB_SHARE_READ",
        "PRIVILEGE_SMB_FILE_HANDLE_WRITE",
    ):
        assert [f for f in fails if f.startswith(f"[FAIL] {missing} is missing")], (missing, out)
    assert len(fails) == 5
    assert "PRIVILEGE_DNS_USE is missing (optional)" in out  # a warning, not a failure
    assert "[ok  ] PRIVILEGE_FS_LOCK_READ" in out and "[ok  ] PRIVILEGE_SMB_FILE_HANDLE_READ" in out
    assert "5 check(s) failed" in out


@pytest.mark.parametrize("by_acl", [False, True], ids=["privilege-needed", "acl-allows"])
def test_doctor_trusts_the_attributes_probe_over_the_privilege_list(
    sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], by_acl: bool
) -> None:
    """Attributes can be readable through the files' ACLs without PRIVILEGE_FS_ATTRIBUTES_READ: the probe says."""
    from bot.qumulo.models import OPTIONAL_PRIVILEGES, REQUIRED_PRIVILEGES

    sim.state.attributes_by_file_access = by_acl
    privileges = [
        p for p in [*REQUIRED_PRIVILEGES, *OPTIONAL_PRIVILEGES] if p != "PRIVILEGE_FS_ATTRIBUTES_READ"
    ]
    _env(monkeypatch, sim, sim.mint_token("svc", privileges))
    assert cli.main(["doctor"]) == (0 if by_acl else 1)
    out = capsys.readouterr().out
    if by_acl:
        assert "[ok  ] PRIVILEGE_FS_ATTRIBUTES_READ: read the attributes of / (allowed, though not in" in out
        assert _fails(out) == []
    else:
        assert _fails(out) == [
            "[FAIL] PRIVILEGE_FS_ATTRIBUTES_READ is missing: refused to read the attributes of /; needed to look up "
            "a full path or \\\\cluster\\share path (exact-path searches)"
        ]


def test_doctor_checks_slack_and_the_audit_log_when_the_cluster_is_down(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], refused_port: int, tmp_path: Any
) -> None:
    from qlocks_tools.fakeslack import FakeSlack

    from tests.slack.conftest import BOT_TOKEN, SECRET

    monkeypatch.setenv("QUMULO_HOST", "http://127.0.0.1")
    monkeypatch.setenv("QUMULO_PORT", str(refused_port))
    monkeypatch.setenv("QUMULO_ACCESS_TOKEN", "x")
    monkeypatch.setenv("QUMULO_TIMEOUT_S", "1")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("QLOCKS_AUDIT_LOG", str(tmp_path / "no-such-dir" / "audit.jsonl"))
    monkeypatch.chdir(tmp_path)
    with FakeSlack(bot_token=BOT_TOKEN) as fake:
        monkeypatch.setenv("SLACK_API_URL", fake.api_url)
        assert cli.main(["doctor"]) == 1
        assert [c.method for c in fake.calls] == ["auth.test"]
    out = capsys.readouterr().out
    fails = _fails(out)
    assert len(fails) == 2, out
    assert fails[0].startswith("[FAIL] cluster: Cannot reach the cluster")
    assert "audit log" in fails[1] and "does not exist" in fails[1]
    assert "[ok  ] Slack: bot " in out


def test_doctor_checks_slack_when_the_qumulo_settings_are_wrong(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from qlocks_tools.fakeslack import FakeSlack

    from tests.slack.conftest import BOT_TOKEN, SECRET

    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN + "-revoked")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("QLOCKS_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.chdir(tmp_path)
    with FakeSlack(bot_token=BOT_TOKEN) as fake:
        monkeypatch.setenv("SLACK_API_URL", fake.api_url)
        assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    qumulo, slack = _fails(out)
    assert qumulo.startswith("[FAIL] Qumulo settings: QUMULO_HOST is not set")
    assert slack == f"[FAIL] Slack: {fake.api_url} refused SLACK_BOT_TOKEN (invalid_auth)"
    assert "does not exist yet; `qlocks run` will create it" in out
    assert not (tmp_path / "audit.jsonl").exists()  # checked, not created


@pytest.mark.parametrize("kind", ["directory", "missing-folder", "read-only-file"])
def test_doctor_reports_an_audit_log_it_cannot_append_to(
    sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any, kind: str
) -> None:
    import os

    if kind == "directory":
        path = tmp_path
    elif kind == "missing-folder":
        path = tmp_path / "gone" / "audit.jsonl"
    else:
        if os.geteuid() == 0:
            pytest.skip("root can append to a read-only file")
        path = tmp_path / "audit.jsonl"
        path.write_text("")
        path.chmod(0o444)
    _env(monkeypatch, sim, sim.admin_token)
    monkeypatch.setenv("QLOCKS_AUDIT_LOG", str(path))
    assert cli.main(["doctor"]) == 1
    (fail,) = _fails(capsys.readouterr().out)
    assert f"audit log {str(path)!r} (QLOCKS_AUDIT_LOG)" in fail


def test_doctor_says_an_existing_audit_log_is_writable(
    sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"old": 1}\n')
    _env(monkeypatch, sim, sim.admin_token)
    monkeypatch.setenv("QLOCKS_AUDIT_LOG", str(path))
    assert cli.main(["doctor"]) == 0
    assert f"[ok  ] audit log {str(path)!r} (QLOCKS_AUDIT_LOG) is writable" in capsys.readouterr().out
    assert path.read_text() == '{"old": 1}\n'
