"""Pure close decisions: untrusted refs, exact location match, CHANGED/GONE, per-item close results."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.locks.close import compare, find_handle, interpret, settle, unconfirmed, validate_ref
from bot.locks.models import CloseStatus, HandleRef, LockRow
from bot.qumulo.models import CloseReply, FileHandle

REF = HandleRef(location="1.234.17", file_number="7340102", owner="8589935593", path="/finance/a.xlsx")


def h(location: str = "1.234.17", file: str = "7340102", owner: str = "8589935593") -> FileHandle:
    return FileHandle(file_number=file, location=location, owner=owner, path="/finance/a.xlsx")


def row(holder: str = "dana") -> LockRow:
    return LockRow(
        ref=REF,
        holder=holder,
        client_ip="10.0.0.5",
        client_host=None,
        access=("write",),
        share_mode=(),
        node=None,
        session_open_s=None,
        session_idle_s=None,
    )


def test_valid_ref() -> None:
    assert validate_ref(REF) is None


@pytest.mark.parametrize(
    "bad",
    [
        HandleRef("", "1", "2", "/a"),
        HandleRef("x" * 600, "1", "2", "/a"),
        HandleRef("a\nb", "1", "2", "/a"),
        HandleRef("loc", "1; DROP", "2", "/a"),
        HandleRef("loc", "", "2", "/a"),
        HandleRef("loc", "1", "", "/a"),
        HandleRef("loc", "1", "2", "relative"),
    ],
)
def test_invalid_refs(bad: HandleRef) -> None:
    assert "not valid" in (validate_ref(bad) or "")


@given(st.text(max_size=40), st.text(max_size=25), st.text(max_size=10), st.text(max_size=30))
def test_validate_never_crashes(loc: str, file: str, owner: str, path: str) -> None:
    validate_ref(HandleRef(loc, file, owner, path))


def test_find_exact_location_on_that_file_only() -> None:
    others = [h("1.234.16"), h("1.234.18"), h("1.234.17", file="999")]
    assert find_handle(REF, others) is None  # same file, other handles; same location, other file
    target = h()
    assert find_handle(REF, [*others, target]) is target


def test_compare_changed_owner_and_path() -> None:
    assert compare(REF, h(), REF.path, row()) is None
    out = compare(REF, h(owner="999"), REF.path, row("eve"))
    assert out is not None and out.status is CloseStatus.CHANGED and "now belongs to eve" in out.message
    out = compare(REF, h(), "/finance/renamed.xlsx", None)
    assert out is not None and out.status is CloseStatus.CHANGED and "/finance/renamed.xlsx" in out.message


def test_only_one_entry_without_error_proves_a_close() -> None:
    ok = interpret(REF, CloseReply(("",)), row())
    assert ok is not None and ok.status is CloseStatus.CLOSED
    assert "dana" in ok.message and "10.0.0.5" in ok.message
    # every other reply proves nothing on its own: the service re-lists the file and calls settle()
    for reply in (
        CloseReply(()),  # an empty array
        CloseReply(("", "")),  # more entries than handles sent
        CloseReply(("SMB file handle not found: no open handle",)),
        CloseReply(("EACCES: operation not permitted",)),
        CloseReply(("",), well_formed=False),  # e.g. {"error_message": 7}
        CloseReply.from_json({"status": "done"}),
        CloseReply.from_json(None),  # an empty 200
    ):
        assert interpret(REF, reply, row()) is None, reply


def test_settle_from_the_fresh_listing() -> None:
    still = [h(), h(location="1.234.18")]
    gone_now = [h(location="1.234.18")]
    what = "the cluster answered the close with an empty list"
    out = settle(REF, what, still, row(), CloseReply(()))
    assert out.status is CloseStatus.STILL_OPEN and "still shows the handle" in out.message
    assert "may or may not" not in out.message
    out = settle(REF, what, gone_now, row(), CloseReply(()))
    assert out.status is CloseStatus.CLOSED and "fresh listing shows it gone" in out.message
    # our handle "not found", and gone: already gone, nothing closed by us
    nf = CloseReply(("SMB file handle not found: no open handle at location '1.234.17'",))
    assert settle(REF, "x", gone_now, row(), nf).status is CloseStatus.GONE
    assert settle(REF, "x", gone_now, row(), CloseReply(("no such handle",))).status is CloseStatus.GONE
    # an error about another location says nothing about ours: it is gone, so the close took
    other = CloseReply(("SMB file handle not found: no open handle at location '9.9.9'",))
    assert settle(REF, "x", gone_now, row(), other).status is CloseStatus.CLOSED
    refused = settle(REF, "x", still, None, CloseReply(("EACCES: operation not permitted",)))
    assert refused.status is CloseStatus.STILL_OPEN and "EACCES" in refused.message
    # a close request that failed on the way (no reply) is settled the same way
    assert settle(REF, "the close request failed (503)", gone_now, None, None).status is CloseStatus.CLOSED
    failed = unconfirmed(REF, "the close request failed (503)", "timed out", None)
    assert failed.status is CloseStatus.FAILED and "may or may not" in failed.message


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["error_message", "x"]), inner, max_size=2)
    ),
    max_leaves=8,
)


@given(_JSON)
def test_any_reply_shape_decodes_and_only_plain_success_is_trusted(data: object) -> None:
    reply = CloseReply.from_json(data)
    trusted = interpret(REF, reply, None) is not None
    plain = (
        isinstance(data, list)
        and len(data) == 1
        and isinstance(data[0], dict)
        and data[0].get("error_message") in (None, "")
    )
    assert trusted == plain, data
