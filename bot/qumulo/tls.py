"""The certificate a cluster presents: fetch it, fingerprint it, read its subject and names, explain a refusal.

``fetch_chain`` opens a TLS connection with verification off only to *read* the presented chain: it sends nothing
over it (no HTTP request, no credentials) and closes it. What it returns is untrusted until the admin compared the
fingerprint with the cluster's; ``qlocks doctor`` and ``qlocks trust-cluster`` say so.

Subject, issuer, validity and subjectAltName come from a minimal DER reader below, not from ``cryptography`` (the
product does not depend on it; ``tests/test_layers.py``) nor ``ssl._ssl._test_decode_cert`` (private, file-based,
may go away). X.509's outer structure is fixed (RFC 5280 §4.1) and we only walk it, so the reader is small; anything
it cannot read raises ``CertificateParseError`` and callers fall back to the fingerprint, which needs no parsing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


class CertificateParseError(ValueError):
    """The DER is not an X.509 certificate this reader understands."""


def colon_hex(digest: str) -> str:
    """``ab12…`` -> ``AB:12:…`` (how browsers, openssl and Qumulo's UI show fingerprints)."""
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)).upper()


@dataclass(frozen=True, slots=True)
class PresentedCert:
    """One certificate of the presented chain. ``subject`` / ``names`` are empty when it could not be parsed."""

    der: bytes = field(repr=False)
    subject: str = ""
    issuer: str = ""
    names: tuple[str, ...] = ()  # subjectAltName entries as "DNS:x" / "IP:1.2.3.4"; () when there is none
    has_san: bool = False
    not_after: str = ""
    parsed: bool = False

    @classmethod
    def from_der(cls, der: bytes) -> PresentedCert:
        try:
            info = parse_certificate(der)
        except CertificateParseError:
            return cls(der)
        return cls(der, parsed=True, **info)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    @property
    def fingerprint(self) -> str:
        """``AB:CD:…``: what ``QUMULO_TLS_FINGERPRINT`` accepts (colons optional)."""
        return colon_hex(self.sha256)

    @property
    def self_signed(self) -> bool:
        return self.parsed and self.subject == self.issuer

    def describe(self) -> str:
        if not self.parsed:
            return "a certificate qlocks cannot read (only its fingerprint is known)"
        names = ", ".join(self.names[:6]) + (
            f" and {len(self.names) - 6} more" if len(self.names) > 6 else ""
        )
        parts = [
            f"subject {self.subject or '(empty)'}",
            "self-signed" if self.self_signed else f"issued by {self.issuer or '(empty)'}",
            f"names {names}" if self.has_san else "no subjectAltName",
        ]
        if self.not_after:
            parts.append(f"valid until {self.not_after}")
        return ", ".join(parts)

    def matches_host(self, host: str) -> bool:
        """Whether ``host`` is one of the subjectAltName entries (DNS with a leading ``*.`` wildcard, or IP)."""
        host = host.strip("[]").rstrip(".").lower()
        try:
            ip: Any = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        for name in self.names:
            kind, _, value = name.partition(":")
            if kind == "IP" and ip is not None:
                try:
                    if ipaddress.ip_address(value) == ip:
                        return True
                except ValueError:
                    continue
            elif kind == "DNS" and ip is None:
                value = value.rstrip(".").lower()
                if value == host:
                    return True
                if value.startswith("*.") and "." in host and host.split(".", 1)[1] == value[2:]:
                    return True
        return False


def to_pem(certs: Sequence[PresentedCert]) -> str:
    return "".join(ssl.DER_cert_to_PEM_cert(c.der) for c in certs)


