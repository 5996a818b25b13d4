"""Durations as short plain text, one format for every front end (terminal table, Slack rows and footers)."""

from __future__ import annotations

import math


def format_duration(seconds: float | None) -> str:
    """``None`` (or NaN) -> ``?``; 42 -> ``42s``; 3900 -> ``1h05m``; 200000 -> ``2d07h``; negative -> ``0s``."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


__all__ = ["format_duration"]
