"""Seeded generator: fills a ``ClusterState`` with N plausible open handles (deterministic for a seed).

Users belong to departments and mostly open files on their department's share from their own workstation; some
also work from a laptop or a Citrix server, so the same user can hold the same file from two clients (the
ambiguous join qlocks must handle). Files get 1-8 handles; Excel and CAD writers also hold byte-range locks and
Excel's ``~$`` owner file. 300k handles generate in a couple of seconds.
"""

from __future__ import annotations

import gc
import logging
import random
from dataclasses import dataclass, field

from qlocks_tools.simulator import catalog as c
from qlocks_tools.simulator import records as r
from qlocks_tools.simulator.state import ClusterState

logger = logging.getLogger(__name__)

_FIRST_DEPT = {
    "dana": "finance",
    "alex": "projects",
    "priya": "finance",
    "marco": "finance",
    "zoë": "finance",
    "li.wei": "cad",
    "sam": "media",
    "josé": "projects",
    "björn": "media",
    "aisha": "media",
    "tomás": "projects",
    "mei": "finance",
    "svc-render": "media",
    "r&d-build": "projects",
    "svc-backup": "finance",
}
_HANDLES_PER_FILE = (1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 8)
_BYTE_RANGE_EXT = (".xlsx", ".xlsm", ".dwg", ".rvt", ".mpp", ".accdb", ".sldasm")


@dataclass(slots=True)
class _User:
    ident: r.Identity
    dept: str
    clients: list[str] = field(default_factory=list)  # slot 0 workstation, 1 laptop, 2 citrix
    sessions: dict[int, r.Session] = field(default_factory=dict)  # by slot


class _Population:
    def __init__(self, state: ClusterState, rng: random.Random, n_users: int) -> None:
        self.state, self.rng = state, rng
        self.users: list[_User] = []
        self.by_name: dict[str, _User] = {}
        self.by_dept: dict[str, list[_User]] = {d: [] for d in c.DEPARTMENTS}
        self.citrix = [
            state.new_client_ip("CITRIX-01.corp.example.com"),
            state.new_client_ip("CITRIX-02.corp.example.com"),
        ]
        self.host_seq = 0
        for name in c.FIRST_USERS + c.SERVICE_USERS:
            self._add(name, _FIRST_DEPT[name], "LOCAL" if name in c.SERVICE_USERS else "ACTIVE_DIRECTORY")
        while len(self.users) < n_users:
            name = f"{rng.choice(c.GIVEN)}.{rng.choice(c.FAMILY)}"
            if name.lower() in self.by_name:
                name = f"{name}{len(self.users)}"
            self._add(name, c.DEPARTMENTS[len(self.users) % len(c.DEPARTMENTS)], "ACTIVE_DIRECTORY")

    def _add(self, name: str, dept: str, domain: str) -> None:
        user = _User(self.state.ensure_identity(name, domain=domain), dept)
        self.users.append(user)
        self.by_name[name.lower()] = user
        self.by_dept[dept].append(user)

    def client(self, user: _User, slot: int) -> str:
        """The user's client IP for ``slot`` (created on first use)."""
        while len(user.clients) <= slot:
            n = len(user.clients)
            if n == 2:
                user.clients.append(self.rng.choice(self.citrix))
                continue
            self.host_seq += 1
            if n == 0:
                host = f"{c.HOST_PREFIX[user.dept]}-{self.host_seq:03d}"
            else:
                host = user.ident.name.encode("ascii", "ignore").decode().replace(".", "-") + "-laptop"
            # a few clients have no reverse DNS record (never the first ones, which docs and tests use)
            has_ptr = self.host_seq < 20 or self.rng.random() > 0.05
            user.clients.append(self.state.new_client_ip(f"{host}.corp.example.com" if has_ptr else None))
        return user.clients[slot]

    def session(self, user: _User, slot: int) -> r.Session:
        cached = user.sessions.get(slot)
        if cached is not None:
            return cached
        sess = user.sessions[slot] = self.state.ensure_session(
            user.ident, self.client(user, slot), age_s=self.rng.uniform(300, 10 * 86400)
        )
        if sess.num_opens == 0:  # new session: idle for a while, never longer than it has been open
            now = self.state.clock()
            sess.last_active = max(sess.opened_at, now - self.rng.expovariate(1 / 1800))
        return sess

    def pick_slot(self) -> int:
        x = self.rng.random()
        return 0 if x < 0.8 else 1 if x < 0.93 else 2


def _pick(rng: random.Random, items: tuple[str, ...]) -> str:
    return items[int(rng.random() * len(items))]


def _random_path(rng: random.Random, dept: str, owner: str) -> str:
    x = rng.random()
    if x < 0.012:
        folder = {
            "finance": "/finance/2026",
            "projects": "/projects/R&D",
            "media": "/media/social cuts",
            "cad": "/cad/issued",
        }
        return f"{folder[dept]}/{_pick(rng, c.HOSTILE_NAMES)}"
    if x < 0.10:
        return f"/home/{owner}/{_pick(rng, c.HOME_SUBDIRS)}/{_pick(rng, c.HOME_NAMES)} {rng.randrange(1, 60)}{_pick(rng, c.HOME_EXT)}"
    if x < 0.13:
        return f"/archive/{_pick(rng, c.ARCHIVE_DIRS)}/batch {rng.randrange(1, 9999):04d}{_pick(rng, c.ARCHIVE_EXT)}"
    n = rng.randrange(1, 400)
    if dept == "finance":
        return f"/finance/{_pick(rng, c.FINANCE_DIRS)}/{_pick(rng, c.FINANCE_NAMES)} {n}{_pick(rng, c.FINANCE_EXT)}"
    if dept == "projects":
        return (
            f"/projects/{_pick(rng, c.PROJECTS)}/{_pick(rng, c.PROJECT_SUBDIRS)}/"
            f"{_pick(rng, c.PROJECT_NAMES)} v{n}{_pick(rng, c.PROJECT_EXT)}"
        )
    if dept == "media":
        return (
            f"/media/{_pick(rng, c.SHOWS)}/{_pick(rng, c.MEDIA_SUBDIRS)}/"
            f"{_pick(rng, c.MEDIA_NAMES)} {n:03d}{_pick(rng, c.MEDIA_EXT)}"
        )
    return f"/cad/{_pick(rng, c.CAD_PROJECTS)}/{_pick(rng, c.CAD_SUBDIRS)}/{_pick(rng, c.CAD_NAMES)} r{n}{_pick(rng, c.CAD_EXT)}"