def fetch_chain(host: str, port: int, *, timeout_s: float) -> list[PresentedCert]:
    """The chain the server at ``host:port`` presents, leaf first. Raises ``OSError`` (``ssl.SSLError`` included)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # to read the chain only: nothing is sent on this connection
    try:
        ipaddress.ip_address(host)
        sni: str | None = None
    except ValueError:
        sni = host
    with (
        socket.create_connection((host, port), timeout=timeout_s) as raw,
        ctx.wrap_socket(raw, server_hostname=sni) as tls,
    ):
        ders = _unverified_chain(tls)
    if not ders:
        raise ssl.SSLError("the server presented no certificate")
    return [PresentedCert.from_der(d) for d in ders]


def check_trust(host: str, port: int, *, cafile: str, timeout_s: float) -> str | None:
    """A handshake that verifies the chain against ``cafile`` and the host name as urllib3 2 does (no common-name
    fallback); None when it passes, else the TLS library's reason. Nothing is sent after the handshake."""
    ctx = ssl.create_default_context(cafile=cafile)  # cafile only: the system CAs are not loaded with it
    ctx.hostname_checks_common_name = False
    try:
        with (
            socket.create_connection((host, port), timeout=timeout_s) as raw,
            ctx.wrap_socket(raw, server_hostname=host.strip("[]")),
        ):
            return None
    except ssl.SSLError as exc:
        return _short(str(exc))
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def _unverified_chain(tls: ssl.SSLSocket) -> list[bytes]:
    """Leaf first. ``get_unverified_chain`` is public from Python 3.13; 3.10–3.12 have it on the C object. Without
    either, the leaf alone (enough for a self-signed certificate, which is what clusters ship)."""
    getter = getattr(tls, "get_unverified_chain", None) or getattr(
        getattr(tls, "_sslobj", None), "get_unverified_chain", None
    )
    if getter is not None:
        try:
            chain = getter()
        except (AttributeError, ssl.SSLError):
            chain = None
        if chain:
            # 3.13: DER bytes; before: ``_ssl.Certificate``, whose public_bytes() defaults to PEM
            return [c if isinstance(c, bytes) else ssl.PEM_cert_to_DER_cert(c.public_bytes()) for c in chain]
    leaf = tls.getpeercert(binary_form=True)
    return [leaf] if leaf else []


# OpenSSL's words when the peer answers the TLS hello with something that is not TLS (an HTTP response)
_PLAIN_HTTP_MARKERS = ("WRONG_VERSION_NUMBER", "wrong version number", "record layer failure", "HTTP_REQUEST")


def explain_failure(
    *,
    base_url: str,
    host: str,
    port: int,
    timeout_s: float,
    ca_bundle: str | None,
    pinned: str | None,
    reason: str,
) -> str:
    """One message for a refused TLS connection, from what the cluster presents (read with ``fetch_chain``), naming
    the safe ways on: a CA bundle from ``qlocks trust-cluster`` or ``QUMULO_TLS_FINGERPRINT``, never
    ``QUMULO_VERIFY_TLS=false``. ``reason`` is the TLS library's own text."""
    head = f"TLS verification failed for {base_url}"
    if not _is_verification_failure(reason):
        if any(marker in reason for marker in _PLAIN_HTTP_MARKERS):
            # the first bytes back were not TLS at all: a plain-HTTP server (or a proxy) on that port
            return (
                f"The server at {base_url} speaks plain HTTP on that port, not HTTPS: check QUMULO_HOST and "
                "QUMULO_PORT (Qumulo serves its API over HTTPS, on port 8000 or 443 under /api)"
            )
        # a broken connection, not a refused certificate: nothing to inspect
        return f"The TLS connection to {base_url} failed ({_short(reason)})"
    try:
        leaf: PresentedCert | None = fetch_chain(host, port, timeout_s=timeout_s)[0]
    except OSError:
        leaf = None
    if pinned is not None and leaf is not None and leaf.sha256 == pinned:
        return f"{head}: the cluster presents the pinned certificate, but the TLS connection failed ({_short(reason)})"
    if pinned is not None:
        got = f"SHA-256 {leaf.fingerprint}" if leaf else "a different certificate"
        return (
            f"{head}: the cluster presented {got}, not the certificate QUMULO_TLS_FINGERPRINT pins "
            f"({colon_hex(pinned)}); nothing was sent to it. If the cluster's certificate was replaced on purpose, "
            "check the new fingerprint on the cluster and update QUMULO_TLS_FINGERPRINT; if not, something between "
            "qlocks and the cluster is answering in its place"
        )
    if leaf is None:
        return (
            f"{head} ({_short(reason)}): set QUMULO_CA_BUNDLE to the cluster's CA certificate (qlocks trust-cluster "
            "FILE saves what the cluster presents) or pin it with QUMULO_TLS_FINGERPRINT (qlocks doctor shows it)"
        )
    # The way on comes before the certificate's description, which can be long (names, subject) and is what a
    # clipped message (Slack shows 600 characters) may lose.
    pin = f"QUMULO_TLS_FINGERPRINT={leaf.fingerprint} (check that fingerprint on the cluster first)"
    seen = f"Presented: {leaf.describe()}"
    if leaf.parsed and not leaf.has_san:
        return (
            f"{head}: its certificate has no subjectAltName, which qlocks' TLS library (urllib3 2) refuses whatever "
            f"CA bundle is set. Pin it: {pin}, or give the cluster a certificate with a subjectAltName. {seen}"
        )
    if leaf.parsed and not leaf.matches_host(host):
        return (
            f"{head}: its certificate is not for {host!r}. Set QUMULO_HOST to one of its names, or pin it: {pin}. "
            f"{seen}"
        )
    trust = f"a CA in QUMULO_CA_BUNDLE ({ca_bundle})" if ca_bundle else "a CA qlocks trusts"
    return (
        f"{head}: its certificate is not signed by {trust} ({_short(reason)}). Save the chain the cluster presents "
        f'with "qlocks trust-cluster FILE" and set QUMULO_CA_BUNDLE=FILE, or pin it: {pin}. {seen}'
    )


