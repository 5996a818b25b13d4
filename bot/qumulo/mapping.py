"""The only place HTTP statuses become exceptions (like ``Response.raise_for_status``), and the endpoint names
(``/v1/files/{ref}/…``) that errors, privileges and the client's stats are keyed by."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.qumulo.errors import (
    QumuloAuthError,
    QumuloError,
    QumuloNotFound,
    QumuloPermissionError,
    QumuloRequestError,
    QumuloServerError,
)
from bot.qumulo.models import REQUIRED_PRIVILEGES

_PRIV = re.compile(r"PRIVILEGE_[A-Z0-9_]+")
LOGIN_ENDPOINT = "/v1/session/login"

# Which privilege each endpoint needs, to name it even when the cluster's 403 text does not.
_ENDPOINT_PRIVILEGE = {
    "/v1/smb/files/": "PRIVILEGE_SMB_FILE_HANDLE_READ",
    "/v1/smb/files/close": "PRIVILEGE_SMB_FILE_HANDLE_WRITE",
    "/v1/files/locks/smb/share-mode/": "PRIVILEGE_FS_LOCK_READ",
    "/v1/files/{ref}/locks/smb/share-mode/": "PRIVILEGE_FS_LOCK_READ",
    # Read by the file's ACL or, for a service account that has no access to users' files, this privilege. A
    # cluster refusing it may say only "access denied" (fs_access_denied_error), without naming the privilege.
    "/v1/files/{ref}/info/attributes": "PRIVILEGE_FS_ATTRIBUTES_READ",
    "/v1/smb/sessions/": "PRIVILEGE_SMB_SESSION_READ",
    "/v1/identity/find": "PRIVILEGE_IDENTITY_READ",
    "/v3/smb/shares/": "PRIVILEGE_SMB_SHARE_READ",
    "/v1/dns/resolve-ips-to-names": "PRIVILEGE_DNS_USE",
}


def endpoint_name(path: str) -> str:
    """``/v1/files/%2Fa%2Fb/locks/smb/share-mode/`` -> ``/v1/files/{ref}/locks/smb/share-mode/`` (stats, errors)."""
    path = path.split("?", 1)[0]
    parts = path.split("/")
    if len(parts) > 3 and parts[1] == "v1" and parts[2] == "files" and parts[3] != "locks":
        parts[3] = "{ref}"
    return "/".join(parts)


def _parse(body: bytes) -> tuple[str | None, str | None]:
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    ec, desc = data.get("error_class"), data.get("description")
    return (str(ec) if ec else None), (str(desc) if desc else None)


def error_from_response(status: int, body: bytes, *, endpoint: str) -> QumuloError:
    error_class, description = _parse(body)
    detail = f": {description.rstrip('. ')}" if description else ""  # our sentences add their own period
    kw: dict[str, Any] = {
        "status": status,
        "error_class": error_class,
        "description": description,
        "endpoint": endpoint,
    }
    if status == 401:
        if endpoint == LOGIN_ENDPOINT:  # a password login, not a token, was refused
            return QumuloAuthError(
                f"The cluster refused the login (401){detail}. Check QUMULO_USERNAME and QUMULO_PASSWORD",
                **kw,
            )
        return QumuloAuthError(
            f"The cluster rejected our credentials (401) on {endpoint}{detail}. The token may have expired: "
            "check QUMULO_ACCESS_TOKEN, or QUMULO_USERNAME/QUMULO_PASSWORD",
            **kw,
        )
    if status == 403:
        named = tuple(dict.fromkeys(_PRIV.findall(description or "")))
        if not named and endpoint in _ENDPOINT_PRIVILEGE:
            named = (_ENDPOINT_PRIVILEGE[endpoint],)
        if named:
            why = "; ".join(f"{p} ({REQUIRED_PRIVILEGES.get(p, 'needed here')})" for p in named)
            msg = f"The Qumulo API user lacks {why}: add it to the bot's role"
        else:
            msg = f"The Qumulo API user is not allowed to call {endpoint} (403){detail}"
        return QumuloPermissionError(msg, missing_privileges=named, **kw)
    if status == 404:
        return QumuloNotFound(f"Not found on the cluster: {endpoint}{detail}", **kw)
    if 400 <= status < 500:
        return QumuloRequestError(f"The cluster rejected the request to {endpoint} ({status}){detail}", **kw)
    if status >= 500:
        return QumuloServerError(
            f"The cluster failed on {endpoint} ({status}){detail}; try again shortly", **kw
        )
    return QumuloError(f"Unexpected status {status} from {endpoint}{detail}", **kw)
