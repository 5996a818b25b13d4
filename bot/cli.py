"""The ``qlocks`` command: the only composition root.

Subcommands: run, demo, simulator, search, bench, doctor. ``main(argv) -> exit code``; a ``QumuloError`` or
``ConfigError`` prints one line and exits 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from bot.config import ConfigError

logger = logging.getLogger("qlocks")


def _load_env() -> None:
    from dotenv import load_dotenv

    load_dotenv(override=False)  # the environment wins over .env


def _setup_logging(verbose: int) -> None:
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    level_name = os.environ.get("QLOCKS_LOG_LEVEL")
    if level_name and not verbose:
        level = getattr(logging, level_name.upper(), level)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # urllib3 logs full URLs at DEBUG; they carry no secrets, but keep it quiet unless asked twice.
    if verbose < 2:
        logging.getLogger("urllib3").setLevel(logging.WARNING)
    # slack_sdk's webhook client logs the whole response_url at DEBUG: it is a credential for 30 minutes.
    logging.getLogger("slack_sdk.webhook").setLevel(max(level, logging.INFO))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qlocks", description="Find and close SMB file locks on a Qumulo cluster."
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "run", help="run the Slack bot (Socket Mode if SLACK_APP_TOKEN is set, else HTTP on $PORT)"
    )
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("demo", help="simulator + bot + local playground page at http://127.0.0.1:3000")
    p.add_argument("--port", type=int, default=3000, help="playground port (default 3000)")
    p.add_argument("--handles", type=int, default=400, help="simulated open handles (default 400)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--no-browser", action="store_true", help="accepted for compatibility; no browser is opened"
    )
    p.set_defaults(func=_cmd_demo)

    from bot.qumulo.simulator.cli import add_arguments as sim_args

    p = sub.add_parser("simulator", help="run the Qumulo cluster simulator")
    sim_args(p)
    p.set_defaults(func=_cmd_simulator)

    p = sub.add_parser("search", help="search open handles and locks on the configured cluster")
    p.add_argument(
        "query", nargs="+", help="path fragment, full path, \\\\cluster\\share\\path, ip:, host:, user:"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("bench", help="benchmark search and close against the simulator")
    p.set_defaults(func=_cmd_bench)
    try:
        from bot.bench.cli import add_arguments as bench_args
    except ImportError:  # pragma: no cover - the bench lands in its own issue
        pass
    else:
        bench_args(p)

    p = sub.add_parser("doctor", help="check configuration, reach the cluster, name missing privileges")
    p.set_defaults(func=_cmd_doctor)
    return parser


def _cmd_simulator(args: argparse.Namespace) -> int:
    from bot.qumulo.simulator.cli import run

    return run(args)


def _cmd_search(args: argparse.Namespace) -> int:
    from bot.locks.cli import run_search

    return run_search(" ".join(args.query), as_json=args.json, env=os.environ)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from bot.doctor import run_doctor

    return run_doctor(os.environ)


def _cmd_run(args: argparse.Namespace) -> int:
    from bot.slack.run import run_bot

    return run_bot(os.environ)


def _cmd_demo(args: argparse.Namespace) -> int:
    from bot.playground.demo import run_demo

    return run_demo(port=args.port, handles=args.handles, seed=args.seed)


def _cmd_bench(args: argparse.Namespace) -> int:
    from bot.bench.cli import run

    rc: int = run(args)
    return rc


def main(argv: Sequence[str] | None = None) -> int:
    from bot.qumulo.errors import QumuloError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    _load_env()
    _setup_logging(args.verbose)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"qlocks: configuration error: {exc}", file=sys.stderr)
        return 1
    except QumuloError as exc:
        print(f"qlocks: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except (
        BrokenPipeError
    ):  # `qlocks search x --json | head`: the reader left; not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
