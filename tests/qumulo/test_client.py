"""QumuloClient against the simulator, through the network (no mocking of requests)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import QumuloConfig
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import (
    QumuloAuthError,
    QumuloConnectionError,
    QumuloNotFound,
    QumuloPermissionError,
    QumuloProtocolError,
    QumuloServerError,
    QumuloTimeout,
    QumuloTLSError,
)
from bot.qumulo.models import ShareModeGrant
from bot.qumulo.paging import flatten
from tests.conftest import config_for


def _listed(pages: Iterator[list[ShareModeGrant]]) -> list[ShareModeGrant]:
    """Every grant of a paged listing, as the scans walk it page by page."""
    return [g for page in pages for g in page]


def test_lists_every_handle_exactly_once_across_pages(sim: Any, client: QumuloClient) -> None:
    pages = list(client.iter_file_handles(limit=7))
    assert len(pages) > 10
    locations = [h.location for page in pages for h in page]
    assert len(locations) == len(set(locations)) == sim.state.handle_count
    assert all(h.path and h.path.startswith("/") for page in pages for h in page)
    # one request per page, nothing more
    assert client.stats.by_endpoint["/v1/smb/files/"] == len(pages)


def test_file_number_filter_and_attributes(sim: Any, client: QumuloClient) -> None:
    first = client.list_file_handles(limit=1000)[0]
    assert first.path
    attrs = client.file_attributes(first.path)
    assert attrs.id == first.file_number
    assert client.file_attributes(attrs.id).path == first.path
    mine = client.list_file_handles(file_number=attrs.id)
    assert mine and {h.file_number for h in mine} == {attrs.id}
    grants = client.list_file_share_mode_grants(first.path)
    assert grants and {g.file_id for g in grants} == {attrs.id}
    with pytest.raises(QumuloNotFound):
        client.file_attributes("/no/such/file.xlsx")


def test_sessions_grants_shares_identities(client: QumuloClient) -> None:
    sessions = client.list_smb_sessions(limit=5)
    grants = _listed(client.iter_share_mode_grants(limit=50))
    handles = client.list_file_handles()
    assert sessions and grants and handles
    assert all(s.time_idle_s is not None and s.originator for s in sessions)
    # the joins the simulator promises: owner == session auth_id, grant owner_address == session originator
    by_auth = {s.auth_id for s in sessions}
    assert {h.owner for h in handles} <= by_auth
    assert {g.owner_address for g in grants} <= {s.originator for s in sessions}
    shares = client.list_smb_shares()
    assert any(s.fs_path.startswith("/") for s in shares)
    ident = client.find_identity(handles[0].owner)
    assert ident.name
    ip = sessions[0].originator
    assert ip in client.resolve_ips_to_names([ip])
    mine = _listed(client.iter_share_mode_grants(owner_address=ip, limit=3))  # filtered by the cluster
    assert mine and {g.owner_address for g in mine} == {ip}
    assert len(mine) == sum(1 for g in grants if g.owner_address == ip)  # paged by 3, nothing lost


def test_close_exactly_one_handle(sim: Any, client: QumuloClient) -> None:
    handles = client.list_file_handles()
    target = handles[0]
    before = sim.state.handle_count
    result = client.close_file_handles([target.location])
    assert result.plain_success
    assert sim.state.handle_count == before - 1
    assert target.location not in {h.location for h in client.list_file_handles()}
    again = client.close_file_handles([target.location])
    assert not again.plain_success and len(again.messages) == 1


def test_close_is_never_retried(sim: Any, client: QumuloClient) -> None:
    target = client.list_file_handles()[0]
    sim.state.reset_request_log()
    sim.state.inject_fault("/v1/smb/files/close", kind="status", status=503, count=5)
    with pytest.raises(QumuloServerError):
        client.close_file_handles([target.location])
    closes = [p for m, p in sim.state.request_log if p.startswith("/v1/smb/files/close")]
    assert len(closes) == 1


def test_reads_are_retried_on_5xx(sim: Any, client: QumuloClient) -> None:
    sim.state.inject_fault("/v1/smb/sessions/", kind="status", status=503, count=2)
    assert client.list_smb_sessions()


def test_server_error_after_retries(sim: Any, client: QumuloClient) -> None:
    sim.state.inject_fault("/v1/smb/sessions/", kind="status", status=500, count=50)
    with pytest.raises((QumuloServerError, QumuloConnectionError)):
        client.list_smb_sessions()


def test_malformed_json_is_a_protocol_error(sim: Any, client: QumuloClient) -> None:
    sim.state.inject_fault("/v1/session/who-am-i", kind="malformed", count=1)
    with pytest.raises(QumuloProtocolError):
        client.who_am_i()


def test_timeout(sim: Any) -> None:
    sim.state.inject_fault("/v1/session/who-am-i", kind="timeout", count=10)
    with QumuloClient(config_for(sim, timeout_s=0.3)) as c, pytest.raises(QumuloTimeout) as exc:
        c.who_am_i()
    assert "QUMULO_TIMEOUT_S" in str(exc.value)


def test_unreachable(refused_port: int) -> None:
    cfg = QumuloConfig(host="127.0.0.1", port=refused_port, scheme="http", access_token="t", timeout_s=1)
    with QumuloClient(cfg) as c, pytest.raises(QumuloConnectionError) as exc:
        c.who_am_i()
    assert "QUMULO_HOST" in str(exc.value)


def test_missing_privilege_is_named(sim: Any) -> None:
    token = sim.mint_token("helpdesk", ["PRIVILEGE_SMB_FILE_HANDLE_READ"])
    with QumuloClient(config_for(sim, access_token=token)) as c:
        assert c.list_file_handles()
        with pytest.raises(QumuloPermissionError) as exc:
            c.close_file_handles(["x"])
        assert exc.value.missing_privileges == ("PRIVILEGE_SMB_FILE_HANDLE_WRITE",)
        assert "PRIVILEGE_SMB_FILE_HANDLE_WRITE" in str(exc.value)
        with pytest.raises(QumuloPermissionError) as exc2:
            _listed(c.iter_share_mode_grants())
        assert "PRIVILEGE_FS_LOCK_READ" in exc2.value.missing_privileges


def test_expired_token_is_an_auth_error_without_the_token(sim: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = sim.mint_token("svc", ["PRIVILEGE_SMB_FILE_HANDLE_READ"])
    sim.state.expire_token(token)
    with QumuloClient(config_for(sim, access_token=token)) as c, pytest.raises(QumuloAuthError) as exc:
        c.list_file_handles()
    assert token not in str(exc.value) and token not in repr(exc.value)
    assert "QUMULO_ACCESS_TOKEN" in str(exc.value)
    assert token not in caplog.text


def test_password_login_and_relogin_once_on_401(sim: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cfg = config_for(sim, access_token=None, username="admin", password="Admin123")
    with QumuloClient(cfg) as c:
        assert c.who_am_i().name
        first = c._token
        assert first
        sim.state.expire_token(first)
        assert c.list_smb_sessions()  # logged in again transparently
        assert c._token != first
        assert c.stats.by_endpoint["/v1/session/login"] == 2
    assert "Admin123" not in caplog.text and first not in caplog.text


def test_bad_password(sim: Any) -> None:
    cfg = config_for(sim, access_token=None, username="admin", password="wrong")
    with QumuloClient(cfg) as c, pytest.raises(QumuloAuthError) as exc:
        c.who_am_i()
    assert "wrong" not in str(exc.value)
    # Regression: a refused *password* login blamed an expired token, and the cluster's own sentence ended in ".."
    message = str(exc.value)
    assert "QUMULO_USERNAME and QUMULO_PASSWORD" in message and "token" not in message.lower()
    assert ".." not in message


def test_paging_survives_churn(sim: Any, client: QumuloClient) -> None:
    survivors = {h["handle_info"]["location"] for h in sim.state.handles_snapshot()}
    pages = client.iter_file_handles(limit=10)
    seen: list[str] = []
    for i, page in enumerate(pages):
        seen.extend(h.location for h in page)
        if i == 2:  # the cluster changes under us between pages
            victim = sim.state.handles_snapshot()[-1]["handle_info"]["location"]
            client.close_file_handles([victim])
            survivors.discard(victim)
            sim.state.add_handle("/projects/new/churn.xlsx", user="dana")
    assert len(seen) == len(set(seen)), "no handle listed twice"
    assert survivors <= set(seen), "no surviving handle skipped"


def test_concurrent_use_of_one_client(sim: Any, client: QumuloClient) -> None:
    results: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(len(client.list_file_handles(limit=50)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == [sim.state.handle_count] * 8


def test_tls_verification_on_by_default() -> None:
    from qlocks_tools.simulator import start_simulator

    with start_simulator(port=0, handles=20, seed=3, tls=True) as s:
        assert s.url.startswith("https://") and s.cafile
        with QumuloClient(config_for(s)) as c:  # trusts the simulator's CA bundle
            assert c.who_am_i().name
        with QumuloClient(config_for(s, ca_bundle=None)) as c, pytest.raises(QumuloTLSError) as exc:
            c.who_am_i()  # system CAs do not know the self-signed certificate
        assert "QUMULO_CA_BUNDLE" in str(exc.value)
        with QumuloClient(config_for(s, ca_bundle=None, verify_tls=False)) as c:
            assert c.who_am_i().name


def test_verify_off_warns_once_in_our_words_not_per_request(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import warnings

    from qlocks_tools.simulator import start_simulator
    from urllib3.exceptions import InsecureRequestWarning

    from bot.qumulo import client as client_module

    monkeypatch.setattr(client_module, "_unverified_warned", False)
    with (
        start_simulator(port=0, handles=20, seed=3, tls=True) as s,
        warnings.catch_warnings(record=True) as seen,
    ):
        warnings.simplefilter("always")  # whatever urllib3 would warn, see it
        caplog.set_level("WARNING", logger="bot.qumulo.client")
        for _ in range(2):  # two clients, several requests each: one line in all
            with QumuloClient(config_for(s, ca_bundle=None, verify_tls=False)) as c:
                c.who_am_i()
                c.list_file_handles()
    ours = [r.getMessage() for r in caplog.records if "QUMULO_VERIFY_TLS" in r.getMessage()]
    assert ours == [
        f"QUMULO_VERIFY_TLS=false: the cluster's certificate is not checked ({s.url.rstrip('/')})"
    ]
    assert not [w for w in seen if issubclass(w.category, InsecureRequestWarning)]


def test_http_against_the_https_port_says_so(refused_port: int) -> None:
    """``QUMULO_HOST=http://…`` against a TLS cluster: "speaks HTTPS on that port", not "(remotedisconnected)"."""
    from qlocks_tools.simulator import start_simulator

    with start_simulator(port=0, handles=5, seed=3, tls=True) as s:
        with QumuloClient(config_for(s, scheme="http")) as c, pytest.raises(QumuloConnectionError) as exc:
            c.who_am_i()
        assert "speaks HTTPS on that port" in str(exc.value) and "http://" in str(exc.value)
    # a port with nothing behind it is not "HTTPS": the plain reason stays
    with (
        QumuloClient(config_for(s, scheme="http", port=refused_port)) as c,
        pytest.raises(QumuloConnectionError) as exc,
    ):
        c.who_am_i()
    assert "HTTPS" not in str(exc.value) and "connection refused" in str(exc.value)


