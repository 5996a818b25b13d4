"""No secret and no response_url in any log line, at any level, from any logger (slack_sdk and Bolt included).

The end-to-end check runs the real ``qlocks run`` (HTTP mode) at ``QLOCKS_LOG_LEVEL=DEBUG`` and sends it a search
whose response_url resets every connection, the case where slack_sdk's webhook retry handler logs the whole URL;
then scans everything the process printed for the signing secret, the bot token, the cluster token and the URL.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qlocks_tools.fakeslack import Channel, FakeSlack, signed_headers, slash_command

from bot.logs import MASK, Redactor
from tests.attack import tally
from tests.attack.test_signature import _post
from tests.slack.conftest import BOT_TOKEN, OPS, SECRET, USER
from tests.slack.test_web import env_for


def test_the_redactor_masks_every_kind_of_secret() -> None:
    r = Redactor()
    r.add(["my-signing-secret-123", "access-v1:abcdefghij", None, "x"])
    cases = {
        "secret my-signing-secret-123 here": "my-signing-secret-123",
        "token access-v1:abcdefghij": "access-v1:abcdefghij",
        "xoxb-1234-5678-abcdefghijkl in a message": "xoxb-1234-5678-abcdefghijkl",
        "xapp-1-A0-123-abc": "xapp-1-A0-123-abc",
        "POST https://hooks.slack.com/commands/T1/2/abc failed": "https://hooks.slack.com/commands/T1/2/abc",
        "Authorization: Bearer sekrit-token-value": "sekrit-token-value",
        "body token=legacyverif&team_id=T1": "legacyverif",
    }
    for text, secret in cases.items():
        out = r.redact(text)
        assert secret not in out and MASK in out, (text, out)
    assert r.redact("x is short") == "x is short"  # values under 6 characters are not masked


def test_the_redactor_rewrites_records_and_tracebacks() -> None:
    r = Redactor()
    r.add(["https://127.0.0.1:1/respond/abc123"])
    record = logging.LogRecord("slack_sdk.webhook", logging.INFO, __file__, 1, "retry %s", ("x",), None)
    record.args = ("https://127.0.0.1:1/respond/abc123",)
    try:
        raise ConnectionError("reset by https://127.0.0.1:1/respond/abc123")
    except ConnectionError:
        record.exc_info = sys.exc_info()
    assert r.filter(record) is True
    text = logging.Formatter().format(record)
    assert "abc123" not in text and text.count(MASK) >= 2


@pytest.fixture
def resetter() -> Iterator[str]:
    """A response_url whose server resets every connection (RST), as a flaky proxy would."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/commands/T0TEST/12345/secret-response-path"
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_qlocks_run_at_debug_logs_no_secret_and_no_response_url(
    sim: Any, tmp_path: Path, resetter: str
) -> None:
    port = _free_port()
    with FakeSlack(Channel(channel_id=OPS, name="ops"), bot_token=BOT_TOKEN) as fake:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("QUMULO_", "SLACK_", "QLOCKS_"))},
            **env_for(sim, fake, tmp_path),
            "PORT": str(port),
            "QLOCKS_LOG_LEVEL": "DEBUG",
            "PYTHONUNBUFFERED": "1",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        output: list[str] = []
        reader = threading.Thread(target=lambda: output.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
        reader.start()
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while not any("listening on" in line for line in output):
                assert proc.poll() is None and time.monotonic() < deadline, "".join(output)
                time.sleep(0.05)
            body = slash_command("search budget", user_id=USER, channel_id=OPS, response_url=resetter)
            assert _post(base, body, signed_headers(SECRET, body, now=time.time())) == 200
            # a click too, so Bolt logs an interactivity body at debug
            payload = urllib.parse.urlencode({"payload": '{"type": "block_actions", "user": {"id": "U0X"}, '
                                              '"actions": [{"action_id": "close_handle", "value": "{}"}], '
                                              f'"response_url": "{resetter}/click"}}'})  # fmt: skip
            assert (
                _post(base, payload.encode(), signed_headers(SECRET, payload.encode(), now=time.time()))
                == 200
            )
            deadline = (
                time.monotonic() + 30
            )  # the webhook client retries the reset a few times, then gives up
            while not any("response_url post failed" in line for line in output):
                assert time.monotonic() < deadline, "".join(output[-40:])
                time.sleep(0.05)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            reader.join(timeout=5)
    text = "".join(output)
    secrets = {
        "response_url": urllib.parse.urlsplit(resetter).path,
        "signing secret": SECRET,
        "bot token": BOT_TOKEN,
        "cluster token": sim.admin_token,
    }
    leaked = {name: value for name, value in secrets.items() if value in text}
    for name in secrets:
        tally.record("secrets scan", name not in leaked, word="kept out of the log")
    assert not leaked, leaked
    assert "DEBUG" in text and len(text.splitlines()) > 20  # it really logged at debug
