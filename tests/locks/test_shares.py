"""ShareMap: UNC -> FS path and back; longest prefix wins, case-insensitive share names."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.locks.shares import ShareMap
from bot.qumulo.models import SmbShare

SHARES = ShareMap(
    [
        SmbShare("1", "Finance", "/finance"),
        SmbShare("2", "Q3-Close", "/finance/2026/Q3/"),
        SmbShare("3", "Fin", "/fin"),
        SmbShare("4", "Archive$", "/archive"),
        SmbShare("5", "archive-alias", "/archive"),
    ]
)


def test_to_fs_path_is_case_insensitive_on_share_names() -> None:
    assert SHARES.to_fs_path("finance", "/2026/budget.xlsx") == "/finance/2026/budget.xlsx"
    assert SHARES.to_fs_path("FINANCE", "/") == "/finance"
    assert SHARES.to_fs_path("q3-close", "/a.xlsx") == "/finance/2026/Q3/a.xlsx"
    assert SHARES.to_fs_path("nope", "/a") is None


def test_locate_longest_prefix_on_component_boundary() -> None:
    loc = SHARES.locate("/finance/2026/Q3/close.xlsx")
    assert loc is not None and (loc.share, loc.share_path) == ("Q3-Close", "/close.xlsx")
    loc = SHARES.locate("/finance/2026/Q4/x.xlsx")
    assert loc is not None and (loc.share, loc.share_path) == ("Finance", "/2026/Q4/x.xlsx")
    loc = SHARES.locate("/financial/x")  # "/fin" and "/finance" must not match by string prefix
    assert loc is None
    loc = SHARES.locate("/fin/x")
    assert loc is not None and loc.share == "Fin"
    loc = SHARES.locate("/finance")
    assert loc is not None and (loc.share, loc.share_path) == ("Finance", "/")
    assert SHARES.locate("/other/x") is None
    assert SHARES.locate("relative/x") is None


def test_tie_goes_to_alphabetically_first_name() -> None:
    loc = SHARES.locate("/archive/old.zip")
    assert loc is not None and loc.share == "Archive$"
    assert loc.unc("cluster") == "\\\\cluster\\Archive$\\old.zip"


def test_root_share_catches_everything() -> None:
    m = ShareMap([SmbShare("1", "Root", "/"), SmbShare("2", "Home", "/home")])
    loc = m.locate("/srv/x")
    assert loc is not None and (loc.share, loc.share_path) == ("Root", "/srv/x")
    loc = m.locate("/home/dana/a")
    assert loc is not None and loc.share == "Home"
    assert m.to_fs_path("root", "/srv/x") == "/srv/x"
    assert m.names == ["Home", "Root"]


segment = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="/"), min_size=1, max_size=12
)


@given(st.sampled_from(["Finance", "Q3-Close", "Fin", "Archive$"]), st.lists(segment, max_size=5))
def test_round_trip(share: str, parts: list[str]) -> None:
    rel = "/" + "/".join(parts)
    fs = SHARES.to_fs_path(share, rel)
    assert fs is not None
    loc = SHARES.locate(fs)
    assert loc is not None
    # the located share is the most specific one; translating back gives the same FS path
    assert SHARES.to_fs_path(loc.share, loc.share_path) == fs
