"""LockService.search end to end: real client, real simulator on loopback; checked against simulator state."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from qlocks_tools.simulator import start_simulator

from bot.locks.join import access_names
from bot.locks.models import QueryKind, SearchResult
from bot.locks.query import QueryError, parse_query
from bot.locks.service import LockService
from bot.qumulo.client import QumuloClient
from tests.locks.conftest import FakeClock, Truth, service_for, truth


def rows(result: SearchResult) -> dict[str, Any]:
    return {r.ref.location: r for f in result.files for r in f.rows}


def assert_rows_true(result: SearchResult, real: dict[str, Truth]) -> None:
    """Every row shows its handle under the right path and, when it names a client, the right one."""
    for group in result.files:
        for row in group.rows:
            t = real[row.ref.location]
            assert (row.ref.path, group.path, row.ref.file_number, group.file_number) == (
                t.path,
                t.path,
                t.file_number,
                t.file_number,
            )
            assert row.ref.owner == t.owner and row.holder == t.user
            assert row.access == access_names(t.access)
            if row.client_ip is not None:
                assert row.client_ip == t.ip and row.node == t.node
            else:
                assert row.note  # never silently blank


def file_with(real: dict[str, Truth], *, min_handles: int = 1) -> str:
    per_file = Counter(t.path for t in real.values())
    return next(p for p, n in sorted(per_file.items()) if n >= min_handles and p.startswith("/finance/"))


# -- exact paths -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        "{fs}",
        "\\\\lab\\{share}{rel_bs}",
        "//lab/{share}{rel}",
        "smb://lab/{share}{rel_q}",
        "\\\\LAB\\{share_lower}{rel_bs}",
    ],
)
def test_every_full_path_form_finds_the_same_handles(sim_ro: Any, ro_svc: LockService, form: str) -> None:
    import urllib.parse

    real = truth(sim_ro)
    fs = file_with(real, min_handles=2)
    rel = fs.removeprefix("/finance")
    text = form.format(
        fs=fs,
        share="Finance",
        share_lower="finance",
        rel=rel,
        rel_bs=rel.replace("/", "\\"),
        rel_q=urllib.parse.quote(rel),
    )
    result = ro_svc.search(parse_query(text))
    assert result.exact and not result.no_such_file and result.resolved_path == fs
    [group] = result.files
    assert (group.path, group.share, group.share_path) == (fs, "Finance", rel)
    assert set(rows(result)) == {loc for loc, t in real.items() if t.path == fs}
    assert_rows_true(result, real)


def test_nested_share_wins(sim: Any, svc: LockService) -> None:
    sim.state.add_handle("/finance/2026/Q3/close.xlsx", user="dana", client_ip="10.9.0.1")
    result = svc.search(parse_query("\\\\lab\\q3-close\\close.xlsx"))
    [group] = result.files
    assert (group.path, group.share, group.share_path) == (
        "/finance/2026/Q3/close.xlsx",
        "Q3-Close",
        "/close.xlsx",
    )


def test_no_such_file_and_unknown_share(sim_ro: Any, ro_svc: LockService, ro_client: QumuloClient) -> None:
    ro_client.stats.reset()
    result = ro_svc.search(parse_query("/finance/2026/does-not-exist.xlsx"))
    assert result.no_such_file and result.exact and result.files == ()
    assert ro_client.stats.by_endpoint["/v1/smb/files/"] == 0
    result = ro_svc.search(parse_query("\\\\lab\\Finance\\nope\\x.xlsx"))
    assert result.no_such_file and result.resolved_path == "/finance/nope/x.xlsx"
    ro_client.stats.reset()
    with pytest.raises(QueryError, match=r"no SMB share named \"Nope\".*Finance"):
        ro_svc.search(parse_query("\\\\lab\\Nope\\x.xlsx"))
    assert (
        ro_client.stats.by_endpoint["/v3/smb/shares/"] == 1
    )  # the cached list is re-read once, then refused


def test_a_share_created_after_the_list_was_cached(sim: Any, svc: LockService) -> None:
    from qlocks_tools.simulator.records import share_json

    svc.search(parse_query("/finance/warm-up-no-such-file"))  # share list cached
    sim.state.shares.append(share_json(98, "Late", "/projects/late", "created after the first search"))
    sim.state.add_handle("/projects/late/x.txt", user="dana", client_ip="10.9.0.8")
    [group] = svc.search(parse_query("\\\\lab\\late\\x.txt")).files
    assert (group.path, group.share) == ("/projects/late/x.txt", "Late")


def test_a_file_nobody_has_open(sim: Any, svc: LockService) -> None:
    loc = sim.state.add_handle("/finance/quiet.txt", user="dana")
    assert sim.state.close_handle(loc) == ""
    result = svc.search(parse_query("/finance/quiet.txt"))
    assert result.exact and not result.no_such_file and result.files == ()


def test_a_directory_lists_everything_under_it(sim_ro: Any, ro_svc: LockService) -> None:
    real = truth(sim_ro)
    result = ro_svc.search(parse_query("\\\\lab\\Finance\\2026"))
    assert not result.exact and result.resolved_path == "/finance/2026"
    assert any("is a folder" in n for n in result.notes)
    assert set(rows(result)) == {loc for loc, t in real.items() if t.path.startswith("/finance/2026/")}
    assert_rows_true(result, real)


@pytest.fixture(scope="module")
def sized_sims() -> Iterator[dict[int, tuple[Any, str, set[str], int]]]:
    """Read-only simulators of 300 and 30k handles, each with a multi-handle file: (sim, path, locations, owners)."""
    sims = {}
    try:
        for n in (300, 30_000):
            sim = start_simulator(port=0, handles=n, seed=3)
            real = truth(sim)
            fs = file_with(real, min_handles=2)
            mine = [t for t in real.values() if t.path == fs]
            sims[n] = (sim, fs, {t.location for t in mine}, len({t.owner for t in mine}))
        yield sims
    finally:
        for sim, *_ in sims.values():
            sim.stop()


def _exact_requests(entry: tuple[Any, str, set[str], int], *, warm: bool) -> Counter[str]:
    sim, fs, locations, _ = entry
    client, svc = service_for(sim)
    with client, svc:
        if warm:
            svc.search(parse_query("/finance/no-such-file"))  # warms the share list
            svc.directory.all_sessions()  # and the session snapshot (as a recent scan would have)
            svc.directory.probe_linkage()  # and what handle locations mean on this cluster
        client.stats.reset()
        sim.state.reset_request_log()
        result = svc.search(parse_query(fs))
        assert {r.ref.location for f in result.files for r in f.rows} == locations
        # never the whole handle table: every handle listing carried the file_number filter, except (cold) the
        # linkage probe's one page
        handle_calls = [p for m, p in sim.state.request_log if p.startswith("/v1/smb/files/")]
        narrow = [p for p in handle_calls if "file_number=" in p]
        probe = [p for p in handle_calls if "file_number=" not in p]
        assert len(narrow) == 1 and len(probe) == (0 if warm else 1)
        assert all("resolve_paths=False" in p and "after=" not in p for p in probe)
        counts = client.stats.by_endpoint
        if not warm:  # the probe: one page of handles, one of sessions, concurrently with the lookups
            counts["/v1/smb/files/"] -= 1
            counts["/v1/smb/sessions/"] -= 1
        return counts


@pytest.mark.parametrize("warm", [False, True])
def test_exact_path_costs_the_same_at_300_and_30k_handles(
    sized_sims: dict[int, tuple[Any, str, set[str], int]], warm: bool
) -> None:
    small, large = _exact_requests(sized_sims[300], warm=warm), _exact_requests(sized_sims[30_000], warm=warm)
    for counts, n in ((small, 300), (large, 30_000)):
        owners = sized_sims[n][3]
        assert counts["/v1/files/{ref}/info/attributes"] == 1
        assert counts["/v1/smb/files/"] == 1
        assert counts["/v1/files/{ref}/locks/smb/share-mode/"] == 1
        assert counts["/v1/files/locks/smb/share-mode/"] == 0
        assert counts["/v1/smb/sessions/"] == (0 if warm else owners)  # identity=auth_id:<id>, one each
        assert counts["/v1/identity/find"] == 0  # names come from the sessions
        assert counts["/v3/smb/shares/"] == (0 if warm else 1)
        assert counts["/v1/dns/resolve-ips-to-names"] <= 1
        assert sum(counts.values()) <= 5 + owners
    if warm:
        assert sum(small.values()) == sum(large.values()) <= 4


def test_repeated_search_is_served_from_the_cache(sim: Any, client: QumuloClient, clock: FakeClock) -> None:
    real = truth(sim)
    fs = file_with(real)
    with LockService(client, cluster_name="lab", clock=clock, cache_ttl_s=10) as svc:
        first = svc.search(parse_query(fs))
        client.stats.reset()
        assert svc.search(parse_query(fs)) is first
        lower = svc.search(parse_query("budget"))
        before = client.stats.requests
        # fragments are case-insensitive: one cache entry, no new requests
        upper = svc.search(parse_query("BUDGET"))
        assert client.stats.requests == before and upper.files is lower.files
        before = client.stats.requests
        clock.now += 10.0  # TTL over: fetched again
        again = svc.search(parse_query(fs))
        assert again is not first and client.stats.requests > before
        shares_reads = client.stats.by_endpoint["/v3/smb/shares/"]
        svc.invalidate()  # what a close does: results and sessions, not the share list
        svc.search(parse_query(fs))
        assert client.stats.by_endpoint["/v3/smb/shares/"] == shares_reads
        svc.invalidate(everything=True)
        svc.search(parse_query(fs))
        assert client.stats.by_endpoint["/v3/smb/shares/"] == shares_reads + 1


def test_a_cached_answer_quotes_what_this_caller_typed(sim: Any, client: QumuloClient) -> None:
    """Regression: a cache hit returned the first caller's query, so Slack's header and byline quoted another
    person's text (``REPORT.XLSX`` answered as ``report.xlsx``; a UNC path answered as someone's smb:// URL)."""
    real = truth(sim)
    fs = file_with(real)
    rel = fs[len("/finance") :]  # file_with picks a file under the Finance share
    with LockService(client, cluster_name="lab", cache_ttl_s=60) as svc:
        first = svc.search(parse_query("budget"))
        client.stats.reset()
        second = svc.search(parse_query("BUDGET"))
        assert (first.query.text, second.query.text) == ("budget", "BUDGET")
        unc = "\\\\lab\\Finance" + rel.replace("/", "\\")
        url = "smb://lab/Finance" + rel
        by_unc, by_url = svc.search(parse_query(unc)), svc.search(parse_query(url))
        assert by_url.files == by_unc.files and by_url.as_of == by_unc.as_of  # one entry for both spellings
        assert (by_unc.query.text, by_url.query.text) == (unc, url)
        assert client.stats.by_endpoint["/v1/smb/files/"] <= 1  # the second spelling of each was a cache hit


