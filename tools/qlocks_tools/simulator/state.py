"""``ClusterState``: the thread-safe in-memory cluster behind the simulator's REST API.

Handles, sessions, files and identities are kept in dicts plus sorted key lists, so listing a page is
O(log N + page) and closing a handle is O(log N) plus a memmove, even with 300k handles.
Every mutation keeps the joins the real cluster exposes consistent: handle ``owner`` == session ``user.auth_id``,
share-mode grant ``owner_address`` == session ``originator`` (the same address; written as the ``addresses`` knob
says), handle ``file_number`` == grant ``file_id``. Whether a handle's location extends its session's location is
the ``handle_locations`` knob (``knobs.LOCATION_STYLES``).
"""

from __future__ import annotations

import bisect
import dataclasses
import ipaddress
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from qlocks_tools.simulator import records as r
from qlocks_tools.simulator.catalog import DEFAULT_SHARES
from qlocks_tools.simulator.knobs import ADDRESS_STYLES, LOCATION_STYLES, Account, Knobs, privileges_of
from qlocks_tools.simulator.paging import SortedKeys
from qlocks_tools.simulator.render import Fragments
from qlocks_tools.simulator.views import StateViews

logger = logging.getLogger(__name__)

DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "Admin123"
NODES = ("10.20.0.11", "10.20.0.12", "10.20.0.13", "10.20.0.14")
AD_DOMAIN_SID = "S-1-5-21-2142-3318-5011"
AD_AUTH_BASE = 8_589_934_592  # AD identities get large auth_ids, like on a real cluster


