"""``bot.compose.bot_from_env``: start-up problems with Slack become one ``ConfigError`` line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.compose import bot_from_env
from bot.config import ConfigError

BOT_TOKEN = "xoxb-1234567890-0987654321-firsthourtoken"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _env(sim: Any, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "QUMULO_HOST": f"http://{sim.host}",
        "QUMULO_PORT": str(sim.port),
        "QUMULO_ACCESS_TOKEN": sim.admin_token,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "QLOCKS_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
        "QLOCKS_STATE_DIR": str(tmp_path / "state"),
        "QLOCKS_ADMINS": "U0ADMIN01",
    }
    env.update(extra)
    return env


def test_unreachable_slack_api_url_is_one_line_naming_it(sim_ro: Any, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/"
    with pytest.raises(ConfigError) as exc:
        bot_from_env(_env(sim_ro, tmp_path, SLACK_API_URL=url))
    text = str(exc.value)
    assert text.startswith(f"SLACK_API_URL: cannot reach {url} at start-up (")
    assert "refused" in text
    assert "\n" not in text and BOT_TOKEN not in text


def test_unreachable_default_slack_api_names_slack_com(
    sim_ro: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slack_sdk import WebClient

    monkeypatch.setattr(WebClient, "BASE_URL", f"http://127.0.0.1:{closed_port()}/api/")  # offline slack.com
    with pytest.raises(ConfigError) as exc:
        bot_from_env(_env(sim_ro, tmp_path))
    text = str(exc.value)
    assert text.startswith("cannot reach Slack's API (slack.com) at start-up (")
    assert "\n" not in text


def test_qlocks_run_with_slack_unreachable_prints_one_line(sim_ro: Any, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUMULO_", "SLACK_", "QLOCKS_"))}
    env.update(_env(sim_ro, tmp_path, SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/"))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1
    # no Bolt "As you gave `client` as well, `token` will be unused" either (bot/slack/app.py drops it)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("qlocks: configuration error: SLACK_API_URL: cannot reach")
