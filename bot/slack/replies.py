"""``reply``: post through a ``response_url`` and report failure instead of raising.

Bolt's ``respond`` returns a ``WebhookResponse`` and does not raise on HTTP errors (only on connection errors), so
every post goes through here: a failed post is logged (never with the URL, which is a credential) and returns False.
``ObservedRespond`` (installed on every request by ``build_app``) also counts each failed post for the metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond
from slack_sdk.errors import SlackClientError
from slack_sdk.webhook import WebhookResponse

logger = logging.getLogger(__name__)


def reply(respond: Respond, **kwargs: Any) -> bool:
    """``respond(**kwargs)``; True when Slack accepted it. Ephemeral replies never replace the original."""
    if kwargs.get("response_type") == "ephemeral":
        kwargs.setdefault("replace_original", False)
    try:
        resp = respond(**kwargs)
    except ValueError:  # Bolt's "respond is unsupported here as there is no response_url": nobody to answer
        logger.info("no response_url to answer through")
        return False
    except (OSError, SlackClientError) as exc:
        logger.warning("response_url post failed: %s", type(exc).__name__)
        return False
    if resp.status_code != 200:
        logger.warning("response_url post rejected: HTTP %s %s", resp.status_code, str(resp.body)[:200])
        return False
    return True


class ObservedRespond(Respond):
    """A request's ``respond`` that reports each failed post as ``on_error("response_url", error)`` (an exception's
    type name, or ``http_<status>``), then behaves exactly like the one it wraps."""

    def __init__(self, inner: Respond, on_error: Callable[[str, str], None]) -> None:
        super().__init__(response_url=inner.response_url, proxy=inner.proxy, ssl=inner.ssl)
        self._inner = inner
        self._on_error = on_error

    def __call__(self, *args: Any, **kwargs: Any) -> WebhookResponse:
        try:
            resp = self._inner(*args, **kwargs)
        except (OSError, SlackClientError) as exc:
            self._on_error("response_url", type(exc).__name__)
            raise
        if resp.status_code != 200:
            self._on_error("response_url", f"http_{resp.status_code}")
        return resp
