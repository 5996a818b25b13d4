"""The schema, as ordered migrations: version N is applied once, in order, in one transaction, at start.

``qlocks_schema`` holds one row per applied version. A migration is plain SQL valid on SQLite and PostgreSQL alike,
with ``{serial}`` for an auto-numbered primary key (the one thing the two spell differently). Never edit a released
migration: add the next one. A database newer than this code is refused (an older replica must not write to it).
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_TABLE = "qlocks_schema"
CREATE_SCHEMA_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
)
SERIAL = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgresql": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
}


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]

    def sql(self, dialect: str) -> list[str]:
        return [statement.format(serial=SERIAL[dialect]) for statement in self.statements]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "audit records, close claims, pending requests, watches, held queries",
        (
            # Every close attempt; ``record`` is the whole JSON object (the JSONL export's line).
            """CREATE TABLE audit_records (
                id {serial},
                at DOUBLE PRECISION NOT NULL,
                event TEXT NOT NULL,
                result TEXT NOT NULL,
                user_id TEXT,
                cluster TEXT,
                location TEXT,
                record TEXT NOT NULL
            )""",
            "CREATE INDEX audit_records_at ON audit_records (at)",
            # The click guard: one row per claimed handle; the primary key makes the claim exactly-once.
            """CREATE TABLE close_claims (
                claim_key TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                user_id TEXT,
                state TEXT NOT NULL CHECK (state IN ('in_flight', 'settled')),
                claimed_at DOUBLE PRECISION NOT NULL,
                settled_at DOUBLE PRECISION,
                expires_at DOUBLE PRECISION NOT NULL
            )""",
            "CREATE INDEX close_claims_expires_at ON close_claims (expires_at)",
            # Requests waiting for someone (e.g. a close asked for by a non-admin), with an expiry.
            """CREATE TABLE pending_requests (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                requester TEXT NOT NULL,
                state TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL,
                resolved_at DOUBLE PRECISION,
                resolved_by TEXT,
                data TEXT NOT NULL
            )""",
            "CREATE INDEX pending_requests_state ON pending_requests (state, expires_at)",
            # "Tell me when this file is released": who watches what.
            """CREATE TABLE watches (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                channel_id TEXT,
                target TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION,
                data TEXT NOT NULL
            )""",
            "CREATE INDEX watches_target ON watches (target)",
            # Searches the server keeps so a button can carry an id instead of the whole query.
            """CREATE TABLE held_queries (
                id TEXT PRIMARY KEY,
                user_id TEXT,
                query TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL,
                data TEXT NOT NULL
            )""",
            "CREATE INDEX held_queries_expires_at ON held_queries (expires_at)",
        ),
    ),
)


def check_order(migrations: tuple[Migration, ...]) -> None:
    """Versions must be 1, 2, 3, … with no gap: a gap means a migration was lost in a merge."""
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise ValueError(
                f"migration {migration.name!r} has version {migration.version}, expected {expected}"
            )


check_order(MIGRATIONS)

LATEST = MIGRATIONS[-1].version