def test_https_against_a_plain_http_port_says_so(sim: Any) -> None:
    """The reverse mistake: ``https://`` to a plain-HTTP server reads "speaks plain HTTP", not an OpenSSL riddle."""
    with QumuloClient(config_for(sim, scheme="https")) as c, pytest.raises(QumuloTLSError) as exc:
        c.who_am_i()
    assert "speaks plain HTTP on that port" in str(exc.value) and "WRONG_VERSION" not in str(exc.value)


def test_requests_ca_bundle_env_does_not_override_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from qlocks_tools.simulator import start_simulator

    with start_simulator(port=0, handles=5, seed=3, tls=True) as s:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(s.cafile))
        with QumuloClient(config_for(s, ca_bundle=None)) as c, pytest.raises(QumuloTLSError):
            c.who_am_i()


def test_pages_shorter_than_limit_are_followed(sim: Any, client: QumuloClient) -> None:
    sim.state.page_size = 10  # the cluster caps pages below what we ask for
    assert len(client.list_file_handles(limit=1000)) == sim.state.handle_count
    assert len(client.list_smb_sessions(limit=1000)) == len(sim.state.sessions_snapshot())


def test_lock_listing_whose_next_never_ends(sim: Any, client: QumuloClient) -> None:
    sim.state.lock_listings_never_end = True
    total = len(sim.state.grants_snapshot())
    assert total % 7, "the seed must leave a short last page"
    grants = _listed(client.iter_share_mode_grants(limit=7))
    assert len(grants) == total
    # a short page is not proof of the end (unlike the SDK's LockIter): the listing ends on the empty page
    assert client.stats.by_endpoint["/v1/files/locks/smb/share-mode/"] == total // 7 + 2
    first = grants[0]
    client.stats.reset()
    per_file = client.list_file_share_mode_grants(first.file_id)
    assert per_file and client.stats.requests == 2


