"""QUMULO_HOST as a base URL: the web UI port 443 serves the API under /api (issue #12 item 4)."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, QlocksConfig, QumuloConfig

TOKEN = {"QUMULO_ACCESS_TOKEN": "access-v1:secret"}


@pytest.mark.parametrize(
    ("host", "port", "base_url"),
    [
        ("qumulo.corp", None, "https://qumulo.corp:8000"),  # the REST port, API at /v1
        ("qumulo.corp:8000", None, "https://qumulo.corp:8000"),
        ("https://qumulo.corp", None, "https://qumulo.corp:8000"),
        ("https://qumulo.corp/", None, "https://qumulo.corp:8000"),
        ("https://qumulo.corp/api", None, "https://qumulo.corp:443/api"),  # a path: the web UI port
        ("https://qumulo.corp/api/", None, "https://qumulo.corp:443/api"),
        ("https://qumulo.corp/api/v1", None, "https://qumulo.corp:443/api"),  # pasted with the version
        ("https://qumulo.corp:443/api", None, "https://qumulo.corp:443/api"),
        ("https://qumulo.corp:443", None, "https://qumulo.corp:443/api"),  # port 443 alone implies /api
        ("qumulo.corp:443", None, "https://qumulo.corp:443/api"),
        ("qumulo.corp", "443", "https://qumulo.corp:443/api"),
        ("https://proxy.corp:443/v1", None, "https://proxy.corp:443"),  # a proxy serving /v1 at its root
        ("https://qumulo.corp:8443/qumulo/api", None, "https://qumulo.corp:8443/qumulo/api"),
        ("https://[fd00::5]/api", None, "https://[fd00::5]:443/api"),
        ("http://127.0.0.1:9000", None, "http://127.0.0.1:9000"),  # the simulator on this machine
        ("http://localhost/api", "9000", "http://localhost:9000/api"),
        ("http://[::1]:9000", None, "http://[::1]:9000"),
    ],
)
def test_base_url(host: str, port: str | None, base_url: str) -> None:
    env = {**TOKEN, "QUMULO_HOST": host, **({"QUMULO_PORT": port} if port else {})}
    cfg = QumuloConfig.from_env(env)
    assert cfg.base_url == base_url
    assert cfg.base_url == cfg.origin + cfg.base_path
    assert cfg.verify is True  # TLS verification stays on whatever the form


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("http://qumulo.corp", "unencrypted"),  # a token in clear text on the network: refused
        ("http://10.0.0.5:8000/api", "unencrypted"),
        ("https://qumulo.corp/api?x=1", "base path"),
        ("https://qumulo.corp/../api", "base path"),
        ("https://qumulo.corp/a b", "base path"),
        ("ftp://qumulo.corp", "scheme"),
        ("qumulo.corp/api", "host name"),  # a path needs the https:// form
    ],
)
def test_one_clear_line_for_a_bad_base_url(host: str, words: str) -> None:
    with pytest.raises(ConfigError) as exc:
        QumuloConfig.from_env({**TOKEN, "QUMULO_HOST": host})
    assert "QUMULO_HOST" in str(exc.value) and words in str(exc.value) and "\n" not in str(exc.value)


def test_port_in_the_url_and_qumulo_port_must_agree() -> None:
    with pytest.raises(ConfigError, match="set only one"):
        QumuloConfig.from_env({**TOKEN, "QUMULO_HOST": "https://q.corp:443/api", "QUMULO_PORT": "8000"})
    same = {**TOKEN, "QUMULO_HOST": "https://q.corp:443/api", "QUMULO_PORT": "443"}
    assert QumuloConfig.from_env(same).base_url == "https://q.corp:443/api"


def test_cluster_name_is_the_host_of_a_base_url() -> None:
    assert QlocksConfig.from_env({"QUMULO_HOST": "https://qumulo.corp/api"}).cluster_name == "qumulo.corp"
