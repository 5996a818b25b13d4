"""The ``qlocks`` command: the only composition root.

Subcommands: run, search, doctor, trust-cluster; simulator, demo and bench are forwarded to the tooling package
(``qlocks_tools``, installed by the ``demo`` extra), which this module imports only when one of them runs. ``main(argv) -> exit code``; a ``QumuloError`` or
``ConfigError`` prints one line and exits 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, log_level_from_env

logger = logging.getLogger("qlocks")


def _load_env() -> Path | None:
    """``./.env`` of the working directory (the environment wins); the file read, or None."""
    from bot.envfile import load_env_file

    return load_env_file()


def _setup_logging(verbose: int) -> None:
    from bot.logs import configure

    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    level_name = os.environ.get("QLOCKS_LOG_LEVEL")
    if level_name and not verbose:
        level = getattr(logging, level_name.upper(), level)
    configure(level, os.environ)


TOOLS = {
    "simulator": "run the Qumulo cluster simulator (qlocks simulator --help)",
    "demo": "simulator + bot + local playground page at http://127.0.0.1:3000",
    "bench": "benchmark search and close against the simulator (qlocks bench --help)",
}
TOOLS_HINT = (
    "needs qlocks' tooling (simulator, playground, bench), which is not installed: "
    "run `pip install '.[demo]'` in a qlocks checkout, or `make setup`"
)


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

    p = sub.add_parser("search", help="search open handles and locks on the configured cluster")
    p.add_argument(
        "query", nargs="+", help="path fragment, full path, \\\\cluster\\share\\path, ip:, host:, user:"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("doctor", help="check configuration, reach the cluster, name missing privileges")
    p.set_defaults(func=_cmd_doctor)

    p = sub.add_parser(
        "trust-cluster",
        help="save the certificate chain the cluster presents to FILE, for QUMULO_CA_BUNDLE (prints its fingerprint)",
    )
    p.add_argument("file", type=Path, metavar="FILE", help="PEM file to write")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(func=_cmd_trust_cluster)

    # The tooling parses its own options (``qlocks_tools.cli``): the product's parser never imports it.
    for name, text in TOOLS.items():
        p = sub.add_parser(name, help=text, add_help=False)
        p.set_defaults(func=_cmd_tool)
    return parser


def _cmd_tool(args: argparse.Namespace) -> int:
    try:
        from qlocks_tools.cli import main as tool_main
    except ImportError:
        print(f"qlocks {args.command} {TOOLS_HINT}", file=sys.stderr)
        return 2
    rc: int = tool_main(args.command, args.tool_args)
    return rc


def _cmd_search(args: argparse.Namespace) -> int:
    from bot.search import run_search

    return run_search(" ".join(args.query), as_json=args.json, env=os.environ)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from bot.doctor import run_doctor

    return run_doctor(os.environ, env_file=getattr(args, "env_file", None))


def _cmd_trust_cluster(args: argparse.Namespace) -> int:
    from bot.doctor import run_trust_cluster

    return run_trust_cluster(os.environ, args.file, force=args.force)


def _cmd_run(args: argparse.Namespace) -> int:
    from bot.slack.run import run_bot

    return run_bot(os.environ)


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:  # argparse has no public accessor for its subcommands
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: Sequence[str] | None = None) -> int:
    from bot.qumulo.errors import QumuloError

    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    first = next((w for w in words if not w.startswith("-")), None)
    if first is not None and first not in _commands(parser):  # "qlocks budget.xlsx": forgot "search"
        shown = " ".join(shlex.quote(w) for w in words[words.index(first) :])
        print(
            f"qlocks: unknown command {first!r}. To find who has a file open: qlocks search {shown}",
            file=sys.stderr,
        )
        print("        qlocks --help lists the commands.", file=sys.stderr)
        return 2
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "func", None) is _cmd_tool:
        args.tool_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        args.env_file = _load_env()
        log_level_from_env(os.environ)  # QLOCKS_LOG_LEVEL=LOUD is an error, not a silent default
    except ConfigError as exc:
        print(f"qlocks: configuration error: {exc}", file=sys.stderr)
        return 1
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
