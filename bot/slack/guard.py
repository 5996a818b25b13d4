"""Double-click guard: each handle is worked on by one click at a time and settled at most once, across replicas.

Two admins (or one impatient double click, or the same button clicked in two replicas) produce several payloads for
the same handle. ``begin`` admits the first; the others get the in-flight or settled claim back and are told who got
there first. The claim is a row in the state store (``bot.store``) keyed by cluster and handle location, taken with
one atomic insert: of any number of processes sharing the database, exactly one gets it.

A settled claim (this bot closed the handle) keeps later clicks away for ``ttl_s``; a failed or refused close (or a
handle found already gone) releases it, so a person may try again deliberately and is told the cluster's current
answer. An in-flight claim whose process died expires after ``in_flight_ttl_s``; the close re-checks the handle
first, so a late retry is told the handle is gone rather than closing twice. Expiry is wall-clock time: it must mean
the same in every replica.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.store import Store, StoreError, memory_store

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Claim:
    user_id: str | None
    at: float  # wall-clock seconds, for "closed by X at HH:MM"
    settled: bool


class CloseGuard:
    """Per-process API over the shared claim: ``begin`` then exactly one ``finish`` per admitted location.

    Without a ``store`` the claims live in a private in-memory store (this object only).
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        scope: str = "",
        ttl_s: float = 15 * 60,
        in_flight_ttl_s: float = 10 * 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._own_store = store is None
        self._store = store or memory_store()
        self._scope = scope
        self._ttl_s = ttl_s
        self._in_flight_ttl_s = in_flight_ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._owners: dict[str, str] = {}  # location -> this process's token for the claim it holds

    def _key(self, location: str) -> str:
        return f"{self._scope}\x1f{location}"

    def begin(self, location: str, user_id: str | None) -> Claim | None:
        """None if the caller may go ahead (and now owns ``location``); else the claim that blocks it.

        Raises ``StoreError`` when the store cannot answer: no close without a claim (deny by default).
        """
        now = self._clock()
        owner = secrets.token_hex(16)
        held = self._store.claim(
            self._key(location), owner=owner, user_id=user_id, now=now, expires_at=now + self._in_flight_ttl_s
        )
        if held is None:
            with self._lock:
                self._owners[location] = owner
            return None
        settled = held.state == "settled"
        at = held.settled_at if settled and held.settled_at is not None else held.claimed_at
        return Claim(held.user_id, at, settled=settled)

    def finish(self, location: str, *, settled: bool) -> None:
        """Release ``location``; ``settled`` (closed by this bot) keeps later clicks away for ``ttl_s``.

        Never raises: it runs after the close, and the audit record must still be written. If the store cannot be
        told, the claim stays in flight until it expires (later clicks wait: the safe side).
        """
        with self._lock:
            owner = self._owners.pop(location, None)
        if owner is None:
            return
        key = self._key(location)
        try:
            if settled:
                now = self._clock()
                kept = self._store.settle_claim(key, owner=owner, now=now, expires_at=now + self._ttl_s)
            else:
                kept = self._store.release_claim(key, owner=owner)
        except StoreError as exc:
            logger.error(
                "close guard: could not %s the claim on %s: %s",
                "settle" if settled else "release",
                location,
                exc,
            )
            return
        if not kept:
            logger.warning("close guard: the claim on %s had expired before the close finished", location)

    def close(self) -> None:
        """Close the private store, if this guard made one (a shared store is closed by its owner)."""
        if self._own_store:
            self._store.close()
