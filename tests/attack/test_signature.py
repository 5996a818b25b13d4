"""Requests that are not from Slack get 401 and nothing else: no listener, no error-handler reply, no outbound call.

Forged, tampered, stale, replayed, future and odd-timestamp requests (``abc``, ``1.5e9``, ``0x10``, Arabic-Indic
digits…), malformed signatures and huge bodies, over real HTTP (``qlocks run``'s server) and through ``dispatch``.
Each request carries a ``response_url`` pointing at the fake Slack, which must never hear from the bot.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from qlocks_tools.fakeslack import signed_headers, slash_command
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.slack.web import make_wsgi_app
from tests.attack import tally
from tests.slack.conftest import OPS, SECRET, USER, Harness
from tests.slack.test_web import serve

ODD_TIMESTAMPS = [
    "abc", "1.5e9", "123.5", "", "0x10", " {now}", "{now} ", "+{now}", "-1", "1e3", "{now}.0",
    "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660",  # Arabic-Indic digits: int() accepts them
    "99999999999999999999999", "0", "{now}\n", "NaN", "None", "[1]",
]  # fmt: skip


def _command_body(url: str, text: str = "search budget") -> str:
    return urllib.parse.urlencode(
        {
            "command": "/qlocks",
            "text": text,
            "user_id": USER,
            "channel_id": OPS,
            "team_id": "T0TEST",
            "response_url": url,
            "trigger_id": "1.2.3",
            "api_app_id": "A0QLOCKS",
        }
    )


def _action_body(url: str) -> str:
    payload = {
        "type": "block_actions", "user": {"id": "U0ADMIN01"}, "team": {"id": "T0TEST"},
        "channel": {"id": OPS}, "response_url": url, "api_app_id": "A0QLOCKS",
        "actions": [{"action_id": "close_handle", "block_id": "row-0", "value": "{}"}],
    }  # fmt: skip
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def _sig(body: str, ts: str, secret: str = SECRET) -> str:
    return SignatureVerifier(secret).generate_signature(timestamp=ts, body=body) or ""


def _forgeries(url: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(label, body, headers) of requests that must be refused."""
    now = int(time.time())
    for kind, body in (("command", _command_body(url)), ("action", _action_body(url))):
        good_ts = str(now)
        yield f"{kind}: no headers", body, {}
        yield f"{kind}: no signature", body, {"X-Slack-Request-Timestamp": good_ts}
        yield f"{kind}: no timestamp", body, {"X-Slack-Signature": _sig(body, good_ts)}
        yield f"{kind}: wrong secret", body, _headers(good_ts, _sig(body, good_ts, "not-the-secret"))
        yield f"{kind}: tampered body", body + "&x=1", _headers(good_ts, _sig(body, good_ts))
        yield (
            f"{kind}: tampered team",
            body.replace("T0TEST", "T1TEST"),
            _headers(good_ts, _sig(body, good_ts)),
        )
        for skew in (-330, -3600, -86400 * 30, 330, 86400):
            ts = str(now + skew)
            yield f"{kind}: timestamp {skew:+d}s (stale/replayed/future)", body, _headers(ts, _sig(body, ts))
        for template in ODD_TIMESTAMPS:
            ts = template.format(now=now)
            # A correct HMAC over an odd timestamp is still refused: the timestamp itself is not Slack's.
            yield f"{kind}: timestamp {ts!r}, valid HMAC", body, _headers(ts, _sig(body, ts))
            yield f"{kind}: timestamp {ts!r}, garbage signature", body, _headers(ts, "v0=" + "0" * 64)
        sig = _sig(body, good_ts)
        for bad in ("", "v0=", sig.upper(), sig[:-1], sig + "0", "v1=" + sig[3:], sig.replace("v0=", "")):
            yield f"{kind}: signature {bad[:12]!r}…", body, _headers(good_ts, bad)


