"""``qlocks doctor``: check the configuration, reach the cluster, show who-am-i, name every missing privilege."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, QlocksConfig, QumuloConfig, SlackConfig
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloError
from bot.qumulo.models import OPTIONAL_PRIVILEGES, REQUIRED_PRIVILEGES


def run_doctor(env: Mapping[str, str], *, env_file: Path | None = None, out: TextIO | None = None) -> int:
    """Print one line per check; exit 0 when the bot can do its job, 1 otherwise.

    ``env_file`` is the ``.env`` the CLI read (``bot.envfile.load_env_file``), None when there was none.
    """
    out = out or sys.stdout
    problems = 0

    def line(ok: bool | None, text: str) -> None:
        mark = {True: "ok  ", False: "FAIL", None: "warn"}[ok]
        print(f"[{mark}] {text}", file=out)

    if env_file is not None:
        line(True, f"settings file: read {env_file} (variables already in the environment win over it)")
    else:
        line(True, f"settings file: none read (no .env in {Path.cwd()}); using the environment only")
    try:
        qcfg = QumuloConfig.from_env(env)
    except ConfigError as exc:
        line(False, f"Qumulo settings: {exc}")
        return 1
    auth = "access token" if qcfg.access_token else f"user {qcfg.username!r} (password login)"
    tls = (
        "TLS verification off" if not qcfg.verify_tls else f"TLS verified ({qcfg.ca_bundle or 'system CAs'})"
    )
    if qcfg.scheme == "http":
        tls = "plain HTTP (simulator only; real clusters speak HTTPS)"
    line(True, f"Qumulo settings: {qcfg.base_url}, {auth}, {tls}, timeout {qcfg.timeout_s:g} s")
    if not qcfg.verify_tls:
        line(None, "QUMULO_VERIFY_TLS=false: the cluster's certificate is not checked")

    for name, loader in (
        ("Slack settings", SlackConfig.from_env),
        ("qlocks settings", QlocksConfig.from_env),
    ):
        try:
            cfg = loader(env)
        except ConfigError as exc:
            line(None, f"{name}: {exc} (needed by `qlocks run`, not by search/doctor)")
        else:
            line(True, f"{name}: {_describe(cfg)}")

    with QumuloClient(qcfg) as client:
        try:
            me = client.who_am_i()
        except QumuloError as exc:
            line(False, f"cluster: {exc}")
            return 1
        line(True, f"cluster reachable; API user {me.name!r} (id {me.id})")
        for priv, why in REQUIRED_PRIVILEGES.items():
            if priv in me.privileges:
                line(True, f"{priv}")
            else:
                problems += 1
                line(False, f"{priv} is missing: needed to {why}")
        for priv, why in OPTIONAL_PRIVILEGES.items():
            if priv not in me.privileges:
                line(None, f"{priv} is missing (optional): needed to {why}")
    if problems:
        print(
            f"{problems} privilege(s) missing: add them to the bot's role (see README, 'Qumulo role').",
            file=out,
        )
        return 1
    print("All checks passed.", file=out)
    return 0


def _describe(cfg: object) -> str:
    if isinstance(cfg, SlackConfig):
        mode = "Socket Mode" if cfg.socket_mode else "HTTP mode"
        return f"{mode}" + (f", API {cfg.api_url}" if cfg.api_url else "")
    if isinstance(cfg, QlocksConfig):
        return (
            f"{len(cfg.admins)} admin(s), {len(cfg.admin_groups)} admin group(s), "
            f"channels: {', '.join(sorted(cfg.channels)) or 'any'}, audit log {cfg.audit_log}"
        )
    return "ok"