def _byte_ranges(rng: random.Random, path: str, kind: str) -> tuple[tuple[int, int, int], ...]:
    if kind not in ("write", "exclusive") or not path.endswith(_BYTE_RANGE_EXT) or rng.random() < 0.3:
        return ()
    return tuple(
        (2_147_483_539 - i * 4096, 1 + rng.randrange(4096), 0 if i == 0 else 1)
        for i in range(rng.randrange(1, 4))
    )


def populate(state: ClusterState, handles: int, *, seed: int, folders: float = 0.0) -> None:
    """Open ``handles`` handles on ``state``, deterministically for ``seed``.

    ``folders``: the share of opens that are folder handles (an Explorer window on a folder, a share root mapped
    as a drive), 0 to 1; 0 generates exactly the cluster earlier versions generated for that seed.
    """
    if not 0.0 <= folders <= 1.0:
        raise ValueError("folders must be between 0 and 1")
    was_enabled = gc.isenabled()
    gc.disable()  # only acyclic records are created; skipping GC passes saves ~25% at 300k handles
    try:
        _populate(state, handles, seed, folders)
    finally:
        if was_enabled:
            gc.enable()
    if was_enabled and handles > 10_000:
        gc.collect()  # age the new records into the oldest generation now, not during the first requests


def _populate(state: ClusterState, handles: int, seed: int, folders: float = 0.0) -> None:
    rng = random.Random(seed)
    pop = _Population(state, rng, n_users=max(24, min(6000, handles // 25)))
    with state.lock:
        for path, holders in c.ANCHORS:
            f = state.ensure_file(path, size=rng.randrange(20_000, 80_000_000))
            for name, slot, kind in holders:
                if state.handle_count >= handles:
                    return
                state.open_handle(
                    f,
                    pop.session(pop.by_name[name], slot),
                    kind=kind,
                    byte_ranges=_byte_ranges(rng, path, kind),
                )
        users = pop.users
        while state.handle_count < handles:
            opener = users[int(rng.random() * len(users))]
            path = _random_path(rng, opener.dept, opener.ident.name)
            if folders and rng.random() < folders:  # never draws when off: seeds keep their clusters
                _open_folder(state, pop, rng, path, opener)
                continue
            if state.file_number_of(path) is not None:
                stem, dot, ext = path.rpartition(".")
                path = f"{stem} ({state.handle_count}).{ext}" if dot else f"{path} ({state.handle_count})"
            f = state.ensure_file(path)
            want = min(_pick_count(rng), handles - state.handle_count)
            _open_many(state, pop, rng, f, opener, want)
    logger.info(
        "generated %d handles on %d files for %d users", state.handle_count, len(state.files), len(users)
    )


def _pick_count(rng: random.Random) -> int:
    return _HANDLES_PER_FILE[int(rng.random() * len(_HANDLES_PER_FILE))]


def _open_many(
    state: ClusterState, pop: _Population, rng: random.Random, f: r.FileRec, opener: _User, want: int
) -> None:
    slot = pop.pick_slot()
    kind = "write" if rng.random() < 0.6 else "read" if rng.random() < 0.8 else "preview"
    state.open_handle(f, pop.session(opener, slot), kind=kind, byte_ranges=_byte_ranges(rng, f.path, kind))
    excel_like = f.path.endswith((".xlsx", ".xlsm", ".docx", ".pptx"))
    if kind == "write" and excel_like and rng.random() < 0.3 and want > 1:
        want -= 1  # Office's "~$" owner file counts towards the handles asked for
        head, _, name = f.path.rpartition("/")
        owner_file = state.ensure_file(f"{head}/~${name}", size=165)
        state.open_handle(owner_file, pop.session(opener, slot), kind="exclusive")
    colleagues = pop.by_dept[opener.dept]
    for _ in range(want - 1):
        if rng.random() < 0.06 and slot != 1:  # same user, same file, second client: an ambiguous join
            user, other_slot = opener, 1
        else:
            user, other_slot = colleagues[int(rng.random() * len(colleagues))], pop.pick_slot()
        other = "read" if rng.random() < 0.7 else "preview"
        state.open_handle(f, pop.session(user, other_slot), kind=other)


def _open_folder(state: ClusterState, pop: _Population, rng: random.Random, path: str, opener: _User) -> None:
    """A folder handle: mostly the folder of a file the user works on, sometimes its share root."""
    folder = path.rsplit("/", 1)[0] or "/"
    if rng.random() < 0.3:
        folder = "/" + folder.strip("/").split("/", 1)[0]
    state.open_handle(state.ensure_folder(folder), pop.session(opener, pop.pick_slot()), kind="folder")
