"""SMB share name <-> filesystem path translation, from the cluster's share list (``/v3/smb/shares/``).

- ``\\\\cluster\\Finance\\2026\\budget.xlsx`` -> ``/finance/2026/budget.xlsx`` (share names are case-insensitive);
- ``/finance/2026/budget.xlsx`` -> (``Finance``, ``/2026/budget.xlsx``): the share with the longest ``fs_path``
  prefix (on a path-component boundary) wins; ties go to the alphabetically first share name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bot.qumulo.models import SmbShare

logger = logging.getLogger(__name__)


def _clean_fs_path(path: str) -> str:
    path = "/" + path.strip("/")
    return path


def join_fs(base: str, rel: str) -> str:
    """``/finance`` + ``/2026/x`` -> ``/finance/2026/x``; ``/`` + ``/a`` -> ``/a``."""
    rel = rel.strip("/")
    if not rel:
        return base
    return (base.rstrip("/") or "") + "/" + rel


@dataclass(frozen=True, slots=True)
class ShareLocation:
    share: str
    share_path: str  # '/'-separated, leading '/', '/' for the share root

    def unc(self, cluster: str) -> str:
        return "\\\\" + cluster + "\\" + self.share + self.share_path.replace("/", "\\").rstrip("\\")


class ShareMap:
    """Immutable index over a share list; cheap lookups for every handle of a scan."""

    def __init__(self, shares: Iterable[SmbShare]) -> None:
        by_name: dict[str, SmbShare] = {}
        by_path: dict[str, str] = {}
        for share in sorted(shares, key=lambda s: (s.share_name.casefold(), s.share_name, s.id)):
            by_name.setdefault(share.share_name.casefold(), share)
            by_path.setdefault(_clean_fs_path(share.fs_path), share.share_name)
        self._by_name = by_name
        self._by_path = by_path  # fs_path -> share name (first name wins on a tie)
        self._depths = sorted({self._depth(p) for p in by_path}, reverse=True)

    @staticmethod
    def _depth(path: str) -> int:
        return 0 if path == "/" else path.count("/")

    def __len__(self) -> int:
        return len(self._by_name)

    @property
    def names(self) -> list[str]:
        return sorted((s.share_name for s in self._by_name.values()), key=str.casefold)

    def share(self, name: str) -> SmbShare | None:
        return self._by_name.get(name.casefold())

    def to_fs_path(self, share: str, share_path: str) -> str | None:
        """FS path for a share-relative path, or None when the cluster has no such share."""
        found = self.share(share)
        if found is None:
            return None
        return join_fs(_clean_fs_path(found.fs_path), share_path)

    def locate(self, fs_path: str) -> ShareLocation | None:
        """The share holding ``fs_path`` (longest fs_path prefix), or None."""
        if not fs_path.startswith("/"):
            return None
        parts = fs_path.rstrip("/").split("/")  # ["", "finance", "2026", "budget.xlsx"]
        for depth in self._depths:
            if depth > len(parts) - 1:
                continue
            prefix = "/".join(parts[: depth + 1]) or "/"
            name = self._by_path.get(prefix)
            if name is not None:
                rest = "/".join(parts[depth + 1 :])
                return ShareLocation(share=name, share_path="/" + rest)
        return None


EMPTY = ShareMap(())

__all__ = ["EMPTY", "ShareLocation", "ShareMap", "join_fs"]
