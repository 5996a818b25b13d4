"""The pure join: each row names the holder of *that* handle; ambiguity is a note, never a guess."""

from __future__ import annotations

from bot.locks.join import (
    JoinContext,
    access_names,
    build_groups,
    culprit_key,
    index_grants,
    index_sessions,
    share_mode_names,
)
from bot.locks.models import FileGroup, LockRow
from bot.locks.shares import ShareMap
from bot.qumulo.models import FileHandle, ShareModeGrant, SmbSession, SmbShare

W = ("MS_ACCESS_FILE_READ_DATA", "MS_ACCESS_FILE_WRITE_DATA", "MS_ACCESS_SYNCHRONIZE")
R = ("MS_ACCESS_FILE_READ_DATA", "MS_ACCESS_SYNCHRONIZE")
PREVIEW = ("MS_ACCESS_FILE_READ_ATTRIBUTES",)
MODE_W = ("API_SHARE_MODE_READ", "API_SHARE_MODE_WRITE", "API_SHARE_MODE_EXCLUDE_WRITE")
MODE_R = ("API_SHARE_MODE_READ",)


def handle(
    loc: str, owner: str, file: str = "100", path: str | None = "/finance/a.xlsx", mask: tuple[str, ...] = W
) -> FileHandle:
    return FileHandle(file_number=file, location=loc, owner=owner, access_mask=tuple(mask), path=path)


def grant(
    ip: str, file: str = "100", mode: tuple[str, ...] = MODE_W, node: str = "10.20.0.11"
) -> ShareModeGrant:
    return ShareModeGrant(
        file_id=file, owner_id=f"o-{ip}", mode=tuple(mode), owner_address=ip, node_address=node
    )


def session(
    auth: str, name: str, ip: str, idle: float | None = 60.0, node: str = "10.20.0.11", loc: str = ""
) -> SmbSession:
    return SmbSession(
        location=loc or f"s-{auth}-{ip}",
        originator=ip,
        server_address=node,
        auth_id=auth,
        user_name=name,
        time_open_s=3600.0,
        time_idle_s=idle,
    )


def ctx(*sessions: SmbSession, known: bool = True, **kw) -> JoinContext:  # type: ignore[no-untyped-def]
    return JoinContext(sessions_by_owner=index_sessions(sessions), sessions_known=known, **kw)


def rows_by_loc(groups: list[FileGroup]) -> dict[str, LockRow]:
    return {r.ref.location: r for g in groups for r in g.rows}


def test_single_holder_gets_everything() -> None:
    groups = build_groups(
        [handle("h1", "1001")],
        index_grants([grant("10.0.0.5")]),
        ctx(
            session("1001", "dana", "10.0.0.5", idle=120, node="10.20.0.12"),
            hostnames={"10.0.0.5": "DANA-PC"},
        ),
    )
    [group] = groups
    [row] = group.rows
    assert (row.holder, row.client_ip, row.client_host, row.node) == (
        "dana",
        "10.0.0.5",
        "DANA-PC",
        "10.20.0.12",
    )
    assert row.access == ("read", "write") and row.writes
    assert row.share_mode == ("read", "write", "exclude-write")
    assert (row.session_open_s, row.session_idle_s, row.note) == (3600.0, 120, None)
    assert (row.ref.location, row.ref.file_number, row.ref.owner, row.ref.path) == (
        "h1",
        "100",
        "1001",
        "/finance/a.xlsx",
    )


def test_two_users_two_clients_each_row_names_its_own_holder() -> None:
    handles = [handle("h-dana", "1001", mask=W), handle("h-eve", "1002", mask=R)]
    grants = index_grants([grant("10.0.0.6", mode=MODE_R, node="n2"), grant("10.0.0.5", node="n1")])
    c = ctx(session("1001", "dana", "10.0.0.5", node="n1"), session("1002", "eve", "10.0.0.6", node="n2"))
    rows = rows_by_loc(build_groups(handles, grants, c))
    assert (rows["h-dana"].holder, rows["h-dana"].client_ip, rows["h-dana"].node) == (
        "dana",
        "10.0.0.5",
        "n1",
    )
    assert rows["h-dana"].share_mode == ("read", "write", "exclude-write")
    assert (rows["h-eve"].holder, rows["h-eve"].client_ip, rows["h-eve"].node) == ("eve", "10.0.0.6", "n2")
    assert rows["h-eve"].share_mode == ("read",)


