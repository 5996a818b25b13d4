"""Read-only lookups and wire-format snapshots of a ``ClusterState`` (tests, demo and playground use them)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from qlocks_tools.simulator import records as r
from qlocks_tools.simulator.paging import SortedKeys
from qlocks_tools.simulator.render import Fragments

logger = logging.getLogger(__name__)


class StateViews:
    """Mixed into ``ClusterState``; every method takes the state's lock."""

    lock: threading.RLock
    clock: Callable[[], float]
    identities: dict[str, r.Identity]
    sessions: dict[int, r.Session]
    session_keys: SortedKeys
    files: dict[int, r.FileRec]
    handles: dict[int, r.Handle]
    handle_keys: SortedKeys
    fragments: Fragments
    _file_by_path: dict[str, int]
    _session_by_loc: dict[str, int]
    _folder_by_path: dict[str, int]

    @property
    def handle_count(self) -> int:
        return len(self.handles)

    def file_number_of(self, path: str) -> str | None:
        with self.lock:
            number = self._file_by_path.get(path)
            return None if number is None else str(number)

    def file_by_ref(self, ref: str) -> r.FileRec | None:
        with self.lock:
            number = int(ref) if ref.isdigit() else self._file_by_path.get(ref)
            if number is None and ref.startswith("/"):
                number = self._folder_by_path.get(ref.rstrip("/") or "/")
            return None if number is None else self.files.get(number)

    def handle_by_location(self, location: str) -> r.Handle | None:
        _, _, tail = location.rpartition(".")
        if not tail.isdigit() or len(tail) > 18:
            return None
        with self.lock:
            h = self.handles.get(int(tail))
            if h is None or r.handle_location(h, self.sessions[h.session]) != location:
                return None
            return h

    def session_by_location(self, location: str) -> r.Session | None:
        with self.lock:
            seq = self._session_by_loc.get(location)
            return None if seq is None else self.sessions[seq]

    def prerender_listings(self) -> int:
        """Render the handle and share-mode grant listings' records into the fragment cache now (within its
        budget), as a benchmark does before measuring. Returns the number of cached fragments."""
        with self.lock:
            self.fragments.fill(self.handle_keys.as_list(), self.handles, self.sessions, self.files)
            return len(self.fragments)

    def handles_snapshot(self) -> list[dict[str, Any]]:
        """Every handle as ``/v1/smb/files/?resolve_paths=true`` lists it, in listing order."""
        with self.lock:
            return [
                r.handle_json(h, self.sessions[h.session], self.files[h.file_number].path)
                for h in map(self.handles.__getitem__, self.handle_keys.as_list())
            ]

    def sessions_snapshot(self) -> list[dict[str, Any]]:
        """Every session as ``/v1/smb/sessions/`` lists it."""
        with self.lock:
            now = self.clock()
            return [
                r.session_json(s, self.identities[s.auth_id], now)
                for s in map(self.sessions.__getitem__, self.session_keys.as_list())
            ]

    def grants_snapshot(self) -> list[dict[str, Any]]:
        """Every share-mode grant as ``/v1/files/locks/smb/share-mode/`` lists it."""
        with self.lock:
            return [
                r.share_mode_grant_json(h, self.sessions[h.session])
                for h in map(self.handles.__getitem__, self.handle_keys.as_list())
            ]
