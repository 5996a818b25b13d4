"""Audit trail for close attempts: one record per attempt (allowed, refused or failed), durable before Slack hears.

``AuditLog(path, store).append(record)`` commits the record to the state store (``bot.store``: the record of
truth, shared by replicas) and then appends it as one JSON line to ``path`` (write, ``os.fsync``): the export a SIEM
tails. It is thread-safe; the caller writes the record *before* posting anything to Slack, so the trail survives a
Slack outage. Without a store (tools, some tests) only the JSON line is written. Records are plain data: the channel's "who
closed what" line is rendered from them in ``bot.slack.messages.closed_line``. No Slack imports or syntax here.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.store import Store

logger = logging.getLogger(__name__)

RESULTS = ("closed", "gone", "changed", "still_open", "failed", "denied", "duplicate", "invalid", "error")
#: In the store only: a close that is about to go out to the cluster. ``append(…, pending=id)`` turns it into the
#: outcome; a replica that dies in between leaves it as ``closing``, so a close that may have happened is never
#: missing from the audit trail.
CLOSING = "closing"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One close attempt. ``result`` is one of ``RESULTS``; ``message`` says why in one line."""

    at: float  # epoch seconds
    result: str
    user_id: str
    user_name: str | None
    channel_id: str | None
    file: str | None  # FS path
    location: str | None  # the handle's opaque location
    holder: str | None
    client: str | None  # "10.1.2.3 (laptop-42)"
    message: str = ""
    team_id: str | None = None
    channel_name: str | None = None
    file_number: str | None = None
    searcher_id: str | None = None  # who ran the search that rendered the button
    cluster: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.at)) + f".{int(self.at % 1 * 1000):03d}Z"
        )
        data["event"] = "close_handle"
        return data


class AuditLog:
    """The store's audit table plus an append-only JSONL export.

    ``append`` raises ``OSError`` (``bot.store.StoreError`` is one) when the record could not be made durable in
    both; it still tries the other, so a record is never lost to one failing.
    """

    def __init__(self, path: str | os.PathLike[str], store: Store | None = None) -> None:
        self.path = Path(path)
        self.store = store
        self._lock = threading.Lock()

    def check_writable(self) -> None:
        """Create the file if needed and make sure it can be appended to (fail at start-up, not at the first close)."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        os.close(fd)

    def begin(self, record: AuditRecord) -> int | None:
        """Commit a ``closing`` record to the store before a close goes out; its id for ``append(pending=)``.

        None without a store (the JSONL export gets outcomes only) or when the store refused (logged; the close
        still gets its outcome record).
        """
        if self.store is None:
            return None
        data = replace(record, result=CLOSING).to_json()
        try:
            return self.store.add_audit(data)
        except OSError as exc:
            logger.error("audit: the close could not be recorded before it went out: %s", exc)
            return None

    def append(self, record: AuditRecord, *, pending: int | None = None) -> None:
        """Record an outcome: in the store (completing the ``closing`` record ``pending``, else a new one), then in
        the JSONL export."""
        if record.result not in RESULTS:
            raise ValueError(f"unknown audit result {record.result!r}")
        data = record.to_json()
        failure: OSError | None = None
        if self.store is not None:
            try:
                if pending is not None and self.store.complete_audit(pending, data):
                    data["id"] = pending
                else:
                    data["id"] = self.store.add_audit(data)  # committed before anything else happens
            except OSError as exc:
                logger.error("audit: the record could not be committed to the state store: %s", exc)
                failure = exc
        try:
            self._export(data)
        except OSError as exc:
            logger.error("audit: the record could not be appended to %s: %s", self.path, exc)
            failure = failure or exc
        if failure is not None:
            raise failure
        logger.info(
            "audit: %s by %s in %s location=%s file=%s",
            record.result,
            record.user_id,
            record.channel_id,
            record.location,
            record.file,
        )

    def _export(self, data: dict[str, Any]) -> None:
        line = json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n"
        encoded = line.encode("utf-8")
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                written = 0
                while written < len(encoded):
                    written += os.write(fd, encoded[written:])
                os.fsync(fd)
            finally:
                os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        """All records (for tests and tools); a torn last line is skipped."""
        records: list[dict[str, Any]] = []
        if not self.path.exists():
            return records
        for raw in self.path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(raw))
            except ValueError:
                logger.warning("audit log %s: skipping an unreadable line", self.path)
        return records
