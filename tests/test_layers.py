"""The import direction the architecture promises, checked on every module's imports (ast, no execution)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "bot"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> dict[str, set[str]]:
    base = ROOT / package if package else ROOT
    return {str(p.relative_to(ROOT)): _imports(p) for p in base.rglob("*.py")}


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{mod} imports {name}"
        for mod, names in _modules(package).items()
        for name in sorted(names)
        if name.startswith(forbidden)
    ]


def test_domain_imports_nothing_from_slack() -> None:
    for package in ("qumulo", "locks"):
        assert not _offenders(package, ("slack_bolt", "slack_sdk", "bot.slack", "qlocks_tools.playground"))
    assert not [
        n for n in _imports(ROOT / "audit.py") if n.startswith(("slack_bolt", "slack_sdk", "bot.slack"))
    ]


def test_production_code_never_imports_the_simulator() -> None:
    allowed = ("cli.py", "playground/", "bench/", "qumulo/simulator/")
    offenders = [
        f"{mod} imports {name}"
        for mod, names in _modules("").items()
        for name in names
        if name.startswith("qlocks_tools.simulator") and not mod.startswith(allowed)
    ]
    assert not offenders


def test_simulator_does_not_use_the_client_it_checks() -> None:
    assert not _offenders(
        "qumulo/simulator", ("bot.qumulo.client", "bot.qumulo.models", "bot.locks", "requests")
    )


def test_slack_layer_does_not_reach_into_the_wire() -> None:
    assert not _offenders("slack", ("requests", "qlocks_tools.simulator", "qlocks_tools.playground"))


def test_playground_uses_the_app_like_a_deployment() -> None:
    assert not _offenders("playground", ("bot.slack.listeners",))


def test_config_and_audit_are_leaves() -> None:
    for mod in ("config.py", "audit.py"):
        assert not [n for n in _imports(ROOT / mod) if n.startswith("bot.") and n != "bot.config"]
