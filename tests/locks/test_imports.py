"""A search goes service -> strategy -> client and back: nothing below the service imports it."""

from __future__ import annotations

import ast
from pathlib import Path

LOCKS = Path(__file__).resolve().parents[2] / "bot" / "locks"


def _imported(module: str) -> set[str]:
    """Every module ``bot/locks/<module>.py`` imports, ``TYPE_CHECKING`` blocks included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse((LOCKS / f"{module}.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_module_of_the_domain_imports_the_service() -> None:
    for path in LOCKS.glob("*.py"):
        if path.stem != "service":
            assert "bot.locks.service" not in _imported(path.stem), path.name


def test_strategies_and_assembly_do_not_import_each_other_backwards() -> None:
    assert "bot.locks.searches" not in _imported("assemble")
    assert not {n for n in _imported("query") | _imported("models") if n.startswith(("bot.slack", "slack"))}
