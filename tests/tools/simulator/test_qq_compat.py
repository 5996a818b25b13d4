"""Wire compatibility: Qumulo's official Python SDK and the ``qq`` CLI (PyPI ``qumulo-api``) against the simulator.

The SDK speaks only HTTPS and never verifies certificates, so the simulator runs with ``tls=True``.
"""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from qlocks_tools.simulator import Simulator, start_simulator

qumulo_rest_client = pytest.importorskip("qumulo.rest_client")
qumulo_request = pytest.importorskip("qumulo.lib.request")

QQ_BIN = Path(sys.executable).with_name("qq")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with start_simulator(port=0, handles=40, seed=5, tls=True) as s:
        yield s


@pytest.fixture
def rc(sim: Simulator) -> Any:
    client = qumulo_rest_client.RestClient(sim.host, sim.port, timeout=10)
    client.login("admin", "Admin123")
    return client


def _locations(handles: list[dict[str, Any]]) -> list[str]:
    return [h["handle_info"]["location"] for h in handles]


# -- the Python SDK ---------------------------------------------------------------------------------
def test_sdk_login_who_am_i_and_identity(rc: Any) -> None:
    me = rc.auth.who_am_i()
    assert me["name"] == "admin" and "PRIVILEGE_SMB_FILE_HANDLE_WRITE" in me["privileges"]
    assert rc.auth.find_identity(auth_id="500")["name"] == "admin"


def test_sdk_lists_all_handle_pages_and_closes_one(sim: Simulator, rc: Any) -> None:
    sim.state.reset_request_log()
    pages = list(rc.smb.list_file_handles(resolve_paths=True, limit=6))
    handles = [h for page in pages for h in page["file_handles"]]
    assert _locations(handles) == _locations(sim.state.handles_snapshot())
    assert all(h["handle_info"]["path"].startswith("/") for h in handles)
    assert len(pages) == math.ceil(40 / 6)
    first = sim.state.request_log[0][1]
    assert first.startswith("/v1/smb/files/?") and "resolve_paths=True" in first and "limit=6" in first

    target = handles[3]["handle_info"]["location"]
    result = rc.smb.close_smb_file(location=target)
    assert result == [{"error_message": ""}]
    assert target not in _locations(sim.state.handles_snapshot())
    assert rc.smb.close_smb_file(location=target)[0]["error_message"]


def test_sdk_sessions_locks_dns_shares(sim: Simulator, rc: Any) -> None:
    sessions = [s for page in rc.smb.list_smb_sessions(limit=4) for s in page["session_infos"]]
    assert len(sessions) == len(sim.state.sessions_snapshot())
    dana = [s for page in rc.smb.list_smb_sessions(identity="dana") for s in page["session_infos"]]
    assert dana and {s["user"]["name"] for s in dana} == {"dana"}
    from qumulo.rest import fs

    # (called like qq does: RestClient's wrapper cannot iterate this function's list result)
    grants = fs.list_all_locks_by_file(
        rc.conninfo,
        rc.credentials,
        "smb",
        "share-mode",
        file_path="/finance/2026/Q3/Q3 forecast.xlsx",
        limit=1,
    )
    assert len(grants) == 3 and {g["file_id"] for g in grants} == {
        sim.state.file_number_of("/finance/2026/Q3/Q3 forecast.xlsx")
    }
    ips = list({s["originator"] for s in sessions})[:3]
    assert {r["ip_address"] for r in rc.dns.resolve_ips_to_names(ips)} == set(ips)
    assert any(e["fs_path"] == "/finance" for e in rc.smb.smb_list_shares()["entries"])


def test_sdk_sees_qumulo_style_errors(sim: Simulator) -> None:
    anon = qumulo_rest_client.RestClient(sim.host, sim.port, timeout=10)
    with pytest.raises(qumulo_request.RequestError) as bad_login:
        anon.login("admin", "wrong")
    assert bad_login.value.status_code == 401 and bad_login.value.error_class == "http_unauthorized_error"
    creds = qumulo_rest_client.Credentials(sim.mint_token("viewer", ["SMB_FILE_HANDLE_READ"]))
    viewer = qumulo_rest_client.RestClient(sim.host, sim.port, creds, timeout=10)
    with pytest.raises(qumulo_request.RequestError) as forbidden:
        viewer.smb.close_smb_file(location="1.2.3")
    assert forbidden.value.status_code == 403 and forbidden.value.error_class == "http_forbidden_error"
    assert "PRIVILEGE_SMB_FILE_HANDLE_WRITE" in forbidden.value.description