def test_burst_of_identical_searches_shares_one_fetch(sim: Any, client: QumuloClient) -> None:
    sim.state.latency_s = 0.02  # keep the first fetch in flight while the others arrive
    with LockService(client, cluster_name="lab") as svc:
        svc.search(parse_query("/finance/warm-up-no-such-file"))  # shares cached
        client.stats.reset()
        start = threading.Barrier(8)

        def one() -> SearchResult:
            start.wait(5)
            return svc.search(parse_query("xlsx"))

        with ThreadPoolExecutor(8) as pool:
            results = [f.result(30) for f in [pool.submit(one) for _ in range(8)]]
    assert all(r is results[0] for r in results)
    assert client.stats.by_endpoint["/v1/smb/files/"] == 1  # one scan (300 handles = one page) for 8 callers


# -- full listings ---------------------------------------------------------------------------------


def test_fragment_matches_case_insensitively_and_reports_progress(sim_ro: Any, ro_svc: LockService) -> None:
    real = truth(sim_ro)
    seen: list[int] = []
    result = ro_svc.search(parse_query("XLSX"), progress=seen.append)
    assert result.query.kind is QueryKind.FRAGMENT and not result.exact
    assert set(rows(result)) == {loc for loc, t in real.items() if "xlsx" in t.path.lower()}
    assert result.scanned_handles == len(real) and seen and seen[-1] == len(real)
    assert_rows_true(result, real)
    paths = [f.path.casefold() for f in result.files]
    assert paths == sorted(paths)


