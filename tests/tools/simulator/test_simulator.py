"""The Qumulo simulator, tested through the network only (real loopback server, real HTTP requests)."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qlocks_tools.simulator import Simulator, start_simulator

from tests.tools.simulator.sim_helpers import Api, flat, locations, ref


@pytest.fixture(scope="module")
def ro() -> Iterator[Simulator]:
    """Read-only simulator shared by this module (never mutated)."""
    with start_simulator(port=0, handles=300, seed=1) as s:
        yield s


@pytest.fixture(scope="module")
def api(ro: Simulator) -> Iterator[Api]:
    a = Api(ro)
    yield a
    a.close()


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with start_simulator(port=0, handles=120, seed=4) as s:
        yield s


@pytest.fixture
def rw(sim: Simulator) -> Iterator[Api]:
    a = Api(sim)
    yield a
    a.close()


# -- paging ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("first", "key", "expected"),
    [
        ("/v1/smb/files/?resolve_paths=True&limit=7", "file_handles", lambda s: s.state.handle_count),
        ("/v1/files/locks/smb/share-mode/?limit=9", "grants", lambda s: s.state.handle_count),
        ("/v1/smb/sessions/?limit=4", "session_infos", lambda s: len(s.state.sessions_snapshot())),
        (
            "/v1/files/locks/smb/byte-range/?limit=2",
            "grants",
            lambda s: sum(len(h.byte_ranges) for h in s.state.handles.values()),
        ),
    ],
)
def test_every_item_exactly_once_and_limit_respected(
    ro: Simulator, api: Api, first: str, key: str, expected: Any
) -> None:
    limit = int(first.rsplit("=", 1)[1])
    pages = api.pages(first, key)
    items = flat(pages)
    total = expected(ro)
    assert total > limit * 3
    assert len(items) == total
    assert len({json.dumps(i, sort_keys=True) for i in items}) == total, "duplicates across pages"
    assert all(len(p) == limit for p in pages[:-1]) and 0 < len(pages[-1]) <= limit
    assert len(pages) == math.ceil(total / limit), "next is null right after the last item"


def test_handles_pages_match_state_and_resolve_paths(ro: Simulator, api: Api) -> None:
    snapshot = ro.state.handles_snapshot()
    listed = flat(api.pages("/v1/smb/files/?resolve_paths=True&limit=50", "file_handles"))
    assert listed == snapshot
    assert all(h["handle_info"]["path"].startswith("/") for h in listed)
    for value in ("true", "1"):
        page = api.ok("GET", f"/v1/smb/files/?resolve_paths={value}&limit=3")["file_handles"]
        assert all(h["handle_info"]["path"] for h in page)
    plain = api.ok("GET", "/v1/smb/files/?resolve_paths=False&limit=3")["file_handles"]
    assert [h["handle_info"].get("path") for h in plain] == ["", "", ""]
    # filters ride along in the cursor: page 2 of a resolve_paths listing still has paths
    nxt = api.ok("GET", "/v1/smb/files/?resolve_paths=True&limit=3")["paging"]["next"]
    assert all(h["handle_info"]["path"] for h in api.ok("GET", nxt)["file_handles"])
    assert api.get("/v1/smb/files/?resolve_paths=maybe").status_code == 400


def test_field_types_are_strings_where_qumulo_uses_strings(api: Api) -> None:
    h = api.ok("GET", "/v1/smb/files/?limit=1")["file_handles"][0]
    assert isinstance(h["file_number"], str) and isinstance(h["handle_info"]["owner"], str)
    g = api.ok("GET", "/v1/files/locks/smb/byte-range/?limit=1")["grants"][0]
    assert all(isinstance(g[k], str) for k in ("file_id", "offset", "size", "owner_id"))
    s = api.ok("GET", "/v1/smb/sessions/?limit=1")["session_infos"][0]
    assert s["time_open"]["nanoseconds"].isdigit() and s["time_idle"]["nanoseconds"].isdigit()
    assert int(s["time_idle"]["nanoseconds"]) <= int(s["time_open"]["nanoseconds"])
    assert isinstance(s["user"]["auth_id"], str)
    assert isinstance(api.ok("GET", "/v1/session/who-am-i")["uid"], str)


def test_server_page_size_caps_pages(sim: Simulator, rw: Api) -> None:
    sim.state.page_size = 5
    pages = rw.pages("/v1/smb/files/?limit=1000", "file_handles")
    assert {len(p) for p in pages[:-1]} == {5}
    assert len(flat(pages)) == sim.state.handle_count
    assert pages and rw.ok("GET", "/v1/smb/files/?limit=1000")["paging"]["next"].endswith("&limit=1000")


def test_bad_cursors_and_limits_are_400(api: Api) -> None:
    sessions_next = api.ok("GET", "/v1/smb/sessions/?limit=1")["paging"]["next"]
    after = sessions_next.split("after=")[1].split("&")[0]
    for path in (
        f"/v1/smb/files/?after={after}",
        "/v1/smb/files/?after=garbage!",
        "/v1/smb/files/?limit=0",
        "/v1/smb/files/?limit=-1",
        "/v1/smb/files/?limit=x",
        "/v1/smb/files/?file_number=abc",
    ):
        resp = api.get(path)
        assert resp.status_code == 400, path
        assert resp.json()["error_class"] == "invalid_request_error"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(after=st.text(max_size=80))
def test_arbitrary_after_values_never_crash_the_server(api: Api, after: str) -> None:
    resp = api.http.get(
        api.base + "/v1/files/locks/smb/share-mode/",
        params={"after": after, "limit": "5"},
        headers={"Authorization": f"Bearer {api.token}"},
        timeout=5,
    )
    assert resp.status_code in (200, 400)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    listing=st.sampled_from(["files", "sessions", "share-mode", "byte-range"]),
    key=json_values,
    params=json_values,
)
def test_forged_cursors_are_400_never_500(api: Api, listing: str, key: Any, params: Any) -> None:
    import base64

    token = base64.urlsafe_b64encode(json.dumps({"l": listing, "k": key, "p": params}).encode()).decode()
    path = {"files": "/v1/smb/files/", "sessions": "/v1/smb/sessions/"}.get(
        listing, f"/v1/files/locks/smb/{listing}/"
    )
    resp = api.http.get(
        api.base + path, params={"after": token}, headers={"Authorization": f"Bearer {api.token}"}, timeout=5
    )
    assert resp.status_code in (200, 400), resp.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values)
def test_arbitrary_close_bodies_are_answered_never_500(api: Api, body: Any) -> None:
    for path in (
        "/v1/smb/files/close",
        "/v1/smb/sessions/close",
        "/v1/identity/find",
        "/v1/dns/resolve-ips-to-names",
    ):
        resp = api.post(path, body)
        assert resp.status_code in (200, 400, 404), (path, resp.text)
        if resp.status_code == 200 and path.endswith("close"):
            assert isinstance(body, list) and len(resp.json()) == len(body)
            assert all(r["error_message"] for r in resp.json()), "random locations never match a real handle"


def test_churn_between_pages_never_skips_or_repeats_survivors(sim: Simulator, rw: Api) -> None:
    before = set(locations(sim.state.handles_snapshot()))
    sim.state.set_churn(remove_per_page=3, add_per_page=2)
    listed = locations(flat(rw.pages("/v1/smb/files/?limit=10", "file_handles")))
    after = set(locations(sim.state.handles_snapshot()))
    assert sim.state.churned["removed"] >= 30 and sim.state.churned["added"] >= 20
    assert len(listed) == len(set(listed)), "a handle was listed twice"
    assert (before & after) <= set(listed), "a handle that existed throughout was skipped"


def test_lock_listings_never_end_knob(sim: Simulator, rw: Api) -> None:
    sim.state.lock_listings_never_end = True
    data = rw.ok("GET", "/v1/files/locks/smb/share-mode/?limit=1000")
    assert len(data["grants"]) == sim.state.handle_count and data["paging"]["next"]
    assert rw.ok("GET", data["paging"]["next"])["grants"] == []  # clients must stop on a short/empty page


# -- close ------------------------------------------------------------------------------------------
def test_close_removes_handle_grants_and_updates_session(sim: Simulator, rw: Api) -> None:
    handles = sim.state.handles_snapshot()
    target = next(h for h in handles if h["handle_info"]["num_byte_range_locks"] > 0)
    loc, fid = target["handle_info"]["location"], target["file_number"]
    h = sim.state.handle_by_location(loc)
    assert h is not None
    owner_id = str((1 << 32) + h.seq)
    session = next(
        s
        for s in sim.state.sessions_snapshot()
        if s["user"]["auth_id"] == target["handle_info"]["owner"]
        and s["location"] == sim.state.sessions[h.session].location
    )
    grants_before = rw.ok("GET", f"/v1/files/{fid}/locks/smb/share-mode/")["grants"]
    assert owner_id in {g["owner_id"] for g in grants_before}

    # the SDK sends entries back unchanged: only handle_info.location is read
    result = rw.ok("POST", "/v1/smb/files/close", [target, {"handle_info": {"location": "9.9.9"}}])
    assert result[0] == {"error_message": ""}
    assert result[1]["error_message"] and "9.9.9" in result[1]["error_message"]

    assert loc not in locations(sim.state.handles_snapshot())
    assert loc not in locations(flat(rw.pages("/v1/smb/files/?limit=100", "file_handles")))
    for kind in ("share-mode", "byte-range"):
        grants = rw.ok("GET", f"/v1/files/{fid}/locks/smb/{kind}/")["grants"]
        assert owner_id not in {g["owner_id"] for g in grants}
    assert len(rw.ok("GET", f"/v1/files/{fid}/locks/smb/share-mode/")["grants"]) == len(grants_before) - 1
    after = next(s for s in sim.state.sessions_snapshot() if s["location"] == session["location"])
    assert after["num_opens"] == session["num_opens"] - 1
    again = rw.ok("POST", "/v1/smb/files/close", [{"handle_info": {"location": loc}}])
    assert len(again) == 1 and again[0]["error_message"]


@pytest.mark.parametrize(
    "body", [{"handle_info": {"location": "x"}}, [{"location": "x"}], [{"handle_info": {}}], [1], "x"]
)
def test_close_rejects_malformed_bodies(rw: Api, body: Any) -> None:
    resp = rw.post("/v1/smb/files/close", body)
    assert resp.status_code == 400 and resp.json()["error_class"] == "invalid_request_error"


def test_concurrent_closes_of_one_handle_succeed_once(sim: Simulator) -> None:
    loc = locations(sim.state.handles_snapshot())[5]
    results: list[str] = []

    def close() -> None:
        a = Api(sim)
        results.append(
            a.ok("POST", "/v1/smb/files/close", [{"handle_info": {"location": loc}}])[0]["error_message"]
        )
        a.close()

    threads = [threading.Thread(target=close) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 8 and results.count("") == 1 and all(r for r in results if r != "")


def test_close_session_drops_all_its_handles_and_grants(sim: Simulator, rw: Api) -> None:
    session = max(sim.state.sessions_snapshot(), key=lambda s: s["num_opens"])
    assert session["num_opens"] >= 2
    before = sim.state.handle_count
    ip_grants = len(
        flat(rw.pages(f"/v1/files/locks/smb/share-mode/?owner_address={session['originator']}", "grants"))
    )
    result = rw.ok("POST", "/v1/smb/sessions/close", [session, {"location": "nope"}])
    assert result[0] == {"error_message": ""} and result[1]["error_message"]
    assert sim.state.handle_count == before - session["num_opens"]
    remaining = [s["location"] for s in flat(rw.pages("/v1/smb/sessions/?limit=50", "session_infos"))]
    assert session["location"] not in remaining
    left = flat(rw.pages(f"/v1/files/locks/smb/share-mode/?owner_address={session['originator']}", "grants"))
    assert len(left) == ip_grants - session["num_opens"]


# -- auth -------------------------------------------------------------------------------------------
def test_login_and_bearer_tokens(ro: Simulator, api: Api) -> None:
    anon = Api(ro, token=None)
    token = anon.ok("POST", "/v1/session/login", {"username": "admin", "password": "Admin123"})[
        "bearer_token"
    ]
    assert token.startswith("session-v1:")
    assert Api(ro, token=token).ok("GET", "/v1/session/who-am-i")["name"] == "admin"
    bad = anon.post("/v1/session/login", {"username": "admin", "password": "nope"})
    assert bad.status_code == 401 and bad.json()["error_class"] == "http_unauthorized_error"
    assert anon.post("/v1/session/login", {"username": "admin"}).status_code == 400


@pytest.mark.parametrize("token", [None, "session-v1:forged", ""])
def test_missing_or_bad_token_is_401_with_error_json(ro: Simulator, token: str | None) -> None:
    resp = Api(ro, token=token).get("/v1/smb/files/")
    assert resp.status_code == 401
    body = resp.json()
    assert body["error_class"] == "http_unauthorized_error" and body["description"]


def test_expired_token_is_401(sim: Simulator) -> None:
    token = sim.mint_token("svc", ["SMB_FILE_HANDLE_READ"])
    a = Api(sim, token=token)
    assert a.get("/v1/smb/files/?limit=1").status_code == 200
    sim.state.expire_token(token)
    resp = a.get("/v1/smb/files/?limit=1")
    assert resp.status_code == 401 and "expired" in resp.json()["description"]


@pytest.mark.parametrize(
    ("method", "path", "body", "privilege"),
    [
        ("GET", "/v1/smb/files/", None, "PRIVILEGE_SMB_FILE_HANDLE_READ"),
        ("POST", "/v1/smb/files/close", [], "PRIVILEGE_SMB_FILE_HANDLE_WRITE"),
        ("GET", "/v1/files/locks/smb/share-mode/", None, "PRIVILEGE_FS_LOCK_READ"),
        ("GET", "/v1/files/7340000/locks/smb/byte-range/", None, "PRIVILEGE_FS_LOCK_READ"),
        ("GET", "/v1/smb/sessions/", None, "PRIVILEGE_SMB_SESSION_READ"),
        ("POST", "/v1/smb/sessions/close", [], "PRIVILEGE_SMB_SESSION_WRITE"),
        ("POST", "/v1/identity/find", {"auth_id": "500"}, "PRIVILEGE_IDENTITY_READ"),
        ("GET", "/v3/smb/shares/", None, "PRIVILEGE_SMB_SHARE_READ"),
        ("POST", "/v1/dns/resolve-ips-to-names", ["10.30.0.12"], "PRIVILEGE_DNS_USE"),
    ],
)
def test_missing_privilege_is_403_naming_it(
    sim: Simulator, method: str, path: str, body: Any, privilege: str
) -> None:
    everything_else = [p for p in api_privileges() if p != privilege]
    a = Api(sim, token=sim.mint_token("helpdesk", everything_else))
    resp = a.call(method, path, body)
    assert resp.status_code == 403
    err = resp.json()
    assert err["error_class"] == "http_forbidden_error"
    assert re.findall(r"PRIVILEGE_[A-Z_]+", err["description"]) == [privilege]
    granted = Api(sim, token=sim.mint_token("operator", [privilege]))
    assert granted.call(method, path, body).status_code == 200
    who = a.ok("GET", "/v1/session/who-am-i")
    assert who["name"] == "helpdesk" and privilege not in who["privileges"]


@pytest.mark.parametrize("by_acl", [False, True], ids=["privilege-needed", "acl-allows"])
def test_attributes_need_fs_attributes_read_unless_the_acl_allows(sim: Simulator, by_acl: bool) -> None:
    """A refusal is an ACL denial (403 fs_access_denied_error) that names no privilege, so clients must."""
    sim.state.attributes_by_file_access = by_acl
    path = "/v1/files/%2F/info/attributes"
    without = Api(sim, token=sim.mint_token("helpdesk", api_privileges()))
    resp = without.get(path)
    if by_acl:
        assert resp.status_code == 200 and resp.json()["type"] == "FS_FILE_TYPE_DIRECTORY"
    else:
        assert resp.status_code == 403
        assert resp.json()["error_class"] == "fs_access_denied_error"
        assert "PRIVILEGE_" not in resp.json()["description"]
    for privilege in ("FS_ATTRIBUTES_READ", "FILE_FULL_ACCESS"):
        granted = Api(sim, token=sim.mint_token(f"with-{privilege.lower()}", [privilege]))
        assert granted.get(path).status_code == 200


def api_privileges() -> list[str]:
    return [
        "PRIVILEGE_SMB_FILE_HANDLE_READ",
        "PRIVILEGE_SMB_FILE_HANDLE_WRITE",
        "PRIVILEGE_FS_LOCK_READ",
        "PRIVILEGE_SMB_SESSION_READ",
        "PRIVILEGE_SMB_SESSION_WRITE",
        "PRIVILEGE_IDENTITY_READ",
        "PRIVILEGE_SMB_SHARE_READ",
        "PRIVILEGE_DNS_USE",
    ]


def test_access_tokens_and_mint_endpoint(sim: Simulator, rw: Api) -> None:
    minted = rw.ok("POST", "/_simulator/tokens", {"name": "bot", "privileges": ["SMB_FILE_HANDLE_READ"]})
    assert minted["privileges"] == ["PRIVILEGE_SMB_FILE_HANDLE_READ"]
    created = rw.ok("POST", "/v1/auth/access-tokens/", {"user": {"name": "bot"}})
    assert created["bearer_token"].startswith("access-v1:")
    bot = Api(sim, token=created["bearer_token"])
    assert bot.get("/v1/smb/files/?limit=1").status_code == 200
    assert bot.get("/v1/smb/sessions/").status_code == 403
    listed = flat(rw.pages("/v1/auth/access-tokens/?limit=1", "entries"))
    assert created["id"] in {t["id"] for t in listed}
    assert rw.ok("GET", f"/v1/auth/access-tokens/{created['id']}")["user"]["name"] == "bot"
    assert rw.call("DELETE", f"/v1/auth/access-tokens/{created['id']}").status_code == 200
    assert bot.get("/v1/smb/files/?limit=1").status_code == 401
    assert rw.post("/v1/auth/access-tokens/", {"user": {"name": "nobody-here"}}).status_code == 404


# -- routing ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/smb/files", 404),  # lists need the trailing slash
        ("GET", "/v1/smb/sessions", 404),
        ("POST", "/v1/smb/files/close/", 404),  # actions must not have one
        ("GET", "/v1/session/who-am-i/", 404),
        ("GET", "/v1/no/such/thing", 404),
        ("DELETE", "/v1/smb/files/", 405),
    ],
)
def test_unknown_endpoints_and_trailing_slash_rules(api: Api, method: str, path: str, status: int) -> None:
    resp = api.call(method, path, [] if method == "POST" else None)
    assert resp.status_code == status
    assert resp.json()["error_class"] in ("http_not_found_error", "http_method_not_allowed_error")


def test_request_log_counts_api_calls(sim: Simulator, rw: Api) -> None:
    sim.state.reset_request_log()
    pages = rw.pages("/v1/smb/files/?limit=50", "file_handles")
    log = sim.state.request_log
    assert [m for m, _ in log] == ["GET"] * len(pages)
    assert log[0][1] == "/v1/smb/files/?limit=50" and all("after=" in p for _, p in log[1:])


# -- faults and latency -----------------------------------------------------------------------------
def test_status_faults_are_scoped_and_counted(sim: Simulator, rw: Api) -> None:
    sim.state.inject_fault("/v1/smb/sessions/", kind="status", status=503, count=2, retry_after=1)
    sim.state.inject_fault("/v1/smb/files/close", kind="status", status=500, count=1, method="POST")
    first = rw.get("/v1/smb/sessions/")
    assert first.status_code == 503 and first.headers["Retry-After"] == "1"
    assert first.json()["error_class"] == "http_service_unavailable_error"
    assert rw.get("/v1/smb/files/?limit=1").status_code == 200  # other paths are untouched
    assert rw.get("/v1/smb/sessions/").status_code == 503
    assert rw.get("/v1/smb/sessions/").status_code == 200  # count used up
    assert rw.post("/v1/smb/files/close", []).status_code == 500
    assert rw.post("/v1/smb/files/close", []).status_code == 200
    assert sim.state.faults.pending() == []


def test_forever_fault_until_cleared(sim: Simulator, rw: Api) -> None:
    sim.state.inject_fault("/v1/", kind="status", status=429, count=None)
    assert [rw.get("/v1/session/who-am-i").status_code for _ in range(3)] == [429] * 3
    sim.state.clear_faults()
    assert rw.get("/v1/session/who-am-i").status_code == 200


def test_reset_fault_drops_the_connection(sim: Simulator, rw: Api) -> None:
    sim.state.inject_fault("/v1/session/who-am-i", kind="reset")
    with pytest.raises(requests.ConnectionError):
        rw.get("/v1/session/who-am-i")
    assert rw.get("/v1/session/who-am-i").status_code == 200


def test_timeout_fault_hangs_past_the_client_timeout(sim: Simulator, rw: Api) -> None:
    sim.state.inject_fault("/v1/smb/files/", kind="timeout", delay_s=60)  # stop() wakes it at teardown
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        rw.get("/v1/smb/files/", timeout=0.3)
    assert time.monotonic() - started < 30  # the client timed out, long before the hang ends
    assert rw.get("/v1/smb/files/?limit=1").status_code == 200


def test_malformed_and_html_faults(sim: Simulator, rw: Api) -> None:
    sim.state.inject_fault("/v1/smb/files/", kind="malformed")
    sim.state.inject_fault("/v1/smb/sessions/", kind="html", status=502)
    resp = rw.get("/v1/smb/files/")
    assert resp.status_code == 200
    with pytest.raises(ValueError):
        resp.json()
    html = rw.get("/v1/smb/sessions/")
    assert html.status_code == 502 and html.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        sim.state.inject_fault("/", kind="explode")


def test_latency_and_delay_fault(sim: Simulator, rw: Api) -> None:
    sim.state.latency_s = 0.15
    started = time.monotonic()
    assert rw.get("/v1/session/who-am-i").status_code == 200
    assert time.monotonic() - started >= 0.15
    sim.state.latency_s = 0.0
    sim.state.inject_fault("/v1/session/who-am-i", kind="delay", delay_s=0.2)
    started = time.monotonic()
    assert rw.get("/v1/session/who-am-i").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_a_gated_delay_holds_the_request_until_the_gate_opens(sim: Simulator, rw: Api) -> None:
    gate = threading.Event()
    fault = sim.state.inject_fault("/v1/session/who-am-i", kind="delay", delay_s=30, gate=gate)
    answers: list[int] = []
    t = threading.Thread(target=lambda: answers.append(rw.get("/v1/session/who-am-i").status_code))
    t.start()
    assert fault.reached.wait(5)
    time.sleep(0.2)
    assert t.is_alive() and not answers  # held: the gate is shut
    gate.set()
    t.join(5)
    assert answers == [200]
    with pytest.raises(ValueError):
        sim.state.inject_fault("/", kind="status", gate=gate)


def test_stop_wakes_hanging_requests() -> None:
    s = start_simulator(port=0, handles=5, seed=1)
    s.state.inject_fault("/v1/", kind="timeout", delay_s=60, count=None)
    errors: list[BaseException] = []
    t = threading.Thread(target=lambda: _swallow(errors, lambda: Api(s).get("/v1/smb/files/", timeout=30)))
    t.start()
    _wait_for(lambda: len(s.state.request_log) == 1)
    started = time.monotonic()
    s.stop()
    t.join(10)
    assert not t.is_alive() and time.monotonic() - started < 5
    assert errors and isinstance(errors[0], requests.ConnectionError)


def _swallow(errors: list[BaseException], fn: Any) -> None:
    try:
        fn()
    except BaseException as exc:
        errors.append(exc)


def _wait_for(cond: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


# -- files, grants, shares, identities, DNS -----------------------------------------------------------
HOSTILE = re.compile(r"[ &<>*`%?#+\u0080-\U0010ffff]")


def test_attributes_by_url_encoded_path_and_by_id(ro: Simulator, api: Api) -> None:
    paths = sorted({h["handle_info"]["path"] for h in ro.state.handles_snapshot()})
    hostile = [p for p in paths if HOSTILE.search(p)]
    assert len(hostile) >= 5
    for path in hostile:
        attrs = api.ok("GET", f"/v1/files/{ref(path)}/info/attributes")
        assert attrs["path"] == path and attrs["id"] == attrs["file_number"] == ro.state.file_number_of(path)
        assert attrs["type"] == "FS_FILE_TYPE_FILE" and attrs["size"].isdigit()
        assert api.ok("GET", f"/v1/files/{attrs['id']}/info/attributes")["path"] == path
    directory = api.ok("GET", f"/v1/files/{ref('/finance/2026/Q3')}/info/attributes")
    assert directory["type"] == "FS_FILE_TYPE_DIRECTORY"
    assert api.ok("GET", f"/v1/files/{directory['id']}/info/attributes")["path"] == "/finance/2026/Q3/"


@pytest.mark.parametrize(
    "path", ["/no/such/file.xlsx", "/finance/2026/Q3/Q3 forecast.xlsx.bak", "99999999999"]
)
def test_attributes_of_unknown_file_is_404_json(api: Api, path: str) -> None:
    resp = api.get(f"/v1/files/{ref(path)}/info/attributes")
    assert resp.status_code == 404
    assert resp.json()["error_class"] == "fs_no_such_entry_error" and resp.json()["description"]
    assert api.get(f"/v1/files/{ref(path)}/locks/smb/share-mode/").status_code == 404


def test_per_file_grants_by_path_and_id_match_its_handles(ro: Simulator, api: Api) -> None:
    path = "/finance/2026/Q3/Q3 forecast.xlsx"
    fid = ro.state.file_number_of(path)
    assert fid is not None
    handles = api.ok("GET", f"/v1/smb/files/?file_number={fid}&resolve_paths=True")["file_handles"]
    assert len(handles) == 3 and {h["handle_info"]["path"] for h in handles} == {path}
    by_path = flat(api.pages(f"/v1/files/{ref(path)}/locks/smb/share-mode/?limit=1", "grants"))
    by_id = api.ok("GET", f"/v1/files/{fid}/locks/smb/share-mode/")["grants"]
    assert by_path == by_id and len(by_id) == 3 and {g["file_id"] for g in by_id} == {fid}
    owners = {h["handle_info"]["owner"] for h in handles}
    originators = {s["originator"] for s in ro.state.sessions_snapshot() if s["user"]["auth_id"] in owners}
    assert {g["owner_address"] for g in by_id} <= originators
    writer = [g for g in by_id if "API_SHARE_MODE_WRITE" in g["mode"]]
    assert len(writer) == 1 and "API_SHARE_MODE_EXCLUDE_WRITE" in writer[0]["mode"]
    assert api.ok("GET", "/v1/smb/files/?file_number=123")["file_handles"] == []


def test_owner_address_filter(ro: Simulator, api: Api) -> None:
    ip = ro.state.sessions_snapshot()[0]["originator"]
    grants = flat(api.pages(f"/v1/files/locks/smb/share-mode/?owner_address={ip}&limit=2", "grants"))
    assert grants and {g["owner_address"] for g in grants} == {ip}
    assert len(grants) == sum(1 for g in ro.state.grants_snapshot() if g["owner_address"] == ip)
    byte = flat(api.pages(f"/v1/files/locks/smb/byte-range/?owner_address={ip}&limit=1", "grants"))
    assert {g["owner_address"] for g in byte} <= {ip}


def test_shares(api: Api) -> None:
    for value in ("false", "False", "true", "True"):
        data = api.ok("GET", f"/v3/smb/shares/?populate-trustee-names={value}")
        assert set(data) == {"entries"}
        names = {e["share_name"]: e for e in data["entries"]}
        assert (
            names["Finance"]["fs_path"] == "/finance" and names["Q3-Close"]["fs_path"] == "/finance/2026/Q3"
        )
        trustee = names["Finance"]["permissions"][0]["trustee"]
        assert (trustee["name"] == "Everyone") is (value.lower() == "true")
    one = api.ok("GET", "/v3/smb/shares/2")
    assert one["share_name"] == "Projects"
    assert api.get("/v3/smb/shares/999").status_code == 404
    assert api.get("/v3/smb/shares/?populate-trustee-names=perhaps").status_code == 400


def test_identity_find_and_expand(ro: Simulator, api: Api) -> None:
    owner = ro.state.handles_snapshot()[0]["handle_info"]["owner"]
    ident = api.ok("POST", "/v1/identity/find", {"auth_id": owner})
    assert ident["auth_id"] == owner and ident["name"] == "dana" and ident["domain"] == "ACTIVE_DIRECTORY"
    for body in (
        {"uid": ident["uid"]},
        {"sid": ident["sid"]},
        {"name": "DANA"},
        {"name": "EXAMPLE\\dana"},
        {"name": "dana@example.com"},
        {"name": "dana", "domain": "ACTIVE_DIRECTORY"},
    ):
        assert api.ok("POST", "/v1/identity/find", body)["auth_id"] == owner, body
    assert api.post("/v1/identity/find", {"name": "nobody"}).status_code == 404
    assert api.post("/v1/identity/find", {"name": "dana", "domain": "LOCAL"}).status_code == 404
    assert api.post("/v1/identity/find", {}).status_code == 400
    expanded = api.ok("POST", "/v1/identity/expand", {"id": {"auth_id": owner}})
    assert expanded["type"] == "USER" and expanded["id"]["name"] == "dana"
    assert api.ok("POST", "/v1/identity/expand", {"id": {"name": "ghost"}})["type"] == "UNKNOWN"


def test_sessions_identity_filter(ro: Simulator, api: Api) -> None:
    dana = api.ok("POST", "/v1/identity/find", {"name": "dana"})
    for spec in (
        "dana",
        "ad:dana",
        f"auth_id:{dana['auth_id']}",
        f"uid:{dana['uid']}",
        dana["sid"],
        f"SID:{dana['sid']}",
    ):
        found = flat(api.pages(f"/v1/smb/sessions/?identity={ref(spec)}&limit=1", "session_infos"))
        assert len(found) >= 2 and {s["user"]["name"] for s in found} == {"dana"}, spec  # desktop + laptop
    assert api.ok("GET", "/v1/smb/sessions/?identity=local:dana")["session_infos"] == []
    assert api.get("/v1/smb/sessions/?identity=uid:abc").status_code == 400


def test_dns_resolution(ro: Simulator, api: Api) -> None:
    ips = [s["originator"] for s in ro.state.sessions_snapshot()[:3]]
    out = api.ok("POST", "/v1/dns/resolve-ips-to-names", [*ips, "192.0.2.1", "not-an-ip"])
    assert [o["ip_address"] for o in out] == [*ips, "192.0.2.1", "not-an-ip"]
    assert all(o["result"] == "OK" and o["hostname"].endswith(".corp.example.com") for o in out[:3])
    assert [o["result"] for o in out[3:]] == ["ERROR", "ERROR"] and out[3]["hostname"] == ""
    assert api.post("/v1/dns/resolve-ips-to-names", {"ip": "1.2.3.4"}).status_code == 400


# -- the generated cluster ----------------------------------------------------------------------------
def test_generated_data_is_consistent_and_realistic(ro: Simulator, api: Api) -> None:
    handles = flat(api.pages("/v1/smb/files/?resolve_paths=True&limit=1000", "file_handles"))
    sessions = flat(api.pages("/v1/smb/sessions/?limit=1000", "session_infos"))
    grants = flat(api.pages("/v1/files/locks/smb/share-mode/?limit=1000", "grants"))
    by_auth: dict[str, set[str]] = {}
    for s in sessions:
        by_auth.setdefault(s["user"]["auth_id"], set()).add(s["originator"])
    # the joins: owner == session user.auth_id; grant owner_address == an originator of that user; file ids
    assert {h["handle_info"]["owner"] for h in handles} <= set(by_auth)
    assert Counter(h["file_number"] for h in handles) == Counter(g["file_id"] for g in grants)
    assert {g["owner_address"] for g in grants} <= {s["originator"] for s in sessions}
    assert sum(s["num_opens"] for s in sessions) == len(handles)
    # several handles per file, from different clients
    per_file = Counter(h["file_number"] for h in handles)
    assert max(per_file.values()) >= 4
    multi_client = [
        f for f in per_file if len({g["owner_address"] for g in grants if g["file_id"] == f}) >= 3
    ]
    assert multi_client
    # an ambiguous join exists: one user holding one file from two clients
    assert any(len(ips) >= 2 for ips in by_auth.values())
    pairs = Counter((h["file_number"], h["handle_info"]["owner"]) for h in handles)
    assert any(n >= 2 for n in pairs.values())
    # plausible and hostile paths
    paths = {h["handle_info"]["path"] for h in handles}
    for needle in (".xlsx", ".dwg", ".prproj", " ", "&", "<", "*", "`", "<!channel>", "é", "~$"):
        assert any(needle in p for p in paths), needle
    assert "/projects/apollo/report.xlsx" in paths and "/finance/2026/report.xlsx" in paths
    assert {p.split("/")[1] for p in paths} >= {"finance", "projects", "media", "cad", "home"}


def test_same_seed_same_cluster() -> None:
    with start_simulator(port=0, handles=200, seed=9) as a, start_simulator(port=0, handles=200, seed=9) as b:
        assert a.state.handles_snapshot() == b.state.handles_snapshot()
        assert a.state.grants_snapshot() == b.state.grants_snapshot()
        strip = [
            {k: v for k, v in s.items() if k not in ("time_open", "time_idle")}
            for s in a.state.sessions_snapshot()
        ]
        assert strip == [
            {k: v for k, v in s.items() if k not in ("time_open", "time_idle")}
            for s in b.state.sessions_snapshot()
        ]
        assert a.admin_token != b.admin_token
    with start_simulator(port=0, handles=200, seed=10) as c:
        assert c.state.handles_snapshot() != a.state.handles_snapshot()


@pytest.mark.parametrize("n", [0, 1, 7, 333])
def test_exact_handle_counts(n: int) -> None:
    with start_simulator(port=0, handles=n, seed=2) as s:
        assert s.state.handle_count == n
        assert len(flat(Api(s).pages("/v1/smb/files/?limit=100", "file_handles"))) == n


def test_add_handle_creates_consistent_session_grant_and_identity(sim: Simulator, rw: Api) -> None:
    path = "/projects/new client & co/<kickoff> deck 🎯.pptx"
    loc = sim.state.add_handle(path, user="newbie", client_ip="10.99.0.7")
    again = sim.state.add_handle(path, user="dana", write=False)
    fid = sim.state.file_number_of(path)
    assert fid is not None and loc != again
    handles = rw.ok("GET", f"/v1/smb/files/?file_number={fid}&resolve_paths=true")["file_handles"]
    assert [h["handle_info"]["location"] for h in handles] == [loc, again]
    ident = rw.ok("POST", "/v1/identity/find", {"auth_id": handles[0]["handle_info"]["owner"]})
    assert ident["name"] == "newbie"
    session = rw.ok("GET", "/v1/smb/sessions/?identity=newbie")["session_infos"]
    assert [(s["originator"], s["num_opens"]) for s in session] == [("10.99.0.7", 1)]
    assert int(session[0]["time_idle"]["nanoseconds"]) < 5 * 10**9
    grants = rw.ok("GET", f"/v1/files/{ref(path)}/locks/smb/share-mode/")["grants"]
    assert grants[0]["owner_address"] == "10.99.0.7" and "API_SHARE_MODE_WRITE" in grants[0]["mode"]
    dana_ips = {s["originator"] for s in rw.ok("GET", "/v1/smb/sessions/?identity=dana")["session_infos"]}
    assert grants[1]["owner_address"] in dana_ips and grants[1]["mode"] == ["API_SHARE_MODE_READ"]
    assert rw.ok("GET", f"/v1/files/{ref(path)}/info/attributes")["id"] == fid
    with pytest.raises(ValueError):
        sim.state.add_handle("relative/path.txt", user="dana")


segment = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="/\x00"), min_size=1, max_size=20
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(segment.filter(lambda s: s not in (".", "..")), min_size=1, max_size=4))
def test_any_path_round_trips_through_url_encoded_refs(sim: Simulator, rw: Api, parts: list[str]) -> None:
    path = "/home/hypo/" + "/".join(parts)
    loc = sim.state.add_handle(path, user="hypo")
    attrs = rw.ok("GET", f"/v1/files/{ref(path)}/info/attributes")
    assert attrs["path"] == path
    handles = rw.ok("GET", f"/v1/smb/files/?file_number={attrs['id']}&resolve_paths=True")["file_handles"]
    assert loc in locations(handles) and {h["handle_info"]["path"] for h in handles} == {path}
    assert rw.ok("GET", f"/v1/files/{ref(path)}/locks/smb/share-mode/")["grants"]


# -- pre-rendered listings (simulator.render): the same bytes json.dumps would send ---------------------------
def _raw_pages(api: Api, first: str) -> list[bytes]:
    """Every page of a listing as the raw bytes on the wire."""
    bodies, url = [], first
    while url:
        resp = api.get(url)
        assert resp.status_code == 200, resp.text
        bodies.append(resp.content)
        url = resp.json()["paging"]["next"]
    return bodies


def _assert_rendered_like_json_dumps(api: Api, first: str, key: str, expected: list[dict[str, Any]]) -> None:
    bodies = _raw_pages(api, first)
    pages = [json.loads(b) for b in bodies]
    for body, page in zip(bodies, pages, strict=True):  # byte for byte what json.dumps(dict) rendered before
        assert body == json.dumps(page, ensure_ascii=False).encode()
    assert [item for p in pages for item in p[key]] == expected


HANDLES = "/v1/smb/files/?resolve_paths=true&limit=40"
GRANTS = "/v1/files/locks/smb/share-mode/?limit=40"


def test_cached_fragments_follow_closes_and_opens(sim: Simulator, rw: Api) -> None:
    state = sim.state
    _assert_rendered_like_json_dumps(rw, HANDLES, "file_handles", state.handles_snapshot())
    _assert_rendered_like_json_dumps(rw, GRANTS, "grants", state.grants_snapshot())
    assert len(state.fragments) == 2 * state.handle_count  # both listings now served from the cache

    victim = state.handles_snapshot()[3]["handle_info"]["location"]
    assert rw.ok("POST", "/v1/smb/files/close", [{"handle_info": {"location": victim}}]) == [
        {"error_message": ""}
    ]
    weird = '/projects/"quoted" \\back\\slash/naïve 日本 🎯\t.docx'
    added = state.add_handle(weird, user="newbie", client_ip="10.99.0.8")
    snapshot = state.handles_snapshot()
    assert victim not in locations(snapshot) and added in locations(snapshot)
    _assert_rendered_like_json_dumps(rw, HANDLES, "file_handles", snapshot)
    _assert_rendered_like_json_dumps(rw, GRANTS, "grants", state.grants_snapshot())
    listed = flat(rw.pages(HANDLES, "file_handles"))
    assert victim not in locations(listed) and {h["handle_info"]["path"] for h in listed} >= {weird}
    assert len(state.fragments) == 2 * state.handle_count

    # a closed session takes its handles' fragments with it; the filtered and unresolved forms stay exact
    session = next(s for s in state.sessions_snapshot() if s["num_opens"] > 1)
    assert rw.ok("POST", "/v1/smb/sessions/close", [{"location": session["location"]}]) == [
        {"error_message": ""}
    ]
    _assert_rendered_like_json_dumps(rw, HANDLES, "file_handles", state.handles_snapshot())
    _assert_rendered_like_json_dumps(rw, GRANTS, "grants", state.grants_snapshot())
    assert len(state.fragments) == 2 * state.handle_count
    unresolved = [{**h, "handle_info": {**h["handle_info"], "path": ""}} for h in state.handles_snapshot()]
    _assert_rendered_like_json_dumps(rw, "/v1/smb/files/?limit=33", "file_handles", unresolved)
    ip = state.grants_snapshot()[0]["owner_address"]
    by_ip = [g for g in state.grants_snapshot() if g["owner_address"] == ip]
    _assert_rendered_like_json_dumps(
        rw, f"/v1/files/locks/smb/share-mode/?owner_address={ip}", "grants", by_ip
    )


def test_fragment_cache_respects_its_budget(sim: Simulator, rw: Api) -> None:
    state = sim.state
    state.fragments.clear()
    state.fragments.budget_bytes = 20_000  # a few dozen fragments; the rest are rendered per request
    assert 0 < state.prerender_listings() < state.handle_count
    assert 0 < state.fragments.used_bytes <= 20_000
    _assert_rendered_like_json_dumps(rw, HANDLES, "file_handles", state.handles_snapshot())
    _assert_rendered_like_json_dumps(rw, GRANTS, "grants", state.grants_snapshot())
    assert state.fragments.used_bytes <= 20_000
    state.fragments.budget_bytes = 10**9
    assert state.prerender_listings() == 2 * state.handle_count
    for loc in locations(state.handles_snapshot()):
        assert state.close_handle(loc) == ""
    assert len(state.fragments) == 0 and state.fragments.used_bytes == 0
    assert rw.get(HANDLES).content == b'{"file_handles": [], "paging": {"next": null}}'


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=30)
)
def test_any_path_renders_like_json_dumps(sim: Simulator, rw: Api, path: str) -> None:
    path = "/hypo/" + path
    loc = sim.state.add_handle(path, user="hypo")
    fid = sim.state.file_number_of(path)
    expected = [h for h in sim.state.handles_snapshot() if h["file_number"] == fid]
    assert loc in locations(expected)
    _assert_rendered_like_json_dumps(
        rw, f"/v1/smb/files/?file_number={fid}&resolve_paths=true", "file_handles", expected
    )
    grants = [g for g in sim.state.grants_snapshot() if g["file_id"] == fid]
    _assert_rendered_like_json_dumps(rw, f"/v1/files/{fid}/locks/smb/share-mode/", "grants", grants)


def test_300k_handles_generate_fast_and_page_in_constant_time() -> None:
    """CPU seconds of this process (the generator and the server's threads run here), not wall time: two busy
    cores beside the suite made the same generation take 10 s of wall clock for 3 s of work."""
    started = time.process_time()
    with start_simulator(port=0, handles=300_000, seed=1) as big:
        generated = time.process_time() - started
        a = Api(big)
        first = time.process_time()
        page = a.ok("GET", "/v1/smb/files/?resolve_paths=True&limit=1000")
        first_s = time.process_time() - first
        deep_key = big.state.handle_keys.at(299_000)
        from qlocks_tools.simulator.paging import Cursor, next_link

        deep = time.process_time()
        tail = a.ok(
            "GET", next_link("/v1/smb/files/", Cursor("files", deep_key, {"resolve_paths": "True"}), 1000)
        )
        deep_s = time.process_time() - deep
        assert big.state.handle_count == 300_000
        assert len(page["file_handles"]) == 1000 and len(tail["file_handles"]) == 999
        assert tail["paging"]["next"] is None
    print(
        f"\n300k handles (CPU): generated in {generated:.2f}s; first page {first_s * 1000:.0f} ms, last {deep_s * 1000:.0f} ms"
    )
    assert generated < 8.0
    assert deep_s < 1.0


# -- TLS and CLI --------------------------------------------------------------------------------------
def test_tls_serves_with_a_self_signed_cert_trusted_via_cafile() -> None:
    import ssl
    import urllib.request

    with start_simulator(port=0, handles=10, seed=3, tls=True) as s:
        assert s.url.startswith("https://127.0.0.1:") and s.cafile is not None and s.cafile.is_file()
        assert "BEGIN CERTIFICATE" in s.cafile.read_text()
        assert Api(s, verify=str(s.cafile)).ok("GET", "/v1/session/who-am-i")["name"] == "admin"
        ctx = ssl.create_default_context(cafile=str(s.cafile))  # hostname check on: SAN 127.0.0.1
        req = urllib.request.Request(
            s.url + "/v1/smb/files/?limit=1", headers={"Authorization": f"Bearer {s.admin_token}"}
        )
        with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
            assert json.loads(resp.read())["file_handles"]
        with pytest.raises(requests.exceptions.SSLError):
            Api(s, verify=True).get("/v1/session/who-am-i")
        cert_dir = s.cafile.parent
    assert not cert_dir.exists(), "temporary certificate directory removed on stop"


def test_cli_prints_url_env_snippet_and_tokens(tmp_path: Any) -> None:
    import argparse
    import io

    from qlocks_tools.simulator import cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(
        [
            "--port",
            "0",
            "--handles",
            "25",
            "--tls",
            "--cert-dir",
            str(tmp_path),
            "--token",
            "helpdesk=SMB_FILE_HANDLE_READ,PRIVILEGE_FS_LOCK_READ",
            "--page-size",
            "10",
        ]
    )
    out, stop = io.StringIO(), threading.Event()
    rc: list[int] = []
    t = threading.Thread(target=lambda: rc.append(cli.run(args, stop=stop, out=out)))
    t.start()
    _wait_for(lambda: "Ctrl-C" in out.getvalue())
    text = out.getvalue()
    url = re.search(r"https://127\.0\.0\.1:(\d+)", text)
    token = re.search(r"token helpdesk: (\S+)", text)
    assert url and token and f"QUMULO_CA_BUNDLE={tmp_path / 'cert.pem'}" in text
    assert (
        "QUMULO_HOST=127.0.0.1" in text
        and f"QUMULO_PORT={url.group(1)}" in text
        and "QUMULO_USERNAME=admin" in text
    )
    resp = requests.get(
        url.group(0) + "/v1/smb/files/?limit=100",
        headers={"Authorization": f"Bearer {token.group(1)}"},
        verify=str(tmp_path / "cert.pem"),
        timeout=5,
    )
    assert resp.status_code == 200 and len(resp.json()["file_handles"]) == 10  # --page-size caps pages
    stop.set()
    t.join(10)
    assert rc == [0]
    with pytest.raises(SystemExit):
        parser.parse_args(["--token", "no-equals-sign"])


def test_cli_tls_no_san_banner_pins_instead_of_a_bundle(tmp_path: Any) -> None:
    import argparse
    import hashlib
    import io
    import ssl

    from qlocks_tools.simulator import cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    stop = threading.Event()
    stop.set()
    out = io.StringIO()
    args = parser.parse_args(
        ["--port", "0", "--handles", "3", "--tls", "--tls-no-san", "--cert-dir", str(tmp_path)]
    )
    assert cli.run(args, stop=stop, out=out) == 0
    text = out.getvalue()
    der = ssl.PEM_cert_to_DER_cert((tmp_path / "cert.pem").read_text())
    assert f"QUMULO_TLS_FINGERPRINT={hashlib.sha256(der).hexdigest()}" in text
    assert "QUMULO_CA_BUNDLE" not in text and "no subjectAltName" in text


def test_cli_plain_http_banner_and_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    import io
    import socket

    from qlocks_tools.simulator import cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    stop = threading.Event()
    stop.set()  # print the banner, then return at once
    out = io.StringIO()
    assert cli.run(parser.parse_args(["--port", "0", "--handles", "3"]), stop=stop, out=out) == 0
    assert "QUMULO_HOST=http://127.0.0.1" in out.getvalue() and "QUMULO_CA_BUNDLE" not in out.getvalue()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        args = parser.parse_args(["--port", str(busy.getsockname()[1]), "--handles", "3"])
        assert cli.run(args, stop=stop, out=out) == 1
    assert "cannot listen" in capsys.readouterr().err
    assert (
        cli.run(parser.parse_args(["--port", "0", "--token", "admin=FS_LOCK_READ"]), stop=stop, out=out) == 2
    )
