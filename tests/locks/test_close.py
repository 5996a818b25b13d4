"""Pure close decisions: untrusted refs, exact location match, CHANGED/GONE, per-item close results."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.locks.close import compare, find_handle, interpret, validate_ref
from bot.locks.models import CloseStatus, HandleRef, LockRow
from bot.qumulo.models import CloseResult, FileHandle

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


def test_interpret_results() -> None:
    ok = interpret(REF, [CloseResult(REF.location, "")], row())
    assert ok.status is CloseStatus.CLOSED and "dana" in ok.message and "10.0.0.5" in ok.message
    gone = interpret(REF, [CloseResult(REF.location, "SMB file handle not found: no open handle")], row())
    assert gone.status is CloseStatus.GONE and gone.row is not None
    failed = interpret(REF, [CloseResult(REF.location, "EACCES: operation not permitted")], None)
    assert failed.status is CloseStatus.FAILED and "EACCES" in failed.message
    odd = interpret(REF, [], None)
    assert odd.status is CloseStatus.FAILED
