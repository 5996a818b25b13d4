from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bot.config import ConfigError, QlocksConfig, QumuloConfig, SlackConfig, log_level_from_env

BASE = {"QUMULO_HOST": "qumulo.example.com", "QUMULO_ACCESS_TOKEN": "access-v1:secret"}
BOT = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"  # the shape of a real bot token
APP = "xapp-1-A0123456789-1234567890123-0123456789abcdef"  # and of an app-level token


def test_defaults() -> None:
    cfg = QumuloConfig.from_env(BASE)
    assert cfg.base_url == "https://qumulo.example.com:8000"
    assert cfg.verify is True
    assert cfg.timeout_s == 10.0


def test_http_scheme_for_simulator_and_ipv6() -> None:
    cfg = QumuloConfig.from_env({**BASE, "QUMULO_HOST": "http://127.0.0.1/", "QUMULO_PORT": "9000"})
    assert cfg.base_url == "http://127.0.0.1:9000"
    assert QumuloConfig.from_env({**BASE, "QUMULO_HOST": "::1"}).base_url == "https://[::1]:8000"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"QUMULO_ACCESS_TOKEN": "x"}, "QUMULO_HOST"),
        ({"QUMULO_HOST": "h"}, "QUMULO_ACCESS_TOKEN"),
        ({"QUMULO_HOST": "h", "QUMULO_USERNAME": "admin"}, "QUMULO_PASSWORD"),
        ({"QUMULO_HOST": "h", "QUMULO_PASSWORD": "p"}, "QUMULO_USERNAME"),
        ({**BASE, "QUMULO_PORT": "eighty"}, "QUMULO_PORT"),
        ({**BASE, "QUMULO_PORT": "70000"}, "QUMULO_PORT"),
        ({**BASE, "QUMULO_VERIFY_TLS": "maybe"}, "QUMULO_VERIFY_TLS"),
        ({**BASE, "QUMULO_TIMEOUT_S": "-1"}, "QUMULO_TIMEOUT_S"),
        ({**BASE, "QUMULO_CA_BUNDLE": "/nonexistent/ca.pem"}, "QUMULO_CA_BUNDLE"),
        ({**BASE, "QUMULO_HOST": "ftp://x"}, "QUMULO_HOST"),
    ],
)
def test_one_clear_line_naming_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError) as exc:
        QumuloConfig.from_env(env)
    assert names in str(exc.value)
    assert "\n" not in str(exc.value)


def test_tls_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    assert QumuloConfig.from_env({**BASE, "QUMULO_CA_BUNDLE": str(ca)}).verify == str(ca)
    assert QumuloConfig.from_env({**BASE, "QUMULO_VERIFY_TLS": "false"}).verify is False


def test_secrets_not_in_repr() -> None:
    cfg = QumuloConfig.from_env({"QUMULO_HOST": "h", "QUMULO_USERNAME": "u", "QUMULO_PASSWORD": "hunter2"})
    assert "hunter2" not in repr(cfg)
    assert "secret" not in repr(QumuloConfig.from_env(BASE))
    s = SlackConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1234567890-secretbody", "SLACK_SIGNING_SECRET": "shh"})
    assert "xoxb-1234567890-secretbody" not in repr(s) and "shh" not in repr(s)


def test_slack_modes() -> None:
    http = SlackConfig.from_env({"SLACK_BOT_TOKEN": BOT, "SLACK_SIGNING_SECRET": "s"})
    assert not http.socket_mode
    sock = SlackConfig.from_env({"SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": APP})
    assert sock.socket_mode
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        SlackConfig.from_env({"SLACK_BOT_TOKEN": BOT})
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        SlackConfig.from_env({"SLACK_BOT_TOKEN": "xoxp-user"})
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        SlackConfig.from_env({"SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": "xoxb-0000000002-abcdef"})
    assert (
        SlackConfig.from_env(
            {
                **{"SLACK_BOT_TOKEN": BOT, "SLACK_SIGNING_SECRET": "s"},
                "SLACK_API_URL": "http://127.0.0.1:9/api",
            }
        ).api_url
        == "http://127.0.0.1:9/api/"
    )


