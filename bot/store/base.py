"""The state store: typed accessors in plain SQL over a ``Backend`` (SQLite or PostgreSQL, same schema).

A ``Backend`` gives transactions (``with backend.transaction() as tx: tx.execute(sql, params)``) with ``?``
placeholders, raising ``StoreError`` for anything the database or the connection did wrong. ``Store`` holds no
state of its own: every answer comes from the database, so two processes sharing one see the same thing.

Times are wall-clock epoch seconds passed in by the caller (``now``): expiry must mean the same in every replica.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.store.migrations import CREATE_SCHEMA_TABLE, MIGRATIONS, SCHEMA_TABLE, Migration, check_order

logger = logging.getLogger(__name__)

Row = tuple[Any, ...]
ClaimState = Literal["in_flight", "settled"]
PENDING = "pending"


class StoreError(OSError):
    """The state store could not do what was asked (unreachable, refused, corrupt, newer schema).

    An ``OSError``: callers treat it as any failed durable write (the audit log's callers already do).
    The message is one line and never shows a password.
    """


class Tx(Protocol):
    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Run one statement; the rows it returned (``RETURNING`` / ``SELECT``), [] for none."""
        ...

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""
        ...


class Backend(Protocol):
    @property
    def dialect(self) -> Literal["sqlite", "postgresql"]: ...

    @property
    def shown(self) -> str:
        """Where it is, password masked."""
        ...

    def transaction(self) -> AbstractContextManager[Tx]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        ...

    def lock_schema(self, tx: Tx) -> None:
        """Keep other processes from migrating at the same time (held until the transaction ends)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StoredClaim:
    key: str
    owner: str  # the claimer's private token: only it may settle or release the claim
    user_id: str | None
    state: ClaimState
    claimed_at: float
    settled_at: float | None
    expires_at: float


@dataclass(frozen=True, slots=True)
class PendingRequest:
    id: str
    kind: str
    requester: str
    state: str  # "pending" until resolved (e.g. "approved", "denied", "cancelled")
    created_at: float
    expires_at: float
    resolved_at: float | None = None
    resolved_by: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Watch:
    id: str
    user_id: str
    channel_id: str | None
    target: str  # what is watched, e.g. a file path or a handle location
    created_at: float
    expires_at: float | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HeldQuery:
    id: str
    user_id: str | None
    query: str
    created_at: float
    expires_at: float
    data: dict[str, Any] = field(default_factory=dict)


def new_id() -> str:
    """An unguessable id (96 bits): ids may travel in button values, which anyone can forge."""
    return secrets.token_urlsafe(12)


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(dict(data), ensure_ascii=False, sort_keys=True)


def _load(text: str) -> dict[str, Any]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


class Store:
    """All of qlocks' shared state. Thread-safe (the backend serializes its connection); ``close`` when done."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    @property
    def dialect(self) -> str:
        return self._backend.dialect

    @property
    def shown(self) -> str:
        return self._backend.shown

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema ------------------------------------------------------------------------------------------------

    def migrate(self, *, now: float, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
        """Create or upgrade the schema; the versions applied now ([] when it was current). Safe to run at every
        start and from several processes at once (one migrates, the others wait and find nothing to do)."""
        check_order(migrations)
        applied: list[int] = []
        with self._backend.transaction() as tx:
            self._backend.lock_schema(tx)
            tx.execute(CREATE_SCHEMA_TABLE)
            current = self._version(tx)
            latest = migrations[-1].version if migrations else 0
            if current > latest:
                raise StoreError(
                    f"the database at {self.shown} has schema version {current}, newer than this qlocks knows "
                    f"({latest}): run the newer qlocks, or a database of its own"
                )
            for migration in migrations[current:]:
                for statement in migration.sql(self.dialect):
                    tx.execute(statement)
                tx.execute(
                    "INSERT INTO qlocks_schema (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, now),
                )
                applied.append(migration.version)
        if applied:
            logger.info("state store %s: applied schema version(s) %s", self.shown, applied)
        return applied

    def schema_version(self) -> int:
        """The version the database is at; 0 for an empty database."""
        with self._backend.transaction() as tx:
            return self._version(tx)

    def _version(self, tx: Tx) -> int:
        if not self._has_schema_table(tx):
            return 0
        rows = tx.execute("SELECT MAX(version) FROM qlocks_schema")
        return int(rows[0][0] or 0) if rows else 0

    def _has_schema_table(self, tx: Tx) -> bool:
        if self.dialect == "sqlite":
            sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        else:
            sql = "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
        return bool(tx.execute(sql, (SCHEMA_TABLE,)))

    def ping(self) -> None:
        """Raises ``StoreError`` unless the database answers (readiness, doctor)."""
        with self._backend.transaction() as tx:
            tx.execute("SELECT 1")

    # --- audit -------------------------------------------------------------------------------------------------

    def add_audit(self, record: Mapping[str, Any]) -> int:
        """Insert one audit record (the JSON object of ``bot.audit.AuditRecord``) and commit; its id."""
        at = record.get("at")
        if not isinstance(at, int | float):
            raise ValueError("an audit record needs a numeric 'at'")
        with self._backend.transaction() as tx:
            rows = tx.execute(
                "INSERT INTO audit_records (at, event, result, user_id, cluster, location, record) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    float(at),
                    str(record.get("event") or ""),
                    str(record.get("result") or ""),
                    record.get("user_id"),
                    record.get("cluster"),
                    record.get("location"),
                    _json(record),
                ),
            )
        return int(rows[0][0])

    def complete_audit(self, record_id: int, record: Mapping[str, Any]) -> bool:
        """Turn the ``closing`` record ``record_id`` (written before a close went out) into the attempt's outcome,
        once: False when it is not (or no longer) a ``closing`` record."""
        with self._backend.transaction() as tx:
            rows = tx.execute(
                "UPDATE audit_records SET result = ?, record = ? WHERE id = ? AND result = 'closing' RETURNING id",
                (str(record.get("result") or ""), _json({**record, "id": record_id}), record_id),
            )
        return bool(rows)

    def audit_records(self, *, after_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Records in the order written, from after ``after_id`` (a tail); each with its ``id``."""
        with self._backend.transaction() as tx:
            rows = tx.execute(
                "SELECT id, record FROM audit_records WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
            )
        return [{**_load(text), "id": int(row_id)} for row_id, text in rows]

    # --- close claims (the click guard) --------------------------------------------------------------------

    def claim(
        self, key: str, *, owner: str, user_id: str | None, now: float, expires_at: float
    ) -> StoredClaim | None:
        """Claim ``key`` for ``owner``: None when it is now theirs, else the live claim that holds it.

        One statement, atomic on both databases: insert, or take over a row whose claim has expired. Of any number
        of processes racing for the same key, exactly one gets None.
        """
        for _ in range(3):  # the holder may release between our insert and our read: then try again
            with self._backend.transaction() as tx:
                won = tx.execute(
                    "INSERT INTO close_claims (claim_key, owner, user_id, state, claimed_at, settled_at, expires_at) "
                    "VALUES (?, ?, ?, 'in_flight', ?, NULL, ?) "
                    "ON CONFLICT (claim_key) DO UPDATE SET owner = excluded.owner, user_id = excluded.user_id, "
                    "state = 'in_flight', claimed_at = excluded.claimed_at, settled_at = NULL, "
                    "expires_at = excluded.expires_at WHERE close_claims.expires_at <= ? "
                    "RETURNING claim_key",
                    (key, owner, user_id, now, expires_at, now),
                )
                if won:
                    return None
                held = self._claim_row(tx, key)
            if held is not None:
                return held
        raise StoreError(f"claim {key!r} kept changing hands; try again")

    def settle_claim(self, key: str, *, owner: str, now: float, expires_at: float) -> bool:
        """Mark ``owner``'s claim settled (the close was made) until ``expires_at``; False if it is not theirs."""
        with self._backend.transaction() as tx:
            tx.execute(
                "UPDATE close_claims SET state = 'settled', settled_at = ?, expires_at = ? "
                "WHERE claim_key = ? AND owner = ?",
                (now, expires_at, key, owner),
            )
            return tx.rowcount == 1

    def release_claim(self, key: str, *, owner: str) -> bool:
        """Drop ``owner``'s claim (nothing was closed: a person may try again); False if it is not theirs."""
        with self._backend.transaction() as tx:
            tx.execute("DELETE FROM close_claims WHERE claim_key = ? AND owner = ?", (key, owner))
            return tx.rowcount == 1

    def get_claim(self, key: str, *, now: float) -> StoredClaim | None:
        """The live claim on ``key``, None when there is none or it has expired."""
        with self._backend.transaction() as tx:
            held = self._claim_row(tx, key)
        return held if held is not None and held.expires_at > now else None

    def _claim_row(self, tx: Tx, key: str) -> StoredClaim | None:
        rows = tx.execute(
            "SELECT claim_key, owner, user_id, state, claimed_at, settled_at, expires_at "
            "FROM close_claims WHERE claim_key = ?",
            (key,),
        )
        if not rows:
            return None
        k, owner, user_id, state, claimed_at, settled_at, expires_at = rows[0]
        return StoredClaim(
            key=k,
            owner=owner,
            user_id=user_id,
            state="settled" if state == "settled" else "in_flight",
            claimed_at=float(claimed_at),
            settled_at=None if settled_at is None else float(settled_at),
            expires_at=float(expires_at),
        )

    # --- pending requests --------------------------------------------------------------------------------------

    def add_pending(
        self,
        *,
        kind: str,
        requester: str,
        now: float,
        expires_at: float,
        data: Mapping[str, Any] | None = None,
    ) -> PendingRequest:
        request = PendingRequest(
            id=new_id(),
            kind=kind,
            requester=requester,
            state=PENDING,
            created_at=now,
            expires_at=expires_at,
            data=dict(data or {}),
        )
        with self._backend.transaction() as tx:
            tx.execute(
                "INSERT INTO pending_requests (id, kind, requester, state, created_at, expires_at, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (request.id, kind, requester, PENDING, now, expires_at, _json(request.data)),
            )
        return request

    def get_pending(self, request_id: str) -> PendingRequest | None:
        """The request in whatever state it is (check ``state`` and ``expires_at``); None when unknown."""
        with self._backend.transaction() as tx:
            rows = tx.execute(f"{_PENDING_SELECT} WHERE id = ?", (request_id,))
        return _pending(rows[0]) if rows else None

    def open_requests(self, *, now: float, kind: str | None = None) -> list[PendingRequest]:
        """Requests still pending and not expired, oldest first."""
        sql = f"{_PENDING_SELECT} WHERE state = ? AND expires_at > ?"
        params: list[object] = [PENDING, now]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        with self._backend.transaction() as tx:
            rows = tx.execute(sql + " ORDER BY created_at, id", params)
        return [_pending(row) for row in rows]

    def resolve_pending(self, request_id: str, *, state: str, by: str | None, now: float) -> bool:
        """Move a pending, unexpired request to ``state`` exactly once: True for the one caller that did it."""
        if state == PENDING:
            raise ValueError("a request is resolved to a state other than 'pending'")
        with self._backend.transaction() as tx:
            tx.execute(
                "UPDATE pending_requests SET state = ?, resolved_at = ?, resolved_by = ? "
                "WHERE id = ? AND state = ? AND expires_at > ?",
                (state, now, by, request_id, PENDING, now),
            )
            return tx.rowcount == 1

    # --- watches -----------------------------------------------------------------------------------------------

    def add_watch(
        self,
        *,
        user_id: str,
        target: str,
        now: float,
        channel_id: str | None = None,
        expires_at: float | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Watch:
        watch = Watch(
            id=new_id(),
            user_id=user_id,
            channel_id=channel_id,
            target=target,
            created_at=now,
            expires_at=expires_at,
            data=dict(data or {}),
        )
        with self._backend.transaction() as tx:
            tx.execute(
                "INSERT INTO watches (id, user_id, channel_id, target, created_at, expires_at, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (watch.id, user_id, channel_id, target, now, expires_at, _json(watch.data)),
            )
        return watch

    def watches(self, *, now: float, target: str | None = None) -> list[Watch]:
        """Live watches (all, or on ``target``), oldest first."""
        sql = (
            "SELECT id, user_id, channel_id, target, created_at, expires_at, data FROM watches "
            "WHERE (expires_at IS NULL OR expires_at > ?)"
        )
        params: list[object] = [now]
        if target is not None:
            sql += " AND target = ?"
            params.append(target)
        with self._backend.transaction() as tx:
            rows = tx.execute(sql + " ORDER BY created_at, id", params)
        return [
            Watch(
                id=r[0],
                user_id=r[1],
                channel_id=r[2],
                target=r[3],
                created_at=float(r[4]),
                expires_at=None if r[5] is None else float(r[5]),
                data=_load(r[6]),
            )
            for r in rows
        ]

    def remove_watch(self, watch_id: str) -> bool:
        """True for the one caller that removed it (a watch fires once)."""
        with self._backend.transaction() as tx:
            tx.execute("DELETE FROM watches WHERE id = ?", (watch_id,))
            return tx.rowcount == 1

    # --- server-held queries -----------------------------------------------------------------------------------

    def hold_query(
        self,
        *,
        query: str,
        now: float,
        expires_at: float,
        user_id: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> HeldQuery:
        held = HeldQuery(
            id=new_id(),
            user_id=user_id,
            query=query,
            created_at=now,
            expires_at=expires_at,
            data=dict(data or {}),
        )
        with self._backend.transaction() as tx:
            tx.execute(
                "INSERT INTO held_queries (id, user_id, query, created_at, expires_at, data) VALUES (?, ?, ?, ?, ?, ?)",
                (held.id, user_id, query, now, expires_at, _json(held.data)),
            )
        return held

    def held_query(self, query_id: str, *, now: float) -> HeldQuery | None:
        """The query, None when unknown or expired."""
        with self._backend.transaction() as tx:
            rows = tx.execute(
                "SELECT id, user_id, query, created_at, expires_at, data FROM held_queries "
                "WHERE id = ? AND expires_at > ?",
                (query_id, now),
            )
        if not rows:
            return None
        r = rows[0]
        return HeldQuery(
            id=r[0],
            user_id=r[1],
            query=r[2],
            created_at=float(r[3]),
            expires_at=float(r[4]),
            data=_load(r[5]),
        )

    # --- housekeeping ------------------------------------------------------------------------------------------

    def purge_expired(self, *, now: float) -> int:
        """Delete expired claims, held queries and watches, and mark expired pending requests "expired";
        how many rows changed. Audit records are never deleted here."""
        changed = 0
        with self._backend.transaction() as tx:
            for sql, params in _PURGES:
                tx.execute(sql, [now if p is None else p for p in params])
                changed += max(tx.rowcount, 0)
        return changed


_PENDING_SELECT = "SELECT id, kind, requester, state, created_at, expires_at, resolved_at, resolved_by, data FROM pending_requests"
_PURGES: tuple[tuple[str, tuple[object, ...]], ...] = (
    ("DELETE FROM close_claims WHERE expires_at <= ?", (None,)),
    ("DELETE FROM held_queries WHERE expires_at <= ?", (None,)),
    ("DELETE FROM watches WHERE expires_at IS NOT NULL AND expires_at <= ?", (None,)),
    ("UPDATE pending_requests SET state = 'expired' WHERE state = ? AND expires_at <= ?", (PENDING, None)),
)


def _pending(r: Row) -> PendingRequest:
    return PendingRequest(
        id=r[0],
        kind=r[1],
        requester=r[2],
        state=r[3],
        created_at=float(r[4]),
        expires_at=float(r[5]),
        resolved_at=None if r[6] is None else float(r[6]),
        resolved_by=r[7],
        data=_load(r[8]),
    )
