"""Key-based paging: sorted key lists with bisect, and opaque ``after`` cursors.

A cursor names the last key a page returned, so items deleted or added between pages never make a surviving item
appear twice or go missing. Each page costs O(log N + page), never O(N).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 1000
Key = Any  # int, or a tuple of ints for byte-range grants


class CursorError(ValueError):
    """An ``after`` value that this server did not issue (or issued for another listing)."""


class SortedKeys:
    """Ascending list of unique keys. Appending a larger key is O(1); removing is a bisect plus a memmove."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Iterable[Key] = ()) -> None:
        self._keys: list[Key] = sorted(keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        i = bisect.bisect_left(self._keys, key)
        return i < len(self._keys) and self._keys[i] == key

    def add(self, key: Key) -> None:
        if not self._keys or key > self._keys[-1]:
            self._keys.append(key)
            return
        i = bisect.bisect_left(self._keys, key)
        if i == len(self._keys) or self._keys[i] != key:
            self._keys.insert(i, key)

    def push(self, key: Key) -> None:
        """Add a key known to be larger than every key present (new handles, sessions)."""
        if self._keys and key <= self._keys[-1]:
            raise ValueError("push() needs a key larger than all present")
        self._keys.append(key)

    def discard(self, key: Key) -> None:
        i = bisect.bisect_left(self._keys, key)
        if i < len(self._keys) and self._keys[i] == key:
            del self._keys[i]

    def after(self, key: Key | None, count: int) -> tuple[list[Key], bool]:
        """Up to ``count`` keys greater than ``key`` (all keys when None), and whether more follow."""
        return slice_after(self._keys, key, count)

    def at(self, index: int) -> Key:
        return self._keys[index]

    def as_list(self) -> list[Key]:
        return list(self._keys)


def slice_after(keys: list[Key], key: Key | None, count: int) -> tuple[list[Key], bool]:
    """For an ascending list: up to ``count`` keys greater than ``key``, and whether more follow."""
    start = 0 if key is None else bisect.bisect_right(keys, key)
    return keys[start : start + count], start + count < len(keys)


@dataclass(frozen=True, slots=True)
class Cursor:
    listing: str  # which listing issued it: "files", "sessions", "share-mode", ...
    key: Key
    params: Mapping[str, str]  # the filters of the first request, carried to later pages


def encode_cursor(cursor: Cursor) -> str:
    key = list(cursor.key) if isinstance(cursor.key, tuple) else cursor.key
    raw = json.dumps({"l": cursor.listing, "k": key, "p": dict(cursor.params)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, listing: str, *, pair: bool = False) -> Cursor:
    """Parse an ``after`` value issued for ``listing``; keys are ints, or ``(int, int)`` pairs when ``pair``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise CursorError(f"invalid paging token {token[:40]!r}") from exc
    if not isinstance(data, dict) or data.get("l") != listing or not isinstance(data.get("p"), dict):
        raise CursorError(f"paging token {token[:40]!r} does not belong to this listing")
    key = data.get("k")
    if pair and isinstance(key, list) and len(key) == 2 and all(_is_int(k) for k in key):
        key = (key[0], key[1])
    elif pair or not _is_int(key):
        raise CursorError(f"invalid paging token {token[:40]!r}")
    return Cursor(listing, key, {str(k): str(v) for k, v in data["p"].items()})


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def next_link(path: str, cursor: Cursor, limit: int) -> str:
    """The server-relative ``paging.next`` URI: ``/v1/...?after=<opaque>&limit=N``."""
    return f"{path}?after={quote(encode_cursor(cursor), safe='')}&limit={limit}"


def paging(
    path: str, listing: str, last_key: Key | None, more: bool, limit: int, params: Mapping[str, str]
) -> dict[str, Any]:
    if not more or last_key is None:
        return {"next": None}
    return {"next": next_link(path, Cursor(listing, last_key, params), limit)}
