"""``bot.envfile.load_env_file``: ``./.env`` of the working directory, by explicit path; the environment wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.envfile import load_env_file


def test_reads_dot_env_of_the_given_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("QUMULO_HOST=from-file\nQUMULO_PORT=9000\n")
    monkeypatch.setenv("QUMULO_PORT", "8000")  # the environment wins over .env
    assert load_env_file(tmp_path) == (tmp_path / ".env").resolve()
    import os

    assert os.environ["QUMULO_HOST"] == "from-file"
    assert os.environ["QUMULO_PORT"] == "8000"


def test_defaults_to_the_working_directory_not_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("QLOCKS_CLUSTER_NAME=cwd\n")
    monkeypatch.chdir(tmp_path)
    assert load_env_file() == (tmp_path / ".env").resolve()


def test_none_when_there_is_no_file(tmp_path: Path) -> None:
    assert load_env_file(tmp_path) is None
    (tmp_path / ".env").mkdir()  # a directory is not a settings file
    assert load_env_file(tmp_path) is None


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"QUMULO_HOST=\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"\.env: cannot read it") as exc:
        load_env_file(tmp_path)
    assert "\n" not in str(exc.value)
