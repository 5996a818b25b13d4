"""The whole demo in-process, driven through the page's HTTP endpoints (no browser): simulator + real bot."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from qlocks_tools.fakeslack import ALEX, BOT, DANA, Message, find_element
from qlocks_tools.playground.demo import run_demo

from tests.tools.playground.conftest import wait_until

FILE = "/finance/2026/Q3/Q3 forecast.xlsx"


def _post(stack: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = requests.post(stack.url + path, json=body, timeout=10)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


def _search(stack: Any, user: str, query: str) -> Message:
    """Run ``/qlocks search`` as ``user`` and wait for the bot's list (a public message with Close buttons)."""
    assert _post(stack, "/pg/command", {"as": user, "text": f"/qlocks search {query}"})["ok"]

    def listed() -> Message | None:
        msg: Message
        for msg in stack.channel.messages():
            if msg.user == BOT.id and not msg.ephemeral and '"close_handle"' in json.dumps(msg.blocks):
                return msg
        return None

    found: Message = wait_until(listed, stack.channel)
    return found


def _row_of(msg: Message, holder: str) -> str:
    """block_id of the row whose text names ``holder``."""
    for block in msg.blocks:
        if (
            block.get("accessory", {}).get("action_id") == "close_handle"
            and f"*{holder}*" in block["text"]["text"]
        ):
            return str(block["block_id"])
    raise AssertionError(f"no row for {holder}")


def _click(stack: Any, user: str, msg: Message, block_id: str) -> None:
    assert find_element(msg.blocks, action_id="close_handle", block_id=block_id) is not None
    result = _post(
        stack, "/pg/action", {"as": user, "ts": msg.ts, "block_id": block_id, "action_id": "close_handle"}
    )
    assert result["ok"], result


def _audit(stack: Any) -> list[dict[str, Any]]:
    path: Path = stack.audit_path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _marco(stack: Any) -> dict[str, Any]:
    _, rows = stack.server.cluster.handles(FILE, limit=50)
    row: dict[str, Any] = next(r for r in rows if r["path"] == FILE and r["user"] == "marco")
    return row


def test_story_over_http(stack: Any) -> None:
    marco = _marco(stack)
    listing = _search(stack, DANA.id, FILE)
    row = _row_of(listing, "marco")

    _click(stack, DANA.id, listing, row)  # dana is not an admin
    refusal = wait_until(lambda: [m for m in stack.channel.visible_to(DANA.id) if m.ephemeral and "Not authorized" in m.text],
                         stack.channel)  # fmt: skip
    assert refusal and all(m.visible_to == DANA.id for m in refusal)
    assert stack.sim.state.handle_by_location(marco["location"]) is not None
    assert [r["result"] for r in _audit(stack)] == ["denied"]

    _click(stack, ALEX.id, listing, row)
    replaced = wait_until(lambda: (m := stack.channel.get(listing.ts)) and "Closed by <@U0ALEX>" in json.dumps(m.blocks) and m,
                          stack.channel)  # fmt: skip
    assert (
        find_element(replaced.blocks, action_id="close_handle", block_id=row) is None
    )  # the closed row has no button any more
    line = wait_until(lambda: [m for m in stack.channel.messages() if m.user == BOT.id and not m.ephemeral
                               and m.text.startswith("🔓 <@U0ALEX> closed")], stack.channel)  # fmt: skip
    assert FILE in line[0].text and "marco" in line[0].text
    assert stack.sim.state.handle_by_location(marco["location"]) is None
    assert [r["result"] for r in _audit(stack)] == ["denied", "closed"]
    # the bot used the fake Slack the way production uses Slack
    methods = [c.method for c in stack.slack.calls]
    assert methods[0] == "auth.test" and "respond" in methods  # the close line: the click's response_url
    assert all(c.ok for c in stack.slack.calls), [c for c in stack.slack.calls if not c.ok]
    # and the panel no longer lists it
    panel = requests.get(stack.url + "/pg/state", params={"as": ALEX.id, "filter": FILE}, timeout=5).json()[
        "cluster"
    ]
    assert marco["location"] not in [h["location"] for h in panel["handles"]]


