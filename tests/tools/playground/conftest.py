"""Playground fixtures: the playground server wired to a recording fake bot (no simulator, no Bolt).

``FakeBot`` is a real loopback HTTP server that checks every request's Slack signature the way Bolt does
(``SignatureVerifier.is_valid``) and answers with a configurable ack.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from qlocks_tools.fakeslack import BotLink, Channel, FakeSlack
from qlocks_tools.playground.server import PlaygroundServer
from slack_sdk.signature import SignatureVerifier

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-playground"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    valid_signature: bool

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.form["payload"])
        return data


@dataclass
class FakeBot:
    """Records signed requests; ``reply`` decides (status, content type, body) for each one."""

    url: str = ""
    received: queue.Queue[Received] = field(default_factory=queue.Queue)
    reply: Callable[[Received], tuple[int, str, bytes]] = lambda r: (200, "text/plain", b"")

    def next(self, timeout: float = 5.0) -> Received:
        return self.received.get(timeout=timeout)


@pytest.fixture
def fake_bot() -> Iterator[FakeBot]:
    bot = FakeBot()
    verifier = SignatureVerifier(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            valid = verifier.is_valid(
                body=body,
                timestamp=headers.get("x-slack-request-timestamp", ""),
                signature=headers.get("x-slack-signature", ""),
            )
            received = Received(headers, body, valid)
            status, ctype, answer = (
                bot.reply(received) if valid else (401, "application/json", b'{"error":"invalid request"}')
            )
            bot.received.put(received)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    bot.url = f"http://127.0.0.1:{httpd.server_address[1]}/slack/events"
    try:
        yield bot
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def playground(fake_bot: FakeBot) -> Iterator[PlaygroundServer]:
    channel = Channel()
    slack = FakeSlack(channel, bot_token=TOKEN, groups={"S0ADMINS": ["U0ALEX"]})
    link = BotLink(events_url=fake_bot.url, signing_secret=SECRET)
    server = PlaygroundServer(channel=channel, slack=slack, bot=link).start()
    try:
        yield server
    finally:
        server.stop()


def wait_until(predicate: Callable[[], Any], channel: Channel, timeout: float = 20.0) -> Any:
    """Wait on the channel's version (no sleeps) until ``predicate()`` is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        version = channel.version
        value = predicate()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("condition not met in time")
        channel.wait_for_change(version, remaining)


# -- headless Chromium (Debian's package, driven by Playwright; no `playwright install`) -------------------------
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# Read at import: tests/conftest.py strips QLOCKS_* variables from each test's environment.
SKIP_BROWSER = os.environ.get("QLOCKS_SKIP_BROWSER") == "1"
CHROMIUM = os.environ.get("QLOCKS_CHROMIUM")
UPDATE_SCREENSHOT = os.environ.get("QLOCKS_UPDATE_SCREENSHOT") == "1"


def chromium_executable() -> str | None:
    explicit = CHROMIUM
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return shutil.which("chromium") or next((p for p in ("/usr/bin/chromium",) if Path(p).is_file()), None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the session. Missing Chromium FAILS (never a silent skip) unless QLOCKS_SKIP_BROWSER=1."""
    if SKIP_BROWSER:
        pytest.skip("browser tests disabled by QLOCKS_SKIP_BROWSER=1")
    executable = chromium_executable()
    if executable is None:
        pytest.fail(
            "Chromium not found: the browser tests need Debian's `chromium` package (`sudo apt-get install chromium`, "
            "which `make test` does) or QLOCKS_CHROMIUM=/path/to/chromium. Set QLOCKS_SKIP_BROWSER=1 to skip them."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the `playwright` package is missing: pip install -e '.[test]'")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[_FAILED] = report.failed


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page (own context: empty localStorage); fails the test on any JavaScript error.

    When the test fails, the page is saved as ``tests/artifacts/FAILED-<test>.png`` (and ``.txt``) for CI artifacts.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)  # an upper bound for slow CI machines, never a sleep
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
        if request.node.stash.get(_FAILED, False):
            shot = screenshot(page, "FAILED-" + request.node.name)
            shot.with_suffix(".txt").write_text(page.locator("body").inner_text())
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def stack() -> Iterator[Any]:
    """The whole demo in-process: simulator (400 handles, seed 7, as ``qlocks demo``) + real bot + playground."""
    from qlocks_tools.playground.stack import start_playground

    pg = start_playground(port=0, handles=400, seed=7)
    try:
        yield pg
    finally:
        pg.stop()
