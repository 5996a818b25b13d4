"""Text helpers for Slack: mrkdwn escaping, clipping to Block Kit limits, command text and clock times.

Pure functions, no Slack imports. Slack's only control characters are ``&``, ``<`` and ``>``; escaping them is enough
to make a cluster- or user-supplied string render literally and mention nobody (``<!channel>``, ``<@U123>``).
"""

from __future__ import annotations

import re
import time

ELLIPSIS = "…"

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]{2,30}$")
# Characters that change how the rest of a line displays or are invisible: control characters, bidi overrides and
# isolates (a file named "\u202efdp.exe" displays as "exe.pdf"), zero-width characters, line/paragraph separators.
# Shown as a visible \uXXXX (or \xNN) so the admin who confirms a close sees the name as it really is.
INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def _visible(ch: str) -> str:
    code_point = ord(ch)
    return f"\\x{code_point:02x}" if code_point < 0x100 else f"\\u{code_point:04x}"


def reveal(s: str) -> str:
    """``s`` with every invisible or direction-changing character written out as ``\\uXXXX``."""
    return INVISIBLE.sub(lambda m: _visible(m.group()), s)


def _piece(ch: str) -> str:
    return _ESCAPES.get(ch) or (_visible(ch) if INVISIBLE.match(ch) else ch)


def escape(s: str) -> str:
    """Escape ``&``, ``<``, ``>`` for Slack (every text field, plain_text included) and ``reveal`` the rest."""
    return reveal(s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def unescape(s: str) -> str:
    """Undo Slack's entity escaping of slash-command text (``&amp;`` last, so ``&amp;lt;`` stays ``&lt;``)."""
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# Link markup in Slack's text: ``<`` + a URL (``scheme://…``) or a ``mailto:`` address, an optional ``|label``,
# ``>``. Other ``<…>`` (``<!channel>``, ``<@U123>``, ``<#C123|name>``) are not links. A literal ``<`` or ``>`` the
# user typed arrives as ``&lt;``/``&gt;``, so it can never look like markup.
_LINK = re.compile(r"<((?:[A-Za-z][A-Za-z0-9+.-]*://|(?i:mailto:))[^<>|]*)(?:\|([^<>]*))?>")


def command_text(raw: str) -> str:
    """Slack's slash-command text as the user typed it: link markup undone, then entities (``unescape``).

    ``<url>`` and ``<url|label>`` become the url, except where Slack made the link up from what the user typed
    by adding a scheme (``notes.md`` -> ``<http://notes.md|notes.md>``, ``dana@corp`` ->
    ``<mailto:dana@corp|dana@corp>``): then the label is what was typed.
    """

    def link(m: re.Match[str]) -> str:
        url, label = m.group(1), m.group(2)
        typed = url.split(":", 1)[1].removeprefix("//")
        return label if label and typed.casefold() == label.casefold() else url

    return unescape(_LINK.sub(link, raw))


def clip(s: str, limit: int) -> str:
    """At most ``limit`` characters; long strings keep their head and tail around an ellipsis (paths end in names)."""
    if limit < 1:
        return ""
    if len(s) <= limit:
        return s
    if limit < 8:
        return s[: limit - 1] + ELLIPSIS
    head = (limit - 1) * 2 // 5
    tail = limit - 1 - head
    return s[:head] + ELLIPSIS + s[len(s) - tail :]


def escape_clip(s: str, limit: int) -> str:
    """``escape(s)`` cut to at most ``limit`` characters without splitting an entity."""
    escaped = escape(s)
    if len(escaped) <= limit:
        return escaped
    budget = limit - 1
    if budget < 1:
        return ""
    head_budget = budget * 2 // 5
    head: list[str] = []
    used = 0
    for ch in s:
        piece = _piece(ch)
        if used + len(piece) > head_budget:
            break
        head.append(piece)
        used += len(piece)
    tail: list[str] = []
    for ch in reversed(s):
        piece = _piece(ch)
        if used + len(piece) > budget:
            break
        tail.append(piece)
        used += len(piece)
    return "".join(head) + ELLIPSIS + "".join(reversed(tail))


BACKTICK_LOOKALIKE = "ˋ"  # U+02CB: mrkdwn has no escape for a backtick inside `code`


def code(s: str, limit: int) -> str:
    """``s`` as an inline code span (no *bold*/_italic_/~strike~ inside), escaped and clipped.

    A backtick would end the span early, so it is shown as a look-alike (U+02CB).
    """
    return f"`{escape_clip(s.replace('`', BACKTICK_LOOKALIKE), limit)}`"


def slack_id(value: object) -> str | None:
    """``value`` if it looks like a Slack ID (``U…``, ``W…``, ``C…``, ``S…``), else None: safe inside ``<@…>``."""
    if isinstance(value, str) and _SLACK_ID.match(value):
        return value
    return None


def mention(user_id: str | None) -> str:
    """``<@U…>`` for a valid user ID, otherwise a neutral word (never interpolate an unchecked ID)."""
    uid = slack_id(user_id)
    return f"<@{uid}>" if uid else "someone"


def clock_time(epoch_s: float, *, seconds: bool = False) -> str:
    """``HH:MM`` (or ``HH:MM:SS``) in the bot's local time zone, with the zone's abbreviation (``14:05 UTC``)."""
    local = time.localtime(epoch_s)
    zone = time.strftime("%Z", local)
    return time.strftime("%H:%M:%S" if seconds else "%H:%M", local) + (f" {zone}" if zone else "")