def _headers(ts: str, sig: str) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def _post(base: str, body: bytes, headers: dict[str, str], *, declared: int | None = None) -> int:
    """POST with header values sent as given (UTF-8 bytes where latin-1 cannot carry them). ``declared``: announce
    that many bytes and send none (the server must refuse on the header, without reading)."""
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    conn = http.client.HTTPConnection(host or "127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("POST", "/slack/events")
        if not any(name.lower() == "content-type" for name in headers):
            conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(len(body) if declared is None else declared))
        for name, value in headers.items():
            if "\n" in value or "\r" in value:  # http.client refuses to send it: not a request at all
                return 401
            conn.putheader(name, value.encode("utf-8"))
        conn.endheaders(body if declared is None else None)
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.fixture
def http_bot(make_harness: Any) -> Iterator[tuple[Harness, str]]:
    h: Harness = make_harness(process_before_response=False)  # production setting
    for base in serve(make_wsgi_app(h.app)):
        yield h, base


def signed_search(h: Harness, key: str, user: str = USER) -> tuple[bytes, dict[str, str]]:
    """A real ``/qlocks search budget`` from ``user`` in #ops, signed; its response_url is named ``key``."""
    url = h.fake.response_url(key, user=user)
    body = slash_command("search budget", user_id=user, channel_id=OPS, response_url=url)
    return body, signed_headers(SECRET, body, now=time.time())


def _nothing_went_out(h: Harness, base: str) -> None:
    """A signed search afterwards is answered, and it is the only thing the fake Slack ever heard."""
    body, headers = signed_search(h, "legit")
    assert _post(base, body, headers) == 200
    h.fake.wait_for(lambda calls: any(c.key == "legit" for c in calls), timeout=20)
    others = [(c.method, c.key) for c in h.fake.calls if c.key != "legit"]
    assert others == []


def test_forged_requests_get_401_and_nothing_else(http_bot: tuple[Harness, str]) -> None:
    h, base = http_bot
    url = h.fake.response_url("attacker", user=USER)
    results = []
    for label, body, headers in _forgeries(url):
        status = _post(base, body.encode(), headers)
        tally.record("signature", status == 401, word="rejected")
        results.append((label, status))
    assert [r for r in results if r[1] != 401] == []
    assert len(results) >= 64
    _nothing_went_out(h, base)


def test_huge_and_broken_requests_are_refused_before_anything_runs(http_bot: tuple[Harness, str]) -> None:
    h, base = http_bot
    now = str(int(time.time()))
    status = _post(base, b"", _headers(now, "v0=" + "0" * 64), declared=2 * 1024 * 1024)
    tally.record("signature", status == 413, word="rejected")
    assert status == 413  # refused on its Content-Length, before reading a byte
    raw = b"payload=\xff\xfe"  # Slack signs UTF-8 only: whatever its HMAC, this cannot be verified
    import hashlib
    import hmac

    mac = hmac.new(SECRET.encode(), b"v0:" + now.encode() + b":" + raw, hashlib.sha256).hexdigest()
    status = _post(base, raw, _headers(now, "v0=" + mac))
    tally.record("signature", status == 401, word="rejected")
    assert status == 401
    _nothing_went_out(h, base)


def test_dispatch_refuses_what_the_http_edge_refuses(harness: Harness) -> None:
    """The app's own dispatch checks too (Socket Mode adapters aside): nothing relies on the WSGI wrapper alone."""
    url = harness.fake.response_url("attacker", user=USER)
    refused = 0
    for _label, body, headers in _forgeries(url):
        if any("\n" in v for v in headers.values()):
            continue
        resp = harness.app.dispatch(BoltRequest(body=body, headers=dict(headers.items())))
        assert resp.status == 401, _label
        refused += resp.status == 401
        tally.record("signature (dispatch)", resp.status == 401, word="rejected")
        assert resp.status == 401
    assert refused >= 60 and harness.fake.calls == []
