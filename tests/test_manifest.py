"""manifest.yml against Slack's published manifest schema (vendored: slackapi/manifest-schema, MIT)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, ValidationError

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "manifest.schema.1.0.0.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_schema_is_slacks_draft7_schema() -> None:
    Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_manifest_validates(manifest: dict[str, Any]) -> None:
    Draft7Validator(SCHEMA).validate(manifest)


def test_manifest_content(manifest: dict[str, Any]) -> None:
    assert manifest["_metadata"]["major_version"] == 1
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/qlocks" and command["should_escape"] is False
    assert "search" in command["usage_hint"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(
        ["commands", "chat:write", "chat:write.public", "usergroups:read"]
    )
    assert "user" not in manifest["oauth_config"]["scopes"]


def test_schema_catches_a_broken_manifest(manifest: dict[str, Any]) -> None:
    """The validation above is not vacuous: a command without its leading slash is rejected."""
    broken = copy.deepcopy(manifest)
    broken["features"]["slash_commands"][0]["command"] = "qlocks"
    with pytest.raises(ValidationError, match="does not match"):
        Draft7Validator(SCHEMA).validate(broken)
    broken = copy.deepcopy(manifest)
    broken["settings"]["interactivity"] = {"request_url": "https://x.example/slack/events"}
    with pytest.raises(ValidationError, match="is_enabled"):
        Draft7Validator(SCHEMA).validate(broken)
