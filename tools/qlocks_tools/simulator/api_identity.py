"""Session, identity, shares, DNS and access-token endpoints."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from qlocks_tools.simulator import records as r
from qlocks_tools.simulator.api import ApiError, Request, Router, page_request, parse_bool
from qlocks_tools.simulator.knobs import Account, Token, privileges_of
from qlocks_tools.simulator.paging import paging
from qlocks_tools.simulator.state import ClusterState

logger = logging.getLogger(__name__)

_DOMAIN_PREFIX = {"local": "LOCAL", "ad": "ACTIVE_DIRECTORY", "ldap_user": "LDAP_USER", "world": "WORLD"}
_ID_FIELDS = ("auth_id", "uid", "gid", "sid", "name", "domain")


def identity_matcher(spec: str) -> Callable[[r.Identity], bool]:
    """The ``identity`` filter of ``/v1/smb/sessions/``: ``name``, ``ad:name``, ``uid:1001``, ``S-1-...``, ..."""
    prefix, sep, value = spec.partition(":")
    key = prefix.lower()
    if not sep:
        if spec.upper().startswith("S-1-"):
            return lambda i: i.sid.upper() == spec.upper()
        bare = spec.rsplit("\\", 1)[-1].split("@", 1)[0].lower()
        return lambda i: i.name.lower() == bare
    if key in ("uid", "gid", "auth_id"):
        if not value.isdigit():
            raise ApiError(400, f"Invalid identity {spec!r}: {prefix} must be a number")
        if key == "auth_id":
            return lambda i: i.auth_id == value
        return lambda i: str(getattr(i, key)) == value
    if key == "sid":
        return lambda i: i.sid.upper() == value.upper()
    if key in _DOMAIN_PREFIX:
        domain = _DOMAIN_PREFIX[key]
        return lambda i: i.domain == domain and i.name.lower() == value.lower()
    raise ApiError(400, f"Invalid identity {spec!r}: unknown prefix {prefix!r}")


def _find(state: ClusterState, body: Any) -> r.Identity | None:
    if not isinstance(body, dict) or not any(
        body.get(k) not in (None, "") for k in _ID_FIELDS if k != "domain"
    ):
        raise ApiError(400, "Provide at least one of auth_id, uid, gid, sid or name")
    with state.lock:
        if body.get("name"):
            found = state.identity_by_name(str(body["name"]))
            candidates = [found] if found else []
        else:
            candidates = list(state.identities.values())
        for ident in candidates:
            if all(
                body.get(k) in (None, "") or str(body[k]).lower() == str(getattr(ident, k)).lower()
                for k in _ID_FIELDS
                if k != "name"
            ):
                return ident
    return None


def _token_json(state: ClusterState, token: Token) -> dict[str, Any]:
    def ident(name: str) -> dict[str, Any]:
        found = state.identity_by_name(name)
        return r.identity_json(found) if found else {"name": name}

    return {
        "id": token.id,
        "user": ident(token.account),
        "creator": ident(token.creator),
        "creation_time": _rfc3339(token.created_at),
        "expiration_time": _rfc3339(token.expires_at) if token.expires_at is not None else None,
        "enabled": token.enabled,
    }


def _rfc3339(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat().replace("+00:00", "Z")


def _need_account(req: Request) -> Account:
    assert req.account is not None  # the router authenticated the request
    return req.account


def register(router: Router) -> None:
    @router.add("POST", r"/v1/session/login", None, public=True)
    def login(state: ClusterState, req: Request) -> Any:
        body = req.body
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("username"), str)
            or not isinstance(body.get("password"), str)
        ):
            raise ApiError(400, "Login needs a JSON object with username and password")
        token = state.tokens.login(body["username"], body["password"])
        if token is None:
            raise ApiError(401, "Login failed: invalid username or password.")
        return {"bearer_token": token}

    @router.add("GET", r"/v1/session/who-am-i", None)
    def who_am_i(state: ClusterState, req: Request) -> Any:
        acct = _need_account(req)
        ident = state.identities.get(acct.auth_id)
        return {
            "id": acct.auth_id,
            "name": acct.name,
            "primary_group": "513",
            "sid": ident.sid if ident else "",
            "uid": str(ident.uid if ident and ident.uid is not None else ""),
            "home_directory": None,
            "can_change_password": acct.password is not None,
            "privileges": sorted(acct.privileges),
        }

    @router.add("GET", r"/v1/session/roles", None)
    def roles(state: ClusterState, req: Request) -> Any:
        acct = _need_account(req)
        return ["Administrators"] if acct.privileges >= set(r.ALL_PRIVILEGES) else [f"{acct.name} role"]

    @router.add("POST", r"/v1/identity/find", "PRIVILEGE_IDENTITY_READ")
    def find(state: ClusterState, req: Request) -> Any:
        ident = _find(state, req.body)
        if ident is None:
            raise ApiError(404, f"No identity matches {req.body!r}", "identity_not_found_error")
        return r.identity_json(ident)

    @router.add("POST", r"/v1/identity/expand", "PRIVILEGE_IDENTITY_READ")
    def expand(state: ClusterState, req: Request) -> Any:
        body = req.body
        if not isinstance(body, dict) or not isinstance(body.get("id"), dict):
            raise ApiError(400, "Request body needs an id object")
        ident = _find(state, body["id"])
        if ident is None:
            return {
                "id": body["id"],
                "type": "UNKNOWN",
                "smb_id": body["id"],
                "nfs_id": None,
                "equivalent_ids": [],
                "group_ids": [],
            }
        me = r.identity_json(ident)
        nfs = {
            "domain": "POSIX_USER",
            "auth_id": str(3 * 2**32 + (ident.uid or 0)),
            "uid": ident.uid,
            "gid": None,
            "sid": None,
            "name": None,
        }
        group = {
            "domain": ident.domain,
            "auth_id": "513",
            "uid": None,
            "gid": ident.gid,
            "sid": ident.sid.rsplit("-", 1)[0] + "-513",
            "name": "Domain Users",
        }
        return {
            "id": me,
            "type": "USER",
            "smb_id": me,
            "nfs_id": nfs,
            "equivalent_ids": [nfs],
            "group_ids": [group],
        }

    @router.add("GET", r"/v3/smb/shares/", "PRIVILEGE_SMB_SHARE_READ")
    def shares(state: ClusterState, req: Request) -> Any:
        populate = parse_bool("populate-trustee-names", req.query.get("populate-trustee-names"))
        return {"entries": [_share(s, populate) for s in state.shares]}

    @router.add("GET", r"/v3/smb/shares/([^/]+)", "PRIVILEGE_SMB_SHARE_READ")
    def share(state: ClusterState, req: Request) -> Any:
        for s in state.shares:
            if s["id"] == req.groups[0]:
                return _share(
                    s, parse_bool("populate-trustee-names", req.query.get("populate-trustee-names"))
                )
        raise ApiError(404, f"No SMB share with id {req.groups[0]!r}", "smb_share_doesnt_exist_error")

    @router.add("POST", r"/v1/dns/resolve-ips-to-names", "PRIVILEGE_DNS_USE")
    def resolve_ips(state: ClusterState, req: Request) -> Any:
        if not isinstance(req.body, list) or not all(isinstance(ip, str) for ip in req.body):
            raise ApiError(400, "Request body must be a JSON array of IP addresses")
        out = []
        for ip in req.body:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                out.append({"ip_address": ip, "hostname": "", "result": "ERROR"})
                continue
            host = state.hostnames.get(ip)
            out.append({"ip_address": ip, "hostname": host or "", "result": "OK" if host else "ERROR"})
        return out

    @router.add("POST", r"/v1/auth/access-tokens/", "PRIVILEGE_ACCESS_TOKENS_WRITE")
    def create_token(state: ClusterState, req: Request) -> Any:
        body = req.body
        user = body.get("user") if isinstance(body, dict) else None
        if not isinstance(user, dict):
            raise ApiError(400, "Request body needs a user identity")
        ident = _find(state, user)
        if ident is None:
            raise ApiError(404, f"No such user {user!r}", "identity_not_found_error")
        acct = state.tokens.account(ident.name) or Account(ident.name, ident.auth_id, frozenset())
        state.tokens.add_account(acct)
        expires = None
        if body.get("expiration_time"):
            try:
                expires = dt.datetime.fromisoformat(
                    str(body["expiration_time"]).replace("Z", "+00:00")
                ).timestamp()
            except ValueError as exc:
                raise ApiError(400, f"expiration_time is not RFC 3339: {exc}") from exc
        token = state.tokens.issue(
            acct.name, kind="access", creator=_need_account(req).name, expires_at=expires
        )
        return {"id": token.id, "bearer_token": token.secret}

    @router.add("GET", r"/v1/auth/access-tokens/", "PRIVILEGE_ACCESS_TOKENS_READ")
    def list_tokens(state: ClusterState, req: Request) -> Any:
        pr = page_request(state, req, "access-tokens", ("user",))
        tokens = sorted(state.tokens.access_tokens(), key=lambda t: t.created_at)
        start = pr.after.key + 1 if pr.after else 0
        page = tokens[start : start + pr.count]
        more = start + pr.count < len(tokens)
        return {
            "entries": [_token_json(state, t) for t in page],
            "paging": paging(req.path, "access-tokens", start + len(page) - 1, more, pr.limit, pr.params),
        }

    @router.add("GET", r"/v1/auth/access-tokens/([^/]+)", "PRIVILEGE_ACCESS_TOKENS_READ")
    def get_token(state: ClusterState, req: Request) -> Any:
        token = state.tokens.by_id(req.groups[0])
        if token is None:
            raise ApiError(404, f"No access token with id {req.groups[0]!r}")
        return _token_json(state, token)

    @router.add("DELETE", r"/v1/auth/access-tokens/([^/]+)", "PRIVILEGE_ACCESS_TOKENS_WRITE")
    def delete_token(state: ClusterState, req: Request) -> Any:
        if not state.tokens.delete(req.groups[0]):
            raise ApiError(404, f"No access token with id {req.groups[0]!r}")
        return None

    @router.add("POST", r"/_simulator/tokens", "PRIVILEGE_ACCESS_TOKENS_WRITE")
    def mint(state: ClusterState, req: Request) -> Any:
        """Simulator-only: mint a token with exactly the given privileges (for tests and demos)."""
        body = req.body
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("name"), str)
            or not isinstance(body.get("privileges"), list)
        ):
            raise ApiError(400, 'Body must be {"name": "...", "privileges": ["PRIVILEGE_..."]}')
        token = state.mint_token(body["name"], [str(p) for p in body["privileges"]])
        return {
            "bearer_token": token,
            "name": body["name"],
            "privileges": sorted(privileges_of(body["privileges"])),
        }


def _share(share: dict[str, Any], populate: bool) -> dict[str, Any]:
    out = dict(share)
    out["permissions"] = [
        {**p, "trustee": {**p["trustee"], "name": "Everyone" if populate else None}}
        for p in share["permissions"]
    ]
    return out