def test_user_with_two_clients_is_disambiguated_by_the_files_grants() -> None:
    # dana is logged in from a laptop and a desktop, but only the desktop has this file open
    c = ctx(session("1001", "dana", "10.0.0.5", idle=5), session("1001", "dana", "10.0.0.9", idle=900))
    [group] = build_groups([handle("h1", "1001")], index_grants([grant("10.0.0.9")]), c)
    [row] = group.rows
    assert (row.client_ip, row.session_idle_s, row.note) == ("10.0.0.9", 900, None)


def test_same_user_same_file_from_two_clients_is_ambiguous() -> None:
    c = ctx(session("1001", "dana", "10.0.0.5"), session("1001", "dana", "10.0.0.9"))
    grants = index_grants([grant("10.0.0.5"), grant("10.0.0.9", mode=MODE_R)])
    groups = build_groups([handle("h1", "1001"), handle("h2", "1001", mask=R)], grants, c)
    for row in groups[0].rows:
        assert row.client_ip is None and row.session_idle_s is None and row.share_mode == ()
        assert row.note and "2 clients (10.0.0.5, 10.0.0.9)" in row.note and "ask them" in row.note
        assert row.holder == "dana"


def test_sessions_but_no_grant_falls_back_to_the_single_session() -> None:
    [group] = build_groups([handle("h1", "1001", mask=PREVIEW)], {}, ctx(session("1001", "dana", "10.0.0.5")))
    [row] = group.rows
    assert (row.client_ip, row.share_mode, row.access, row.writes) == ("10.0.0.5", (), ("read-attr",), False)


def test_terminal_server_two_users_one_ip_different_modes() -> None:
    c = ctx(session("1001", "dana", "10.0.0.50"), session("1002", "eve", "10.0.0.50"))
    grants = index_grants([grant("10.0.0.50"), grant("10.0.0.50", mode=MODE_R)])
    rows = rows_by_loc(build_groups([handle("h1", "1001"), handle("h2", "1002", mask=R)], grants, c))
    for row in rows.values():
        assert row.client_ip == "10.0.0.50"
        assert row.share_mode == ()
        assert row.note and "share mode unknown" in row.note and "another handle from 10.0.0.50" in row.note
    assert rows["h1"].holder == "dana" and rows["h2"].holder == "eve"


def test_two_sessions_from_one_client_leave_idle_unknown() -> None:
    c = ctx(session("1001", "dana", "10.0.0.5", loc="a"), session("1001", "dana", "10.0.0.5", loc="b"))
    [group] = build_groups([handle("h1", "1001")], index_grants([grant("10.0.0.5")]), c)
    [row] = group.rows
    assert row.client_ip == "10.0.0.5" and row.session_idle_s is None
    assert row.note == (
        "open/idle time unknown: dana has 2 sessions from 10.0.0.5 and the cluster does not say which one holds "
        "this handle"
    )


def test_without_sessions_a_sole_owner_gets_the_grant_client() -> None:
    [group] = build_groups(
        [handle("h1", "1001"), handle("h2", "1001")],
        index_grants([grant("10.0.0.5"), grant("10.0.0.5")]),
        ctx(known=False, names={"1001": "dana"}),
    )
    assert {(r.holder, r.client_ip, r.note) for r in group.rows} == {("dana", "10.0.0.5", None)}


def test_without_sessions_several_owners_stay_unknown() -> None:
    [group] = build_groups(
        [handle("h1", "1001"), handle("h2", "1002")],
        index_grants([grant("10.0.0.5")]),
        ctx(known=False),
    )
    for row in group.rows:
        assert row.client_ip is None and (row.note or "").startswith(
            "client unknown: the session list is not readable"
        )
        assert row.holder == row.ref.owner  # unresolved: the auth_id


def test_incomplete_file_never_uses_the_sole_owner_shortcut() -> None:
    [group] = build_groups(
        [handle("h1", "1001")], index_grants([grant("10.0.0.7")]), ctx(), complete_files=False
    )
    [row] = group.rows
    assert row.client_ip is None and (row.note or "").startswith(
        "client unknown: no session found for this holder"
    )