def test_qlocks_ids() -> None:
    cfg = QlocksConfig.from_env(
        {"QLOCKS_ADMINS": "U123, W456", "QLOCKS_ADMIN_GROUPS": "S1", "QLOCKS_CHANNELS": ""}
    )
    assert cfg.admins == {"U123", "W456"}
    assert cfg.admin_groups == {"S1"}
    assert cfg.channels == frozenset()
    with pytest.raises(ConfigError, match="QLOCKS_ADMINS"):
        QlocksConfig.from_env({"QLOCKS_ADMINS": "alice"})
    with pytest.raises(ConfigError, match="QLOCKS_CHANNELS"):
        QlocksConfig.from_env({"QLOCKS_CHANNELS": "#ops"})


def test_cluster_name_defaults_to_the_bare_host() -> None:
    assert QlocksConfig.from_env({"QUMULO_HOST": "http://127.0.0.1/"}).cluster_name == "127.0.0.1"
    assert QlocksConfig.from_env({"QUMULO_HOST": "qumulo.corp"}).cluster_name == "qumulo.corp"
    assert QlocksConfig.from_env({"QLOCKS_CLUSTER_NAME": "prod"}).cluster_name == "prod"


def test_port_in_host() -> None:
    base = {"QUMULO_ACCESS_TOKEN": "t"}
    assert (
        QumuloConfig.from_env({**base, "QUMULO_HOST": "http://127.0.0.1:9000"}).base_url
        == "http://127.0.0.1:9000"
    )
    assert QumuloConfig.from_env({**base, "QUMULO_HOST": "q.corp:8443"}).base_url == "https://q.corp:8443"
    assert QumuloConfig.from_env({**base, "QUMULO_HOST": "[fe80::1]:9"}).base_url == "https://[fe80::1]:9"
    with pytest.raises(ConfigError, match="QUMULO_PORT"):
        QumuloConfig.from_env({**base, "QUMULO_HOST": "q:1", "QUMULO_PORT": "2"})
    with pytest.raises(ConfigError, match="QUMULO_HOST"):
        QumuloConfig.from_env({**base, "QUMULO_HOST": "q:x"})
    assert QlocksConfig.from_env({"QUMULO_HOST": "https://q.corp:8000/"}).cluster_name == "q.corp"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLACK_BOT_TOKEN", "xoxb-"),  # .env.example's placeholder
        ("SLACK_BOT_TOKEN", "xoxb-…"),
        ("SLACK_BOT_TOKEN", "xoxb-12345"),
        ("SLACK_BOT_TOKEN", "xoxb-1234567890 trailing words"),
        ("SLACK_APP_TOKEN", "xapp-"),
        ("SLACK_APP_TOKEN", "xapp-1-A01"),
    ],
)
def test_placeholder_tokens_are_refused(name: str, value: str) -> None:
    env = {"SLACK_BOT_TOKEN": BOT, "SLACK_SIGNING_SECRET": "s", name: value}
    with pytest.raises(ConfigError) as exc:
        SlackConfig.from_env(env)
    text = str(exc.value)
    assert text.startswith(
        f"{name} looks incomplete: in a real token {value[:5]} is followed by at least 10 "
    )
    assert "\n" not in text
    if value[5:]:  # what was pasted is not echoed: it may be most of a secret
        assert value[5:] not in text


def test_the_env_example_placeholders_do_not_pass() -> None:
    from dotenv import dotenv_values

    example = dotenv_values(Path(__file__).resolve().parents[1] / ".env.example")
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        SlackConfig.from_env({k: v for k, v in example.items() if v is not None})


@pytest.mark.parametrize("value", ["debug", "INFO", " Warning ", "error", "CRITICAL"])
def test_log_levels(value: str) -> None:
    assert log_level_from_env({"QLOCKS_LOG_LEVEL": value}) == getattr(logging, value.strip().upper())
    assert log_level_from_env({}) is None
    assert log_level_from_env({"QLOCKS_LOG_LEVEL": ""}) is None


