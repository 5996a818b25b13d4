"""The attack suite runs against the same harness as the Slack tests: the real app, the simulator, the fake Slack.

Every attack test's log output goes through the production redactor (``bot.logs.REDACTOR``) and is then scanned:
no signing secret, no bot token, no response_url may appear in what was logged, whatever the test did.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logs import REDACTOR
from tests.attack import tally
from tests.slack.conftest import BOT_TOKEN, SECRET, fake_slack, harness, make_harness

__all__ = ["fake_slack", "harness", "make_harness", "scanned_logs"]


@pytest.fixture(autouse=True)
def scanned_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.handler.addFilter(REDACTOR)
    caplog.set_level(logging.INFO)
    yield
    caplog.handler.removeFilter(REDACTOR)
    text = caplog.text
    leaks = [name for name, value in (("signing secret", SECRET), ("bot token", BOT_TOKEN)) if value in text]
    if "/respond/" in text:
        leaks.append("a response_url")
    tally.record("secrets scan", not leaks, word="kept out of the log")
    assert not leaks, leaks
