"""Logging for every qlocks process: one format, and no secret or ``response_url`` in any line, from any logger.

``configure(level, env)`` installs one stderr handler with a ``Redactor`` filter. Filters on a *handler* see every
record that reaches it, whichever library logged it (slack_sdk's webhook retry handler logs the whole response_url on a
connection reset; Bolt logs request bodies at debug), so redaction does not depend on each library behaving.

Redacted: the values of the secret settings (tokens, password, signing secret), the password in
``QLOCKS_DATABASE_URL``, the password of any ``scheme://user:password@host`` URL and libpq's ``password=…``, Slack
tokens by shape (``xoxb-…``, ``xapp-…``), Slack's response_url hosts, ``Bearer …`` / ``Authorization`` values, the ``token=`` form field, and every
response_url the app has seen in a request (``Redactor.add``; the Slack middleware registers them). Logging is
process-wide by nature, so the one ``REDACTOR`` is too.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from bot.store.url import secrets_in

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SECRET_SETTINGS = (
    "QUMULO_ACCESS_TOKEN",
    "QUMULO_PASSWORD",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
)
DATABASE_URL = "QLOCKS_DATABASE_URL"  # not a secret itself: its password is (``bot.store.url.secrets_in``)
MASK = "[redacted]"
_MIN_SECRET = 6  # shorter values would mask ordinary words
_MAX_LITERALS = 4096

_PATTERNS = (
    re.compile(r"xox[abposr]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"https?://hooks\.slack(?:-gov)?\.com/[^\s'\"<>]*"),
    re.compile(r"(?i)(?<=bearer )[^\s'\",]+"),
    re.compile(r"(?i)(?<=authorization: )[^\r\n'\"]+"),
    re.compile(r"(?i)(?<=authorization': ')[^']+"),
    re.compile(r"(?<![A-Za-z_])(?<=token=)[^&\s'\"]+"),
    re.compile(r"(?i)(?<=password=)[^&\s'\"]+"),
)
# scheme://user:PASSWORD@host: the user and host stay readable, the password goes (any length, unlike literals).
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s'\"]*:)[^@\s'\"/]+@")


class Redactor(logging.Filter):
    """Rewrites each record's message (and traceback text) with every known secret masked; never drops a record."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._literals: OrderedDict[str, None] = OrderedDict()
        self._longest_first: list[str] = []  # the literals in masking order, rebuilt on add (not per record)

    def add(self, secrets: Iterable[str | None]) -> None:
        """Mask these values from now on (e.g. a request's response_url); the newest ``_MAX_LITERALS`` are kept."""
        with self._lock:
            for secret in secrets:
                if secret and len(secret) >= _MIN_SECRET:
                    self._literals[secret] = None
                    self._literals.move_to_end(secret)
            while len(self._literals) > _MAX_LITERALS:
                self._literals.popitem(last=False)
            self._longest_first = sorted(self._literals, key=len, reverse=True)

    def redact(self, text: str) -> str:
        with self._lock:
            literals = self._longest_first
        for literal in literals:
            if literal in text:
                text = text.replace(literal, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(MASK, text)
        return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw template
            message = str(record.msg)
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


REDACTOR = Redactor()


def configure(level: int, env: Mapping[str, str]) -> None:
    """Root logging for a qlocks process: stderr, ``FORMAT``, ``level``, the redactor on the handler."""
    REDACTOR.add(env.get(name) for name in SECRET_SETTINGS)
    REDACTOR.add(secrets_in(env.get(DATABASE_URL)))
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "qlocks", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.qlocks = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(REDACTOR)
        root.addHandler(handler)
    root.setLevel(level)
    for other in root.handlers:  # handlers someone else installed (gunicorn, pytest) get the filter too
        if REDACTOR not in other.filters:
            other.addFilter(REDACTOR)
    # urllib3 logs every URL and retry at DEBUG/WARNING: useful only when asked for twice (-vv).
    logging.getLogger("urllib3").setLevel(logging.DEBUG if level <= logging.DEBUG else logging.ERROR)


__all__ = ["FORMAT", "MASK", "REDACTOR", "SECRET_SETTINGS", "Redactor", "configure"]
