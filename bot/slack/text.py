"""Text helpers for Slack: mrkdwn escaping, clipping to Block Kit limits, command text and clock times.

Pure functions, no Slack imports. Slack's only control characters are ``&``, ``<`` and ``>``; escaping them is enough
to make a cluster- or user-supplied string render literally and mention nobody (``<!channel>``, ``<@U123>``).
"""

from __future__ import annotations

import re
import time

ELLIPSIS = "…"

_SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]{2,30}$")
# Characters that change how the rest of a line displays or are invisible: control characters, bidi overrides and
# isolates (a file named "\u202efdp.exe" displays as "exe.pdf"), zero-width characters, line/paragraph separators.
# Shown as a visible \uXXXX (or \xNN) so the admin who confirms a close sees the name as it really is.
_INVISIBLE_RANGES = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x61C, 0x61C),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x2069),
    (0xFEFF, 0xFEFF),
)
INVISIBLE = re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in _INVISIBLE_RANGES) + "]")


def _visible(ch: str) -> str:
    code_point = ord(ch)
    return f"\\x{code_point:02x}" if code_point < 0x100 else f"\\u{code_point:04x}"


# str.translate tables: one pass in C, however many hostile characters a cluster name holds (a per-match Python
# callback made a 5,000-character bidi-override name cost milliseconds on every field it was shown in).
_REVEAL = {cp: _visible(chr(cp)) for a, b in _INVISIBLE_RANGES for cp in range(a, b + 1)}
_ESCAPE = {**_REVEAL, ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
_SPECIAL = re.compile("[&<>" + INVISIBLE.pattern[1:])  # every character ``escape`` writes as more than one


def reveal(s: str) -> str:
    """``s`` with every invisible or direction-changing character written out as ``\\uXXXX``."""
    return s.translate(_REVEAL)


def escape(s: str) -> str:
    """Escape ``&``, ``<``, ``>`` for Slack (every text field, plain_text included) and ``reveal`` the rest."""
    return s.translate(_ESCAPE)


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


def _fitting(s: str, budget: int) -> tuple[int, int]:
    """How many leading characters of ``s`` fit in ``budget`` once escaped, and how long they are escaped.

    Walks only the characters that escape to more than one (each other character is one), so a long name costs
    a regex scan, not a Python step per character.
    """
    extra = 0  # escaped length minus character count, so far
    for m in _SPECIAL.finditer(s, 0, budget):  # a character at or past ``budget`` can never fit
        at = m.start()
        if at + extra > budget:
            break
        grown = len(_ESCAPE[ord(m.group())])
        if at + extra + grown > budget:
            return at, at + extra
        extra += grown - 1
    fit = min(len(s), budget - extra)
    return fit, fit + extra


def escape_clip(s: str, limit: int) -> str:
    """``escape(s)`` cut to at most ``limit`` characters without splitting an entity."""
    if len(s) <= limit:  # escaping never shortens: anything longer is cut
        escaped = escape(s)
        if len(escaped) <= limit:
            return escaped
    budget = limit - 1
    if budget < 1:
        return ""
    head, used = _fitting(s, budget * 2 // 5)
    tail, _ = _fitting(s[head:][::-1], budget - used)
    return escape(s[:head]) + ELLIPSIS + escape(s[len(s) - tail :])


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
