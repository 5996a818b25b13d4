"""Qumulo's paged listings: follow ``paging.next``, decode each page, fetch one page ahead of the caller.

Pure mechanics over a ``get(path) -> JSON`` function (the client's authenticated GET), so the rules live in one
place: where a listing ends, how a repeated cursor or a runaway listing is stopped, and what a malformed page is.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from bot.qumulo.errors import QumuloProtocolError
from bot.qumulo.mapping import endpoint_name

logger = logging.getLogger(__name__)

T = TypeVar("T")
Get = Callable[[str], Any]

#: Upper bound on pages followed in one listing (300k handles at 1000/page is 300 pages).
MAX_PAGES = 100_000


def with_query(path: str, **params: Any) -> str:
    """``path?k=v&…`` for the parameters that are not None."""
    clean = {k: str(v) for k, v in params.items() if v is not None}
    return f"{path}?{urllib.parse.urlencode(clean)}" if clean else path


def follow_link(nxt: str, base_path: str = "") -> str:
    """``paging.next`` as a path to GET under the client's base URL (which already ends in ``base_path``).

    The link is server-relative. Behind the web UI port (base path ``/api``) lock listings echo the prefix
    (``/api/v1/...``) and file listings do not (``/v1/...``): both name the same page, so the prefix is dropped
    when present. An absolute URL (another host could get the bearer token) or anything not starting with ``/``
    is refused.
    """
    if not nxt.startswith("/") or nxt.startswith("//"):
        raise QumuloProtocolError(
            f"The cluster sent a paging link that is not a path on the cluster ({nxt[:80]!r}); not followed"
        )
    for prefix in dict.fromkeys(p for p in (base_path, "/api") if p):
        if nxt.startswith(prefix + "/"):
            return nxt[len(prefix) :]
    return nxt


def iter_pages(
    get: Get, first: str, key: str, parse: Callable[[dict[str, Any]], T], *, base_path: str = ""
) -> Iterator[list[T]]:
    """Follow ``paging.next`` until it is null/empty or a page is empty.

    A page shorter than the ``limit`` asked for is *not* the last one: the cluster may choose a smaller page size
    (Qumulo's docs say so). The SDK's ``LockIter`` stops on a short lock page, which silently cuts a listing;
    qlocks follows ``next`` instead, at the cost of one empty page at the end of a lock listing whose ``next``
    never turns null.

    A listing that does not end, a link that comes back (a loop), the same page served again behind a new link, or
    more than MAX_PAGES pages, raises ``QumuloProtocolError``: a partial listing must never read as a complete one
    (a handle missing from it would read as "not open"). Links are joined by ``follow_link``.

    The cursor is opaque, so pages come one after another; but while the caller works on page N, page N+1 is
    already being fetched and decoded on a helper thread (reads only, so an unused prefetch is harmless).
    """
    seen: set[str] = set()
    fingerprints: set[tuple[int, str, str]] = set()
    pages = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qumulo-page") as fetcher:
        pending: Future[tuple[list[T], str | None, tuple[int, str, str]]] | None = fetcher.submit(
            _page, get, first, key, parse, base_path
        )
        try:
            while pending is not None:
                items, nxt, fingerprint = pending.result()
                pages += 1
                pending = None
                if nxt is not None:
                    why = (
                        "the same page link came back"
                        if nxt in seen or nxt == first
                        else "the same page came back behind a new link"
                        if fingerprint in fingerprints
                        else f"more than {MAX_PAGES:,} pages"
                        if pages >= MAX_PAGES
                        else None
                    )
                    if why is not None:
                        raise QumuloProtocolError(
                            f"The cluster's listing of {endpoint_name(first)} does not end ({why}), so any answer "
                            "would be incomplete. Try again; if it keeps happening, check the cluster",
                            endpoint=first,
                        )
                    seen.add(nxt)
                    fingerprints.add(fingerprint)
                    pending = fetcher.submit(_page, get, nxt, key, parse, base_path)
                yield items
        finally:
            if pending is not None:
                pending.cancel()


def _page(
    get: Get, path: str, key: str, parse: Callable[[dict[str, Any]], T], base_path: str
) -> tuple[list[T], str | None, tuple[int, str, str]]:
    """One page, decoded: its items, the next path to GET (None at the end) and a fingerprint of its content."""
    data = get(path)
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise QumuloProtocolError(
            f"Unexpected response from {endpoint_name(path)}: no {key!r} list", endpoint=path
        )
    raw = data[key]
    try:
        items = [parse(item) for item in raw]
    except (KeyError, TypeError, ValueError) as exc:
        raise QumuloProtocolError(
            f"Malformed entry in {endpoint_name(path)}: {type(exc).__name__} {exc}", endpoint=path
        ) from exc
    paging = data.get("paging") or {}
    nxt = paging.get("next") if isinstance(paging, dict) else None
    fingerprint = (len(raw), repr(raw[0]) if raw else "", repr(raw[-1]) if raw else "")
    if not raw or not isinstance(nxt, str) or not nxt:
        return items, None, fingerprint
    try:
        return items, follow_link(nxt, base_path), fingerprint
    except QumuloProtocolError as exc:
        raise QumuloProtocolError(f"{exc} (in {endpoint_name(path)})", endpoint=path) from None


def flatten(pages: Iterator[list[T]]) -> list[T]:
    out: list[T] = []
    for page in pages:
        out.extend(page)
    return out


__all__ = ["MAX_PAGES", "flatten", "follow_link", "iter_pages", "with_query"]
