"""Matching ``host:`` and ``user:`` searches against what the cluster reports (pure)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from bot.qumulo.models import SmbSession


def host_matches(wanted: str, hostname: str) -> bool:
    """``laptop-42`` matches ``LAPTOP-42`` and ``laptop-42.corp.example``; a dotted query must match fully."""
    name = hostname.lower().rstrip(".")
    if name == wanted:
        return True
    return "." not in wanted and name.split(".", 1)[0] == wanted


def user_matches(wanted: str, session: SmbSession) -> bool:
    """``dana`` matches ``dana``, ``CORP\\dana`` and ``dana@corp``; also an exact auth_id or SID."""
    w = wanted.casefold()
    if w in (session.auth_id.casefold(), session.sid.casefold()) and w:
        return True
    name = session.user_name.casefold()
    if not name:
        return False
    w_bare = w.rsplit("\\", 1)[-1].split("@", 1)[0]
    if "\\" in name or "@" in name:  # a qualified session name: match it fully, or by a bare query
        bare = name.rsplit("\\", 1)[-1].split("@", 1)[0]
        return w == name or (w == w_bare and w == bare)
    return w_bare == name  # a bare session name: a qualified query matches on its bare part


def similar_names(wanted: str, sessions: Sequence[SmbSession], *, limit: int = 5) -> list[str]:
    """Session user names close to ``wanted`` (for a "did you mean" hint): containment or close spelling."""
    w = wanted.casefold().rsplit("\\", 1)[-1].split("@", 1)[0]
    if not w:
        return []
    names = {s.user_name.casefold(): s.user_name for s in sessions if s.user_name}
    close = [n for n in sorted(names) if w in n or n in w]
    close += [n for n in difflib.get_close_matches(w, sorted(names), n=limit, cutoff=0.6) if n not in close]
    return [names[n] for n in close[:limit]]


__all__ = ["host_matches", "similar_names", "user_matches"]
