"""Subprocess plumbing: a simulator process, and one-shot worker processes that measure and print JSON."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any, cast

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0
WORKER_TIMEOUT_S = 900.0


class BenchError(RuntimeError):
    """A simulator or worker process failed; the message carries the tail of its stderr."""


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(name, None)  # loopback only
    return env


class SimProcess:
    """``with SimProcess(handles=..., latency_ms=...) as sim: sim.info["url"]``; stopped by closing its stdin."""

    def __init__(
        self,
        *,
        handles: int,
        latency_ms: float,
        seed: int = 1,
        locks_never_end: bool = True,
        handle_locations: str = "opaque",
    ) -> None:
        cmd = [sys.executable, "-m", "qlocks_tools.bench.simserver", "--handles", str(handles)]
        cmd += ["--latency-ms", str(latency_ms), "--seed", str(seed), "--handle-locations", handle_locations]
        if locks_never_end:
            cmd.append("--locks-never-end")
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 - closed in _stop
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=_child_env(),
        )
        stdout = cast(IO[str], self._proc.stdout)
        line = stdout.readline()
        if not line:
            err = self._stop()
            raise BenchError(f"simulator ({handles} handles) did not start: {err[-2000:]}")
        self.info: dict[str, Any] = json.loads(line)
        self.latency_ms = latency_ms

    def _stop(self) -> str:
        """Close stdin (the child exits), wait, and return what it wrote to stderr."""
        with contextlib.suppress(OSError):
            if self._proc.stdin is not None and not self._proc.stdin.closed:
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        if self._stderr.closed:
            return ""
        self._stderr.seek(0)
        err = self._stderr.read()
        self._stderr.close()
        return err

    def stop(self) -> None:
        self._stop()

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def run_worker(spec: dict[str, Any], *, timeout_s: float = WORKER_TIMEOUT_S) -> dict[str, Any]:
    """Run ``python -m qlocks_tools.bench.worker`` with ``spec`` on stdin; its last stdout line is the JSON result."""
    proc = subprocess.run(
        [sys.executable, "-m", "qlocks_tools.bench.worker"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=_child_env(),
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        raise BenchError(
            f"worker {spec.get('kind')} failed (exit {proc.returncode}): {proc.stderr.strip()[-3000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


__all__ = ["BenchError", "SimProcess", "run_worker"]
