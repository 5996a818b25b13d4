"""TLS against a cluster's own certificate (#12 item 3): doctor shows it, trust-cluster saves it, a pin accepts
exactly it, a certificate without subjectAltName gets the pinning path, and verification off warns once.

Against the simulator over real TLS (``--tls``, and ``--tls-no-san`` for a certificate with a common name only)."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import cli
from bot.qumulo.client import QumuloClient
from bot.qumulo.errors import QumuloTLSError
from bot.qumulo.tls import CertificateParseError, PresentedCert, colon_hex, parse_certificate
from tests.conftest import config_for


@pytest.fixture(scope="module")
def tls_sim() -> Iterator[Any]:
    from qlocks_tools.simulator import start_simulator

    with start_simulator(port=0, handles=40, seed=5, tls=True) as s:
        yield s


@pytest.fixture(scope="module")
def no_san_sim() -> Iterator[Any]:
    from qlocks_tools.simulator import start_simulator

    with start_simulator(port=0, handles=40, seed=5, tls=True, tls_san=False) as s:
        yield s


def _env(monkeypatch: pytest.MonkeyPatch, sim: Any, tmp_path: Path, **extra: str) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env; the audit log default lands here
    monkeypatch.setenv("QUMULO_HOST", sim.host)
    monkeypatch.setenv("QUMULO_PORT", str(sim.port))
    monkeypatch.setenv("QUMULO_ACCESS_TOKEN", sim.admin_token)
    monkeypatch.setenv("QUMULO_TIMEOUT_S", "5")
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


def _search_json(capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = cli.main(["search", "xlsx", "--json"])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


# -- doctor shows the presented certificate ---------------------------------------------------------------------


def test_doctor_prints_the_presented_fingerprint_and_subject(
    tls_sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _env(monkeypatch, tls_sim, tmp_path, QUMULO_CA_BUNDLE=str(tls_sim.cafile))
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"[ok  ] certificate presented: SHA-256 {colon_hex(tls_sim.cert_fingerprint)}" in out
    assert (
        "subject CN=qlocks Qumulo simulator, O=qlocks, self-signed, names DNS:localhost, IP:127.0.0.1" in out
    )


def test_doctor_without_a_bundle_names_both_safe_paths(
    tls_sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _env(monkeypatch, tls_sim, tmp_path)
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    pin = f"QUMULO_TLS_FINGERPRINT={colon_hex(tls_sim.cert_fingerprint)}"
    assert "[warn] certificate is self-signed" in out and "qlocks trust-cluster FILE" in out and pin in out
    (fail,) = [line for line in out.splitlines() if line.startswith("[FAIL]")]
    assert "is not signed by a CA qlocks trusts" in fail and "qlocks trust-cluster" in fail and pin in fail
    assert "QUMULO_VERIFY_TLS=false" not in fail  # the unsafe way is not what we suggest


# -- trust-cluster ----------------------------------------------------------------------------------------------


def test_trust_cluster_writes_a_bundle_that_makes_search_work(
    tls_sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bundle = tmp_path / "cluster.pem"
    _env(monkeypatch, tls_sim, tmp_path)
    rc, _, err = _search_json(capsys)
    assert rc == 1 and "qlocks trust-cluster" in err  # before: refused, and told the way on
    # a QUMULO_CA_BUNDLE naming the file to be written does not stop trust-cluster
    monkeypatch.setenv("QUMULO_CA_BUNDLE", str(bundle))
    assert cli.main(["trust-cluster", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert f"SHA-256 {colon_hex(tls_sim.cert_fingerprint)}" in out and "compare the SHA-256" in out
    assert bundle.read_text() == tls_sim.cafile.read_text()
    rc, out, err = _search_json(capsys)
    assert rc == 0, err
    assert '"path"' in out
    # a second run does not overwrite without --force
    assert cli.main(["trust-cluster", str(bundle)]) == 1
    assert "exists (--force replaces it)" in capsys.readouterr().out
    assert cli.main(["trust-cluster", str(bundle), "--force"]) == 0


def test_trust_cluster_refuses_a_certificate_without_san_and_names_the_pin(
    no_san_sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bundle = tmp_path / "cluster.pem"
    _env(monkeypatch, no_san_sim, tmp_path)
    assert cli.main(["trust-cluster", str(bundle)]) == 1
    out = capsys.readouterr().out
    assert "no subjectAltName" in out
    assert f"QUMULO_TLS_FINGERPRINT={colon_hex(no_san_sim.cert_fingerprint)}" in out
    assert not bundle.exists()


def test_trust_cluster_on_plain_http_says_there_is_nothing_to_trust(
    sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _env(monkeypatch, sim, tmp_path, QUMULO_HOST=f"http://{sim.host}")
    assert cli.main(["trust-cluster", str(tmp_path / "x.pem")]) == 1
    assert "plain HTTP" in capsys.readouterr().out


# -- pinning ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("san", [True, False], ids=["san", "no-san"])
def test_the_right_pin_works_with_and_without_san(
    tls_sim: Any, no_san_sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    tmp_path: Path, san: bool,
) -> None:  # fmt: skip
    s = tls_sim if san else no_san_sim
    _env(monkeypatch, s, tmp_path, QUMULO_TLS_FINGERPRINT=colon_hex(s.cert_fingerprint))
    rc, out, err = _search_json(capsys)
    assert rc == 0, err
    assert json.loads(out)["total_handles"] > 0
    assert err == ""  # verified by the pin: no warning of any kind
    assert cli.main(["doctor"]) == 0
    assert "[ok  ] certificate matches QUMULO_TLS_FINGERPRINT" in capsys.readouterr().out


def test_a_wrong_pin_is_refused_before_any_credential_is_sent(tls_sim: Any, capsys: Any) -> None:
    wrong = "ab" * 32
    config = config_for(
        tls_sim,
        ca_bundle=None,
        access_token=None,
        username="admin",
        password="Admin123",
        tls_fingerprint=wrong,
    )
    tls_sim.state.reset_request_log()
    with QumuloClient(config) as c, pytest.raises(QumuloTLSError) as info:
        c.who_am_i()
    assert tls_sim.state.request_log == []  # no login, no request: nothing reached the cluster
    text = str(info.value)
    assert f"presented SHA-256 {colon_hex(tls_sim.cert_fingerprint)}" in text
    assert f"not the certificate QUMULO_TLS_FINGERPRINT pins ({colon_hex(wrong)})" in text
    assert "Admin123" not in text


def test_doctor_with_a_wrong_pin_fails_and_sends_nothing(
    tls_sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _env(monkeypatch, tls_sim, tmp_path, QUMULO_TLS_FINGERPRINT="00" * 32)
    tls_sim.state.reset_request_log()
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] certificate does NOT match QUMULO_TLS_FINGERPRINT" in out
    assert "[FAIL] cluster: TLS verification failed" in out
    assert tls_sim.state.request_log == []


def test_a_certificate_without_san_gets_the_pinning_path_even_with_its_bundle(no_san_sim: Any) -> None:
    """urllib3 2 refuses a certificate without subjectAltName even when it is trusted: say so, name the pin."""
    with QumuloClient(config_for(no_san_sim)) as c, pytest.raises(QumuloTLSError) as info:
        c.who_am_i()
    text = str(info.value)
    assert "has no subjectAltName" in text and "urllib3 2" in text
    assert f"QUMULO_TLS_FINGERPRINT={colon_hex(no_san_sim.cert_fingerprint)}" in text


def test_a_certificate_for_another_name_says_which_names_it_has() -> None:
    from qlocks_tools.simulator import start_simulator

    with start_simulator(port=0, handles=5, tls=True, tls_names=("qumulo.example",)) as s:
        pin = colon_hex(s.cert_fingerprint)
        with QumuloClient(config_for(s)) as c, pytest.raises(QumuloTLSError) as info:
            c.who_am_i()
    text = str(info.value)
    assert "is not for '127.0.0.1'" in text and "names DNS:qumulo.example" in text
    assert f"QUMULO_TLS_FINGERPRINT={pin}" in text


# -- QUMULO_VERIFY_TLS=false ---------------------------------------------------------------------------------------


def test_verify_off_warns_once_per_process_over_several_searches(
    tls_sim: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    from bot.qumulo import client as client_module

    monkeypatch.setattr(client_module, "_unverified_warned", False)
    _env(monkeypatch, tls_sim, tmp_path, QUMULO_VERIFY_TLS="false")
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        rc, _, err = _search_json(capsys)
        assert rc == 0, err
    ours = [r for r in caplog.records if "QUMULO_VERIFY_TLS=false" in r.getMessage()]
    assert len(ours) == 1
    assert not [r for r in caplog.records if "InsecureRequestWarning" in r.getMessage()]


# -- the DER reader -----------------------------------------------------------------------------------------------


def _cert(*, cn: str = "cluster", san: list[Any] | None = None, long_validity: bool = False) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Qumulo")]
    )
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lab CA")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    end = (
        dt.datetime(2051, 6, 1, 12, 30, tzinfo=dt.UTC)
        if long_validity
        else dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(12345)
        .not_valid_before(start)
        .not_valid_after(end)
    )
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_reads_subject_issuer_names_and_validity() -> None:
    from cryptography import x509

    der = _cert(
        cn="qumulo-01.lab",
        san=[
            x509.DNSName("*.lab.example"),
            x509.IPAddress(ipaddress.ip_address("10.1.2.3")),
            x509.IPAddress(ipaddress.ip_address("fd00::7")),
        ],
        long_validity=True,  # after 2049: GeneralizedTime
    )
    info = parse_certificate(der)
    assert info == {
        "subject": "CN=qumulo-01.lab, O=Qumulo",
        "issuer": "CN=Lab CA",
        "not_after": "2051-06-01 12:30 UTC",
        "names": ("DNS:*.lab.example", "IP:10.1.2.3", "IP:fd00::7"),
        "has_san": True,
    }
    cert = PresentedCert.from_der(der)
    assert not cert.self_signed
    assert cert.matches_host("qumulo-01.lab.example") and cert.matches_host("10.1.2.3")
    assert cert.matches_host("[fd00:0::7]")
    assert not cert.matches_host("a.b.lab.example") and not cert.matches_host("lab.example")
    assert not cert.matches_host("10.1.2.4")


def test_a_certificate_without_san_and_with_unicode_and_controls_in_its_name() -> None:
    info = parse_certificate(_cert(cn="Zürich\u202e\x07"))
    assert info["has_san"] is False and info["names"] == ()
    assert info["subject"] == "CN=Zürich\\u202e\\u0007, O=Qumulo"  # nothing invisible reaches a terminal
    assert info["not_after"] == "2027-01-01 00:00 UTC"


@given(st.binary(max_size=300))
def test_garbage_is_a_parse_error_never_a_crash(data: bytes) -> None:
    with contextlib.suppress(CertificateParseError):  # anything else fails the test
        parse_certificate(data)
    cert = PresentedCert.from_der(data)  # the fingerprint is always there
    assert len(cert.fingerprint) == 95


@given(st.integers(min_value=0, max_value=600))
def test_a_truncated_certificate_is_a_parse_error(cut: int) -> None:
    der = _DER_FOR_TRUNCATION
    with pytest.raises(CertificateParseError):
        parse_certificate(der[: min(cut, len(der) - 1)])


_DER_FOR_TRUNCATION = _cert(cn="x")
