"""Child process: one measurement. ``python -m qlocks_tools.bench.worker`` reads a JSON spec on stdin and prints one JSON
line with the result (timings, request counts, this process's peak RSS)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def _kinds() -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    from qlocks_tools.bench import searchbench

    kinds: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "search": searchbench.measure_search,
        "seed": searchbench.measure_seed,
        "floor": searchbench.measure_floor,
        "exact": searchbench.measure_exact,
    }
    return kinds


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    spec: dict[str, Any] = json.loads(sys.stdin.read())
    kind = spec.get("kind")
    if kind == "slack":  # imports slack_bolt: only here, so the other workers' RSS stays the search's own
        from qlocks_tools.bench.slackbench import measure_slack

        result = measure_slack(spec)
    else:
        fn = _kinds().get(str(kind))
        if fn is None:
            print(f"unknown worker kind {kind!r}", file=sys.stderr)
            return 2
        result = fn(spec)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
