"""``qlocks search``: run one search against the configured cluster and print a table or JSON.

Exit codes: 0 the search ran (matches or not; see ``total_handles`` in ``--json``), 2 the query could not be
understood. Configuration and cluster errors propagate to ``bot.cli``, which prints one line and exits 1.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

from bot.compose import build_domain
from bot.config import QlocksConfig, QumuloConfig
from bot.locks.query import QueryError, parse_query
from bot.locks.report import format_text, result_to_dict

logger = logging.getLogger(__name__)


def _progress(stream: TextIO) -> Callable[[int], None]:
    def report(scanned: int) -> None:
        stream.write(f"\rscanned {scanned:,} handles…")
        stream.flush()

    return report


def run_search(
    text: str,
    *,
    as_json: bool,
    env: Mapping[str, str],
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Search once; print a readable table grouped by file, or ``--json`` with the same data."""
    out = out or sys.stdout
    err = err or sys.stderr
    qumulo = QumuloConfig.from_env(env)
    qlocks = QlocksConfig.from_env(env)
    show_progress = not as_json and err.isatty()
    try:
        query = parse_query(text)  # the command line is plain text: nothing to unescape
        with build_domain(qumulo, qlocks) as domain:
            try:
                result = domain.service.search(query, progress=_progress(err) if show_progress else None)
            finally:
                if show_progress:
                    err.write("\r\x1b[K")
            logger.info(
                "search %r: %d handle(s), %d request(s)",
                text,
                result.total_handles,
                domain.client.stats.requests,
            )
    except QueryError as exc:
        err.write(f"qlocks: {exc}\n")
        return 2
    if as_json:
        json.dump(result_to_dict(result), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(format_text(result))
    return 0


__all__ = ["run_search"]