def test_fragment_by_share_name(sim: Any, svc: LockService) -> None:
    from qlocks_tools.simulator.records import share_json

    sim.state.shares.append(
        share_json(99, "Studio", "/media/studio-2026", "a share whose name is not in the path")
    )
    sim.state.add_handle("/media/studio-2026/cut/final.mov", user="dana", client_ip="10.9.0.7")
    result = svc.search(parse_query("Studio\\cut"))
    assert [f.path for f in result.files] == ["/media/studio-2026/cut/final.mov"]


def test_fragment_paging_progress_and_counts(sim: Any, client: QumuloClient) -> None:
    real = truth(sim)
    with LockService(client, cluster_name="lab", page_limit=50) as svc:
        client.stats.reset()
        seen: list[int] = []
        result = svc.search(parse_query("budget"), progress=seen.append)
    pages = -(-len(real) // 50)
    assert seen == [min(50 * (i + 1), len(real)) for i in range(pages)]
    assert client.stats.by_endpoint["/v1/smb/files/"] == pages
    assert set(rows(result)) == {loc for loc, t in real.items() if "budget" in t.path.lower()}
    files = {f.file_number for f in result.files}
    # grants only for what matched: per file when few, never the full grant listing on top
    assert client.stats.by_endpoint["/v1/files/{ref}/locks/smb/share-mode/"] + client.stats.by_endpoint[
        "/v1/files/locks/smb/share-mode/"
    ] <= max(len(files), pages)


def test_row_cap_counts_the_rest(sim_ro: Any, ro_client: QumuloClient) -> None:
    real = truth(sim_ro)
    matching = sum(1 for t in real.values() if "xlsx" in t.path.lower())
    assert matching > 10
    with LockService(ro_client, cluster_name="lab", max_rows=10) as svc:
        result = svc.search(parse_query("xlsx"))
    assert result.total_handles == 10
    assert result.omitted_handles == matching - 10 and result.matched_handles == matching


def test_ip(sim_ro: Any, ro_svc: LockService) -> None:
    real = truth(sim_ro)
    ip = Counter(t.ip for t in real.values()).most_common(1)[0][0]
    result = ro_svc.search(parse_query(f"ip:{ip}"))
    expected = {loc for loc, t in real.items() if t.ip == ip}
    got = rows(result)
    # every handle from that client is listed; rows placed on another client are never listed
    assert expected <= set(got)
    assert all(r.client_ip in (ip, None) for r in got.values())
    assert all(real[loc].ip == ip for loc, r in got.items() if r.client_ip == ip)
    assert_rows_true(result, real)


def test_user(sim_ro: Any, ro_svc: LockService) -> None:
    real = truth(sim_ro)
    user = Counter(t.user for t in real.values()).most_common(1)[0][0]
    result = ro_svc.search(parse_query(f"user:CORP\\{user.upper()}"))
    assert set(rows(result)) == {loc for loc, t in real.items() if t.user == user}
    assert_rows_true(result, real)
    empty = ro_svc.search(parse_query(f"user:{user[:3]}zzz"))
    assert empty.files == () and any("no SMB session" in n for n in empty.notes)


def test_host(sim_ro: Any, ro_svc: LockService) -> None:
    real = truth(sim_ro)
    named = {ip: n for ip, n in sim_ro.state.hostnames.items() if any(t.ip == ip for t in real.values())}
    ip, name = sorted(named.items())[0]
    short = name.split(".")[0].lower()
    result = ro_svc.search(parse_query(f"host:{short}"))
    expected = {loc for loc, t in real.items() if t.ip == ip}
    assert expected <= set(rows(result))
    assert all(r.client_ip in (ip, None) for r in rows(result).values())
    assert all(r.client_host == name for r in rows(result).values() if r.client_ip)
    assert_rows_true(result, real)
    none = ro_svc.search(parse_query("host:no-such-laptop"))
    assert none.files == () and any("no connected SMB client is named" in n for n in none.notes)


def test_identity_lookups_are_per_distinct_owner_and_cached(sim: Any) -> None:
    # without SMB_SESSION_READ names must come from identity/find: once per distinct owner, then cached
    token = sim.mint_token(
        "svc-nosess", ["SMB_FILE_HANDLE_READ", "FS_LOCK_READ", "IDENTITY_READ", "SMB_SHARE_READ"]
    )
    real = truth(sim)
    client, svc = service_for(sim, token=token)
    with client, svc:
        result = svc.search(parse_query("xlsx"))
        found = rows(result)
        owners = {r.ref.owner for r in found.values()}
        assert len(found) > 2 * len(owners)  # more rows than owners: one call per owner, not per row
        assert client.stats.by_endpoint["/v1/identity/find"] == len(owners)
        assert all(r.holder == real[loc].user for loc, r in found.items())
        svc.invalidate()
        svc.search(parse_query("xlsx"))
        assert client.stats.by_endpoint["/v1/identity/find"] == len(owners)  # cached across searches
