"""What listeners need, built once by ``build_app`` and passed explicitly (no module-level state)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.audit import AuditLog
from bot.slack.authz import Authorizer
from bot.slack.background import Inline, Runner
from bot.slack.guard import CloseGuard

if TYPE_CHECKING:
    from bot.locks.service import LockService
    from bot.metrics import Metrics


@dataclass(frozen=True, slots=True)
class ProgressPolicy:
    """When a long search posts "scanning… N handles" (ephemeral, through the command's response_url).

    A response_url takes at most 5 posts; the answer needs one, so progress gets at most ``max_updates`` (≤ 3).
    """

    after_s: float = 2.0  # nothing for quicker searches (their ack shows nothing: see listeners.commands)
    every_s: float = 10.0  # then at most one update per interval
    max_updates: int = 2


@dataclass(frozen=True, slots=True)
class Deps:
    service: LockService  # search, re-check and close (bot.locks.service)
    authz: Authorizer
    guard: CloseGuard
    audit: AuditLog
    cluster: str
    clock: Callable[[], float] = time.time  # wall clock for "closed at HH:MM" and data age
    monotonic: Callable[[], float] = time.monotonic  # progress throttling
    progress: ProgressPolicy = field(default_factory=ProgressPolicy)
    run: Runner = field(default_factory=Inline)  # where the work after ack() runs (bot.slack.background)
    metrics: Metrics | None = None  # closes and Slack API errors are counted here (bot.metrics)
