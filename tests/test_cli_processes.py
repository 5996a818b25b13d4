"""The "two terminals" story: `qlocks simulator` in one process, `qlocks search` / `doctor` in another."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def simulator_process(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_CACHE_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "simulator", "--port", "0", "--tls", "--handles", "500", "--seed", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    settings: dict[str, str] = {}
    lines: queue.Queue[str | None] = queue.Queue()
    stdout = proc.stdout
    assert stdout is not None

    def read() -> None:  # readline() could block past any deadline: a thread reads, the test waits
        for line in iter(stdout.readline, ""):
            lines.put(line)
        lines.put(None)  # the process closed its output

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 30
    while "QUMULO_CA_BUNDLE" not in settings:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        key, sep, value = line.strip().partition("=")
        if sep and key.startswith("QUMULO_"):
            settings[key] = value
    try:
        assert "QUMULO_CA_BUNDLE" in settings, f"simulator did not print its settings: {settings}"
        yield settings
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _qlocks(args: list[str], settings: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUMULO_", "SLACK_", "QLOCKS_"))}
    env.update(settings)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )


def test_search_and_doctor_against_a_simulator_process(
    simulator_process: dict[str, str], tmp_path: Path
) -> None:
    doctor = _qlocks(["doctor"], simulator_process, tmp_path)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "All checks passed." in doctor.stdout
    assert simulator_process["QUMULO_PASSWORD"] not in doctor.stdout + doctor.stderr

    table = _qlocks(["search", "xlsx"], simulator_process, tmp_path)
    assert table.returncode == 0, table.stderr
    assert ".xlsx" in table.stdout

    as_json = _qlocks(["search", "xlsx", "--json"], simulator_process, tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data, "the JSON output carries the same matches"


def test_search_reports_a_config_error_in_one_line(tmp_path: Path) -> None:
    result = _qlocks(["search", "budget.xlsx"], {}, tmp_path)
    assert result.returncode == 1
    assert "QUMULO_HOST" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
