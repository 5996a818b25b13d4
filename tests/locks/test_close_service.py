"""LockService.recheck / close against the simulator: exactly one location, re-validated, never retried."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from bot.locks.models import CloseStatus, HandleRef, LockRow
from bot.locks.query import parse_query
from bot.locks.service import LockService
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloPermissionError
from bot.qumulo.models import CloseResult
from tests.conftest import config_for
from tests.locks.conftest import FakeClock, service_for


def _setup(sim: Any) -> tuple[str, str, str]:
    """Three handles on one file: dana from two clients, eve from one."""
    a = sim.state.add_handle("/finance/close-me.xlsx", user="dana", client_ip="10.9.1.1")
    b = sim.state.add_handle("/finance/close-me.xlsx", user="dana", client_ip="10.9.1.2", write=False)
    c = sim.state.add_handle("/finance/close-me.xlsx", user="eve", client_ip="10.9.1.3", write=False)
    return a, b, c


def _ref(svc: LockService, location: str) -> HandleRef:
    result = svc.search(parse_query("/finance/close-me.xlsx"))
    return next(r.ref for f in result.files for r in f.rows if r.ref.location == location)


def _post_count(sim: Any) -> int:
    return sum(1 for m, p in sim.state.request_log if m == "POST" and p.startswith("/v1/smb/files/close"))


def test_recheck_returns_the_current_row(sim: Any, svc: LockService) -> None:
    _, _, c = _setup(sim)
    row = svc.recheck(_ref(svc, c))
    assert isinstance(row, LockRow)
    assert (row.holder, row.client_ip, row.ref.location) == ("eve", "10.9.1.3", c)


def test_close_exactly_that_handle_then_gone(sim: Any, svc: LockService, client: QumuloClient) -> None:
    a, b, c = _setup(sim)
    ref = _ref(svc, b)
    before = sim.state.handle_count
    sim.state.reset_request_log()
    out = svc.close(ref)
    assert out.status is CloseStatus.CLOSED and "dana" in out.message and out.row is not None
    assert sim.state.handle_count == before - 1
    assert sim.state.handle_by_location(b) is None
    assert sim.state.handle_by_location(a) is not None and sim.state.handle_by_location(c) is not None
    assert _post_count(sim) == 1
    # the close invalidated the cache: a new search shows the file without that handle
    after = svc.search(parse_query("/finance/close-me.xlsx"))
    assert {r.ref.location for f in after.files for r in f.rows} == {a, c}
    # a second click re-checks first and refuses without sending another close
    again = svc.close(ref)
    assert again.status is CloseStatus.GONE and "no longer open" in again.message
    assert _post_count(sim) == 1


def test_changed_owner_or_path_is_refused(sim: Any, svc: LockService) -> None:
    _, _, c = _setup(sim)
    ref = _ref(svc, c)
    sim.state.reset_request_log()
    out = svc.close(dataclasses.replace(ref, owner="424242"))
    assert out.status is CloseStatus.CHANGED and "now belongs to eve" in out.message
    out = svc.close(dataclasses.replace(ref, path="/finance/other.xlsx"))
    assert out.status is CloseStatus.CHANGED and "/finance/close-me.xlsx" in out.message
    assert _post_count(sim) == 0 and sim.state.handle_by_location(c) is not None


def test_location_on_another_file_is_not_closed(sim: Any, svc: LockService) -> None:
    a, _, _ = _setup(sim)
    other = sim.state.add_handle("/finance/other.xlsx", user="eve", client_ip="10.9.1.3")
    ref = dataclasses.replace(_ref(svc, a), location=other)  # a forged/stale button: location of another file
    out = svc.close(ref)
    assert out.status is CloseStatus.GONE
    assert sim.state.handle_by_location(other) is not None


def test_vanished_before_the_click(sim: Any, svc: LockService) -> None:
    a, _, _ = _setup(sim)
    ref = _ref(svc, a)
    assert sim.state.close_handle(a) == ""  # the client let go
    assert svc.close(ref).status is CloseStatus.GONE


def test_invalid_ref_makes_no_request(sim: Any, svc: LockService, client: QumuloClient) -> None:
    client.stats.reset()
    out = svc.close(HandleRef(location="x", file_number="12; rm", owner="1", path="/a"))
    assert out.status is CloseStatus.FAILED and "not valid" in out.message
    assert client.stats.requests == 0


def test_close_error_is_failed_and_never_retried(sim: Any, svc: LockService) -> None:
    a, _, _ = _setup(sim)
    ref = _ref(svc, a)
    sim.state.inject_fault("/v1/smb/files/close", status=503, count=5, method="POST")
    sim.state.reset_request_log()
    out = svc.close(ref)
    assert out.status is CloseStatus.FAILED and "may or may not" in out.message
    assert _post_count(sim) == 1


class RacingClient(QumuloClient):
    """The handle goes away between the re-check and the close request."""

    sim: Any

    def close_file_handles(self, locations: Sequence[str]) -> list[CloseResult]:
        for loc in locations:
            self.sim.state.close_handle(loc)
        return super().close_file_handles(locations)


def test_gone_between_recheck_and_close(sim: Any) -> None:
    a, _, _ = _setup(sim)
    client = RacingClient(config_for(sim))
    client.sim = sim
    with client, LockService(client, cluster_name="lab", clock=FakeClock()) as svc:
        out = svc.close(_ref(svc, a))
    assert out.status is CloseStatus.GONE and out.row is not None and out.row.holder == "dana"


def test_missing_write_privilege_propagates(sim: Any) -> None:
    a, _, _ = _setup(sim)
    token = sim.mint_token(
        "reader",
        ["SMB_FILE_HANDLE_READ", "FS_LOCK_READ", "FS_ATTRIBUTES_READ", "SMB_SESSION_READ", "SMB_SHARE_READ"],
    )
    client, svc = service_for(sim, token=token)
    with client, svc:
        ref = _ref(svc, a)
        with pytest.raises(QumuloPermissionError) as info:
            svc.close(ref)
    assert "PRIVILEGE_SMB_FILE_HANDLE_WRITE" in info.value.missing_privileges
    assert sim.state.handle_by_location(a) is not None
