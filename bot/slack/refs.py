"""What buttons carry: ``encode_ref``/``decode_ref`` for Close, ``encode_page``/``decode_page`` for Prev/Next.

A button ``value`` is at most 2,000 characters and comes back from Slack as untrusted input: the decoders accept only
the exact shape the encoders produce and raise ``ValueError`` on anything else. The close path then re-fetches the
handle from the cluster and compares, so a forged value can at most name a handle that really is open.

Close value: compact JSON ``{"v":2,"c":cluster,"s":searcher,"l":location,"f":file_number,"o":owner,"p":path,
"i":client_ip}`` (``i`` null when the search could not tell the client; version 1 buttons carried no client and are
refused as "from an older version");
when that is too long (deep paths), the same JSON zlib-compressed and base64url-encoded behind a ``z1:`` prefix.

Page value: ``{"v":2,"q":query,"o":offset,"s":searcher}``, compressed the same way when long. It carries the whole
query (stateless: any replica, after any restart, re-runs exactly the search that was shown); a query that cannot
fit even compressed gets no buttons (``None``), never a cut query. Version-1 page values (``{"q","offset","s"}``,
whose query was cut when long) are refused as "from an older version".
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import zlib
from dataclasses import dataclass
from typing import Any

from bot.locks.models import HandleRef
from bot.slack.text import slack_id

MAX_VALUE = 2000  # Block Kit button value limit
_MAX_INFLATED = 16 * 1024  # a decoded close value never needs more; bounds decompression
_MAX_PAGE_INFLATED = 32 * 1024  # a 4,096-character query, every character doubled by JSON or 4 bytes of UTF-8
_ZPREFIX = "z1:"
_VERSION = 2
_PAGE_VERSION = 2


@dataclass(frozen=True, slots=True)
class CloseButton:
    """A decoded Close value: the handle, who ran the search that rendered it, and which cluster it came from."""

    ref: HandleRef
    searcher: str | None
    cluster: str


@dataclass(frozen=True, slots=True)
class PageButton:
    """A decoded Prev/Next value: re-run ``query`` and show results from ``offset``."""

    query: str
    offset: int
    searcher: str | None


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def encode_ref(ref: HandleRef, *, searcher: str | None, cluster: str) -> str | None:
    """The Close button value, or None when even the compressed form exceeds 2,000 characters."""
    raw = _dumps(
        {
            "v": _VERSION,
            "c": cluster,
            "s": slack_id(searcher),
            "l": ref.location,
            "f": ref.file_number,
            "o": ref.owner,
            "p": ref.path,
            "i": ref.client_ip,
        }
    )
    return _pack(raw, _MAX_INFLATED)


def _load_object(text: str) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError("button value is not valid JSON") from exc
    if not isinstance(obj, dict):
        raise ValueError("button value is not a JSON object")
    return obj


def _inflate(packed: str, limit: int = _MAX_INFLATED) -> str:
    try:
        data = base64.urlsafe_b64decode(packed.encode("ascii"))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(data, limit)
    except (ValueError, binascii.Error, zlib.error, UnicodeEncodeError) as exc:
        raise ValueError("button value is not valid compressed data") from exc
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError("button value is truncated or too large")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("button value is not UTF-8") from exc


def _str_field(obj: dict[str, Any], key: str, *, allow_empty: bool = True) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or (not allow_empty and not value):
        raise ValueError(f"button value field {key!r} is missing or not a string")
    return value


def decode_ref(value: object) -> CloseButton:
    """Parse an untrusted Close value; ``ValueError`` on anything the encoder would not produce."""
    if not isinstance(value, str) or not value:
        raise ValueError("button value is empty")
    if len(value) > MAX_VALUE:
        raise ValueError("button value is too long")
    text = _inflate(value[len(_ZPREFIX) :]) if value.startswith(_ZPREFIX) else value
    obj = _load_object(text)
    if obj.get("v") != _VERSION or set(obj) != {"v", "c", "s", "l", "f", "o", "p", "i"}:
        raise ValueError("button value has an unknown format")
    client_ip = obj["i"]
    if client_ip is not None:
        try:
            client_ip = str(ipaddress.ip_address(client_ip)) if isinstance(client_ip, str) else None
        except ValueError:
            client_ip = None
        if client_ip is None or client_ip != obj["i"]:
            raise ValueError("button value carries an invalid client address")
    searcher = obj["s"]
    if searcher is not None and slack_id(searcher) is None:
        raise ValueError("button value carries an invalid user ID")
    ref = HandleRef(
        location=_str_field(obj, "l", allow_empty=False),
        file_number=_str_field(obj, "f"),
        owner=_str_field(obj, "o"),
        path=_str_field(obj, "p"),
        client_ip=client_ip,
    )
    return CloseButton(ref=ref, searcher=searcher, cluster=_str_field(obj, "c"))


def encode_page(query: str, offset: int, *, searcher: str | None) -> str | None:
    """The Prev/Next value: the whole query, never a cut one, or None when it cannot fit in 2,000 characters.

    Compact JSON ``{"v":2,"q":query,"o":offset,"s":searcher}``, or that JSON zlib-compressed behind ``z1:`` (long
    queries, queries of backslashes and quotes that JSON doubles). None is rare (a long query of characters that do
    not compress); the message then says the search cannot be paged instead of offering a button for another search.
    """
    raw = _dumps({"v": _PAGE_VERSION, "q": query, "o": offset, "s": slack_id(searcher)})
    return _pack(raw, _MAX_PAGE_INFLATED)


def _pack(raw: str, inflated_limit: int) -> str | None:
    """``raw`` as it is when it fits a button, else compressed behind ``z1:`` when that fits; else None."""
    if len(raw) <= MAX_VALUE:
        return raw
    data = raw.encode("utf-8")
    if len(data) > inflated_limit:  # the decoder would refuse it: no button rather than a dead one
        return None
    value = _ZPREFIX + base64.urlsafe_b64encode(zlib.compress(data, 9)).decode("ascii")
    return value if len(value) <= MAX_VALUE else None


def decode_page(value: object) -> PageButton:
    """Parse an untrusted Prev/Next value; ``ValueError`` on garbage and on values of older versions (whose query
    may have been cut: running it would be another search)."""
    if not isinstance(value, str) or not value or len(value) > MAX_VALUE:
        raise ValueError("page value is empty or too long")
    text = _inflate(value[len(_ZPREFIX) :], _MAX_PAGE_INFLATED) if value.startswith(_ZPREFIX) else value
    obj = _load_object(text)
    if obj.get("v") != _PAGE_VERSION or set(obj) != {"v", "q", "o", "s"}:
        raise ValueError("page value has an unknown format")
    offset = obj["o"]
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= 1_000_000:
        raise ValueError("page offset is not a small non-negative integer")
    searcher = obj["s"]
    if searcher is not None and slack_id(searcher) is None:
        raise ValueError("page value carries an invalid user ID")
    query = _str_field(obj, "q", allow_empty=False)
    return PageButton(query=query, offset=offset, searcher=searcher)