def _is_verification_failure(reason: str) -> bool:
    text = reason.lower()
    return any(
        marker in text
        for marker in ("certificate verify failed", "fingerprints did not match", "hostname", "doesn't match")
    )


def _short(reason: str) -> str:
    """``[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)`` ->
    ``self-signed certificate``."""
    text = reason
    if "certificate verify failed:" in text:
        text = text.split("certificate verify failed:", 1)[1]
    text = text.split(" (_ssl.c", 1)[0].strip(" '\")")
    return printable(text[:200]) or "refused"


# -- the minimal DER reader ---------------------------------------------------------------------------------------

_ATTRS = {
    "2.5.4.3": "CN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.25": "DC",
}
_SAN = "2.5.29.17"


def _tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the element at ``pos``."""
    if pos + 2 > end:
        raise CertificateParseError("truncated element")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if tag & 0x1F == 0x1F:
        raise CertificateParseError("multi-byte tags are not used in certificates")
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > end:
            raise CertificateParseError("bad length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > end:
        raise CertificateParseError("element runs past its container")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, s, e = _tlv(data, pos, end)
        out.append((tag, s, e))
        pos = e
    return out


def _oid(raw: bytes) -> str:
    if not raw:
        raise CertificateParseError("empty OID")
    first = raw[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def _string(tag: int, raw: bytes) -> str:
    if tag == 0x1E:  # BMPString
        text = raw.decode("utf-16-be", "replace")
    elif tag == 0x1C:  # UniversalString
        text = raw.decode("utf-32-be", "replace")
    elif tag == 0x0C:  # UTF8String
        text = raw.decode("utf-8", "replace")
    else:  # PrintableString, IA5String, T61String, VisibleString, …
        text = raw.decode("latin-1")
    return printable(text)


def printable(text: str) -> str:
    """Control, bidi and other invisible characters as ``\\u…`` escapes: a crafted name cannot hide or reorder."""
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


def _name(data: bytes, start: int, end: int) -> str:
    parts = []
    for set_tag, s, e in _children(data, start, end):
        if set_tag != 0x31:
            raise CertificateParseError("a Name holds SETs")
        for seq_tag, s2, e2 in _children(data, s, e):
            kids = _children(data, s2, e2)
            if seq_tag != 0x30 or len(kids) != 2 or kids[0][0] != 0x06:
                raise CertificateParseError("bad attribute")
            oid = _oid(data[kids[0][1] : kids[0][2]])
            tag, vs, ve = kids[1]
            parts.append(f"{_ATTRS.get(oid, oid)}={_string(tag, data[vs:ve])}")
    return ", ".join(parts)


def _time(tag: int, raw: bytes) -> str:
    text = raw.decode("ascii", "replace")
    try:
        if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
            when = dt.datetime.strptime(text, "%y%m%d%H%M%SZ")
        else:  # GeneralizedTime YYYYMMDDHHMMSSZ
            when = dt.datetime.strptime(text, "%Y%m%d%H%M%SZ")
    except ValueError:
        return printable(text)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _san(data: bytes, start: int, end: int) -> tuple[str, ...]:
    tag, s, e = _tlv(data, start, end)
    if tag != 0x30:
        raise CertificateParseError("subjectAltName is a SEQUENCE")
    names = []
    for gtag, gs, ge in _children(data, s, e):
        raw = data[gs:ge]
        if gtag == 0x82:
            names.append(f"DNS:{printable(raw.decode('latin-1'))}")
        elif gtag == 0x87 and len(raw) in (4, 16):
            names.append(f"IP:{ipaddress.ip_address(raw)}")
        elif gtag == 0x81:
            names.append(f"email:{printable(raw.decode('latin-1'))}")
        elif gtag == 0x86:
            names.append(f"URI:{printable(raw.decode('latin-1'))}")
        else:
            names.append("other")
    return tuple(names)


def parse_certificate(der: bytes) -> dict[str, Any]:
    """``subject``, ``issuer``, ``not_after``, ``names`` and ``has_san`` of a DER certificate."""
    try:
        tag, s, e = _tlv(der, 0, len(der))
        if tag != 0x30:
            raise CertificateParseError("not a SEQUENCE")
        cert = _children(der, s, e)
        if len(cert) != 3 or cert[0][0] != 0x30:
            raise CertificateParseError("a certificate is tbsCertificate, algorithm, signature")
        tbs = _children(der, cert[0][1], cert[0][2])
        if tbs and tbs[0][0] == 0xA0:  # [0] version
            tbs = tbs[1:]
        if len(tbs) < 6:
            raise CertificateParseError("tbsCertificate too short")
        _serial, _alg, issuer, validity, subject, _spki, *rest = tbs
        times = _children(der, validity[1], validity[2])
        if len(times) != 2:
            raise CertificateParseError("validity is notBefore, notAfter")
        names: tuple[str, ...] = ()
        has_san = False
        for etag, es, ee in rest:
            if etag != 0xA3:  # [1]/[2] unique IDs
                continue
            _seq, ss, se = _tlv(der, es, ee)
            for _t, xs, xe in _children(der, ss, se):
                ext = _children(der, xs, xe)
                if not ext or ext[0][0] != 0x06:
                    raise CertificateParseError("bad extension")
                if _oid(der[ext[0][1] : ext[0][2]]) == _SAN:
                    value = ext[-1]
                    if value[0] != 0x04:
                        raise CertificateParseError("extnValue is an OCTET STRING")
                    names = _san(der, value[1], value[2])
                    has_san = True
        return {
            "subject": _name(der, subject[1], subject[2]),
            "issuer": _name(der, issuer[1], issuer[2]),
            "not_after": _time(times[1][0], der[times[1][1] : times[1][2]]),
            "names": names,
            "has_san": has_san,
        }
    except (IndexError, ValueError) as exc:  # ValueError: bad IP bytes, CertificateParseError
        if isinstance(exc, CertificateParseError):
            raise
        raise CertificateParseError(str(exc)) from exc


__all__ = [
    "CertificateParseError",
    "PresentedCert",
    "check_trust",
    "colon_hex",
    "explain_failure",
    "fetch_chain",
    "parse_certificate",
    "printable",
    "to_pem",
]
