"""Shared fixtures: the Qumulo simulator as a real server on an ephemeral port, and clients pointed at it."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from bot.config import QumuloConfig

# Property tests check results, not speed. Hypothesis's default 200 ms deadline per example fails them on a busy
# machine (DeadlineExceeded, or "unreliable timings" when the re-run is quick), and with that deadline its
# input-generation health check allows only 1 s. Loaded here, before any test module builds its settings.
settings.register_profile("qlocks", deadline=None)
settings.load_profile("qlocks")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's QUMULO_*/SLACK_*/QLOCKS_* settings or proxy variables."""
    for name in list(os.environ):
        if name.startswith(("QUMULO_", "SLACK_", "QLOCKS_")) or name.lower() in (
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "requests_ca_bundle",
            "curl_ca_bundle",
        ):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A local port that refuses connections for the whole test: bound by this process and never listening. (A
    port picked and closed again can be taken by another process meanwhile; port 1 is nobody's promise either.)"""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


def _start(**kw: Any) -> Any:
    from qlocks_tools.simulator import start_simulator

    return start_simulator(**kw)


@pytest.fixture
def sim() -> Iterator[Any]:
    """A fresh, seeded simulator (300 handles) for tests that change cluster state."""
    s = _start(port=0, handles=300, seed=1)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def sim_ro() -> Iterator[Any]:
    """A session-wide simulator for read-only tests. Do not close handles or change knobs on it."""
    s = _start(port=0, handles=300, seed=1)
    try:
        yield s
    finally:
        s.stop()


def config_for(sim: Any, **overrides: Any) -> QumuloConfig:
    scheme = sim.url.partition("://")[0]
    fields: dict[str, Any] = {
        "host": sim.host,
        "port": sim.port,
        "scheme": scheme,
        "access_token": sim.admin_token,
        "timeout_s": 5.0,
        "ca_bundle": str(sim.cafile) if getattr(sim, "cafile", None) else None,
    }
    fields.update(overrides)
    return QumuloConfig(**fields)


@pytest.fixture
def qconfig(sim: Any) -> QumuloConfig:
    return config_for(sim)


@pytest.fixture
def client(sim: Any) -> Iterator[Any]:
    from bot.qumulo.client import QumuloClient

    with QumuloClient(config_for(sim)) as c:
        yield c


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The attack suite's counts (tests/attack), when it ran."""
    from tests.attack import tally

    found = tally.lines()
    if found:
        terminalreporter.write_sep("=", f"attack suite ({tally.PROFILE} profile)")
        for line in found:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    """One throwaway PostgreSQL cluster for the session (about a second to start; see tests/pgcluster.py).

    Skipped with the reason when Debian's ``postgresql`` is not installed (``make test`` installs it); under CI
    (``CI=true``) that is a failure instead, so a green CI run always includes the PostgreSQL tests."""
    from tests.pgcluster import PgCluster, find_bin

    bindir = find_bin()
    if bindir is None:
        reason = (
            "PostgreSQL tests need Debian's postgresql package (initdb, pg_ctl under /usr/lib/postgresql/*/bin): "
            "`make system-deps` installs it"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    cluster = PgCluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Any) -> Iterator[str]:
    """A new, empty database in the session's cluster, dropped after the test."""
    url = pg_cluster.create_database()
    try:
        yield url
    finally:
        pg_cluster.drop_database(url)
