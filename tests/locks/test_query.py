"""parse_query: every input form of plain text, helpful errors; Hypothesis on arbitrary paths."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.locks.models import QueryKind
from bot.locks.query import MIN_FRAGMENT, QueryError, normalize_path, parse_query


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("budget.xlsx", QueryKind.FRAGMENT, "budget.xlsx"),
        ("  Budget Report.XLSX ", QueryKind.FRAGMENT, "Budget Report.XLSX"),
        ("finance/2026", QueryKind.FRAGMENT, "finance/2026"),
        ("Finance\\2026\\budget", QueryKind.FRAGMENT, "Finance/2026/budget"),
        ("Z:\\2026\\budget.xlsx", QueryKind.FRAGMENT, "/2026/budget.xlsx"),
        ("/finance/2026/budget.xlsx", QueryKind.PATH, "/finance/2026/budget.xlsx"),
        ("/finance//2026/./budget.xlsx/", QueryKind.PATH, "/finance/2026/budget.xlsx"),
        ("ip:10.1.2.3", QueryKind.IP, "10.1.2.3"),
        ("IP: 10.1.2.3", QueryKind.IP, "10.1.2.3"),
        ("ip:fe80::0001", QueryKind.IP, "fe80::1"),
        ("host:Laptop-42", QueryKind.HOST, "laptop-42"),
        ("host:laptop-42.corp.example.", QueryKind.HOST, "laptop-42.corp.example"),
        ("user:dana", QueryKind.USER, "dana"),
        ("user:CORP\\dana", QueryKind.USER, "CORP\\dana"),
        ('"budget v2.xlsx"', QueryKind.FRAGMENT, "budget v2.xlsx"),
        ("`budget.xlsx`", QueryKind.FRAGMENT, "budget.xlsx"),
        ("“budget.xlsx”", QueryKind.FRAGMENT, "budget.xlsx"),
        ("notes:2026", QueryKind.FRAGMENT, "notes:2026"),
    ],
)
def test_forms(text: str, kind: QueryKind, value: str) -> None:
    q = parse_query(text)
    assert (q.kind, q.value) == (kind, value)
    assert q.text == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "\\\\cluster\\Finance\\2026\\budget.xlsx",
        "//cluster/Finance/2026/budget.xlsx",
        "smb://cluster/Finance/2026/budget.xlsx",
        "SMB://admin@cluster:445/Finance/2026/budget.xlsx",
        "cifs://cluster/Finance/2026/budget.xlsx",
        "\\\\?\\UNC\\cluster\\Finance\\2026\\budget.xlsx",
        "\\\\cluster\\Finance\\\\2026\\budget.xlsx\\",
    ],
)
def test_share_paths(text: str) -> None:
    q = parse_query(text)
    assert q.kind is QueryKind.PATH
    assert q.share == "Finance"
    assert q.share_path == "/2026/budget.xlsx"
    assert q.value == "\\\\cluster\\Finance\\2026\\budget.xlsx"


def test_smb_url_is_percent_decoded() -> None:
    q = parse_query("smb://cluster/Fin%20Ance/a%20b%26c.xlsx")
    assert (q.share, q.share_path) == ("Fin Ance", "/a b&c.xlsx")


def test_share_root() -> None:
    q = parse_query("\\\\cluster\\Finance")
    assert (q.kind, q.share, q.share_path) == (QueryKind.PATH, "Finance", "/")


def test_text_is_plain_nothing_is_unescaped() -> None:
    """Entities and link markup are a Slack matter (``bot.slack.text.command_text``), not the parser's."""
    q = parse_query("R&amp;D &lt;draft&gt;.docx")
    assert q.value == q.text == "R&amp;D &lt;draft&gt;.docx"
    assert parse_query("R&D <draft>.docx").value == "R&D <draft>.docx"
    unc = parse_query("\\\\cluster\\R&D\\plan & budget.xlsx")
    assert (unc.share, unc.share_path) == ("R&D", "/plan & budget.xlsx")
    link = parse_query("<smb://cluster/Finance/x.xlsx|smb://cluster/Finance/x.xlsx>")
    assert link.kind is QueryKind.FRAGMENT and link.value == link.text


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "Tell me what to search for"),
        ("   ", "Tell me what to search for"),
        ("a", "too short"),
        ("\\\\x", "needs a share name"),
        ("/", "too short"),
        ("\\\\", "needs a share name"),
        ("\\\\cluster", "needs a share name"),
        ("smb://cluster/", "needs a share name"),
        ("ip:10.1.2", "not an IP address"),
        ("ip:", "not an IP address"),
        ("host:", "not a host name"),
        ("host:bad host", "not a host name"),
        ("user:", "needs a login"),
        ("/finance/../hr/salaries.xlsx", '".."'),
        ("budget\x1b[2J.xlsx", "control characters"),
        ("x" * 5000, "too long"),
    ],
)
def test_errors_are_helpful(text: str, needle: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(text)
    assert needle in str(info.value)
    assert isinstance(info.value, ValueError)


def test_empty_query_lists_examples() -> None:
    with pytest.raises(QueryError) as info:
        parse_query("")
    for example in ("budget.xlsx", "ip:", "host:", "user:", "smb://"):
        assert example in str(info.value)


segment = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Cc"], exclude_characters="/\\"),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() == s and s not in (".", ".."))


@given(st.lists(segment, min_size=1, max_size=8))
def test_fs_paths_round_trip(parts: list[str]) -> None:
    path = "/" + "/".join(parts)
    q = parse_query(path)
    assert q.kind is QueryKind.PATH
    assert q.value == path
    assert normalize_path(q.value) == q.value


@given(
    st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=15),
    segment.filter(lambda s: not s.startswith(("<", '"', "'", "`", "“", "‘", "«")) and "|" not in s),
    st.lists(segment, max_size=6),
    st.sampled_from(["\\", "/"]),
)
def test_unc_round_trip(cluster: str, share: str, parts: list[str], sep: str) -> None:
    text = sep * 2 + sep.join([cluster, share, *parts])
    q = parse_query(text)
    assert q.kind is QueryKind.PATH
    assert q.share == share
    assert q.share_path == "/" + "/".join(parts)


