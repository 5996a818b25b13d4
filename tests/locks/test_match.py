"""host: / user: matching and hints (pure)."""

from __future__ import annotations

import pytest

from bot.locks.match import host_matches, similar_names, user_matches
from bot.qumulo.models import SmbSession


def s(name: str, auth: str = "1001", sid: str = "S-1-5-21-9-1001") -> SmbSession:
    return SmbSession(
        location="l", originator="10.0.0.1", server_address="n", auth_id=auth, user_name=name, sid=sid
    )


@pytest.mark.parametrize(
    ("wanted", "hostname", "ok"),
    [
        ("laptop-42", "LAPTOP-42", True),
        ("laptop-42", "laptop-42.corp.example.com.", True),
        ("laptop-42.corp.example.com", "laptop-42.corp.example.com", True),
        ("laptop-42.corp", "laptop-42.corp.example.com", False),
        ("laptop-4", "laptop-42", False),
        ("corp", "laptop-42.corp.example.com", False),
    ],
)
def test_host_matches(wanted: str, hostname: str, ok: bool) -> None:
    assert host_matches(wanted, hostname) is ok


@pytest.mark.parametrize(
    ("wanted", "name", "ok"),
    [
        ("dana", "dana", True),
        ("DANA", "dana", True),
        ("CORP\\dana", "dana", True),
        ("dana@corp.example", "dana", True),
        ("dana", "CORP\\dana", True),
        ("corp\\DANA", "CORP\\dana", True),
        ("OTHER\\dana", "CORP\\dana", False),
        ("dan", "dana", False),
        ("1001", "someone", True),  # auth_id
        ("s-1-5-21-9-1001", "someone", True),  # SID
        ("", "dana", False),
    ],
)
def test_user_matches(wanted: str, name: str, ok: bool) -> None:
    assert user_matches(wanted, s(name)) is ok


def test_similar_names() -> None:
    sessions = [s("dana"), s("daniel"), s("eve"), s("Dana.Smith"), s("")]
    assert similar_names("dan", sessions) == ["dana", "Dana.Smith", "daniel"]
    assert "dana" in similar_names("danna", sessions)
    assert "dana" in similar_names("CORP\\danazz", sessions)
    assert similar_names("zzz", sessions) == []
    assert similar_names("", sessions) == []