def test_paths_come_from_each_handle_and_duplicates_and_pathless_handles_are_handled() -> None:
    handles = [
        handle("h1", "1001", path="/finance/old.xlsx"),
        handle("h1", "1001", path="/finance/old.xlsx"),  # repeated by paging churn
        handle("h2", "1001", path="/finance/new.xlsx"),  # renamed between pages: its own group
        handle("h3", "1001", path=None),  # no path and no fallback: dropped
        handle("h4", "1001", file="200", path=None),  # no path, but the exact lookup knows file 200's path
    ]
    groups = build_groups(
        handles, {}, ctx(session("1001", "dana", "10.0.0.5")), fallback_paths={"200": "/x/y.doc"}
    )
    assert [(g.path, [r.ref.location for r in g.rows]) for g in groups] == [
        ("/finance/new.xlsx", ["h2"]),
        ("/finance/old.xlsx", ["h1"]),
        ("/x/y.doc", ["h4"]),
    ]
    assert all(r.ref.path == g.path for g in groups for r in g.rows)


def test_grants_without_a_handle_make_no_rows() -> None:
    grants = index_grants([grant("10.0.0.5", file="100"), grant("10.0.0.6", file="999")])
    groups = build_groups([handle("h1", "1001")], grants, ctx(session("1001", "dana", "10.0.0.5")))
    assert [g.file_number for g in groups] == ["100"]
    assert len(groups[0].rows) == 1


def test_share_columns() -> None:
    shares = ShareMap([SmbShare("1", "Finance", "/finance")])
    [group] = build_groups([handle("h1", "1001")], {}, ctx(shares=shares))
    assert (group.share, group.share_path) == ("Finance", "/a.xlsx")


def test_culprit_first() -> None:
    c = ctx(
        session("1", "reader-old", "10.0.0.1", idle=99999),
        session("2", "writer-new", "10.0.0.2", idle=10),
        session("3", "writer-old", "10.0.0.3", idle=5000),
        session("4", "excl-reader", "10.0.0.4", idle=1),
        session("5", "writer-unknown", "10.0.0.5"),
    )
    handles = [
        handle("a", "1", mask=R),
        handle("b", "2", mask=W),
        handle("c", "3", mask=W),
        handle("d", "4", mask=R),
        handle("e", "5", mask=("MS_ACCESS_GENERIC_ALL",)),
    ]
    grants = index_grants(
        [
            grant("10.0.0.1", mode=MODE_R),
            grant("10.0.0.2", mode=MODE_R),
            grant("10.0.0.3", mode=MODE_R),
            grant("10.0.0.4", mode=("API_SHARE_MODE_READ", "API_SHARE_MODE_EXCLUDE_WRITE")),
        ]
    )
    c2 = JoinContext(
        sessions_by_owner={
            **c.sessions_by_owner,
            "5": [session("5", "writer-unknown", "10.0.0.5", idle=None)],
        },  # type: ignore[arg-type]
    )
    [group] = build_groups(handles, grants, c2)
    assert [r.holder for r in group.rows] == [
        "writer-old",
        "writer-new",
        "writer-unknown",
        "excl-reader",
        "reader-old",
    ]
    assert sorted(group.rows, key=culprit_key) == list(group.rows)


def test_access_and_share_mode_names() -> None:
    assert access_names(
        ["MS_ACCESS_SYNCHRONIZE", "MS_ACCESS_FILE_WRITE_DATA", "MS_ACCESS_FILE_READ_DATA"]
    ) == (
        "read",
        "write",
    )
    assert access_names(["MS_ACCESS_GENERIC_READ", "MS_ACCESS_FILE_READ_DATA"]) == ("read",)
    assert access_names(["MS_ACCESS_DELETE", "MS_ACCESS_OBJECT_SPECIFIC_9"]) == (
        "delete",
        "object-specific-9",
    )
    assert access_names(["MS_ACCESS_FILE_APPEND_DATA"]) == ("append",)
    # metadata access is noise next to data access, but is all a preview handle has
    assert access_names(
        ["MS_ACCESS_FILE_READ_DATA", "MS_ACCESS_FILE_READ_ATTRIBUTES", "MS_ACCESS_READ_CONTROL"]
    ) == ("read",)
    assert access_names(["MS_ACCESS_FILE_READ_ATTRIBUTES", "MS_ACCESS_SYNCHRONIZE"]) == ("read-attr",)
    assert share_mode_names(
        ["API_SHARE_MODE_EXCLUDE_DELETE", "API_SHARE_MODE_READ", "API_SHARE_MODE_NEW"]
    ) == (
        "read",
        "exclude-delete",
        "new",
    )
