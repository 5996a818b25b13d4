"""Slack-side measurements (in a worker process): ack latency of ``/qlocks search`` and click -> closed + audit line.

The rig is the production composition: ``QumuloClient`` -> ``LockService`` -> ``build_app`` -> ``make_wsgi_app`` on a
threaded WSGI server, talking to the playground's fake Slack (``PlaygroundServer`` + ``FakeSlack``), which signs every
request it sends to the bot like Slack does (``BotLink``). The simulator runs in another process with its RTT.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qlocks_tools.bench.searchbench import config_of
from qlocks_tools.bench.stats import peak_rss_mb

logger = logging.getLogger(__name__)

BOT_TOKEN = "xoxb-bench"
CLUSTER = "bench"
WAIT_S = 60.0


@dataclass
class Rig:
    pg: Any  # qlocks_tools.playground.server.PlaygroundServer
    channel: Any  # qlocks_tools.fakeslack.Channel
    slack: Any  # qlocks_tools.fakeslack.FakeSlack
    admin: Any  # qlocks_tools.fakeslack.User allowed to close
    audit_path: Path


@contextlib.contextmanager
def rig(spec: dict[str, Any]) -> Iterator[Rig]:
    from qlocks_tools.fakeslack import ALEX, BotLink, Channel, FakeSlack
    from qlocks_tools.playground.server import PlaygroundServer
    from qlocks_tools.playground.stack import run_all, start_bot

    with tempfile.TemporaryDirectory(prefix="qlocks-bench-") as tmp:
        audit_path = Path(tmp) / "audit.jsonl"
        channel = Channel()
        slack = FakeSlack(channel, bot_token=BOT_TOKEN)
        link = BotLink(events_url=None, signing_secret=secrets.token_hex(32))
        closers: list[Callable[[], None]] = []
        try:
            pg = PlaygroundServer(channel=channel, slack=slack, bot=link, host="127.0.0.1", port=0).start()
            closers.append(pg.stop)
            link.events_url = start_bot(
                qumulo_config=config_of(spec),
                channel=channel,
                api_url=pg.url + "/api/",
                link=link,
                audit_log=audit_path,
                closers=closers,
                bot_token=BOT_TOKEN,
                cluster_name=CLUSTER,
                cache_ttl_s=float(spec.get("cache_ttl_s", 10.0)),
            )
            yield Rig(pg=pg, channel=channel, slack=slack, admin=ALEX, audit_path=audit_path)
        finally:
            run_all(closers)


def _wait(rig: Rig, done: Callable[[], bool], timeout_s: float = WAIT_S) -> bool:
    """Block on the channel's change counter until ``done()`` (no sleeps); False on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        version = rig.channel.version
        if done():
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        rig.channel.wait_for_change(version, remaining)


def _wait_above(rig: Rig, count: Callable[[Rig], int], above: int) -> bool:
    return _wait(rig, lambda: count(rig) > above)


def _posts(rig: Rig) -> int:
    """Close lines in the channel: through a click's response_url (in_channel), or chat.postMessage as fallback."""
    return sum(
        1
        for call in rig.slack.calls
        if call.ok
        and (
            call.method == "chat.postMessage"
            or (
                call.method == "respond"
                and call.body.get("response_type") == "in_channel"
                and str(call.body.get("text", "")).startswith("🔓")
            )
        )
    )


def _answers(rig: Rig) -> int:
    """Final answers posted through response_urls (progress notes "⏳ …" excluded)."""
    return sum(
        1
        for call in rig.slack.calls
        if call.method == "respond" and not str(call.body.get("text", "")).startswith("⏳")
    )


def _command(rig: Rig, text: str) -> dict[str, Any]:
    started = time.perf_counter()
    out: dict[str, Any] = rig.pg.command(rig.admin, f"/qlocks search {text}")
    return {"ack_ms": float(out.get("ms") or 0.0), "ok": bool(out.get("ok")), "error": out.get("error"),
            "started": started}  # fmt: skip


def measure_ack(rig: Rig, queries: list[str], *, burst: int) -> dict[str, Any]:
    """Serial: one command at a time, each answered before the next (ack + answer latency). Burst: ``burst``
    commands at once (people piling in during an incident), each acked while the others still search."""
    serial: list[dict[str, Any]] = []
    for text in queries:
        before = _answers(rig)
        sent = _command(rig, text)
        answered = _wait_above(rig, _answers, before)
        sent["answer_ms"] = (time.perf_counter() - sent.pop("started")) * 1000 if answered else None
        serial.append(sent)
    before = _answers(rig)
    results: list[dict[str, Any]] = [{} for _ in range(burst)]

    def one(i: int) -> None:
        results[i] = _command(rig, f"{queries[i % len(queries)]} {i}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(burst)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    all_answered = _wait_above(rig, _answers, before + burst - 1)
    burst_done_ms = (time.perf_counter() - started) * 1000 if all_answered else None
    for r in results:
        r.pop("started", None)
    return {"serial": serial, "burst": results, "burst_all_answered_ms": burst_done_ms}


def _close_buttons(message: Any) -> list[str]:
    from bot.slack.blocks import CLOSE_ACTION

    out = []
    for block in message.blocks:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == CLOSE_ACTION:
            out.append(str(block.get("block_id")))
    return out


def _audit_lines(rig: Rig) -> int:
    try:
        return len(rig.audit_path.read_text(encoding="utf-8").splitlines())
    except FileNotFoundError:
        return 0


def measure_close(rig: Rig, query: str, *, clicks: int) -> dict[str, Any]:
    """Search, then click **Close handle** on ``clicks`` rows one after another (as an admin)."""
    from bot.slack.blocks import CLOSE_ACTION

    before = _answers(rig)
    _command(rig, query)
    if not _wait_above(rig, _answers, before):
        raise RuntimeError(f"no answer to the search {query!r}")
    message = next(m for m in reversed(rig.channel.messages()) if not m.ephemeral and _close_buttons(m))
    samples: list[dict[str, Any]] = []
    for _ in range(clicks):
        current = rig.channel.get(message.ts)
        buttons = _close_buttons(current) if current is not None else []
        if not buttons:
            break
        posts = _posts(rig)
        lines = _audit_lines(rig)
        started = time.perf_counter()
        out = rig.pg.action(rig.admin, ts=message.ts, block_id=buttons[0], action_id=CLOSE_ACTION)
        ack_ms = float(out.get("ms") or 0.0)

        def replaced(block_id: str = buttons[0]) -> bool:
            msg = rig.channel.get(message.ts)
            return msg is not None and block_id not in _close_buttons(msg)

        row_ok = _wait(rig, replaced)
        row_ms = (time.perf_counter() - started) * 1000
        line_ok = _wait_above(rig, _posts, posts)
        line_ms = (time.perf_counter() - started) * 1000
        samples.append(
            {
                "ack_ms": ack_ms,
                "row_replaced_ms": row_ms if row_ok else None,
                "audit_line_ms": line_ms if line_ok else None,
                "audit_record": _audit_lines(rig) > lines,  # on disk when the line arrived
            }
        )
    return {"clicks": samples}


def measure_slack(spec: dict[str, Any]) -> dict[str, Any]:
    with rig(spec) as r:
        ack = measure_ack(r, list(spec["queries"]), burst=int(spec["burst"]))
        close = measure_close(r, spec["close_query"], clicks=int(spec["clicks"]))
    return {"ack": ack, "close": close, "peak_rss_mb": peak_rss_mb()}


__all__ = ["Rig", "measure_ack", "measure_close", "measure_slack", "rig"]