@given(st.text(max_size=300))
def test_never_raises_anything_but_query_error(text: str) -> None:
    try:
        q = parse_query(text)
    except QueryError as exc:
        assert str(exc)
    else:
        assert q.value
        if q.kind is QueryKind.FRAGMENT:
            assert len(q.value.strip("/")) >= MIN_FRAGMENT


@pytest.mark.parametrize(
    ("text", "share_path"),
    [
        ("smb://cluster/Finance/2026/100% done?.xlsx", "/2026/100% done?.xlsx"),
        ("smb://cluster/Media/trailer/#1 cut.mov", "/trailer/#1 cut.mov"),
        ("smb://cluster/Finance/2026/100%25%20done%3F.xlsx", "/2026/100% done?.xlsx"),
        ("smb://user@cluster:445/Finance/a?b#c", "/a?b#c"),
    ],
)
def test_smb_urls_keep_question_marks_and_hashes_in_file_names(text: str, share_path: str) -> None:
    """Regression: urlsplit cut ``?``/``#`` and everything after them, so a pasted smb:// path to an open file
    answered "no such file" (or listed its whole folder)."""
    q = parse_query(text)
    assert (q.kind, q.share, q.share_path) == (QueryKind.PATH, text.split("/")[3], share_path)


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\%&"), min_size=1))
def test_smb_url_path_round_trips_any_unencoded_name(name: str) -> None:
    stripped = name.strip()
    if stripped in ("", ".", "..") or stripped != name:
        return
    q = parse_query(f"smb://cluster/Share/dir/{name}")
    assert q.share_path == f"/dir/{name}"
