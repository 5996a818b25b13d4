"""Fast wire rendering for the big listings (rig fidelity: a real cluster does not spend milliseconds per page in
``json.dumps``).

Each handle / share-mode grant is rendered once, straight to the exact text ``json.dumps(record_json,
ensure_ascii=False)`` would produce, cached as UTF-8 bytes, and a page is the join of its fragments. The cache is
filled lazily (only records that a listing actually served) and a record's fragments are dropped when its handle
closes. Records never change otherwise: a handle's location, owner, file, masks and its session's client/node are
fixed at open, and a file's path never changes.
"""

from __future__ import annotations

import json
import logging
from json.encoder import encode_basestring  # what json.dumps(..., ensure_ascii=False) uses for str
from typing import Any

from qlocks_tools.simulator import records as r

logger = logging.getLogger(__name__)


class RawJson:
    """A response body already rendered as JSON (UTF-8); the server sends it as is."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def _str_list(items: tuple[str, ...], rendered: dict[tuple[str, ...], str]) -> str:
    """A JSON list of strings, rendered once per distinct tuple (access masks and share modes repeat a lot)."""
    text = rendered.get(items)
    if text is None:
        text = rendered[items] = "[" + ", ".join(map(encode_basestring, items)) + "]"
    return text


def handle_fragment(h: r.Handle, s: r.Session, path: str | None, masks: dict[tuple[str, ...], str]) -> bytes:
    """``json.dumps(records.handle_json(h, s, path), ensure_ascii=False)`` as UTF-8, without building dicts."""
    mask = _str_list(h.access_mask, masks)
    return (
        f'{{"file_number": "{h.file_number}", "handle_info": {{"location": '
        f"{encode_basestring(r.handle_location(h, s))}, "
        f'"version": 1, "num_byte_range_locks": {len(h.byte_ranges)}, "owner": {encode_basestring(s.auth_id)}, '
        f'"access_mask": {mask}, "path": {encode_basestring(path if path is not None else "")}}}}}'
    ).encode()


def grant_fragment(h: r.Handle, s: r.Session, modes: dict[tuple[str, ...], str]) -> bytes:
    """``json.dumps(records.share_mode_grant_json(h, s), ensure_ascii=False)`` as UTF-8."""
    mode = _str_list(h.share_mode, modes)
    return (
        f'{{"file_id": "{h.file_number}", "stream_id": "0", "snapshot_id": "", "owner_id": "{r.owner_id(h)}", '
        f'"mode": {mode}, "owner_address": {encode_basestring(s.grant_address or s.originator)}, '
        f'"node_address": {encode_basestring(s.server_address)}}}'
    ).encode()


class Fragments:
    """Per-handle cache of rendered handle (resolved path) and share-mode grant fragments, within a memory budget.

    Filled lazily by the listings; once ``budget_bytes`` (fragment bytes plus an estimate of the per-entry
    overhead) is spent, further records are rendered on every request instead (still without dicts). Not locked
    itself: callers hold the cluster state's lock (every listing renders under it)."""

    ENTRY_OVERHEAD = 100  # bytes object header + dict slot + int key, roughly

    __slots__ = ("_grants", "_handles", "_lists", "budget_bytes", "used_bytes")

    def __init__(self, budget_bytes: int = 96 * 1024 * 1024) -> None:
        self._handles: dict[int, bytes] = {}  # seq -> handle with resolved path
        self._grants: dict[int, bytes] = {}  # seq -> share-mode grant
        self._lists: dict[tuple[str, ...], str] = {}  # access-mask / share-mode templates, rendered once
        self.budget_bytes = budget_bytes
        self.used_bytes = 0

    def __len__(self) -> int:
        return len(self._handles) + len(self._grants)

    def handles(
        self,
        keys: list[int],
        handles: dict[int, r.Handle],
        sessions: dict[int, r.Session],
        files: dict[int, r.FileRec],
    ) -> list[bytes]:
        """Fragments of the handles ``keys`` with resolved paths (a ``/v1/smb/files/?resolve_paths=true`` page)."""
        out = list(map(self._handles.get, keys))
        if None in out:
            for i, frag in enumerate(out):
                if frag is None:
                    h = handles[keys[i]]
                    frag = handle_fragment(h, sessions[h.session], files[h.file_number].path, self._lists)
                    out[i] = self._keep(self._handles, h.seq, frag)
        return out  # type: ignore[return-value]  # no None left

    def unresolved_handles(
        self, keys: list[int], handles: dict[int, r.Handle], sessions: dict[int, r.Session]
    ) -> list[bytes]:
        """``resolve_paths=false`` (rare): rendered each time, not cached."""
        return [
            handle_fragment(h, sessions[h.session], None, self._lists) for h in map(handles.__getitem__, keys)
        ]

    def grants(
        self, keys: list[int], handles: dict[int, r.Handle], sessions: dict[int, r.Session]
    ) -> list[bytes]:
        """Fragments of the share-mode grants of the handles ``keys``."""
        out = list(map(self._grants.get, keys))
        if None in out:
            for i, frag in enumerate(out):
                if frag is None:
                    h = handles[keys[i]]
                    out[i] = self._keep(
                        self._grants, h.seq, grant_fragment(h, sessions[h.session], self._lists)
                    )
        return out  # type: ignore[return-value]

    def fill(
        self,
        keys: list[int],
        handles: dict[int, r.Handle],
        sessions: dict[int, r.Session],
        files: dict[int, r.FileRec],
    ) -> None:
        """Render every listed record up front, handles first (the chain every name search walks), then grants,
        until the budget is spent, so that the first client to walk a listing pays no more than the next."""
        for start in range(0, len(keys), 1000):
            if self.used_bytes >= self.budget_bytes:
                return
            self.handles(keys[start : start + 1000], handles, sessions, files)
        for start in range(0, len(keys), 1000):
            if self.used_bytes >= self.budget_bytes:
                return
            self.grants(keys[start : start + 1000], handles, sessions)

    def _keep(self, cache: dict[int, bytes], seq: int, frag: bytes) -> bytes:
        cost = len(frag) + self.ENTRY_OVERHEAD
        if self.used_bytes + cost <= self.budget_bytes:
            cache[seq] = frag
            self.used_bytes += cost
        return frag

    def forget(self, seq: int) -> None:
        """The handle ``seq`` closed: drop its fragments."""
        for cache in (self._handles, self._grants):
            frag = cache.pop(seq, None)
            if frag is not None:
                self.used_bytes -= len(frag) + self.ENTRY_OVERHEAD

    def clear(self) -> None:
        self._handles.clear()
        self._grants.clear()
        self.used_bytes = 0


def listing(key: str, items: list[bytes], paging: dict[str, Any]) -> RawJson:
    """``{key: [items...], "paging": paging}`` exactly as ``json.dumps(..., ensure_ascii=False)`` renders it."""
    head = f"{{{encode_basestring(key)}: [".encode()
    tail = f'], "paging": {json.dumps(paging, ensure_ascii=False)}}}'.encode()
    return RawJson(head + b", ".join(items) + tail)
