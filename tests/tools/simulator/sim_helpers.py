"""Helpers for the simulator's network tests: a tiny REST caller and a pager that follows ``paging.next``."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import requests

NEXT_RE = re.compile(r"^(/v[13]/[^?]+)\?after=[A-Za-z0-9_%-]+&limit=(\d+)$")


class Api:
    """Calls one simulator with a bearer token (None: no Authorization header)."""

    def __init__(self, sim: Any, token: str | None = "admin", *, verify: bool | str = False) -> None:
        self.base = sim.url
        self.token = sim.admin_token if token == "admin" else token
        self.http = requests.Session()
        self.http.trust_env = False
        self.verify = verify

    def call(self, method: str, path: str, body: Any = None, *, timeout: float = 5.0) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.http.request(
            method, self.base + path, json=body, headers=headers, timeout=timeout, verify=self.verify
        )

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.call("POST", path, body, **kw)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        resp = self.call(method, path, body)
        assert resp.status_code == 200, (resp.status_code, resp.text)
        return resp.json()

    def pages(self, first: str, key: str) -> list[list[dict[str, Any]]]:
        """Every page of a listing, asserting the paging contract on the way."""
        pages: list[list[dict[str, Any]]] = []
        url: str | None = first
        while url:
            data = self.ok("GET", url)
            assert set(data) == {key, "paging"}, data.keys()
            pages.append(data[key])
            url = data["paging"]["next"]
            if url is not None:
                m = NEXT_RE.match(url)
                assert m, f"paging.next is not a relative /v1 URI with after and limit: {url!r}"
                assert m.group(1) == first.split("?")[0]
            assert len(pages) < 10_000, "paging never ends"
        return pages

    def close(self) -> None:
        self.http.close()


def ref(path: str) -> str:
    """A file ref for ``/v1/files/{ref}/...``: the fully URL-encoded path (slashes too), as the SDK sends it."""
    return quote(path, safe="")


def flat(pages: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page]


def locations(items: list[dict[str, Any]]) -> list[str]:
    return [h["handle_info"]["location"] for h in items]
