"""The progress callback handed to ``LockService.search``: throttled, bounded by the response_url's 5 uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.audit import AuditLog
from bot.locks.models import Query, QueryKind
from bot.slack.authz import Authorizer
from bot.slack.deps import Deps, ProgressPolicy
from bot.slack.guard import CloseGuard
from bot.slack.listeners.commands import ProgressReporter


class FakeRespond:
    """Records what would be posted to the response_url (a plain callable, like Bolt's Respond)."""

    def __init__(self, status: int = 200) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = status

    def __call__(self, **kw: Any) -> Any:
        self.posts.append(kw)
        return type("WebhookResponse", (), {"status_code": self.status, "body": "ok"})()


def deps(tmp_path: Path, now: list[float], policy: ProgressPolicy) -> Deps:
    return Deps(
        service=None,  # type: ignore[arg-type]  # not used by the reporter
        authz=Authorizer(admins=(), admin_groups=(), channels=(), members_of=lambda g: ()),
        guard=CloseGuard(),
        audit=AuditLog(tmp_path / "a.jsonl"),
        cluster="c",
        monotonic=lambda: now[0],
        progress=policy,
    )


def run(reporter: ProgressReporter, now: list[float], ticks: list[tuple[float, int]]) -> None:
    for t, scanned in ticks:
        now[0] = t
        reporter(scanned)


TICKS = [(1.0, 100), (2.9, 200), (3.0, 300), (5.0, 400), (12.9, 500), (13.0, 600), (30.0, 700), (99.0, 800)]


def test_quiet_at_first_then_at_most_one_per_interval_and_capped(tmp_path: Path) -> None:
    now = [0.0]
    respond = FakeRespond()
    reporter = ProgressReporter(
        respond,  # type: ignore[arg-type]
        deps(tmp_path, now, ProgressPolicy(after_s=3, every_s=10, max_updates=2)),
    )
    run(reporter, now, TICKS)
    assert [p["text"] for p in respond.posts] == [
        "⏳ Searching *c*: 300 handles scanned so far. The answer will be posted here.",
        "⏳ Searching *c*: 600 handles scanned so far. The answer will be posted here.",
    ]
    assert all(p["response_type"] == "ephemeral" and p["replace_original"] is False for p in respond.posts)
    assert reporter.sent == 2


def test_never_more_than_three_updates_whatever_the_policy(tmp_path: Path) -> None:
    now = [0.0]
    respond = FakeRespond()
    reporter = ProgressReporter(
        respond,  # type: ignore[arg-type]
        deps(tmp_path, now, ProgressPolicy(after_s=0, every_s=0, max_updates=50)),
    )
    run(reporter, now, TICKS)
    assert len(respond.posts) == 3  # + the answer = 4 of the response_url's 5 uses


def test_quick_searches_post_nothing(tmp_path: Path) -> None:
    now = [0.0]
    respond = FakeRespond()
    reporter = ProgressReporter(respond, deps(tmp_path, now, ProgressPolicy()))  # type: ignore[arg-type]
    run(reporter, now, [(0.1, 1000), (0.5, 2000), (1.9, 3000)])
    assert respond.posts == []


def test_a_rejected_post_does_not_break_the_search(tmp_path: Path) -> None:
    now = [0.0]
    respond = FakeRespond(status=404)
    reporter = ProgressReporter(respond, deps(tmp_path, now, ProgressPolicy(after_s=0, every_s=0)))  # type: ignore[arg-type]
    run(reporter, now, TICKS[:2])
    assert len(respond.posts) == 2


def test_progress_names_the_search_escaped_and_stays_true_after_the_answer(tmp_path: Path) -> None:
    """The ephemeral progress note cannot be removed later, so it must not claim the search is still running."""
    now = [0.0]
    respond = FakeRespond()
    query = Query(kind=QueryKind.FRAGMENT, value="R&D <b>", text="R&D <b>")
    reporter = ProgressReporter(
        respond,  # type: ignore[arg-type]
        deps(tmp_path, now, ProgressPolicy(after_s=0, every_s=0, max_updates=1)),
        query,
    )
    reporter(12345)
    [post] = respond.posts
    assert post["text"] == (
        "⏳ Searching *c* for `R&amp;D &lt;b&gt;`: 12,345 handles scanned so far. The answer will be posted here."
    )
    assert "…" not in post["text"]
