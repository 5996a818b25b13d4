"""Entry points behind ``qlocks simulator``, ``qlocks demo`` and ``qlocks bench``.

``bot.cli`` forwards the words after the subcommand here (``main(command, argv)``), so the product's parser never
imports the tooling; each command owns its options and ``--help`` (``build_parser(command)``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

DESCRIPTIONS = {
    "simulator": "Run the Qumulo cluster simulator.",
    "demo": "Simulator + bot + local playground page at http://127.0.0.1:3000.",
    "bench": "Benchmark search and close against the simulator.",
}


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=int,
        default=3000,
        metavar="PORT",
        help="port of the playground page, http://127.0.0.1:PORT (default 3000)",
    )
    parser.add_argument(
        "--handles",
        type=int,
        default=400,
        metavar="N",
        help="open SMB handles on the simulated cluster (default 400)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=7,
        metavar="S",
        help="random seed for the simulated cluster (users, clients, paths, handles): the same seed gives "
        "the same cluster on every run (default 7)",
    )


def build_parser(command: str) -> argparse.ArgumentParser:
    """The option parser of one tooling command (``prog`` is ``qlocks <command>``)."""
    parser = argparse.ArgumentParser(prog=f"qlocks {command}", description=DESCRIPTIONS[command])
    if command == "simulator":
        from qlocks_tools.simulator.cli import add_arguments

        add_arguments(parser)
    elif command == "bench":
        from qlocks_tools.bench.cli import add_arguments as add_bench_arguments

        add_bench_arguments(parser)
    else:
        _demo_arguments(parser)
    return parser


def run(command: str, args: argparse.Namespace) -> int:
    if command == "simulator":
        from qlocks_tools.simulator.cli import run as run_simulator

        return run_simulator(args)
    if command == "bench":
        from qlocks_tools.bench.cli import run as run_bench

        return run_bench(args)
    from qlocks_tools.playground.demo import run_demo

    return run_demo(port=args.port, handles=args.handles, seed=args.seed)


def main(command: str, argv: Sequence[str]) -> int:
    """Run one tooling command with its own arguments; exit code."""
    if command not in DESCRIPTIONS:
        raise ValueError(f"unknown tooling command {command!r}")
    return run(command, build_parser(command).parse_args(list(argv)))


__all__ = ["DESCRIPTIONS", "build_parser", "main", "run"]
