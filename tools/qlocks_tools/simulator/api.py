"""Routing, authentication and request helpers shared by the simulator's endpoint modules.

Routes match the *raw* (still percent-encoded) path, so ``/v1/files/%2Fa%2Fb/...`` keeps its file ref in one
segment, and trailing slashes are exact: lists end in ``/``, actions do not, as on Qumulo Core.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from qlocks_tools.simulator.knobs import Account
from qlocks_tools.simulator.paging import DEFAULT_LIMIT, Cursor, CursorError, decode_cursor
from qlocks_tools.simulator.state import ClusterState

logger = logging.getLogger(__name__)

MAX_PAGE = 10_000  # items per page never exceed this, whatever ``limit`` asks for

ERROR_CLASSES = {
    400: "invalid_request_error",
    401: "http_unauthorized_error",
    403: "http_forbidden_error",
    404: "http_not_found_error",
    405: "http_method_not_allowed_error",
    409: "http_conflict_error",
    429: "http_too_many_requests_error",
    500: "http_internal_server_error",
    502: "http_bad_gateway_error",
    503: "http_service_unavailable_error",
    504: "http_gateway_timeout_error",
}


class ApiError(Exception):
    """An error response: ``{"error_class": ..., "description": ...}`` with an HTTP status."""

    def __init__(self, status: int, description: str, error_class: str | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.error_class = error_class or ERROR_CLASSES.get(status, f"http_{status}_error")


def error_body(status: int, description: str, error_class: str | None = None) -> dict[str, Any]:
    return {
        "module": "qumulo.rest.server",
        "error_class": error_class or ERROR_CLASSES.get(status, f"http_{status}_error"),
        "description": description,
        "stack": [],
        "user_visible": True,
    }


@dataclass(slots=True)
class Request:
    method: str
    path: str  # raw path, no query
    query: dict[str, str]
    body: Any = None
    account: Account | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)  # regex groups, percent-decoded
    prefix: str = (
        ""  # the API path prefix the request came under (``Knobs.api_prefix``), stripped from ``path``
    )

    def link_base(self, state: ClusterState, *, lock_listing: bool) -> str:
        """The path ``paging.next`` is built on: ``path``, with the prefix where this listing echoes it."""
        echo = state.prefix_echo == "all" or (state.prefix_echo == "locks" and lock_listing)
        return self.prefix + self.path if echo else self.path


Handler = Callable[[ClusterState, Request], Any]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    privilege: str | None  # None: any authenticated caller
    public: bool = False  # no bearer token needed (login)
    churns: bool = False  # a paged listing: churn applies between its pages


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(
        self, method: str, pattern: str, privilege: str | None, *, public: bool = False, churns: bool = False
    ) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.routes.append(Route(method, re.compile(pattern + r"\Z"), fn, privilege, public, churns))
            return fn

        return deco

    def match(self, method: str, path: str) -> tuple[Route, tuple[str, ...]]:
        allowed = False
        for route in self.routes:
            m = route.pattern.match(path)
            if m is None:
                continue
            if route.method == method:
                return route, tuple(unquote(g) for g in m.groups())
            allowed = True
        if allowed:
            raise ApiError(405, f"Method {method} is not allowed on {path}")
        raise ApiError(404, f"Unknown endpoint: {method} {path}")


def parse_query(raw: str) -> dict[str, str]:
    try:
        return dict(parse_qsl(raw, keep_blank_values=True, strict_parsing=False))
    except ValueError as exc:  # pragma: no cover - parse_qsl is lenient
        raise ApiError(400, f"Malformed query string: {exc}") from exc


def parse_bool(name: str, value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    if value in ("True", "true", "1"):
        return True
    if value in ("False", "false", "0"):
        return False
    raise ApiError(400, f"Query parameter {name} must be true or false, got {value!r}")


def authenticate(state: ClusterState, authorization: str | None) -> Account:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Need to log in first to establish credentials.")
    account, reason = state.tokens.check(token.strip())
    if account is None:
        raise ApiError(401, reason)
    return account


def authorize(account: Account, route: Route, method: str, path: str) -> None:
    if route.privilege is not None and route.privilege not in account.privileges:
        raise ApiError(
            403,
            f"Access denied: {method} {path} requires {route.privilege}, which user {account.name!r} does not have.",
        )


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int  # what the caller asked for (echoed in paging.next)
    count: int  # items to return: limit capped by the server's page size
    after: Cursor | None
    params: dict[str, str]  # filters: from the query, else carried in the cursor


def page_request(
    state: ClusterState, req: Request, listing: str, filters: tuple[str, ...], *, pair_key: bool = False
) -> PageRequest:
    raw_limit = req.query.get("limit")
    if raw_limit is None:
        limit = DEFAULT_LIMIT
    elif not raw_limit.isdigit() or int(raw_limit) < 1:
        raise ApiError(400, f"limit must be a positive whole number, got {raw_limit!r}")
    else:
        limit = int(raw_limit)
    after = None
    params: dict[str, str] = {}
    if req.query.get("after"):
        try:
            after = decode_cursor(req.query["after"], listing, pair=pair_key)
        except CursorError as exc:
            raise ApiError(400, str(exc)) from exc
        params.update(after.params)
    params.update({k: req.query[k] for k in filters if k in req.query})
    count = min(limit, MAX_PAGE if state.page_size is None else state.page_size)
    if state.short_pages:  # fewer than asked, page after page; only the last page may be "short" for real
        count = max(1, count // 2 if after is None else count - 1)
    return PageRequest(limit, count, after, params)
