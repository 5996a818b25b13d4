"""Who holds each handle (#12 item 8): location linkage detected per cluster, address forms, proven ip:/user:
results; and folder handles (item 7). Live tests run under every simulator behaviour they depend on."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qlocks_tools.simulator import start_simulator

from bot.locks.linkage import (
    AGREEMENT,
    MIN_LINKED,
    Linkage,
    address_forms,
    index_locations,
    measure,
    normalize_address,
    session_of,
)
from bot.locks.models import SearchResult
from bot.locks.query import parse_query
from bot.locks.report import format_text
from bot.qumulo.models import FileHandle, SmbSession
from bot.slack.blocks import search_message
from tests.locks.conftest import Truth, service_for, truth

# -- addresses ------------------------------------------------------------------------------------


@given(st.ip_addresses(v=4))
def test_ipv4_in_every_spelling_is_one_address(ip: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{ip}")
    for form in (
        str(ip),
        f"::ffff:{ip}",
        mapped.exploded,
        mapped.exploded.upper(),
        f"[::ffff:{ip}]",
        f" {ip} ",
    ):
        assert normalize_address(form) == str(ip)
    assert {normalize_address(f) for f in address_forms(f"::ffff:{ip}")} == {str(ip)}


@given(st.ip_addresses(v=6).filter(lambda a: a.ipv4_mapped is None))
def test_ipv6_in_every_spelling_is_one_address(ip: ipaddress.IPv6Address) -> None:
    for form in (str(ip), ip.exploded, ip.exploded.upper(), f"[{ip}]", f"{ip}%eth0"):
        assert normalize_address(form) == str(ip)
    assert ip.exploded in address_forms(str(ip))


def test_not_an_address_is_kept() -> None:
    assert normalize_address(" Laptop-42 ") == "laptop-42"


# -- linkage evidence -----------------------------------------------------------------------------


def _session(location: str, auth_id: str, ip: str = "10.0.0.1") -> SmbSession:
    return SmbSession(
        location=location, originator=ip, server_address="10.9.0.1", auth_id=auth_id, user_name="u"
    )


def _handle(location: str, owner: str) -> FileHandle:
    return FileHandle(file_number="7", location=location, owner=owner)


def test_longest_dotted_prefix_names_the_session() -> None:
    index = index_locations([_session("4", "1"), _session("4.123", "2")])
    assert session_of("4.123.77", index) == index["4.123"]
    assert session_of("4.1234.77", index) == index["4"]  # "4.123" is not a dotted prefix of "4.1234"
    assert session_of("4.123", index) == index["4"]  # a session's own location is not its handle
    assert session_of("5.123.1", index) is None


def test_a_location_two_sessions_share_is_ambiguous() -> None:
    index = index_locations([_session("4.1", "1"), _session("4.1", "2")])
    assert index == {}


@pytest.mark.parametrize(
    ("linked", "agreed", "trusted", "contradicted"),
    [
        (MIN_LINKED - 1, MIN_LINKED - 1, False, False),  # too few to judge, however well they agree
        (MIN_LINKED, MIN_LINKED, True, False),
        (100, 99, True, False),  # 1 % slack for churn
        (100, 98, False, True),
        (1000, 500, False, True),
    ],
)
def test_thresholds(linked: int, agreed: int, trusted: bool, contradicted: bool) -> None:
    got = Linkage(linked, agreed, linked)
    assert (got.trusted, got.contradicted) == (trusted, contradicted)
    assert AGREEMENT == 0.99


def test_measure_counts_agreement_with_the_owner() -> None:
    index = index_locations([_session("1.5", "100"), _session("1.6", "200")])
    handles = [
        _handle("1.5.1", "100"),
        _handle("1.5.2", "200"),
        _handle("1.6.3", "200"),
        _handle("9.9.9", "100"),
    ]
    assert measure(handles, index) == Linkage(linked=3, agreed=2, measured=4)


# -- live: every simulator behaviour --------------------------------------------------------------

STYLES = ("opaque", "extends", "shuffled")


@pytest.fixture(
    params=[(s, a) for s in STYLES for a in ("ipv4", "mapped", "ipv6")], ids=lambda p: "-".join(p)
)
def styled(request: pytest.FixtureRequest) -> Iterator[Any]:
    location_style, addresses = request.param
    sim = start_simulator(port=0, handles=400, seed=7, handle_locations=location_style, addresses=addresses)
    try:
        yield sim
    finally:
        sim.stop()


def _rows(result: SearchResult) -> list[Any]:
    return [r for g in result.files for r in g.rows]


def _ip(t: Truth) -> str:
    return normalize_address(t.ip)


def test_rows_name_the_true_client_and_exact_linkage_names_all(styled: Any) -> None:
    real = truth(styled)
    client, svc = service_for(styled)
    with client, svc:
        result = svc.search(parse_query("/finance"))  # a folder: every handle under it (a scan)
        rows = _rows(result)
        assert len(rows) > 40
        for row in rows:  # never a wrong client, whatever the cluster does
            if row.client_ip is not None:
                assert row.client_ip == _ip(real[row.ref.location]), row
                assert row.evidence is not None
            else:
                assert row.evidence is None and row.note and row.note.startswith("client unknown")
        named = sum(r.client_ip is not None for r in rows) / len(rows)
        style = styled.state.handle_locations
        contradicted = any("look like extensions of session locations" in n for n in result.notes)
        if style == "extends":
            assert named == 1.0 and all(r.evidence == "session" for r in rows)
            assert svc.directory.linkage().trusted
        else:  # fallback: some holders have several clients and stay unnamed
            assert named < 1.0 and not any(r.evidence == "session" for r in rows)
            assert not svc.directory.linkage().trusted
            assert contradicted == (style == "shuffled")


def test_exact_lookup_on_a_fresh_service_uses_the_probe(styled: Any) -> None:
    real = truth(styled)
    # alex holds /projects/apollo/report.xlsx from his workstation and his laptop: only linkage tells them apart
    path = "/projects/apollo/report.xlsx"
    client, svc = service_for(styled)
    with client, svc:
        rows = _rows(svc.search(parse_query(path)))
    assert len(rows) == 2 and {r.holder for r in rows} == {"alex"}
    if styled.state.handle_locations == "extends":
        assert [r.client_ip for r in rows] == [_ip(real[r.ref.location]) for r in rows]
        assert len({r.client_ip for r in rows}) == 2
    else:
        assert all(r.client_ip is None for r in rows)


def _busiest_ip(real: dict[str, Truth]) -> str:
    counts: dict[str, int] = {}
    for t in real.values():
        counts[_ip(t)] = counts.get(_ip(t), 0) + 1
    return max(sorted(counts), key=counts.__getitem__)


def test_ip_search_lists_only_proven_handles_apart_from_possibly(styled: Any) -> None:
    real = truth(styled)
    ip = _busiest_ip(real)
    client, svc = service_for(styled)
    with client, svc:
        result = svc.search(parse_query(f"ip:{ip}"))
    rows = _rows(result)
    proven = [r for r in rows if not r.possibly]
    possibly = [r for r in rows if r.possibly]
    assert proven and all(r.client_ip == ip and _ip(real[r.ref.location]) == ip for r in proven)
    assert all(r.client_ip is None for r in possibly)
    for g in result.files:  # set apart: a file's proven rows come first
        flags = [r.possibly for r in g.rows]
        assert flags == sorted(flags)
    held = {loc for loc, t in real.items() if _ip(t) == ip}
    assert {r.ref.location for r in rows} >= held  # nothing held from there is missing
    if styled.state.handle_locations == "extends":
        assert not possibly and {r.ref.location for r in proven} == held  # exactly what that client holds
    text = format_text(result)
    assert ("possibly (the cluster does not say" in text) == bool(possibly)


def test_user_search_lists_only_that_users_handles(styled: Any) -> None:
    real = truth(styled)
    client, svc = service_for(styled)
    with client, svc:
        rows = _rows(svc.search(parse_query("user:dana")))
    assert rows and all(real[r.ref.location].user == "dana" and not r.possibly for r in rows)
    assert {r.ref.location for r in rows} == {loc for loc, t in real.items() if t.user == "dana"}


def test_an_ipv4_mapped_query_finds_the_plain_client() -> None:
    sim = start_simulator(port=0, handles=300, seed=1, addresses="mapped", handle_locations="extends")
    try:
        real = truth(sim)
        ip = _busiest_ip(real)
        client, svc = service_for(sim)
        with client, svc:
            rows = _rows(svc.search(parse_query(f"ip:::ffff:{ip}")))
        assert rows and all(r.client_ip == ip for r in rows)
        assert any(r.share_mode for r in rows)  # the grants, written ::ffff:, were found and joined
    finally:
        sim.stop()


# -- folder handles (item 7) ----------------------------------------------------------------------


@pytest.mark.parametrize("style", ["opaque", "extends"])
def test_folders_come_after_files_and_never_crowd_them_out(style: str) -> None:
    sim = start_simulator(port=0, handles=0, seed=1, handle_locations=style)
    try:
        state = sim.state
        files = [state.add_handle(f"/finance/budgets/budget {i}.xlsx", user=f"u{i % 3}") for i in range(12)]
        folders = [
            state.add_handle("/finance/budgets", user=f"w{i}", client_ip=f"10.9.9.{i + 1}", folder=True)
            for i in range(60)
        ]
        client, svc = service_for(sim, max_rows=10)
        with client, svc:
            result = svc.search(parse_query("budget"))
        file_rows = [r for g in result.files if not g.folder for r in g.rows]
        folder_groups = [g for g in result.files if g.folder]
        assert len(file_rows) == 10 and result.omitted_handles == 2  # the cap counts files only
        assert [g.path for g in folder_groups] == ["/finance/budgets/"]
        assert result.files[-1].folder and not any(g.folder for g in result.files[:-1])
        assert result.folder_handles == 50 and result.omitted_folder_handles == 10  # their own cap
        assert result.matched_handles == 12  # folders never make a query "too broad"
        assert {r.ref.location for r in folder_groups[0].rows} <= set(folders)
        assert all(r.ref.location in files for r in file_rows)
        assert all("list" in r.access for r in folder_groups[0].rows)
        text = format_text(result)
        assert "[folder " in text and "50 on 1 folder(s)" in text
        page = search_message(dataclasses.replace(result), searcher="U1", offset=0, now=result.as_of)
        assert "📄" in str(page.blocks)
    finally:
        sim.stop()


def test_generated_folder_handles_are_folders(styled_folders: Any) -> None:
    client, svc = service_for(styled_folders)
    with client, svc:
        result = svc.search(parse_query("/projects"))
    folder_groups = [g for g in result.files if g.folder]
    assert folder_groups and all(g.path.endswith("/") for g in folder_groups)
    ordered = [g.folder for g in result.files]
    assert ordered == sorted(ordered)
    last_page = search_message(result, searcher="U1", offset=result.total_handles - 1, now=result.as_of)
    assert "📁 Folder" in str(last_page.blocks)


@pytest.fixture
def styled_folders() -> Iterator[Any]:
    sim = start_simulator(port=0, handles=400, seed=7, folders=0.1)
    try:
        yield sim
    finally:
        sim.stop()