# -- the qq CLI ---------------------------------------------------------------------------------------
class QQ:
    def __init__(self, sim: Simulator, home: Path) -> None:
        self.sim = sim
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "QUMULO_"))}
        self.env["HOME"] = str(home)

    def __call__(
        self, *args: str, stdin: str | None = None, ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        cmd = [str(QQ_BIN), "--host", "127.0.0.1", "--port", str(self.sim.port), *args]
        proc = subprocess.run(
            cmd, env=self.env, input=stdin, capture_output=True, text=True, timeout=60, check=False
        )
        if ok:
            assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc

    def many(self, *commands: tuple[str, ...], ok: bool = True) -> list[subprocess.CompletedProcess[str]]:
        """Independent qq commands, run side by side (each qq start-up costs about half a second)."""
        with ThreadPoolExecutor(len(commands)) as pool:
            return list(pool.map(lambda args: self(*args, ok=ok), commands))


@pytest.fixture
def qq(sim: Simulator, tmp_path: Path) -> QQ:
    if not QQ_BIN.exists():
        pytest.skip("qq (qumulo-api) is not installed in this environment")
    return QQ(sim, tmp_path)


def test_qq_login_list_close_and_locks(sim: Simulator, qq: QQ, tmp_path: Path) -> None:
    qq("login", "-u", "admin", "-p", "Admin123")
    creds = tmp_path / ".config" / "qumulo" / "credentials" / f"127.0.0.1_{sim.port}"
    stored = json.loads(creds.read_text())
    assert stored["bearer_token"].startswith("session-v1:") and stored["version"] == 1
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600

    sim.state.reset_request_log()
    listed = json.loads(qq("smb_list_file_handles", "--page-size", "7", "-p").stdout)["file_handles"]
    assert _locations(listed) == _locations(sim.state.handles_snapshot())
    assert all(h["handle_info"]["path"] for h in listed)
    assert len(sim.state.request_log) == math.ceil(40 / 7)

    target = listed[0]["handle_info"]["location"]
    qq("smb_close_file_handle", "--location", target, stdin="yes\n")
    assert target not in _locations(sim.state.handles_snapshot())

    raw, table = qq.many(
        ("fs_list_locks", "--protocol", "smb", "--lock-type", "share-mode", "--json", "--no-resolve"),
        ("fs_list_locks", "--protocol", "smb", "--lock-type", "share-mode", "--sort", "file"),
    )
    assert json.loads(raw.stdout) == sim.state.grants_snapshot()
    # without --no-resolve qq also calls /v1/files/resolve (paths) and /v1/dns/resolve-ips-to-names
    assert "/finance/2026/Q3/Q3 forecast.xlsx" in table.stdout and ".corp.example.com" in table.stdout


def test_qq_with_an_access_token_sessions_path_lookup_and_who_am_i(
    sim: Simulator, qq: QQ, tmp_path: Path
) -> None:
    store = tmp_path / "token.json"  # an access token needs no login: a hand-written credentials file works
    store.write_text(json.dumps({"bearer_token": sim.admin_token, "version": 1}))
    flag = ("--credentials-store", str(store))
    sessions, by_path, who = qq.many(
        (*flag, "smb_list_sessions", "--page-size", "3"),
        (*flag, "smb_list_file_handles", "--path", "/finance/2026/Q3/Q3 forecast.xlsx"),
        (*flag, "who_am_i"),  # also calls /v1/session/roles and /v1/identity/expand
    )
    listed = json.loads(sessions.stdout)["session_infos"]
    assert {s["location"] for s in listed} == {s["location"] for s in sim.state.sessions_snapshot()}
    assert len(json.loads(by_path.stdout)["file_handles"]) == 3  # attributes by path, then file_number=
    assert '"name": "admin"' in who.stdout


def test_qq_reports_errors_like_a_real_cluster(sim: Simulator, qq: QQ, tmp_path: Path) -> None:
    store = tmp_path / "viewer.json"
    token = sim.mint_token("viewer", ["SMB_FILE_HANDLE_READ"])
    store.write_text(json.dumps({"bearer_token": token, "version": 1}))
    denied, viewer = qq.many(
        ("login", "-u", "admin", "-p", "nope"),
        ("--credentials-store", str(store), "smb_list_sessions"),
        ok=False,
    )
    assert denied.returncode == 1 and "Error 401: http_unauthorized_error" in denied.stdout + denied.stderr
    out = viewer.stdout + viewer.stderr
    assert viewer.returncode == 1 and "Error 403: http_forbidden_error" in out
    assert "PRIVILEGE_SMB_SESSION_READ" in out
