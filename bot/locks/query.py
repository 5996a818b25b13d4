"""Parse what a user typed after ``/qlocks search`` (or ``qlocks search``) into a :class:`Query`.

Accepted forms (documented in ``/qlocks help`` and the README):

- ``budget.xlsx``, ``finance/2026``: a case-insensitive fragment of the path (at least 2 characters);
  ``Finance\\2026`` and ``Z:\\2026\\budget.xlsx`` (mapped drive) are fragments too, with ``/`` separators;
- ``/finance/2026/budget.xlsx``: an absolute filesystem path (a directory lists everything under it);
- ``\\\\cluster\\Finance\\2026\\budget.xlsx``, ``//cluster/Finance/2026/budget.xlsx``,
  ``smb://cluster/Finance/2026/budget%20v2.xlsx``: a share path, translated through the cluster's share list;
- ``ip:10.1.2.3``, ``host:laptop-42``, ``user:dana`` (also ``user:CORP\\dana``).

The text is plain: whatever a front end received (Slack's entity escaping and link markup) is undone there,
before it gets here. Surrounding quotes or backticks, as people paste paths, are dropped. ``QueryError`` messages
are shown to users.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import urllib.parse

from bot.locks.models import Query, QueryKind

logger = logging.getLogger(__name__)

MIN_FRAGMENT = 2
MAX_QUERY = 4096

#: One search of each form, as a user would type it (front ends render them their own way).
EXAMPLES = (
    "budget.xlsx",
    "/finance/2026/budget.xlsx",
    "\\\\cluster\\Finance\\2026\\budget.xlsx",
    "smb://cluster/Finance/2026/budget.xlsx",
    "ip:10.1.2.3",
    "host:laptop-42",
    "user:dana",
)

_QUOTES = {'"': '"', "'": "'", "`": "`", "“": "”", "‘": "’", "«": "»"}
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class QueryError(ValueError):
    """The search text cannot be understood; the message is written for the user (plain text)."""


def quoted(value: str) -> str:
    """How the domain's plain-text messages quote a value: in double quotes."""
    return f'"{value}"'


def example_list() -> str:
    """``EXAMPLES`` as plain text: ``"budget.xlsx" (part of a path), "/finance/2026/budget.xlsx", …``."""
    first, *rest = EXAMPLES
    return ", ".join([f"{quoted(first)} (part of a path)", *map(quoted, rest)])


def _strip_wrappers(text: str) -> str:
    """Drop surrounding quotes and (triple) backticks, as often pasted around a path."""
    changed = True
    while changed and len(text) >= 2:
        changed = False
        if text.startswith("```") and text.endswith("```") and len(text) >= 6:
            text = text[3:-3].strip()
            changed = True
        elif text[0] in _QUOTES and text.endswith(_QUOTES[text[0]]):
            text = text[1:-1].strip()
            changed = True
    return text


def last_name(value: str) -> str:
    """The file or folder name a path, UNC or URL ends in (``\\\\c\\Fin\\budget.xlsx`` -> ``budget.xlsx``): what to
    suggest searching for when the full path does not exist."""
    return value.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or value


def normalize_path(path: str) -> str:
    """``/a//b/./c/`` -> ``/a/b/c``. Raises ``QueryError`` on ``..`` (never resolved, never sent)."""
    parts = []
    for part in path.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise QueryError('Paths with ".." are not supported: give the full path without it.')
        parts.append(part)
    return "/" + "/".join(parts)


def _share_query(text: str, cluster: str, share: str, rest: str) -> Query:
    if not cluster or not share:
        raise QueryError(
            f'{quoted(text)} needs a share name: "\\\\cluster\\Share\\path\\file" or "smb://cluster/Share/path/file".'
        )
    share_path = normalize_path(rest)
    unc = "\\\\" + cluster + "\\" + share + share_path.replace("/", "\\").rstrip("\\")
    return Query(kind=QueryKind.PATH, value=unc, text=text, share=share, share_path=share_path)


