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
from typing import Any

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


def test_a_path_without_search_is_answered_with_the_command_to_run(tmp_path: Path) -> None:
    """``qlocks "budget 22.xlsx"`` (forgot ``search``): not argparse's "invalid choice" list, the command meant."""
    result = _qlocks(["budget 22.xlsx"], {}, tmp_path)
    assert result.returncode == 2
    assert "To find who has a file open: qlocks search 'budget 22.xlsx'" in result.stderr
    assert "invalid choice" not in result.stderr
    ok = _qlocks(["-v", "search", "--help"], {}, tmp_path)  # a real command after an option still parses
    assert ok.returncode == 0 and "usage: qlocks search" in ok.stdout


def test_doctor_reads_dot_env_from_the_working_directory(sim: Any, tmp_path: Path) -> None:
    """``./.env`` of wherever qlocks runs (not of the package's folder) is read, and doctor says which file."""
    (tmp_path / ".env").write_text(
        f"QUMULO_HOST=http://{sim.host}\nQUMULO_PORT={sim.port}\nQUMULO_ACCESS_TOKEN={sim.admin_token}\n"
    )
    doctor = _qlocks(["doctor"], {}, tmp_path)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"settings file: read {(tmp_path / '.env').resolve()}" in doctor.stdout
    assert "All checks passed." in doctor.stdout

    search = _qlocks(["search", "xlsx", "--json"], {}, tmp_path)
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)


def test_doctor_says_when_no_dot_env_was_read(tmp_path: Path) -> None:
    doctor = _qlocks(["doctor"], {}, tmp_path)
    assert doctor.returncode == 1
    assert f"settings file: none read (no .env in {tmp_path})" in doctor.stdout
    assert "QUMULO_HOST is not set" in doctor.stdout


def test_search_against_a_closed_port_prints_one_line(tmp_path: Path) -> None:
    """No urllib3 "Retrying (Retry(total=2, ..." warnings before qlocks' own line."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = {"QUMULO_HOST": "127.0.0.1", "QUMULO_PORT": str(port), "QUMULO_ACCESS_TOKEN": "x"}
    result = _qlocks(["search", "xlsx"], settings, tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("qlocks: Cannot reach the cluster"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_search_with_tls_verification_off_warns_once(
    simulator_process: dict[str, str], tmp_path: Path
) -> None:
    """urllib3 would print an InsecureRequestWarning per request (a dozen per search); qlocks says it once."""
    settings = {k: v for k, v in simulator_process.items() if k != "QUMULO_CA_BUNDLE"}
    settings["QUMULO_VERIFY_TLS"] = "false"
    result = _qlocks(["search", "xlsx", "--json"], settings, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "QUMULO_VERIFY_TLS=false: the cluster's certificate is not checked" in lines[0]
    assert "InsecureRequestWarning" not in result.stderr


def _start_simulator(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen[str], list[str]]:
    """``qlocks simulator ARGS`` as its own process; (process, the lines of the .env snippet it printed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUMULO_", "SLACK_", "QLOCKS_"))}
    env.update({"PYTHONUNBUFFERED": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")})
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "simulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    snippet: list[str] | None = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.strip() == "Example .env:":
            snippet = []
        elif snippet is not None:
            if not line.strip():
                break
            snippet.append(line.rstrip("\n"))
    if not snippet:
        proc.terminate()
        proc.wait(timeout=10)
        pytest.fail(f"the simulator printed no .env snippet: {''.join(seen)}")
    return proc, snippet


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "http"])
def test_readme_second_terminal_walkthrough(tmp_path: Path, tls: bool) -> None:
    """README, 'Command line': `qlocks simulator` prints a .env snippet; pasted into ./.env of any directory,
    `qlocks search report.xlsx` and `qlocks doctor` run there against it, with no QUMULO_* in the environment."""
    proc, snippet = _start_simulator(["--port", "0", *(["--tls"] if tls else [])], tmp_path)
    try:
        assert any(line.startswith("QUMULO_CA_BUNDLE=") for line in snippet) == tls
        elsewhere = tmp_path / "second-terminal"
        elsewhere.mkdir()
        (elsewhere / ".env").write_text("\n".join(snippet) + "\n")  # what the user pastes, verbatim

        search = _qlocks(["search", "report.xlsx"], {}, elsewhere)
        assert search.returncode == 0, search.stdout + search.stderr
        assert "report.xlsx" in search.stdout
        assert search.stderr == "", search.stderr

        doctor = _qlocks(["doctor"], {}, elsewhere)
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert f"settings file: read {(elsewhere / '.env').resolve()}" in doctor.stdout
        assert ("TLS verified" in doctor.stdout) == tls
        assert "All checks passed." in doctor.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=10)


GOOD_RUN_SETTINGS = {
    "QUMULO_HOST": "http://127.0.0.1",
    "QUMULO_PORT": "9",
    "QUMULO_ACCESS_TOKEN": "x",
    "SLACK_BOT_TOKEN": "xoxb-0000000001-0000000002-qlockstest",
    "SLACK_SIGNING_SECRET": "test-signing-secret",
    "QLOCKS_ADMINS": "U0ADMIN01",
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("QLOCKS_LOG_LEVEL", "LOUD"),
        ("SLACK_BOT_TOKEN", "xoxb-"),
        ("SLACK_APP_TOKEN", "xapp-"),
        ("QUMULO_CA_BUNDLE", "NOT_PEM"),
        ("QUMULO_PORT", "eighty"),
        ("QLOCKS_CHANNELS", "#ops"),
        ("SLACK_SIGNING_SECRET", ""),
    ],
)
def test_qlocks_run_stops_on_an_invalid_value_with_one_line_naming_it(
    tmp_path: Path, name: str, value: str
) -> None:
    """README, '.env': "A missing or invalid value stops start-up with one line naming the variable"."""
    if value == "NOT_PEM":
        value = str(tmp_path / "hostname")
        (tmp_path / "hostname").write_text("myhost\n")
    settings = {**GOOD_RUN_SETTINGS, "QLOCKS_AUDIT_LOG": str(tmp_path / "audit.jsonl"), name: value}
    result = _qlocks(["run"], settings, tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("qlocks: configuration error: ") and name in lines[0], lines[0]


def test_qlocks_run_with_the_example_env_copied_unchanged(tmp_path: Path) -> None:
    """`cp .env.example .env && qlocks run`: one line saying what to fill in first, no traceback."""
    example = Path(__file__).resolve().parents[1] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text())
    result = _qlocks(["run"], {}, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "qlocks: configuration error: QUMULO_ACCESS_TOKEN is not set "
        "(or set QUMULO_USERNAME and QUMULO_PASSWORD instead)"
    ]
