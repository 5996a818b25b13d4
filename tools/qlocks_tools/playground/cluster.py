"""The side panel's view of the simulated cluster, read in-process from the simulator's ``ClusterState``.

The playground (like the CLI's demo) may use the simulator; the bot never does: it sees the cluster only through
the REST API. The simulator is imported lazily, inside functions.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]

# Who opens files "from another client": each open is a new client (its own IP, host name and SMB session, opened
# now), so two opens of one file are two rows the bot tells apart by holder and client. The pool cycles; a second
# round gets new machines ("ERIN-MBP-2").
VISITORS: tuple[tuple[str, str], ...] = (
    ("erin", "ERIN-MBP"),
    ("ravi", "RAVI-SURFACE"),
    ("noor", "NOOR-IMAC"),
    ("felix", "FELIX-THINKPAD"),
    ("keiko", "KEIKO-PC"),
)


class SimCluster:
    """Open handles as panel rows (path, user, client IP), and "open a file from another client"."""

    def __init__(self, state: Any, *, visitors: tuple[tuple[str, str], ...] = VISITORS) -> None:
        if not visitors:
            raise ValueError("give at least one (user, host) visitor")
        self.state = (
            state  # qlocks_tools.simulator.state.ClusterState (duck-typed: no import at module level)
        )
        self._visitors = visitors
        self._opens = 0

    def handles(self, filter_text: str, *, limit: int) -> tuple[int, list[JsonDict]]:
        """(how many handles match, the first ``limit`` of them as rows). Empty filter = all handles."""
        needle = filter_text.strip().lower()
        rows = self._rows()
        if needle:
            fields = ("path", "user", "client_ip", "host")
            rows = [row for row in rows if needle in "\n".join(row[f] for f in fields).lower()]
        return len(rows), rows[:limit]

    def open_handle(self, path: str) -> JsonDict:
        """Open ``path`` (created if missing) from the next visitor's new client; returns the new handle's row.

        The client's SMB session starts now, so the bot shows it as "open 0s", not the simulator's default age.
        """
        state = self.state
        with state.lock:
            user, host = self._visitors[self._opens % len(self._visitors)]
            rounds = self._opens // len(self._visitors)
            self._opens += 1
            if rounds:
                host = f"{host}-{rounds + 1}"
            ip = state.new_client_ip(host)
            state.ensure_session(state.ensure_identity(user), ip, age_s=0.0)  # add_handle reuses this session
            location = state.add_handle(path, user=user, client_ip=ip, write=True)
        logger.info("playground: %s opened %s from %s (%s, %s)", user, path, ip, host, location)
        found = [row for row in self._rows() if row["location"] == location]
        return found[0] if found else {"location": location, "path": path, "user": user, "client_ip": ip,
                                       "host": host}  # fmt: skip

    def client_close(self, location: str) -> bool:
        """The client itself closes a handle (the app exits, the laptop sleeps): the bot's list goes stale."""
        error = self.state.close_handle(location)
        if error:
            logger.info("playground: client close of %s: %s", location, error)
            return False
        logger.info("playground: the client closed %s", location)
        return True

    def _rows(self) -> list[JsonDict]:
        """Every open handle in listing order with its user and client, from the simulator's public snapshots.

        ``handles_snapshot`` and ``grants_snapshot`` both list one entry per handle in the same order (taken together
        under the state's lock); the grant carries the client address, the session list maps owner ids to names.
        """
        state = self.state
        with state.lock:
            handles = state.handles_snapshot()
            grants = state.grants_snapshot()
            sessions = state.sessions_snapshot()
            hostnames: dict[str, str] = dict(getattr(state, "hostnames", {}))
        names = {str(s["user"]["auth_id"]): str(s["user"]["name"]) for s in sessions if s.get("user")}
        if len(grants) != len(handles):
            grants = [{}] * len(handles)
        rows: list[JsonDict] = []
        for handle, grant in zip(handles, grants, strict=True):
            info = handle.get("handle_info", {})
            same = str(grant.get("file_id")) == str(handle.get("file_number"))
            ip = str(grant.get("owner_address") or "") if same else ""
            owner = str(info.get("owner", ""))
            rows.append({
                "location": str(info.get("location", "")),
                "path": str(info.get("path", "")),
                "user": names.get(owner, owner),
                "client_ip": ip,
                "host": hostnames.get(ip, ""),
            })  # fmt: skip
        return rows