@pytest.mark.parametrize("value", ["LOUD", "WARN", "10", "NOTSET"])
def test_unknown_log_level_is_one_line(value: str) -> None:
    for check in (log_level_from_env, QlocksConfig.from_env):
        with pytest.raises(ConfigError) as exc:
            check({"QLOCKS_LOG_LEVEL": value})
        assert str(exc.value) == (
            f"QLOCKS_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got {value!r}"
        )


def test_cli_refuses_an_unknown_log_level_before_doing_anything(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bot import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QLOCKS_LOG_LEVEL", "LOUD")
    assert cli.main(["doctor"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "qlocks: configuration error: QLOCKS_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, "
        "got 'LOUD'\n"
    )


def test_ca_bundle_must_be_a_readable_pem_certificate(tmp_path: Path) -> None:
    not_pem = tmp_path / "hostname"
    not_pem.write_text("myhost\n")
    cases = {
        str(not_pem): "holds no PEM certificate (no -----BEGIN CERTIFICATE----- line)",
        str(tmp_path): "is a directory",
        str(tmp_path / "missing.pem"): "no such file",
    }
    if os.geteuid() != 0:  # root reads everything
        locked = tmp_path / "locked.pem"
        locked.write_text("-----BEGIN CERTIFICATE-----\n")
        locked.chmod(0)
        cases[str(locked)] = "cannot read"
    for path, problem in cases.items():
        with pytest.raises(ConfigError) as exc:
            QumuloConfig.from_env({**BASE, "QUMULO_CA_BUNDLE": path})
        text = str(exc.value)
        assert text.startswith("QUMULO_CA_BUNDLE: ") and problem in text, text
        assert "\n" not in text
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("# a comment\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    assert QumuloConfig.from_env({**BASE, "QUMULO_CA_BUNDLE": str(bundle)}).ca_bundle == str(bundle)


FP = "7f3043aef2fb01fabf0210c8e69b06286ebf057918e7f9d449bb02a9707adabf"


@pytest.mark.parametrize(
    "value",
    [
        FP,
        FP.upper(),
        ":".join(FP[i : i + 2] for i in range(0, 64, 2)).upper(),  # as doctor and browsers show it
        "sha256 Fingerprint=" + ":".join(FP[i : i + 2] for i in range(0, 64, 2)).upper(),  # openssl x509
        f"  sha256:{FP} ",
    ],
)
def test_tls_fingerprint_forms(value: str) -> None:
    cfg = QumuloConfig.from_env({**BASE, "QUMULO_TLS_FINGERPRINT": value})
    assert cfg.tls_fingerprint == FP
    assert cfg.verify is False  # the chain is not checked: the pinning adapter checks the certificate


@pytest.mark.parametrize(
    "value",
    [
        FP[:-2],
        FP + "00",
        FP[:-1] + "g",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "x" * 300,
    ],  # short, SHA-1, …
)
def test_a_bad_tls_fingerprint_is_one_line(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        QumuloConfig.from_env({**BASE, "QUMULO_TLS_FINGERPRINT": value})
    text = str(info.value)
    assert text.startswith("QUMULO_TLS_FINGERPRINT must be the SHA-256 fingerprint") and "\n" not in text
    assert len(text) < 300


def test_a_pin_does_not_combine_with_http_a_bundle_or_verification_off(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    pinned = {**BASE, "QUMULO_TLS_FINGERPRINT": FP}
    for extra, says in (
        ({"QUMULO_HOST": "http://127.0.0.1"}, "http://"),
        ({"QUMULO_CA_BUNDLE": str(bundle)}, "set only one"),
        ({"QUMULO_VERIFY_TLS": "false"}, "remove QUMULO_VERIFY_TLS=false"),
    ):
        with pytest.raises(ConfigError, match=says):
            QumuloConfig.from_env({**pinned, **extra})
