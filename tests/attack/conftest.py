"""The attack suite runs against the same harness as the Slack tests: the real app, the simulator, the fake Slack."""

from __future__ import annotations

from tests.slack.conftest import fake_slack, harness, make_harness

__all__ = ["fake_slack", "harness", "make_harness"]
