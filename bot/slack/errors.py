"""The one place errors become user messages: domain errors explained, anything else an incident ID in the logs.

Used by the app's ``@app.error`` handler and by the background runner (work done after the ack), so both paths
answer the same way.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import Respond

from bot.locks.query import QueryError
from bot.qumulo.errors import QumuloError
from bot.slack import messages
from bot.slack.replies import reply

logger = logging.getLogger(__name__)


def report_error(error: Exception, *, body: Any, respond: Respond | None, cluster: str) -> None:
    """Tell the user (ephemerally, through the request's response_url) what went wrong, and log it."""
    if isinstance(error, QueryError | QumuloError):
        logger.info("search refused or failed: %s: %s", type(error).__name__, error)
        text = messages.search_error(error, cluster=cluster)
    else:
        incident = uuid.uuid4().hex[:12]
        logger.error("incident %s: unhandled %s", incident, type(error).__name__, exc_info=error)
        text = messages.internal_error(incident)
    if respond is not None and isinstance(body, dict) and body.get("response_url"):
        reply(respond, text=text, response_type="ephemeral")
    else:
        logger.warning("no response_url to report the error to")
