"""Counts the attack suite reports in pytest's summary (``signature: 64/64 rejected``).

``QLOCKS_ATTACK=long`` multiplies the trials (``SCALE``) for a soak on request; CI runs the quick profile.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict

PROFILE = os.environ.get("QLOCKS_ATTACK", "quick").strip().lower() or "quick"
SCALE = 10 if PROFILE == "long" else 1

_lock = threading.Lock()
_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # name -> [held, tried]
_words: dict[str, str] = {}


def record(name: str, held: bool, *, word: str = "held") -> None:
    """One trial of ``name``; ``held`` is True when qlocks did the safe thing."""
    with _lock:
        entry = _counts[name]
        entry[0] += int(held)
        entry[1] += 1
        _words.setdefault(name, word)


def lines() -> list[str]:
    with _lock:
        return [
            f"{name}: {held:,}/{tried:,} {_words[name]}" for name, (held, tried) in sorted(_counts.items())
        ]
