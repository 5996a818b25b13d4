"""Child process: one simulator, served until stdin closes. ``python -m qlocks_tools.bench.simserver --handles N ...``

Prints one JSON line (url, host, port, admin token, counts, generation time, RSS) once it accepts requests.
Runs apart from the measured process so that the search's peak RSS and CPU are its own.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from qlocks_tools.bench.stats import peak_rss_mb

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qlocks_tools.bench.simserver")
    parser.add_argument("--handles", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=None)
    parser.add_argument("--handle-locations", default="opaque")
    parser.add_argument(
        "--locks-never-end",
        action="store_true",
        help="lock listings keep a non-null paging.next on the last page (Qumulo Core behaviour, §4)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    from qlocks_tools.simulator import start_simulator

    started = time.perf_counter()
    sim = start_simulator(
        handles=args.handles,
        seed=args.seed,
        latency_ms=args.latency_ms,
        page_size=args.page_size,
        handle_locations=args.handle_locations,
    )
    generated_s = time.perf_counter() - started
    # Render the listings once now (cached fragments), so the first client to walk them pays what later ones do.
    started = time.perf_counter()
    sim.state.prerender_listings()
    prerender_s = time.perf_counter() - started
    sim.state.lock_listings_never_end = args.locks_never_end
    with sim:
        info = {
            "url": sim.url,
            "host": sim.host,
            "port": sim.port,
            "token": sim.admin_token,
            "handles": sim.state.handle_count,
            "files": len(sim.state.files),
            "sessions": len(sim.state.sessions),
            "identities": len(sim.state.identities),
            "generate_s": generated_s,
            "prerender_s": prerender_s,
            "rss_mb": peak_rss_mb(),
        }
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # the parent closes our stdin (or dies) to stop us
    return 0


if __name__ == "__main__":
    sys.exit(main())