def test_opened_from_another_client_shows_up_in_the_next_search(stack: Any) -> None:
    opened = _post(stack, "/pg/open-handle", {"path": FILE})["handle"]
    assert opened["user"] == "erin" and opened["path"] == FILE
    assert stack.sim.state.handle_by_location(opened["location"]) is not None
    listing = _search(stack, ALEX.id, FILE)
    assert "*erin*" in json.dumps(listing.blocks)
    bad = requests.post(stack.url + "/pg/open-handle", json={"path": "relative/path"}, timeout=5)
    assert bad.status_code == 400


def _row_text(msg: Message, holder: str) -> str:
    block_id = _row_of(msg, holder)
    return next(str(b["text"]["text"]) for b in msg.blocks if b.get("block_id") == block_id)


def test_each_open_from_another_client_is_a_new_client_just_opened(stack: Any) -> None:
    """Two opens of one file are two rows the bot tells apart (holder, IP, host), each "open" for seconds."""
    first, second = (_post(stack, "/pg/open-handle", {"path": FILE})["handle"] for _ in range(2))
    assert (first["user"], second["user"]) == ("erin", "ravi")
    assert first["client_ip"] != second["client_ip"] and first["host"] != second["host"]
    listing = _search(stack, ALEX.id, FILE)
    rows = [_row_text(listing, "erin"), _row_text(listing, "ravi")]
    assert rows[0] != rows[1]
    for row, opened in zip(rows, (first, second), strict=True):
        assert f"`{opened['client_ip']}` ({opened['host']})" in row
        # the client's SMB session started with the open: seconds, not the simulator's one-minute default
        assert re.search(r"open \d{1,2}s · idle \d{1,2}s", row), row
    # the pool cycles with new machines: a sixth open is erin again, from a second laptop
    more = [_post(stack, "/pg/open-handle", {"path": FILE})["handle"] for _ in range(4)]
    assert more[-1]["user"] == "erin" and more[-1]["host"] == "ERIN-MBP-2"
    assert len({h["client_ip"] for h in [first, second, *more]}) == 6


def test_bot_rejects_a_wrong_signature(stack: Any) -> None:
    stack.server.bot.signing_secret = "f" * 64  # the bot keeps its own secret: Bolt must answer 401
    result = _post(stack, "/pg/command", {"as": DANA.id, "text": "/qlocks help"})
    assert result["status"] == 401
    note = stack.channel.visible_to(DANA.id)[-1]
    assert note.kind == "system" and "dispatch_failed" in note.text
    assert [c.method for c in stack.slack.calls if c.method != "auth.test"] == []


def test_help_reply_is_ephemeral_from_the_ack(stack: Any) -> None:
    assert _post(stack, "/pg/command", {"as": DANA.id, "text": "/qlocks help"})["ok"]
    dana = stack.channel.visible_to(DANA.id)
    assert dana[-1].user == BOT.id and dana[-1].ephemeral and "search" in dana[-1].text
    assert [m.text for m in stack.channel.visible_to(ALEX.id)] == ["/qlocks help"]


def test_stop_releases_everything(stack: Any) -> None:
    urls = [stack.url + "/healthz", stack.bot_url.replace("/slack/events", "/healthz"), stack.sim.url]
    assert requests.get(urls[0], timeout=5).status_code == 200
    stack.stop()
    stack.stop()  # idempotent
    for url in urls:
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)
    assert not stack.audit_path.parent.exists()  # the temporary audit directory is removed


def test_run_demo_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert run_demo(port=port, handles=10, seed=1) == 1
    assert f"port {port} is already in use" in capsys.readouterr().err


def test_qlocks_demo_command_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUMULO_", "SLACK_", "QLOCKS_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--port", "0", "--handles", "50"],
        cwd=tmp_path,  # no .env from the developer's checkout
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", first)
        assert match, first + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        assert "/qlocks search" in proc.stdout.readline()  # the one-line hint
        page = requests.get(match.group(1), timeout=5)
        assert page.status_code == 200 and "qlocks playground" in page.text
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err
