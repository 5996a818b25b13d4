"""``qlocks simulator``: serve a simulated Qumulo cluster until Ctrl-C.

Prints the URL, the login, any ``--token`` bearer tokens and a ``.env`` snippet for ``qlocks search`` / ``doctor``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path
from typing import TextIO

from qlocks_tools.simulator.knobs import ADDRESS_STYLES, LOCATION_STYLES, privileges_of
from qlocks_tools.simulator.runner import Simulator, start_simulator
from qlocks_tools.simulator.state import DEFAULT_PASSWORD, DEFAULT_USERNAME

logger = logging.getLogger(__name__)


def token_spec(text: str) -> tuple[str, frozenset[str]]:
    """``NAME=PRIV1,PRIV2`` (the ``PRIVILEGE_`` prefix is optional) -> (name, privileges)."""
    name, sep, privs = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=PRIVILEGE,PRIVILEGE..., got {text!r}")
    return name, privileges_of(privs.split(","))


def default_cert_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qlocks" / "simulator-tls"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", metavar="ADDR", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8000,
        metavar="PORT",
        help="port to listen on (default 8000, Qumulo's REST port; 0 = any free port, printed at start)",
    )
    parser.add_argument(
        "--handles", type=int, default=300, metavar="N", help="open SMB handles to generate (default 300)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        metavar="S",
        help="random seed for the generated cluster (users, clients, paths, handles): the same seed gives the "
        "same cluster on every run (default 1)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a generated self-signed certificate (printed as QUMULO_CA_BUNDLE); "
        "default: plain HTTP",
    )
    parser.add_argument(
        "--tls-no-san",
        action="store_true",
        help="with --tls: a certificate without subjectAltName (CN only), as some clusters ship; verifying "
        "clients refuse it, so it needs QUMULO_TLS_FINGERPRINT",
    )
    parser.add_argument(
        "--cert-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where --tls writes cert.pem/key.pem, fresh on every start "
        "(default $XDG_CACHE_HOME/qlocks/simulator-tls, else ~/.cache/qlocks/simulator-tls)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="delay added to every response, to simulate a distant cluster (default 0)",
    )
    parser.add_argument(
        "--page-size",
        type=int,
        default=None,
        metavar="N",
        help="server-side maximum items per page, below what clients ask for (default: no cap)",
    )
    parser.add_argument(
        "--api-prefix",
        default=None,
        metavar="PATH",
        help="serve the API under PATH only, e.g. /api as on a cluster's web UI port 443 (default: at /v1)",
    )
    parser.add_argument(
        "--handle-locations",
        choices=LOCATION_STYLES,
        default="opaque",
        help="how handle locations relate to session locations: opaque (unrelated, the default), extends "
        "(a handle's location is its session's location plus '.N'), shuffled (they extend another session's)",
    )
    parser.add_argument(
        "--addresses",
        choices=ADDRESS_STYLES,
        default="ipv4",
        help="client addresses: ipv4 (default), mapped (lock grants write ::ffff:10.30.0.15), ipv6",
    )
    parser.add_argument(
        "--folder-handles",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of generated opens that are folder handles (Explorer windows, share roots), 0-1 (default 0)",
    )
    parser.add_argument(
        "--username",
        default=DEFAULT_USERNAME,
        metavar="NAME",
        help=f"login user with every privilege (default {DEFAULT_USERNAME})",
    )
    parser.add_argument(
        "--password",
        default=DEFAULT_PASSWORD,
        metavar="PASSWORD",
        help=f"that user's password (default {DEFAULT_PASSWORD})",
    )
    parser.add_argument(
        "--token",
        action="append",
        type=token_spec,
        default=[],
        metavar="NAME=PRIVS",
        help="also mint a bearer token for NAME with only these comma-separated privileges (repeatable)",
    )


def banner(sim: Simulator, args: argparse.Namespace, tokens: dict[str, str]) -> str:
    tls = sim.url.startswith("https://")
    host_line = sim.host if tls else f"http://{sim.host}"
    if sim.state.api_prefix:  # the base URL form: QUMULO_HOST=https://host:port/api
        host_line = f"{sim.url}{sim.state.api_prefix}"
    lines = [
        f"Qumulo simulator: {sim.state.handle_count} open SMB handles (seed {args.seed}) at {sim.url}",
        f"  login: {args.username} / {args.password}",
    ]
    no_san = bool(getattr(args, "tls_no_san", False))
    if sim.cafile and no_san:
        lines.append(f"  TLS certificate (self-signed, no subjectAltName): {sim.cafile}  -> pin it")
    elif sim.cafile:
        lines.append(f"  TLS certificate (self-signed): {sim.cafile}  -> QUMULO_CA_BUNDLE")
    if sim.cafile:
        lines.append(
            f"  qq: qq --host {sim.host} --port {sim.port} login -u {args.username} -p {args.password}"
        )
    for name, token in tokens.items():
        lines.append(f"  token {name}: {token}")
    lines += [
        "",
        "Example .env:",
        f"QUMULO_HOST={host_line}",
        f"QUMULO_PORT={sim.port}",
        f"QUMULO_USERNAME={args.username}",
        f"QUMULO_PASSWORD={args.password}",
    ]
    if sim.cafile and no_san:
        lines.append(f"QUMULO_TLS_FINGERPRINT={sim.cert_fingerprint}")
    elif sim.cafile:
        lines.append(f"QUMULO_CA_BUNDLE={sim.cafile}")
    lines += ["", "Press Ctrl-C to stop."]
    return "\n".join(lines)


def run(args: argparse.Namespace, *, stop: threading.Event | None = None, out: TextIO | None = None) -> int:
    """Start the simulator, print how to use it, serve until Ctrl-C (or ``stop`` is set, for tests)."""
    out = out or sys.stdout
    if not 0.0 <= args.folder_handles <= 1.0:
        print("qlocks simulator: --folder-handles must be between 0 and 1", file=sys.stderr)
        return 2
    if args.handles < 0 or (args.page_size is not None and args.page_size < 1) or args.latency_ms < 0:
        print(
            "qlocks simulator: --handles, --page-size and --latency-ms must not be negative", file=sys.stderr
        )
        return 2
    try:
        sim = start_simulator(
            host=args.host,
            port=args.port,
            handles=args.handles,
            seed=args.seed,
            tls=args.tls,
            latency_ms=args.latency_ms,
            page_size=args.page_size,
            username=args.username,
            password=args.password,
            cert_dir=(args.cert_dir or default_cert_dir()) if args.tls else None,
            tls_san=not args.tls_no_san,
            api_prefix=args.api_prefix,
            handle_locations=args.handle_locations,
            addresses=args.addresses,
            folders=args.folder_handles,
        )
    except ValueError as exc:
        print(f"qlocks simulator: --api-prefix: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"qlocks simulator: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    with sim:
        try:
            tokens = {name: sim.mint_token(name, privs) for name, privs in args.token}
        except ValueError as exc:
            print(f"qlocks simulator: --token: {exc}", file=sys.stderr)
            return 2
        print(banner(sim, args, tokens), file=out, flush=True)
        waiter = stop or threading.Event()
        try:
            while not waiter.wait(0.5):
                pass
        except KeyboardInterrupt:
            print("\nstopping the simulator", file=out)
    return 0
