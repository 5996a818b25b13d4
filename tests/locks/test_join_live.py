"""Joins on multi-client files, churn between listings and missing privileges, against the simulator."""

from __future__ import annotations

from typing import Any

import pytest
from qlocks_tools.simulator import start_simulator

from bot.locks.directory import DNS_UNAVAILABLE, SESSIONS_UNREADABLE, SHARES_UNREADABLE
from bot.locks.models import SearchResult
from bot.locks.query import parse_query
from bot.locks.service import LockService
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloPermissionError
from tests.locks.conftest import service_for, truth

ALL_BUT = {
    "FS_ATTRIBUTES_READ",
    "SMB_FILE_HANDLE_READ",
    "SMB_FILE_HANDLE_WRITE",
    "FS_LOCK_READ",
    "SMB_SESSION_READ",
    "IDENTITY_READ",
    "SMB_SHARE_READ",
    "DNS_USE",
}


def rows(result: SearchResult) -> dict[str, Any]:
    return {r.ref.location: r for f in result.files for r in f.rows}


def test_multi_client_file(sim: Any, svc: LockService) -> None:
    path = "/projects/shared/plan.docx"
    d1 = sim.state.add_handle(path, user="dana", client_ip="10.9.2.1")
    d2 = sim.state.add_handle(path, user="dana", client_ip="10.9.2.2", write=False)
    e1 = sim.state.add_handle(path, user="eve", client_ip="10.9.2.3", write=False)
    f1 = sim.state.add_handle(path, user="finn", client_ip="10.9.2.4", write=False)
    sim.state.add_handle("/projects/elsewhere.txt", user="finn", client_ip="10.9.2.5")  # finn's other client
    got = rows(svc.search(parse_query(path)))
    assert set(got) == {d1, d2, e1, f1}
    assert (got[e1].holder, got[e1].client_ip, got[e1].note) == ("eve", "10.9.2.3", None)
    # finn has two clients, but only one holds a lock on this file: the join picks it
    assert (got[f1].holder, got[f1].client_ip, got[f1].note) == ("finn", "10.9.2.4", None)
    for loc in (d1, d2):  # dana holds two handles from two clients: say so, don't guess
        assert got[loc].holder == "dana" and got[loc].client_ip is None
        assert "2 clients (10.9.2.1, 10.9.2.2)" in (got[loc].note or "")
    # the writer comes first
    [group] = svc.search(parse_query(path)).files
    assert group.rows[0].writes


def test_ip_search_with_a_user_on_two_clients(sim: Any, svc: LockService) -> None:
    here = sim.state.add_handle("/cad/a.dwg", user="gil", client_ip="10.9.3.1")
    there = sim.state.add_handle("/cad/b.dwg", user="gil", client_ip="10.9.3.2")
    got = rows(svc.search(parse_query("ip:10.9.3.1")))
    assert here in got and there not in got
    assert got[here].client_ip == "10.9.3.1"


@pytest.mark.parametrize("query", ["xlsx", "ip:{ip}", "user:{user}"])
def test_churn_between_pages_never_misplaces_a_row(query: str) -> None:
    with start_simulator(port=0, handles=3000, seed=5) as sim:
        real = truth(sim)
        any_t = next(iter(real.values()))
        text = query.format(ip=any_t.ip, user=any_t.user)
        sim.state.set_churn(remove_per_page=25, add_per_page=25)
        client, svc = service_for(sim, page_limit=100)
        with client, svc:
            result = svc.search(parse_query(text))
        assert sim.state.churned["removed"] > 0 and sim.state.churned["added"] > 0
        locations = [r.ref.location for f in result.files for r in f.rows]
        assert len(locations) == len(set(locations))
        for group in result.files:
            for row in group.rows:
                # the file's real path (files are never renamed here), whether or not the handle survived
                f = sim.state.file_by_ref(row.ref.file_number)
                assert f is not None and row.ref.path == group.path == f.path
                h = sim.state.handle_by_location(row.ref.location)
                if h is not None and row.client_ip is not None:
                    assert sim.state.sessions[h.session].originator == row.client_ip


def test_sessions_unreadable_degrades(sim: Any) -> None:
    token = sim.mint_token("no-sessions", ALL_BUT - {"SMB_SESSION_READ"})
    solo = sim.state.add_handle("/home/solo/notes.txt", user="hana", client_ip="10.9.4.1")
    client, svc = service_for(sim, token=token)
    with client, svc:
        result = svc.search(parse_query("/home/solo/notes.txt"))
        assert SESSIONS_UNREADABLE in result.notes
        row = rows(result)[solo]
        # one owner on the file: its grant gives the client; name from identity/find; idle unknown
        assert (row.holder, row.client_ip, row.session_idle_s) == ("hana", "10.9.4.1", None)
        assert svc.search(parse_query("xlsx")).files  # fragments still work
        with pytest.raises(QumuloPermissionError) as info:
            svc.search(parse_query("user:hana"))
        assert info.value.missing_privileges == ("PRIVILEGE_SMB_SESSION_READ",)
        ip_result = svc.search(parse_query("ip:10.9.4.1"))  # files this client locks, client unknown
        assert solo in rows(ip_result)


def test_dns_refused(sim_ro: Any) -> None:
    token = sim_ro.mint_token("no-dns", ALL_BUT - {"DNS_USE"})
    client, svc = service_for(sim_ro, token=token)
    with client, svc:
        result = svc.search(parse_query("xlsx"))
        assert DNS_UNAVAILABLE in result.notes
        assert all(r.client_host is None for r in rows(result).values())
        assert any(r.client_ip for r in rows(result).values())
        with pytest.raises(QumuloPermissionError) as info:
            svc.search(parse_query("host:anything"))
        assert info.value.missing_privileges == ("PRIVILEGE_DNS_USE",)
        assert "ip:" in str(info.value)


def test_shares_unreadable(sim_ro: Any) -> None:
    token = sim_ro.mint_token("no-shares", ALL_BUT - {"SMB_SHARE_READ"})
    client, svc = service_for(sim_ro, token=token)
    with client, svc:
        result = svc.search(parse_query("xlsx"))
        assert SHARES_UNREADABLE in result.notes and result.files
        assert all(f.share is None for f in result.files)
        with pytest.raises(QumuloPermissionError):
            svc.search(parse_query("\\\\lab\\Finance\\x.xlsx"))


@pytest.mark.parametrize("missing", ["SMB_FILE_HANDLE_READ", "FS_LOCK_READ"])
def test_required_privileges_propagate(sim_ro: Any, missing: str) -> None:
    token = sim_ro.mint_token(f"no-{missing.lower()}", ALL_BUT - {missing})
    client, svc = service_for(sim_ro, token=token)
    with client, svc, pytest.raises(QumuloPermissionError) as info:
        svc.search(parse_query("xlsx"))
    assert f"PRIVILEGE_{missing}" in info.value.missing_privileges


def test_identity_refused_falls_back_to_auth_ids(sim: Any, client: QumuloClient) -> None:
    token = sim.mint_token("no-ident", ALL_BUT - {"SMB_SESSION_READ", "IDENTITY_READ"})
    loc = sim.state.add_handle("/home/x/y.txt", user="ivo", client_ip="10.9.5.1")
    client2, svc = service_for(sim, token=token)
    with client2, svc:
        result = svc.search(parse_query("/home/x/y.txt"))
    row = rows(result)[loc]
    assert row.holder == row.ref.owner and row.holder.isdigit()
    assert any("PRIVILEGE_IDENTITY_READ" in n for n in result.notes)