class ClusterState(StateViews, Knobs):
    """The simulated cluster. Lock ``self.lock`` (re-entrant) for compound reads; every public method locks."""

    def __init__(
        self,
        *,
        seed: int = 1,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        clock: Callable[[], float] = time.time,
        handle_locations: str = "opaque",
        addresses: str = "ipv4",
    ) -> None:
        super().__init__(clock)
        if handle_locations not in LOCATION_STYLES:
            raise ValueError(f"handle_locations must be one of {', '.join(LOCATION_STYLES)}")
        if addresses not in ADDRESS_STYLES:
            raise ValueError(f"addresses must be one of {', '.join(ADDRESS_STYLES)}")
        self.handle_locations = handle_locations
        self.addresses = addresses
        self.lock = threading.RLock()
        self.seed = seed
        self._by_grant_address: dict[str, str] = {}  # owner_address as grants say it -> originator
        self._last_session_location = ""
        self._folder_by_path: dict[str, int] = {}  # folder path (no trailing slash) -> its FileRec number
        self.rng = random.Random(seed)
        self.identities: dict[str, r.Identity] = {}
        self._ident_by_name: dict[str, str] = {}
        self.sessions: dict[int, r.Session] = {}
        self.session_keys = SortedKeys()
        self._session_by_loc: dict[str, int] = {}
        self._session_by_pair: dict[tuple[str, str], int] = {}
        self.files: dict[int, r.FileRec] = {}
        self._file_by_path: dict[str, int] = {}
        self.dirs: dict[str, int] = {"/": 2}
        self.handles: dict[int, r.Handle] = {}
        self.fragments = Fragments()  # rendered handle / grant JSON, dropped when the handle closes
        self.handle_keys = SortedKeys()
        self.byte_range_keys = SortedKeys()  # seqs of handles holding byte-range locks
        self.by_ip: dict[str, list[int]] = {}  # client IP -> ascending handle seqs
        self._share_of_dir: dict[str, str] = {}
        self.hostnames: dict[str, str] = {}  # client IP -> reverse DNS name (missing = no PTR record)
        self.shares: list[dict[str, Any]] = [
            r.share_json(i + 1, name, path, desc) for i, (name, path, desc) in enumerate(DEFAULT_SHARES)
        ]
        self._next = {"handle": 1, "session": 1, "file": 7_340_000, "user": 1000, "ip": 10}
        admin = self.ensure_identity(username, domain="LOCAL", auth_id="500", uid=0)
        self.tokens.add_account(Account(username, admin.auth_id, frozenset(r.ALL_PRIVILEGES), password))
        self.admin_token = self.tokens.issue(username, kind="access", creator=username).secret

    # -- churn and tokens (the other knobs live in Knobs) ----------------------------------------
    def apply_churn(self) -> None:
        with self.lock:
            for _ in range(min(self.churn_remove, len(self.handle_keys))):
                seq = self.handle_keys.at(self.rng.randrange(len(self.handle_keys)))
                self._remove_handle(seq)
                self.churned["removed"] += 1
            for _ in range(self.churn_add):
                if not self.files or not self.sessions:
                    break
                numbers = list(self.files) if len(self.files) < 64 else None
                number = self.rng.choice(numbers) if numbers else self._random_file_number()
                session = self.sessions[self.session_keys.at(self.rng.randrange(len(self.session_keys)))]
                self.open_handle(self.files[number], session, kind="read")
                self.churned["added"] += 1

    def _random_file_number(self) -> int:
        while True:  # file numbers are dense enough that a few probes hit
            guess = self.rng.randrange(7_340_000, self._next["file"])
            if guess in self.files:
                return guess

    def mint_token(self, name: str, privileges: Iterable[str]) -> str:
        """An access token for user ``name`` holding exactly ``privileges`` (the user is created if new)."""
        with self.lock:
            existing = self.tokens.account(name)
            if existing is not None and existing.password is not None:
                raise ValueError(f"{name!r} is the login user; mint tokens for another name")
            ident = self.ensure_identity(name, domain="LOCAL")
            self.tokens.add_account(Account(name, ident.auth_id, privileges_of(privileges)))
            return self.tokens.issue(name, kind="access", creator="admin").secret

    # -- identities, sessions, files ----------------------------------------------------------------
    def ensure_identity(
        self,
        name: str,
        *,
        domain: str = "ACTIVE_DIRECTORY",
        auth_id: str | None = None,
        uid: int | None = None,
    ) -> r.Identity:
        with self.lock:
            key = _bare_name(name).lower()
            if key in self._ident_by_name:
                return self.identities[self._ident_by_name[key]]
            n = self._next["user"]
            self._next["user"] += 1
            if auth_id is None:
                auth_id = str(AD_AUTH_BASE + n) if domain == "ACTIVE_DIRECTORY" else str(n)
            rid = auth_id if len(auth_id) < 6 else str(n)
            uid = 2000 + n if uid is None else uid
            ident = r.Identity(auth_id, _bare_name(name), domain, uid, 513, f"{AD_DOMAIN_SID}-{rid}")
            self.identities[auth_id] = ident
            self._ident_by_name[key] = auth_id
            return ident

    def identity_by_name(self, name: str) -> r.Identity | None:
        with self.lock:
            auth_id = self._ident_by_name.get(_bare_name(name).lower())
            return self.identities.get(auth_id) if auth_id else None

    def new_client_ip(self, hostname: str | None) -> str:
        with self.lock:
            n = self._next["ip"]
            self._next["ip"] += 1
            ip = f"10.30.{n // 250}.{n % 250 + 2}"
            if self.addresses == "ipv6":
                ip = str(ipaddress.IPv6Address(f"fd00:30::{n // 250:x}:{n % 250 + 2:x}"))
            if hostname:
                self.hostnames[ip] = hostname
            return ip

    def ensure_session(self, ident: r.Identity, ip: str, *, age_s: float = 3600.0) -> r.Session:
        with self.lock:
            seq = self._session_by_pair.get((ident.auth_id, ip))
            if seq is not None:
                return self.sessions[seq]
            seq = self._next["session"]
            self._next["session"] += 1
            node = sum(map(int, ip.split(".")[2:])) % len(NODES) if ip.count(".") == 3 else 0
            now = self.clock()
            location = str(self.rng.getrandbits(62))
            prefix = f"{node + 1}.{self.rng.randrange(10**11, 10**12)}"
            if self.handle_locations == "extends":
                location = prefix
            elif self.handle_locations == "shuffled":  # handles extend the previous session's location
                location, prefix = prefix, self._last_session_location or prefix
                self._last_session_location = location
            sess = r.Session(
                seq,
                location,
                prefix,
                ip,
                NODES[node],
                ident.auth_id,
                now - age_s,
                now,
                self.rng.random() < 0.7,
                grant_address=self.grant_address_of(ip),
            )
            self._by_grant_address[sess.grant_address or ip] = ip
            self.sessions[seq] = sess
            self.session_keys.add(seq)
            self._session_by_loc[location] = seq
            self._session_by_pair[(ident.auth_id, ip)] = seq
            return sess

    def grant_address_of(self, ip: str) -> str:
        """How lock grants write client ``ip`` ("" = as sessions do)."""
        if self.addresses == "mapped" and ip.count(".") == 3:
            return f"::ffff:{ip}"
        if self.addresses == "ipv6" and ":" in ip:
            return ipaddress.IPv6Address(ip).exploded
        return ""

    def originator_of(self, owner_address: str) -> str | None:
        """The client a grant ``owner_address`` filter means, compared as the cluster writes it (no parsing)."""
        with self.lock:
            return self._by_grant_address.get(owner_address)

    def ensure_folder(self, path: str) -> r.FileRec:
        """A folder that handles can be opened on (listed with a trailing slash, like directory attributes)."""
        base = path.rstrip("/") or "/"
        with self.lock:
            number = self._folder_by_path.get(base)
            if number is not None:
                return self.files[number]
            parent = base
            while parent and parent not in self.dirs:
                self.dirs[parent] = 1_000_000_000 + len(self.dirs)
                parent = parent.rsplit("/", 1)[0]
            number = self.dirs[base]
            now = self.clock()
            rec = r.FileRec(number, base.rstrip("/") + "/", 0, now - 86400 * 30, now - 3600, is_dir=True)
            rec.share = self.share_for(base)
            self.files[number] = rec
            self._folder_by_path[base] = number
            return rec

    def folder_by_path(self, path: str) -> r.FileRec | None:
        with self.lock:
            number = self._folder_by_path.get(path.rstrip("/") or "/")
            return None if number is None else self.files[number]

    def ensure_file(self, path: str, *, size: int | None = None, age_s: float = 86400.0) -> r.FileRec:
        with self.lock:
            number = self._file_by_path.get(path)
            if number is not None:
                return self.files[number]
            number = self._next["file"]
            self._next["file"] += 1 + (number % 3 == 0)  # a few gaps, as on a real file system
            now = self.clock()
            rec = r.FileRec(
                number,
                path,
                size if size is not None else 4096 + number % 9_000_000,
                now - age_s * 3,
                now - age_s,
            )
            parent = path.rsplit("/", 1)[0]
            share = self._share_of_dir.get(parent)
            if share is None:
                share = self._share_of_dir[parent] = self.share_for(path)
            rec.share = share
            self.files[number] = rec
            self._file_by_path[path] = number
            while parent and parent not in self.dirs:
                self.dirs[parent] = 1_000_000_000 + len(self.dirs)
                parent = parent.rsplit("/", 1)[0]
            return rec

    def share_for(self, path: str) -> str:
        best = ("", -1)
        for share in self.shares:
            root = share["fs_path"].rstrip("/")
            if (path == root or path.startswith(root + "/")) and len(root) > best[1]:
                best = (share["share_name"], len(root))
        return best[0]

    # -- handles ----------------------------------------------------------------------------------
    def open_handle(
        self,
        f: r.FileRec,
        sess: r.Session,
        *,
        kind: str = "write",
        byte_ranges: tuple[tuple[int, int, int], ...] = (),
    ) -> r.Handle:
        """Open ``f`` from ``sess``: one handle plus its share-mode grant (and byte-range grants)."""
        mask, mode = r.OPEN_KINDS[kind]
        with self.lock:
            seq = self._next["handle"]
            self._next["handle"] = seq + 1
            h = r.Handle(seq, f.number, sess.seq, mask, mode, byte_ranges)
            self.handles[seq] = h
            self.handle_keys.push(seq)
            f.handles.append(seq)
            ip_list = self.by_ip.get(sess.originator)
            if ip_list is None:
                self.by_ip[sess.originator] = [seq]
            else:
                ip_list.append(seq)
            if byte_ranges:
                self.byte_range_keys.push(seq)
            sess.num_opens += 1
            if f.share and f.share not in sess.share_names:
                sess.share_names.append(f.share)
            return h

    def add_handle(
        self, path: str, *, user: str, client_ip: str | None = None, write: bool = True, folder: bool = False
    ) -> str:
        """Open ``path`` as ``user`` (from ``client_ip``, or the user's usual client); returns the location.

        With ``folder``, ``path`` is a folder held open the way Explorer holds one (list + change notify)."""
        if not path.startswith("/"):
            raise ValueError(f"path must be absolute: {path!r}")
        with self.lock:
            ident = self.ensure_identity(user)
            if client_ip is None:
                known = [s for s in self.sessions.values() if s.auth_id == ident.auth_id]
                client_ip = (
                    known[0].originator if known else self.new_client_ip(f"{_bare_name(user)}-pc".upper())
                )
            sess = self.ensure_session(ident, client_ip, age_s=60.0)
            sess.last_active = self.clock()
            if folder:
                h = self.open_handle(self.ensure_folder(path), sess, kind="folder")
            else:
                h = self.open_handle(self.ensure_file(path), sess, kind="write" if write else "read")
            return r.handle_location(h, sess)

    def reuse_location(
        self, location: str, path: str, *, user: str, client_ip: str, write: bool = True
    ) -> str:
        """Open ``path`` as ``user`` from ``client_ip`` at exactly ``location`` (closing whatever was there).

        Locations are opaque and the docs do not promise they are never reused (a restarted node may hand the
        same one out again); this knob is the other behaviour, for the close path's re-check.
        """
        prefix, _, tail = location.rpartition(".")
        if not prefix or not tail.isdigit():
            raise ValueError(f"not a simulator location: {location!r}")
        seq = int(tail)
        with self.lock:
            if seq in self.handles:
                self._remove_handle(seq)
            ident = self.ensure_identity(user)
            sess = self.ensure_session(ident, client_ip, age_s=60.0)
            if sess.handle_prefix != prefix:  # a session of that client which hands out this prefix
                sess = dataclasses.replace(
                    sess, seq=self._next["session"], handle_prefix=prefix, num_opens=0, share_names=[]
                )
                self._next["session"] += 1
                sess.location = str(self.rng.getrandbits(62))
                self.sessions[sess.seq] = sess
                self.session_keys.add(sess.seq)
                self._session_by_loc[sess.location] = sess.seq
            f = self.ensure_file(path)
            mask, mode = r.OPEN_KINDS["write" if write else "read"]
            h = r.Handle(seq, f.number, sess.seq, mask, mode)
            self.handles[seq] = h
            self.handle_keys.add(seq)
            bisect.insort(f.handles, seq)  # both lists stay sorted: closes delete by bisection
            bisect.insort(self.by_ip.setdefault(sess.originator, []), seq)
            sess.num_opens += 1
            if f.share and f.share not in sess.share_names:
                sess.share_names.append(f.share)
            return r.handle_location(h, sess)

    def rename_file(self, old: str, new: str) -> None:
        """Rename a file that may be open: its number and its handles' locations stay, the path changes."""
        with self.lock:
            number = self._file_by_path.pop(old)
            if new in self._file_by_path:
                raise ValueError(f"{new!r} exists")
            rec = self.files[number]
            rec.path = new
            rec.share = self.share_for(new)
            self._file_by_path[new] = number
            for seq in rec.handles:
                self.fragments.forget(seq)  # pre-rendered JSON carries the old path

    def close_handle(self, location: str) -> str:
        """Close one handle (and its grants). Returns "" on success or the error message."""
        with self.lock:
            h = self.handle_by_location(location)
            if h is None:
                return f"SMB file handle not found: no open handle at location {location!r}"
            self._remove_handle(h.seq)
            return ""

    def _remove_handle(self, seq: int) -> None:
        h = self.handles.pop(seq)
        self.fragments.forget(seq)
        self.handle_keys.discard(seq)
        if h.byte_ranges:
            self.byte_range_keys.discard(seq)
        f = self.files[h.file_number]
        del f.handles[bisect.bisect_left(f.handles, seq)]
        sess = self.sessions.get(h.session)
        if sess is not None:
            sess.num_opens = max(0, sess.num_opens - 1)
            ip_list = self.by_ip[sess.originator]
            del ip_list[bisect.bisect_left(ip_list, seq)]

    def close_session(self, location: str) -> str:
        """Close an SMB session: all its handles and grants go with it."""
        with self.lock:
            seq = self._session_by_loc.get(location)
            if seq is None:
                return f"SMB session not found: no session at location {location!r}"
            sess = self.sessions[seq]
            for hseq in list(self.by_ip.get(sess.originator, ())):
                if self.handles[hseq].session == seq:
                    self._remove_handle(hseq)
            del self.sessions[seq]
            self.session_keys.discard(seq)
            del self._session_by_loc[location]
            del self._session_by_pair[(sess.auth_id, sess.originator)]
            return ""


def _bare_name(name: str) -> str:
    """``EXAMPLE\\dana`` and ``dana@example.com`` are both ``dana``."""
    return name.rsplit("\\", 1)[-1].split("@", 1)[0]
