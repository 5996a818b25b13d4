"""The seed tools' search, re-implemented as the baseline (qumulo-rest.md §9, [3P]).

- **Desktop** (Joe-Costa/Qumulo-Lock-Manager, ``refresh_locks``): download every share-mode grant page
  (``/v1/files/locks/smb/share-mode/``, following ``paging.next`` until a page comes back empty), *then* every
  handle page (``/v1/smb/files/?resolve_paths=true``, until ``next`` is null), one after the other, each with a
  bare ``requests.get`` (a new connection per request, no session); then join client-side: file_number -> path,
  and keep the grants whose path or client IP contains the lower-cased filter.
- **Web** (Joe-Costa/Qumulo-SMB-Lock-Manager-Web, ``search_files``/``resolve_owner``): names each row's holder
  with one ``POST /v1/identity/find`` per row, sequentially, each on a new connection; when more than 100 files
  match it shows "Too many locks to show" and looks nothing up.

Kept faithful: request pattern, order, paging rules, connection-per-request and per-row lookups. Made *kinder* to
the baseline (so our speed-up is not inflated): each page is parsed once (the originals call ``response.json()``
up to four times per grant page and rebuild the grant list by concatenation, O(n²)); a missing ``next`` ends the
listing instead of raising; a grant whose handle vanished is skipped instead of reusing the previous row's path.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import requests

logger = logging.getLogger(__name__)

WEB_NAME_LIMIT = 100  # the web tool gives up naming holders above this many matching files
TOO_MANY = "Too many locks to show"


@dataclass(frozen=True, slots=True)
class SeedRow:
    file_id: str
    path: str
    mode: str
    owner_address: str
    node_address: str
    user: str | None = None  # filled by the web tool's per-row identity lookups


@dataclass(slots=True)
class SeedStats:
    requests: int = 0
    bytes_received: int = 0
    identity_lookups: int = 0
    grant_pages: int = 0
    handle_pages: int = 0
    listing_s: float = 0.0
    join_s: float = 0.0
    names_s: float = 0.0
    by_endpoint: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SeedResult:
    rows: list[SeedRow]
    stats: SeedStats
    named: bool  # False when the web tool gave up ("Too many locks to show")

    @property
    def files(self) -> set[str]:
        return {r.path for r in self.rows}


class SeedTool:
    """The desktop tool's listing and join, plus the web tool's identity resolution."""

    def __init__(
        self, base_url: str, token: str, *, verify: bool | str = True, timeout_s: float = 60.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        self._verify = verify
        self._timeout_s = timeout_s
        self.stats = SeedStats()

    def _count(self, endpoint: str, resp: requests.Response) -> None:
        self.stats.requests += 1
        self.stats.bytes_received += len(resp.content)
        self.stats.by_endpoint[endpoint] = self.stats.by_endpoint.get(endpoint, 0) + 1

    def _get(self, path: str, endpoint: str) -> dict[str, Any]:
        # A module-level requests.get: a fresh Session and TCP connection for every page, as in the seed.
        resp = requests.get(
            self.base_url + path, headers=self._headers, verify=self._verify, timeout=self._timeout_s
        )
        self._count(endpoint, resp)
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    def get_smb_locks(self) -> list[dict[str, Any]]:
        """Every share-mode grant: follow ``next`` until a page holds no grants (the seed's loop)."""
        endpoint = "/v1/files/locks/smb/share-mode/"
        data = self._get(endpoint, endpoint)
        self.stats.grant_pages += 1
        grants: list[dict[str, Any]] = list(data.get("grants") or [])
        page_had_grants = bool(data.get("grants"))
        nxt = (data.get("paging") or {}).get("next")
        while page_had_grants and nxt:
            data = self._get(nxt, endpoint)
            self.stats.grant_pages += 1
            page = data.get("grants") or []
            grants.extend(page)
            page_had_grants = bool(page)
            nxt = (data.get("paging") or {}).get("next")
        return grants

    def path_loader(self) -> tuple[dict[str, str], dict[str, str]]:
        """file_number -> path and file_number -> owner (last handle wins, as in the seed's dict comprehension)."""
        endpoint = "/v1/smb/files/"
        data = self._get(endpoint + "?resolve_paths=true", endpoint)
        self.stats.handle_pages += 1
        handles: list[dict[str, Any]] = list(data["file_handles"])
        nxt = data["paging"]["next"]
        while nxt:
            data = self._get(nxt, endpoint)
            self.stats.handle_pages += 1
            handles.extend(data["file_handles"])
            nxt = data["paging"]["next"]
        paths = {h["file_number"]: h["handle_info"]["path"] for h in handles}
        owners = {h["file_number"]: h["handle_info"]["owner"] for h in handles}
        return paths, owners

    def resolve_owner(self, auth_id: str) -> dict[str, Any]:
        endpoint = "/v1/identity/find"
        resp = requests.post(
            self.base_url + endpoint,
            json={"auth_id": f"{auth_id}"},
            headers=self._headers,
            verify=self._verify,
            timeout=self._timeout_s,
        )
        self._count(endpoint, resp)
        self.stats.identity_lookups += 1
        if resp.status_code != 200:
            return {"error": f"Failed to resolve owner: HTTP {resp.status_code}"}
        found: dict[str, Any] = resp.json()
        return found

    def search(self, text: str, *, names: bool = True) -> SeedResult:
        """One search as the seed tools run it: listings (sequential), join, then per-row identity lookups."""
        started = time.perf_counter()
        grants = self.get_smb_locks()
        paths, owners = self.path_loader()
        listed = time.perf_counter()
        needle = text.lower()
        matching_files = {fid for fid, path in paths.items() if needle in path.lower()}
        rows: list[SeedRow] = []
        for grant in grants:
            path = paths.get(grant["file_id"])
            if path is None:  # handle closed between the two listings
                continue
            if needle in path.lower() or needle in grant.get("owner_address", "").lower():
                rows.append(
                    SeedRow(
                        file_id=grant["file_id"],
                        path=path,
                        mode=", ".join(grant.get("mode", [])),
                        owner_address=grant.get("owner_address", ""),
                        node_address=grant.get("node_address", ""),
                    )
                )
        joined = time.perf_counter()
        named = names and len(matching_files) <= WEB_NAME_LIMIT
        if names:
            out = []
            for row in rows:
                if named and row.file_id in owners:
                    user = self.resolve_owner(owners[row.file_id]).get("name")
                else:
                    user = TOO_MANY
                out.append(
                    SeedRow(row.file_id, row.path, row.mode, row.owner_address, row.node_address, user)
                )
            rows = out
        done = time.perf_counter()
        self.stats.listing_s = listed - started
        self.stats.join_s = joined - listed
        self.stats.names_s = done - joined
        return SeedResult(rows=rows, stats=self.stats, named=named)


__all__ = ["SeedResult", "SeedRow", "SeedStats", "SeedTool"]
