"""``qlocks doctor``: check the settings, the cluster's certificate, every endpoint qlocks uses, the audit log and
Slack, and report every problem at once.

Checks are independent: a failing one never hides the others (Slack is checked when the cluster is down, the
privilege probes all run when one is refused). Privileges are *probed*: each read endpoint qlocks uses is called once
with ``limit=1`` (attributes: a real lookup of ``/``), because who-am-i's privilege list does not show everything
(attributes can be allowed by the files' ACLs without ``PRIVILEGE_FS_ATTRIBUTES_READ``; an endpoint can be blocked by
a proxy). Closing is never probed (a probe would close something): its privilege is checked in who-am-i's list.
Nothing here writes anything anywhere: the audit log is checked, not created.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.config import ConfigError, QlocksConfig, QumuloConfig, SlackConfig
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloError, QumuloNotFound, QumuloPermissionError, QumuloRequestError
from bot.qumulo.models import OPTIONAL_PRIVILEGES, REQUIRED_PRIVILEGES, WhoAmI
from bot.qumulo.paging import with_query

WRITE_PRIVILEGE = "PRIVILEGE_SMB_FILE_HANDLE_WRITE"


@dataclass
class _Report:
    out: TextIO
    failures: int = 0

    def line(self, ok: bool | None, text: str) -> None:
        mark = {True: "ok  ", False: "FAIL", None: "warn"}[ok]
        if ok is False:
            self.failures += 1
        print(f"[{mark}] {text}", file=self.out)


def run_doctor(env: Mapping[str, str], *, env_file: Path | None = None, out: TextIO | None = None) -> int:
    """Print one line per check; exit 0 when the bot can do its job, 1 otherwise.

    ``env_file`` is the ``.env`` the CLI read (``bot.envfile.load_env_file``), None when there was none.
    """
    report = _Report(out or sys.stdout)
    if env_file is not None:
        report.line(
            True, f"settings file: read {env_file} (variables already in the environment win over it)"
        )
    else:
        report.line(True, f"settings file: none read (no .env in {Path.cwd()}); using the environment only")

    qcfg = _qumulo_settings(report, env)
    slack = _settings(report, "Slack settings", SlackConfig.from_env, env)
    qlocks = _settings(report, "qlocks settings", QlocksConfig.from_env, env)
    if qcfg is not None:
        if qcfg.scheme == "https":
            _certificate(report, qcfg)
        _cluster(report, qcfg)
    _audit_log(report, qlocks.audit_log if qlocks else (env.get("QLOCKS_AUDIT_LOG") or "").strip())
    _database(report, qlocks)
    if slack is not None:
        _slack(report, slack)

    if report.failures:
        print(
            f"{report.failures} check(s) failed (see FAIL above); missing privileges go in the bot's role "
            "(README, 'Qumulo role').",
            file=report.out,
        )
        return 1
    print("All checks passed.", file=report.out)
    return 0


def _qumulo_settings(report: _Report, env: Mapping[str, str]) -> QumuloConfig | None:
    try:
        qcfg = QumuloConfig.from_env(env)
    except ConfigError as exc:
        report.line(False, f"Qumulo settings: {exc}")
        return None
    auth = "access token" if qcfg.access_token else f"user {qcfg.username!r} (password login)"
    if qcfg.scheme == "http":
        tls = "plain HTTP (simulator only; real clusters speak HTTPS)"
    elif qcfg.tls_fingerprint:
        tls = "TLS pinned to QUMULO_TLS_FINGERPRINT"
    elif not qcfg.verify_tls:
        tls = "TLS verification off"
    else:
        tls = f"TLS verified ({qcfg.ca_bundle or 'system CAs'})"
    report.line(True, f"Qumulo settings: {qcfg.base_url}, {auth}, {tls}, timeout {qcfg.timeout_s:g} s")
    if qcfg.scheme == "https" and not qcfg.verify_tls:
        report.line(
            None,
            "QUMULO_VERIFY_TLS=false: the cluster's certificate is not checked; pin it instead with "
            "QUMULO_TLS_FINGERPRINT (shown below) or trust it with `qlocks trust-cluster FILE` + QUMULO_CA_BUNDLE",
        )
    return qcfg


def _settings(
    report: _Report, name: str, loader: Callable[[Mapping[str, str]], Any], env: Mapping[str, str]
) -> Any:
    try:
        cfg = loader(env)
    except ConfigError as exc:
        report.line(None, f"{name}: {exc} (needed by `qlocks run`, not by search/doctor)")
        return None
    report.line(True, f"{name}: {_describe(cfg)}")
    return cfg


def _certificate(report: _Report, qcfg: QumuloConfig) -> None:
    """The presented certificate, read without trusting it (nothing is sent), for the admin to compare."""
    from bot.qumulo.tls import colon_hex, fetch_chain

    try:
        chain = fetch_chain(qcfg.host, qcfg.port, timeout_s=qcfg.timeout_s)
    except OSError as exc:
        report.line(
            None, f"certificate: could not read it from {qcfg.host}:{qcfg.port} ({exc.strerror or exc})"
        )
        return
    leaf = chain[0]
    report.line(True, f"certificate presented: SHA-256 {leaf.fingerprint}")
    report.line(
        True, f"certificate: {leaf.describe()}" + (f"; chain of {len(chain)}" if len(chain) > 1 else "")
    )
    if qcfg.tls_fingerprint:
        if leaf.sha256 == qcfg.tls_fingerprint:
            report.line(True, "certificate matches QUMULO_TLS_FINGERPRINT")
        else:
            report.line(
                False,
                f"certificate does NOT match QUMULO_TLS_FINGERPRINT ({colon_hex(qcfg.tls_fingerprint)}): nothing "
                "is sent to this cluster until the pin is right",
            )
        return
    if leaf.parsed and not leaf.has_san:
        report.line(
            None,
            "certificate has no subjectAltName: urllib3 2 refuses it whatever QUMULO_CA_BUNDLE says; pin it with "
            f"QUMULO_TLS_FINGERPRINT={leaf.fingerprint} once you have checked that fingerprint on the cluster",
        )
    elif leaf.self_signed and qcfg.verify_tls and not qcfg.ca_bundle:
        report.line(
            None,
            "certificate is self-signed (the cluster's own): save it with `qlocks trust-cluster FILE` and set "
            f"QUMULO_CA_BUNDLE=FILE, or pin QUMULO_TLS_FINGERPRINT={leaf.fingerprint}; check the fingerprint on "
            "the cluster first",
        )


@dataclass(frozen=True, slots=True)
class _Probe:
    what: str
    privilege: str
    call: Callable[[QumuloClient], object]
    required: bool = True


def _probes(me: WhoAmI) -> list[_Probe]:
    def identity(c: QumuloClient) -> object:
        # who-am-i's id need not be an auth_id: "no such identity" (404) or a refused lookup (400) still proves
        # the call got past the privilege check, which is what is probed here
        try:
            return c.request("POST", "/v1/identity/find", json_body={"auth_id": me.id or "0"})
        except (QumuloNotFound, QumuloRequestError):
            return None

    return [
        _Probe(
            "list SMB file handles",
            "PRIVILEGE_SMB_FILE_HANDLE_READ",
            lambda c: c.request("GET", with_query("/v1/smb/files/", resolve_paths=True, limit=1)),
        ),
        _Probe(
            "list share-mode locks",
            "PRIVILEGE_FS_LOCK_READ",
            lambda c: c.request("GET", with_query("/v1/files/locks/smb/share-mode/", limit=1)),
        ),
        _Probe(
            "list SMB sessions",
            "PRIVILEGE_SMB_SESSION_READ",
            lambda c: c.request("GET", with_query("/v1/smb/sessions/", limit=1)),
        ),
        _Probe("read the attributes of /", "PRIVILEGE_FS_ATTRIBUTES_READ", lambda c: c.file_attributes("/")),
        _Probe("look up an identity", "PRIVILEGE_IDENTITY_READ", identity),
        _Probe("list SMB shares", "PRIVILEGE_SMB_SHARE_READ", lambda c: c.list_smb_shares()),
        _Probe(
            "resolve a client IP to a host name",
            "PRIVILEGE_DNS_USE",
            lambda c: c.resolve_ips_to_names(["127.0.0.1"]),
            required=False,
        ),
    ]


def _cluster(report: _Report, qcfg: QumuloConfig) -> None:
    with QumuloClient(qcfg) as client:
        try:
            me = client.who_am_i()
        except QumuloError as exc:
            report.line(False, f"cluster: {exc}")
            return
        report.line(True, f"cluster reachable; API user {me.name!r} (id {me.id})")
        for probe in _probes(me):
            why = REQUIRED_PRIVILEGES.get(probe.privilege) or OPTIONAL_PRIVILEGES.get(probe.privilege, "")
            try:
                probe.call(client)
            except QumuloPermissionError as exc:
                named = ", ".join(exc.missing_privileges) or probe.privilege
                if probe.required:
                    report.line(False, f"{named} is missing: refused to {probe.what}; needed to {why}")
                else:
                    report.line(
                        None, f"{named} is missing (optional): refused to {probe.what}; needed to {why}"
                    )
            except QumuloError as exc:
                report.line(False, f"{probe.privilege}: could not {probe.what}: {exc}")
            else:
                listed = (
                    "" if probe.privilege in me.privileges else " (allowed, though not in who-am-i's list)"
                )
                report.line(True, f"{probe.privilege}: {probe.what}{listed}")
        if WRITE_PRIVILEGE in me.privileges:
            report.line(True, f"{WRITE_PRIVILEGE} (in who-am-i's list; closing is not probed)")
        else:
            report.line(
                False, f"{WRITE_PRIVILEGE} is missing: needed to {REQUIRED_PRIVILEGES[WRITE_PRIVILEGE]}"
            )


def _database(report: _Report, qlocks: QlocksConfig | None) -> None:
    """The state store answers (or can be created) and its schema is one this qlocks can use; read-only."""
    from bot.store import StoreError, inspect

    if qlocks is None:
        return  # the settings line above already said what is wrong with QLOCKS_*
    setting = "QLOCKS_DATABASE_URL" if qlocks.database_url else "QLOCKS_STATE_DIR"
    try:
        report.line(True, f"state store ({setting}): {inspect(qlocks.database)}")
    except StoreError as exc:
        report.line(False, f"state store ({setting}): {exc}: `qlocks run` will refuse to start")


def _audit_log(report: _Report, path: str) -> None:
    """Appendable, without creating it (``qlocks run`` creates it at start)."""
    target = Path(path or QlocksConfig().audit_log)
    name = f"audit log {str(target)!r} (QLOCKS_AUDIT_LOG)"
    try:
        if target.exists():
            if target.is_dir():
                report.line(False, f"{name} is a directory, not a file: `qlocks run` will refuse to start")
                return
            fd = os.open(target, os.O_WRONLY | os.O_APPEND)
            os.close(fd)
            report.line(True, f"{name} is writable")
            return
        parent = target.parent if str(target.parent) else Path(".")
        if not parent.is_dir():
            report.line(
                False, f"{name}: the folder {str(parent)!r} does not exist: `qlocks run` will refuse to start"
            )
        elif not os.access(parent, os.W_OK | os.X_OK):
            report.line(False, f"{name}: cannot create it in {str(parent)!r} (no write permission)")
        else:
            report.line(True, f"{name} does not exist yet; `qlocks run` will create it")
    except OSError as exc:
        report.line(
            False,
            f"{name} is not writable ({exc.strerror or type(exc).__name__}): `qlocks run` will refuse to start",
        )


def _slack(report: _Report, slack: SlackConfig) -> None:
    """``auth.test`` with the bot token: the token is valid and Slack (or SLACK_API_URL) is reachable."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError, SlackClientError

    kwargs: dict[str, Any] = {"token": slack.bot_token, "timeout": 10}
    if slack.api_url:
        kwargs["base_url"] = slack.api_url
    where = slack.api_url or "slack.com"
    try:
        resp = WebClient(**kwargs).auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        report.line(False, f"Slack: {where} refused SLACK_BOT_TOKEN ({error or 'error'})")
        return
    except (OSError, SlackClientError) as exc:
        reason: object = getattr(exc, "reason", None) or exc
        text = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
        report.line(False, f"Slack: cannot reach {where} ({' '.join(text.split()) or type(exc).__name__})")
        return
    report.line(True, f"Slack: bot {resp.get('user')!r} in workspace {resp.get('team')!r} ({where})")


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


