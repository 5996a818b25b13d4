"""``QLOCKS_DATABASE_URL`` / ``QLOCKS_STATE_DIR`` -> where the state store lives; pure parsing, no driver imported.

``sqlite:///relative/file.db`` and ``sqlite:////absolute/file.db`` (SQLAlchemy's spelling) name a SQLite file;
``postgresql://user:password@host:5432/dbname?sslmode=…`` (``postgres://`` too) a PostgreSQL database. The password
is a secret: ``DatabaseUrl.shown`` masks it, ``secrets_in`` gives the values the log redactor must mask.

TLS to a PostgreSQL server that is not on this machine is verified by default (``sslmode=verify-full`` against the
system's CAs, ``sslrootcert=system``) unless the URL sets ``sslmode`` itself: deny by default, as for the cluster.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

MASK = "[redacted]"  # the same text as bot.logs.MASK (this module imports nothing of the app)
SQLITE_FILE = "qlocks.db"  # the database file inside QLOCKS_STATE_DIR
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_PG_SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "postgresql+psycopg": "postgresql"}


class DatabaseUrlError(ValueError):
    """The URL is not one qlocks can use; the message is one line and never contains the password."""


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    kind: Literal["sqlite", "postgresql"]
    url: str = field(
        repr=False
    )  # normalized; for PostgreSQL what psycopg connects with (may hold the password)
    shown: str  # for logs and messages: the password masked
    path: str | None = None  # SQLite: the file (":memory:" only for a private in-process store)
    password: str | None = field(default=None, repr=False)


def sqlite_in(state_dir: str) -> DatabaseUrl:
    """The default: ``qlocks.db`` in the state directory."""
    path = str(Path(state_dir) / SQLITE_FILE)
    return DatabaseUrl(kind="sqlite", url=f"sqlite:///{path}", shown=f"sqlite:///{path}", path=path)


def memory() -> DatabaseUrl:
    """A private in-memory SQLite store: state of one object in one process (unit tests, no configuration)."""
    return DatabaseUrl(kind="sqlite", url="sqlite:///:memory:", shown="sqlite:///:memory:", path=":memory:")


def parse_database_url(raw: str) -> DatabaseUrl:
    """Validate ``raw``; raises ``DatabaseUrlError`` with one line (password masked) naming what is wrong."""
    text = raw.strip()
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise DatabaseUrlError(
            "must be a URL: sqlite:///path/to/qlocks.db or postgresql://user:password@host:5432/qlocks"
        )
    if scheme == "sqlite":
        return _sqlite(rest)
    if scheme in _PG_SCHEMES:
        return _postgresql(rest)
    raise DatabaseUrlError(f"unsupported scheme {scheme + '://'!r} (use sqlite:/// or postgresql://)")


def _sqlite(rest: str) -> DatabaseUrl:
    if not rest.startswith("/"):
        raise DatabaseUrlError(
            "a SQLite URL has three slashes and a file: sqlite:///relative/qlocks.db or sqlite:////abs/qlocks.db"
        )
    path = rest[1:]
    if "?" in path or "#" in path:
        raise DatabaseUrlError("a SQLite URL takes no options (?… or #…): name the file only")
    if not path or path.endswith("/"):
        raise DatabaseUrlError("a SQLite URL must name a file, e.g. sqlite:////var/lib/qlocks/qlocks.db")
    if path == ":memory:":
        raise DatabaseUrlError(
            "sqlite:///:memory: would lose every audit record and claim at exit: name a file"
        )
    return DatabaseUrl(kind="sqlite", url=f"sqlite:///{path}", shown=f"sqlite:///{path}", path=path)


def _postgresql(rest: str) -> DatabaseUrl:
    try:
        parts = urlsplit("postgresql://" + rest)
        port = parts.port  # raises on a non-numeric or out-of-range port
        password = parts.password
        host = parts.hostname or ""
    except ValueError as exc:
        raise DatabaseUrlError(f"not a valid PostgreSQL URL ({_no_secret(str(exc), rest)})") from None
    if parts.fragment:
        raise DatabaseUrlError("a PostgreSQL URL has no #fragment")
    database = unquote(parts.path.lstrip("/"))
    if "/" in database:
        raise DatabaseUrlError(f"the database name {database!r} has a '/' in it")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "password" in options:
        raise DatabaseUrlError("put the password in the URL's user:password@ part, not in ?password=")
    socket_host = options.get("host", "")
    mode = options.get("sslmode")
    if mode is not None and mode not in SSL_MODES:
        raise DatabaseUrlError(f"sslmode must be one of {', '.join(SSL_MODES)}, got {mode!r}")
    if mode is None and not _local(host, socket_host):
        options["sslmode"] = "verify-full"  # TLS verified by default, as for the cluster
        options.setdefault("sslrootcert", "system")
    netloc = parts.netloc
    url = urlunsplit(("postgresql", netloc, parts.path, urlencode(options), ""))
    shown_netloc = netloc
    if password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        shown_netloc = f"{user}:{MASK}@{hostport}"
    shown = urlunsplit(("postgresql", shown_netloc, parts.path, urlencode(options), ""))
    if port is not None and not 0 < port < 65536:
        raise DatabaseUrlError(f"bad port {port} in {shown}")
    return DatabaseUrl(kind="postgresql", url=url, shown=shown, password=password)


def secrets_in(raw: str | None) -> list[str]:
    """The password of a database URL as written and decoded (for ``bot.logs.REDACTOR``); [] when none."""
    if not raw or "://" not in raw:
        return []
    try:
        password = urlsplit(raw.strip()).password
    except ValueError:
        return []
    if not password:
        return []
    return sorted({password, unquote(password), quote(unquote(password), safe="")})


def _local(host: str, socket_host: str) -> bool:
    """A Unix socket or loopback: no network between qlocks and the server, so no TLS by default."""
    if not host:
        return not socket_host or socket_host.startswith("/")
    return is_loopback(host)


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (``127.x``, ``::1``): the one test, also used by ``bot.config``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _no_secret(message: str, rest: str) -> str:
    userinfo = rest.partition("@")[0] if "@" in rest else ""
    secret = userinfo.partition(":")[2]
    return message.replace(secret, MASK) if secret else message