def test_lock_listing_of_exactly_full_pages_ends_on_the_empty_page(sim: Any, client: QumuloClient) -> None:
    sim.state.lock_listings_never_end = True
    total = len(sim.state.grants_snapshot())
    assert len(_listed(client.iter_share_mode_grants(limit=total))) == total
    assert client.stats.by_endpoint["/v1/files/locks/smb/share-mode/"] == 2


class _CorruptingTLSServer:
    """A TLS server that reads one request per connection, then answers with a corrupt TLS record.

    The client has sent its request (the cluster may have acted on it) and then fails with an ``SSLError`` while
    reading the answer: the case where a retry would repeat a close the cluster already performed.
    """

    def __init__(self, directory: Path) -> None:
        from qlocks_tools.simulator.tls import generate_certificate, server_context

        self.cafile, key = generate_certificate(directory)
        self._ctx = server_context(self.cafile, key)
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.requests: list[str] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self._sock.accept()
            except OSError:
                return
            if self._stopping.is_set():  # the wake-up connection from stop()
                raw.close()
                return
            try:
                with self._ctx.wrap_socket(raw, server_side=True) as conn:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += conn.recv(65536)
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = next(
                        (
                            int(line.split(b":")[1])
                            for line in head.split(b"\r\n")
                            if line.lower().startswith(b"content-length:")
                        ),
                        0,
                    )
                    while len(body) < length:
                        body += conn.recv(65536)
                    self.requests.append(head.split(b"\r\n")[0].decode())
                    os.write(
                        conn.fileno(), b"\x17\x03\x03\x00\x20" + b"\x00" * 32
                    )  # bogus application record
                    # keep the connection until the client hangs up (it has read the record by then): closing
                    # first could reset it before the record is read, and the client would see another error
                    conn.settimeout(10)
                    while conn.recv(65536):
                        pass
            except (OSError, ssl.SSLError):
                pass

    def stop(self) -> None:
        # closing the listening socket does not wake a blocked accept() (Linux): connect once to wake it
        self._stopping.set()
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
        self._thread.join(timeout=10)
        self._sock.close()
        assert not self._thread.is_alive(), "the TLS test server did not stop"


