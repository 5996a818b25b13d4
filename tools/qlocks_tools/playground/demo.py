"""``qlocks demo``: the playground in the foreground until Ctrl-C."""

from __future__ import annotations

import errno
import logging
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

from qlocks_tools.playground.stack import start_playground

logger = logging.getLogger(__name__)

_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
HINT = (
    "Type /qlocks search /finance/2026/Q3/Q3 forecast.xlsx as dana, then switch to alex (storage admin) "
    "and close a handle. Ctrl-C stops."
)


def _drop_proxies() -> None:
    """Everything in the demo is loopback; slack_sdk ignores NO_PROXY, so a proxy setting would break it."""
    dropped = [name for name in _PROXY_VARS if os.environ.pop(name, None) is not None]
    if dropped:
        logger.info("demo: ignoring %s (all traffic is on 127.0.0.1)", ", ".join(dropped))


def run_demo(*, port: int = 3000, handles: int = 400, seed: int = 7) -> int:
    """Run simulator + bot + playground page on ``http://127.0.0.1:<port>`` until interrupted. Exit code."""
    _drop_proxies()
    try:
        playground = start_playground(port=port, handles=handles, seed=seed)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"qlocks demo: port {port} is already in use; try --port {port + 1}", file=sys.stderr)
            return 1
        raise
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():  # Ctrl-C and SIGTERM both stop cleanly
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        print(f"qlocks playground: {playground.url}  ({handles} simulated handles, seed {seed})", flush=True)
        print(HINT, flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:  # only when not on the main thread's handler
        pass
    finally:
        playground.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("qlocks demo: stopped", flush=True)
    return 0
