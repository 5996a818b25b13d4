"""Fixtures for the lock search tests: LockService over the real client and simulator, and ground truth
read straight from the simulator's state (not through the code under test)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.locks.service import LockService
from bot.qumulo.client import QumuloClient
from tests.conftest import config_for


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Truth:
    """One open handle as the simulator knows it."""

    location: str
    file_number: str
    path: str
    owner: str
    user: str
    ip: str
    node: str
    access: tuple[str, ...]


def truth(sim: Any) -> dict[str, Truth]:
    """location -> what really holds it (handles and grants snapshots list handles in the same order)."""
    state = sim.state
    with state.lock:
        handles = state.handles_snapshot()
        grants = state.grants_snapshot()
        names = {s["user"]["auth_id"]: s["user"]["name"] for s in state.sessions_snapshot()}
    out = {}
    for h, g in zip(handles, grants, strict=True):
        assert h["file_number"] == g["file_id"]
        info = h["handle_info"]
        out[info["location"]] = Truth(
            location=info["location"],
            file_number=h["file_number"],
            path=info["path"],
            owner=info["owner"],
            user=names[info["owner"]],
            ip=g["owner_address"],
            node=g["node_address"],
            access=tuple(info["access_mask"]),
        )
    return out


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def svc(client: QumuloClient, clock: FakeClock) -> Iterator[LockService]:
    with LockService(client, cluster_name="lab", clock=clock, wall_clock=lambda: 1_780_000_000.0) as service:
        yield service


@pytest.fixture
def ro_client(sim_ro: Any) -> Iterator[QumuloClient]:
    with QumuloClient(config_for(sim_ro)) as c:
        yield c


@pytest.fixture
def ro_svc(ro_client: QumuloClient, clock: FakeClock) -> Iterator[LockService]:
    with LockService(ro_client, cluster_name="lab", clock=clock) as service:
        yield service


def service_for(sim: Any, **kw: Any) -> tuple[QumuloClient, LockService]:
    """A client + service for a simulator the test started itself (caller closes both)."""
    token = kw.pop("token", None)
    client = QumuloClient(config_for(sim, **({"access_token": token} if token else {})))
    kw.setdefault("cluster_name", "lab")
    kw.setdefault("clock", FakeClock())
    return client, LockService(client, **kw)
