"""A self-signed certificate for ``--tls`` (SAN 127.0.0.1, ::1 and localhost), made with ``cryptography``.

The certificate is its own CA, so ``QUMULO_CA_BUNDLE=<cert.pem>`` makes a verifying client trust it. With
``san=False`` (``--tls-no-san``) it has no subjectAltName, only a common name, like the certificates some clusters
and appliances ship: urllib3 2 refuses those whatever CA bundle is set, so only a pinned fingerprint gets through.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import ssl
from pathlib import Path

logger = logging.getLogger(__name__)


def generate_certificate(
    directory: Path, *, hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1"), san: bool = True
) -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` (mode 0600) into ``directory``; returns their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "qlocks Qumulo simulator"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qlocks"),
        ]
    )
    alt: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt.append(x509.DNSName(host))
    now = dt.datetime.now(dt.UTC)
    if not san:  # the CN names the host, as certificates did before SANs were required
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0] if hosts else "localhost")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = (
        builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    logger.info("generated self-signed certificate %s", cert_path)
    return cert_path, key_path


def server_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert_path), str(key_path))
    return ctx