# Settings ``trust-cluster`` ignores: it reads only the cluster's address, sends nothing, and runs before the bundle
# it writes exists (a QUMULO_CA_BUNDLE naming that file must not stop it).
_NOT_FOR_TRUST = (
    "QUMULO_CA_BUNDLE",
    "QUMULO_TLS_FINGERPRINT",
    "QUMULO_VERIFY_TLS",
    "QUMULO_ACCESS_TOKEN",
    "QUMULO_USERNAME",
    "QUMULO_PASSWORD",
)


def run_trust_cluster(
    env: Mapping[str, str], target: Path, *, force: bool = False, out: TextIO | None = None
) -> int:
    """``qlocks trust-cluster FILE``: write the chain the cluster presents to FILE, for ``QUMULO_CA_BUNDLE``.

    Trust on first use, made explicit: it prints the fingerprint to compare with the cluster's own before the file
    is used, refuses certificates a CA bundle cannot make pass (no subjectAltName, another host name: it names the
    pin instead), and checks that a verifying handshake with FILE succeeds.
    """
    from bot.qumulo.tls import check_trust, fetch_chain, to_pem

    out = out or sys.stdout
    address_env = {k: v for k, v in env.items() if k not in _NOT_FOR_TRUST}
    address_env["QUMULO_ACCESS_TOKEN"] = "unused"  # noqa: S105 - a placeholder, never sent: no request is made
    qcfg = QumuloConfig.from_env(address_env)
    if qcfg.scheme != "https":
        print(
            f"qlocks trust-cluster: {qcfg.base_url} is plain HTTP: there is no certificate to trust", file=out
        )
        return 1
    try:
        chain = fetch_chain(qcfg.host, qcfg.port, timeout_s=qcfg.timeout_s)
    except OSError as exc:
        print(
            f"qlocks trust-cluster: cannot read the certificate of {qcfg.host}:{qcfg.port} ({exc.strerror or exc})",
            file=out,
        )
        return 1
    leaf = chain[0]
    print(f"{qcfg.base_url} presents:", file=out)
    for i, cert in enumerate(chain):
        print(f"  [{i}] SHA-256 {cert.fingerprint}", file=out)
        print(f"      {cert.describe()}", file=out)
    pin = f"QUMULO_TLS_FINGERPRINT={leaf.fingerprint}"
    if leaf.parsed and not leaf.has_san:
        print(
            "Not written: this certificate has no subjectAltName, and urllib3 2 (qlocks' TLS library) refuses such "
            f"certificates whatever CA bundle is set. Pin it instead: {pin} (after checking that fingerprint on the "
            "cluster), or give the cluster a certificate with a subjectAltName.",
            file=out,
        )
        return 1
    if leaf.parsed and not leaf.matches_host(qcfg.host):
        print(
            f"Not written: this certificate is not for {qcfg.host!r}, so no CA bundle can make it pass. Set "
            f"QUMULO_HOST to one of its names, or pin it: {pin}.",
            file=out,
        )
        return 1
    if target.exists() and not force:
        print(f"Not written: {target} exists (--force replaces it).", file=out)
        return 1
    try:
        target.write_text(to_pem(chain), encoding="ascii")
    except OSError as exc:
        print(f"qlocks trust-cluster: cannot write {target} ({exc.strerror or exc})", file=out)
        return 1
    print(f"Wrote {len(chain)} certificate(s) to {target}.", file=out)
    problem = check_trust(qcfg.host, qcfg.port, cafile=str(target), timeout_s=qcfg.timeout_s)
    if problem is not None:
        print(
            f"But a connection checking {target} still fails ({problem}): the chain the cluster sends may lack its "
            f"root CA (add it to {target}), or pin the certificate instead: {pin}.",
            file=out,
        )
        return 1
    print(
        f"A connection checking {target} succeeds. Before you rely on it, compare the SHA-256 above with the one "
        "the cluster shows for its own certificate (from a trusted path: its console or web UI); then set "
        f"QUMULO_CA_BUNDLE={target} and run `qlocks doctor`.",
        file=out,
    )
    return 0