def test_close_is_not_retried_after_a_tls_error_on_the_answer(tmp_path: Path) -> None:
    """Regression: urllib3's ``Retry`` retries errors it cannot classify (``SSLError``) for every method, POST
    included, so a close whose answer was garbled on the wire was sent again (up to 3 more times)."""
    server = _CorruptingTLSServer(tmp_path)
    try:
        config = QumuloConfig(
            host="127.0.0.1",
            port=server.port,
            access_token="access-v1:test",
            ca_bundle=str(server.cafile),
            timeout_s=5.0,
        )
        with QumuloClient(config) as c, pytest.raises(QumuloConnectionError):
            c.close_file_handles(["1.2.3"])
        assert server.requests == ["POST /v1/smb/files/close HTTP/1.1"]
    finally:
        server.stop()


def _handle_page_requests(sim: Any) -> int:
    return sum(1 for _, p in sim.state.request_log if p.startswith("/v1/smb/files/"))


def test_next_page_is_fetched_while_the_caller_works_on_this_one(sim: Any, client: QumuloClient) -> None:

    sim.state.reset_request_log()
    pages = client.iter_file_handles(limit=10)
    first = next(pages)
    assert first
    deadline = time.monotonic() + 5
    while _handle_page_requests(sim) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # polling the cluster's log, not timing anything
    assert _handle_page_requests(sim) == 2, "page 2 is requested before the caller asks for it"
    pages.close()  # the caller stops early: no error, nothing more fetched
    assert _handle_page_requests(sim) == 2
    rest = client.list_file_handles(limit=10)
    assert len(rest) == sim.state.handle_count


def test_an_error_on_a_prefetched_page_reaches_the_caller(sim: Any, client: QumuloClient) -> None:
    pages = client.iter_file_handles(limit=10)
    sim.state.inject_fault("/v1/smb/files/", kind="malformed", count=100)
    with pytest.raises(QumuloProtocolError):
        for _ in pages:
            pass


def test_only_a_file_system_404_means_the_object_is_missing() -> None:
    from bot.qumulo.mapping import error_from_response

    fs = error_from_response(
        404, b'{"error_class": "fs_no_such_entry_error", "description": "x"}', endpoint="e"
    )
    proxy = error_from_response(404, b"<html>Not Found</html>", endpoint="e")
    generic = error_from_response(404, b'{"error_class": "http_not_found_error"}', endpoint="e")
    assert isinstance(fs, QumuloNotFound) and fs.object_missing
    assert isinstance(proxy, QumuloNotFound) and not proxy.object_missing
    assert isinstance(generic, QumuloNotFound) and not generic.object_missing


@pytest.mark.parametrize("trap", ["looping", "endless"])
def test_a_listing_that_does_not_end_is_an_error_not_a_short_answer(sim: Any, trap: str) -> None:
    sim.state.paging_trap = trap
    with QumuloClient(config_for(sim)) as c, pytest.raises(QumuloProtocolError, match="does not end"):
        flatten(c.iter_file_handles(limit=50))