def _parse_unc(text: str, body: str) -> Query:
    """``body`` is what follows the leading ``\\\\`` or ``//``."""
    if body.upper().startswith(("?\\UNC\\", "?/UNC/")):  # \\?\UNC\cluster\share long-path form
        body = body[6:]
    parts = re.split(r"[\\/]+", body.strip("\\/"), maxsplit=2)
    cluster = parts[0] if parts else ""
    share = parts[1] if len(parts) > 1 else ""
    rest = parts[2] if len(parts) > 2 else ""
    return _share_query(text, cluster, share, rest)


def _parse_url(text: str, url: str) -> Query:
    # Only the authority goes through urlsplit: pasted smb:// paths are often not percent-encoded, and a file
    # named ``100% done?.xlsx`` or ``#1 cut.mov`` must not lose its tail to URL query/fragment rules.
    scheme_less = url.split("://", 1)[1]
    authority, _, path = scheme_less.partition("/")
    host = urllib.parse.urlsplit("smb://" + authority).hostname or ""
    raw_parts = path.lstrip("/").split("/", 1)
    share = urllib.parse.unquote(raw_parts[0])
    rest = urllib.parse.unquote(raw_parts[1]) if len(raw_parts) > 1 else ""
    return _share_query(text, host, share, rest)


def _prefixed(text: str, kind: QueryKind, value: str) -> Query:
    value = value.strip()
    if kind is QueryKind.IP:
        try:
            addr = ipaddress.ip_address(value.strip("[]"))
        except ValueError:
            raise QueryError(f'{quoted(value)} is not an IP address: try "ip:10.1.2.3".') from None
        return Query(kind=kind, value=str(addr), text=text)
    if kind is QueryKind.HOST:
        value = value.rstrip(".")
        if not _HOST.match(value) or len(value) > 253:
            raise QueryError(
                f'{quoted(value)} is not a host name: try "host:laptop-42" or "host:laptop-42.corp.example".'
            )
        return Query(kind=kind, value=value.lower(), text=text)
    if not value:
        raise QueryError('"user:" needs a login or display name: try "user:dana" or "user:CORP\\dana".')
    return Query(kind=kind, value=value, text=text)


def parse_query(text: str) -> Query:
    """Turn search text into a :class:`Query`; raise ``QueryError`` with a helpful message."""
    shown = (text or "").strip()
    if len(shown) > MAX_QUERY:
        raise QueryError(f"That search is too long ({len(shown)} characters); the limit is {MAX_QUERY}.")
    raw = _strip_wrappers(shown)
    if _CONTROL.search(raw):
        raise QueryError("The search contains control characters; paste just the path, IP, host or user.")
    if not raw:
        raise QueryError(f"Tell me what to search for, e.g. {example_list()}.")
    prefix, sep, rest = raw.partition(":")
    if sep and prefix.lower() in ("ip", "host", "user"):
        return _prefixed(shown, QueryKind(prefix.lower()), rest)
    if raw.lower().startswith(("smb://", "cifs://")):
        return _parse_url(shown, raw)
    if raw.startswith(("\\\\", "//")):
        return _parse_unc(shown, raw[2:])
    if raw.startswith("/") and raw.strip("/"):
        return Query(kind=QueryKind.PATH, value=normalize_path(raw), text=shown)
    fragment = raw
    if _DRIVE.match(fragment):  # Z:\2026\budget.xlsx: the share part is unknown, the rest is a fragment
        fragment = fragment[2:]
    fragment = fragment.replace("\\", "/")
    if len(fragment.strip("/")) < MIN_FRAGMENT:
        raise QueryError(
            f"{quoted(raw)} is too short: give at least {MIN_FRAGMENT} characters of the path, "
            f"or one of {example_list()}."
        )
    return Query(kind=QueryKind.FRAGMENT, value=fragment, text=shown)


__all__ = [
    "EXAMPLES",
    "MIN_FRAGMENT",
    "QueryError",
    "example_list",
    "last_name",
    "normalize_path",
    "parse_query",
    "quoted",
]
