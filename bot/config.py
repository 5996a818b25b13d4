"""Settings from the environment (and ``./.env``, loaded by ``bot.envfile``; the environment wins).

``Config.from_env(mapping)`` validates everything and raises ``ConfigError`` with one line naming the variable.
Secrets are ``repr=False`` so a logged config never shows them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.store.url import DatabaseUrl, DatabaseUrlError, is_loopback, parse_database_url, sqlite_in


class ConfigError(ValueError):
    """A missing or invalid setting; the message names the variable."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum:g} and {maximum:g}, got {raw}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number, got {raw!r}")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {raw}")
    return value


def _ids(env: Mapping[str, str], name: str, prefixes: tuple[str, ...]) -> frozenset[str]:
    raw = _get(env, name) or ""
    ids = [part.strip() for part in raw.replace(";", ",").replace(" ", ",").split(",") if part.strip()]
    for item in ids:
        if not item.startswith(prefixes) or not item.isalnum():
            expected = " or ".join(f"{p}…" for p in prefixes)
            raise ConfigError(f"{name}: {item!r} is not a Slack ID (expected {expected})")
    return frozenset(ids)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level_from_env(env: Mapping[str, str]) -> int | None:
    """``QLOCKS_LOG_LEVEL`` (case-insensitive) as a ``logging`` level, None when unset; anything else is an error."""
    raw = _get(env, "QLOCKS_LOG_LEVEL")
    if raw is None:
        return None
    if raw.upper() not in LOG_LEVELS:
        raise ConfigError(f"QLOCKS_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    level: int = getattr(logging, raw.upper())
    return level


PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


def _ca_bundle(env: Mapping[str, str]) -> str | None:
    """``QUMULO_CA_BUNDLE``: an existing, readable file holding at least one PEM certificate."""
    name = "QUMULO_CA_BUNDLE"
    path = _get(env, name)
    if path is None:
        return None
    if not Path(path).exists():
        raise ConfigError(f"{name}: no such file {path!r}")
    if Path(path).is_dir():
        raise ConfigError(f"{name}: {path!r} is a directory, not a PEM file of CA certificates")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read {path!r} ({exc.strerror or type(exc).__name__})") from None
    if PEM_CERTIFICATE not in data:
        raise ConfigError(
            f"{name}: {path!r} holds no PEM certificate (no {PEM_CERTIFICATE.decode()} line): "
            "point it at the CA certificate that signed the cluster's certificate"
        )
    return path


_HEX = frozenset("0123456789abcdef")


def normalize_fingerprint(raw: str) -> str | None:
    """A SHA-256 fingerprint as 64 lower-case hex digits: ``AB:CD:…``, ``ab cd …``, ``abcd…`` and a leading
    ``sha256:`` / ``SHA256 Fingerprint=`` (openssl's output) are all accepted; None when it is not one."""
    text = raw.strip().lower()
    for prefix in ("sha256 fingerprint=", "sha256:", "sha-256:"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text = text.replace(":", "").replace(" ", "").replace("-", "")
    if len(text) != 64 or not set(text) <= _HEX:
        return None
    return text


def _fingerprint(env: Mapping[str, str]) -> str | None:
    """``QUMULO_TLS_FINGERPRINT``: the SHA-256 fingerprint of the certificate the cluster must present."""
    raw = _get(env, "QUMULO_TLS_FINGERPRINT")
    if raw is None:
        return None
    pin = normalize_fingerprint(raw)
    if pin is None:
        shown = raw if len(raw) <= 100 else raw[:100] + "…"
        raise ConfigError(
            "QUMULO_TLS_FINGERPRINT must be the SHA-256 fingerprint of the cluster's certificate: 64 hex digits, "
            f"colons optional (`qlocks doctor` shows it), got {shown!r}"
        )
    return pin


# What follows xoxb- / xapp- in a real token: digits, letters and dashes, tens of them. ``xoxb-`` alone (the
# .env.example placeholder) or ``xoxb-…`` is a token not pasted, not a token.
_TOKEN_BODY = re.compile(r"[A-Za-z0-9-]{10,}")


def _slack_token(env: Mapping[str, str], name: str, prefix: str, what: str) -> str | None:
    token = _get(env, name)
    if token is None:
        return None
    if not token.startswith(prefix):
        raise ConfigError(f"{name} must be {what} starting with {prefix}")
    if not _TOKEN_BODY.fullmatch(token[len(prefix) :]):
        raise ConfigError(
            f"{name} looks incomplete: in a real token {prefix} is followed by at least 10 letters, digits or "
            "dashes (copy the whole token from the Slack app's settings)"
        )
    return token


@dataclass(frozen=True, slots=True)
class QumuloConfig:
    """How to reach and authenticate to the cluster.

    ``base_path`` is the path the REST API is served under: empty on the REST port (8000, ``/v1/...``), ``/api``
    on the web UI port (443, ``/api/v1/...``).
    """

    host: str
    port: int = 8000
    scheme: str = "https"
    access_token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    verify_tls: bool = True
    ca_bundle: str | None = None
    timeout_s: float = 10.0
    tls_fingerprint: str | None = None  # 64 lower-case hex digits: the pinned certificate, chain not checked
    base_path: str = ""

    @property
    def origin(self) -> str:
        """``scheme://host:port``, without the API's base path."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What every API path (``/v1/...``) is appended to: the origin plus the base path."""
        return self.origin + self.base_path

    @property
    def verify(self) -> bool | str:
        """The value for requests' ``verify=``: False, True, or the CA bundle path. With a pinned fingerprint the
        chain is not checked (False here) because the client's adapter checks the certificate itself, and must."""
        if not self.verify_tls or self.tls_fingerprint:
            return False
        return self.ca_bundle or True

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> QumuloConfig:
        raw_host = _get(env, "QUMULO_HOST")
        if raw_host is None:
            raise ConfigError(
                "QUMULO_HOST is not set: the cluster's address, e.g. qumulo.example.com or https://qumulo.example.com/api"
            )
        where = _split_host(raw_host)
        host = where.host
        if not host or "/" in host or " " in host:
            raise ConfigError(f"QUMULO_HOST must be a host name or IP address, got {host!r}")
        if where.scheme == "http" and not is_loopback(host):
            raise ConfigError(
                f"QUMULO_HOST: plain http:// to {host} would send the cluster's token unencrypted; use https:// "
                "(http:// is accepted only for a simulator on this machine: localhost, 127.0.0.1, ::1)"
            )
        default_port = where.port or (443 if where.path is not None else 8000)
        port = _int(env, "QUMULO_PORT", default_port, minimum=1, maximum=65535)
        if where.port is not None and _get(env, "QUMULO_PORT") is not None and port != where.port:
            raise ConfigError(f"QUMULO_HOST names port {where.port} but QUMULO_PORT is {port}: set only one")
        # The web UI port serves the API under /api (Qumulo's own tools and third-party ones reach it there).
        base_path = where.path if where.path is not None else ("/api" if port == 443 else "")
        token = _get(env, "QUMULO_ACCESS_TOKEN")
        username = _get(env, "QUMULO_USERNAME")
        password = _get(env, "QUMULO_PASSWORD")
        if token is None:
            if username is None and password is None:
                raise ConfigError(
                    "QUMULO_ACCESS_TOKEN is not set (or set QUMULO_USERNAME and QUMULO_PASSWORD instead)"
                )
            if username is None:
                raise ConfigError("QUMULO_USERNAME is not set (QUMULO_PASSWORD is set without it)")
            if password is None:
                raise ConfigError("QUMULO_PASSWORD is not set (QUMULO_USERNAME is set without it)")
        ca_bundle = _ca_bundle(env)
        verify_tls = _bool(env, "QUMULO_VERIFY_TLS", True)
        pin = _fingerprint(env)
        if pin is not None:
            if where.scheme == "http":
                raise ConfigError(
                    "QUMULO_TLS_FINGERPRINT pins an HTTPS certificate, but QUMULO_HOST says http://"
                )
            if ca_bundle is not None:
                raise ConfigError(
                    "QUMULO_TLS_FINGERPRINT and QUMULO_CA_BUNDLE are both set: the pin replaces the CA check, "
                    "so set only one"
                )
            if not verify_tls:
                raise ConfigError(
                    "QUMULO_TLS_FINGERPRINT is set and QUMULO_VERIFY_TLS=false: the pin checks the certificate, "
                    "so remove QUMULO_VERIFY_TLS=false"
                )
        return cls(
            host=host,
            port=port,
            scheme=where.scheme,
            access_token=token,
            username=username,
            password=password,
            verify_tls=verify_tls,
            ca_bundle=ca_bundle,
            timeout_s=_number(env, "QUMULO_TIMEOUT_S", 10.0, minimum=0.1, maximum=600),
            tls_fingerprint=pin,
            base_path=base_path,
        )


@dataclass(frozen=True, slots=True)
class SlackConfig:
    """Slack credentials. Socket Mode when ``app_token`` is set, HTTP mode otherwise."""

    bot_token: str = field(repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackConfig:
        bot_token = _slack_token(env, "SLACK_BOT_TOKEN", "xoxb-", "a bot token")
        if bot_token is None:
            raise ConfigError("SLACK_BOT_TOKEN is not set: the app's Bot User OAuth Token (xoxb-…)")
        app_token = _slack_token(env, "SLACK_APP_TOKEN", "xapp-", "an app-level token")
        secret = _get(env, "SLACK_SIGNING_SECRET")
        if app_token is None and secret is None:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set (required in HTTP mode, i.e. without SLACK_APP_TOKEN)"
            )
        api_url = _get(env, "SLACK_API_URL")
        if api_url is not None:
            if not api_url.startswith(("https://", "http://")):
                raise ConfigError(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}")
            if not api_url.endswith("/"):
                api_url += "/"
        return cls(bot_token=bot_token, signing_secret=secret, app_token=app_token, api_url=api_url)


@dataclass(frozen=True, slots=True)
class QlocksConfig:
    """Behaviour of the bot: who may do what, where, audit and caching."""

    admins: frozenset[str] = frozenset()
    admin_groups: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    audit_log: str = "qlocks-audit.jsonl"
    cache_ttl_s: float = 10.0
    cluster_name: str = "qumulo"
    port: int = 3000
    state_dir: str = "qlocks-state"  # the default SQLite database goes here (created at start)
    database_url: DatabaseUrl | None = None  # QLOCKS_DATABASE_URL; its repr masks the password
    metrics_port: int | None = None  # QLOCKS_METRICS_PORT: /metrics, /healthz, /readyz on their own port
    metrics_host: str = "127.0.0.1"  # QLOCKS_METRICS_HOST: the address that port listens on

    @property
    def database(self) -> DatabaseUrl:
        """Where the state store is: ``QLOCKS_DATABASE_URL``, else ``qlocks.db`` in ``QLOCKS_STATE_DIR``."""
        return self.database_url or sqlite_in(self.state_dir)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> QlocksConfig:
        log_level_from_env(env)  # validated here too, for the gunicorn factory, which has no ``qlocks`` CLI
        state_dir, database_url = _state(env)
        return cls(
            state_dir=state_dir,
            database_url=database_url,
            admins=_ids(env, "QLOCKS_ADMINS", ("U", "W")),
            admin_groups=_ids(env, "QLOCKS_ADMIN_GROUPS", ("S",)),
            channels=_ids(env, "QLOCKS_CHANNELS", ("C", "G", "D")),
            audit_log=_get(env, "QLOCKS_AUDIT_LOG") or "qlocks-audit.jsonl",
            cache_ttl_s=_number(env, "QLOCKS_CACHE_TTL_S", 10.0, minimum=0, maximum=3600),
            cluster_name=_get(env, "QLOCKS_CLUSTER_NAME") or _host_name(_get(env, "QUMULO_HOST")) or "qumulo",
            port=_int(env, "PORT", 3000, minimum=1, maximum=65535),
            metrics_port=_metrics_port(env),
            metrics_host=_metrics_host(env),
        )


def _metrics_port(env: Mapping[str, str]) -> int | None:
    if _get(env, "QLOCKS_METRICS_PORT") is None:
        return None
    return _int(env, "QLOCKS_METRICS_PORT", 0, minimum=1, maximum=65535)


_LISTEN_HOST = re.compile(r"[A-Za-z0-9.\-]{1,253}|\[?[0-9A-Fa-f:.]+\]?")


def _metrics_host(env: Mapping[str, str]) -> str:
    """``QLOCKS_METRICS_HOST``: an IP address or host name to listen on (default loopback only)."""
    raw = _get(env, "QLOCKS_METRICS_HOST")
    if raw is None:
        return "127.0.0.1"
    if not _LISTEN_HOST.fullmatch(raw):
        raise ConfigError(
            f"QLOCKS_METRICS_HOST must be an IP address or host name to listen on (e.g. 0.0.0.0), got {raw!r}"
        )
    return raw.strip("[]")


def _state(env: Mapping[str, str]) -> tuple[str, DatabaseUrl | None]:
    """``QLOCKS_STATE_DIR`` (a directory, created at start if its parent exists) or ``QLOCKS_DATABASE_URL``."""
    raw_dir = _get(env, "QLOCKS_STATE_DIR")
    raw_url = _get(env, "QLOCKS_DATABASE_URL")
    if raw_dir is not None and raw_url is not None:
        raise ConfigError(
            "QLOCKS_STATE_DIR and QLOCKS_DATABASE_URL are both set: set only one (the state dir holds the default "
            "SQLite database; the URL names another database)"
        )
    if raw_url is not None:
        try:
            return "qlocks-state", parse_database_url(raw_url)
        except DatabaseUrlError as exc:
            raise ConfigError(f"QLOCKS_DATABASE_URL: {exc}") from None
    state_dir = raw_dir or "qlocks-state"
    target = Path(state_dir)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"QLOCKS_STATE_DIR: {state_dir!r} is a file, not a directory")
    return state_dir, None


@dataclass(frozen=True, slots=True)
class _Where:
    scheme: str
    host: str
    port: int | None  # None: not written
    path: str | None  # the API's base path as written ("" for none, "/api"); None: no path written


# A base path: segments of URL-safe characters, e.g. /api or /qumulo/api (no query, no fragment, no dot segments).
_BASE_PATH = re.compile(r"(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+")


def _split_host(raw: str) -> _Where:
    """``https://h:8000/`` / ``https://h/api`` / ``h:8000`` / ``h`` / ``::1`` / ``[::1]:8000`` -> its parts."""
    scheme = "https"
    path: str | None = None
    if "://" in raw:
        scheme, _, raw = raw.partition("://")
        scheme = scheme.lower()
        if scheme not in ("http", "https"):
            raise ConfigError(f"QUMULO_HOST: unsupported scheme {scheme!r} (use https://)")
        raw, slash, rest = raw.partition("/")
        if slash and rest.strip("/"):
            path = _base_path("/" + rest)
    port: str | None = None
    if raw.startswith("["):  # [v6]:port
        host, _, after = raw[1:].partition("]")
        port = after[1:] if after.startswith(":") else None
    elif raw.count(":") == 1:
        host, _, port = raw.partition(":")
    else:
        host = raw
    if port is not None and not port.isdigit():
        raise ConfigError(f"QUMULO_HOST: bad port in {raw!r}")
    return _Where(scheme, host, int(port) if port else None, path)


def _base_path(path: str) -> str:
    """``/api``, ``/api/`` and ``/api/v1`` -> ``/api``: the prefix in front of the API's ``/v1/...`` paths."""
    clean = path.rstrip("/")
    if clean.endswith("/v1"):
        clean = clean[: -len("/v1")]
    if not clean:
        return ""
    if not _BASE_PATH.fullmatch(clean):
        raise ConfigError(
            f"QUMULO_HOST: {path!r} is not a base path for the API (expected e.g. https://qumulo.example.com/api)"
        )
    return clean


def _host_name(host: str | None) -> str | None:
    """``http://127.0.0.1/`` -> ``127.0.0.1``: the cluster's name as users would type it in a UNC path."""
    if host is None:
        return None
    try:
        return _split_host(host).host
    except ConfigError:
        return host
