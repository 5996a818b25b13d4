"""What each layer may know, checked on the source (ast, no execution) and on a real `qlocks run` process.

- The domain (``bot.qumulo``, ``bot.locks``, ``bot.audit``) imports nothing from Slack and its strings hold no Slack
  syntax (mentions, entities, links, mrkdwn or code spans): Slack's text is made in ``bot.slack`` only.
- The product (``bot``) never imports the tooling (``qlocks_tools``) except where ``bot.cli`` forwards the tooling
  subcommands, and there are no import circles in ``bot`` (lazy and ``TYPE_CHECKING`` imports included).
- A running ``qlocks run`` has loaded no tooling module and not ``cryptography``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / "bot"
TOOLS = REPO / "tools" / "qlocks_tools"
DOMAIN = ("qumulo", "locks", "audit.py", "store")
SLACK_LIBS = ("slack_bolt", "slack_sdk", "bot.slack")


def _module_name(path: Path, base: Path, package: str) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _imports(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (top level, functions, TYPE_CHECKING blocks)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # may be a submodule
    return names


def _modules(base: Path = ROOT, package: str = "bot") -> dict[str, set[str]]:
    return {_module_name(p, base, package): _imports(p) for p in sorted(base.rglob("*.py"))}


def _in(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _domain_files() -> list[Path]:
    files: list[Path] = []
    for part in DOMAIN:
        target = ROOT / part
        files.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    return files


def test_domain_imports_nothing_from_slack_or_the_tooling() -> None:
    offenders = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in _domain_files()
        for name in sorted(_imports(path))
        if _in(name, *SLACK_LIBS, "qlocks_tools", "bot.compose", "bot.cli")
    ]
    assert not offenders


# Slack's syntax: mentions/specials/channels, entity escapes, <url|label> links, *bold*, _italic_, ~strike~, `code`.
SLACK_SYNTAX = re.compile(
    r"<[@!#]|&(?:amp|lt|gt);|<https?://|<mailto:"
    r"|(?<![\w*])\*[^\s*][^*\n]*\*(?![\w*])"
    r"|(?<![\w])_[^\s_][^_\n]*_(?![\w])"
    r"|(?<![\w~])~[^\s~][^~\n]*~(?![\w~])"
    r"|`[^`\n]+`"
)


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants that are data (docstrings excluded); an f-string's literal parts joined with ``{}``."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    out: list[tuple[int, str]] = []
    inside_fstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inside_fstrings.add(id(value))
                parts.append(value.value if isinstance(value, ast.Constant) else "{}")
            out.append((node.lineno, "".join(str(p) for p in parts)))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and id(node) not in inside_fstrings
        ):
            out.append((node.lineno, node.value))
    return out


def test_domain_strings_hold_no_slack_syntax() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{line}: {text!r}"
        for path in _domain_files()
        for line, text in _strings(ast.parse(path.read_text(encoding="utf-8")))
        if SLACK_SYNTAX.search(text)
    ]
    assert not offenders


@pytest.mark.parametrize(
    "text",
    ["<@U123>", "<!channel>", "&lt;x&gt;", "<https://x|y>", "*bold* words", "an _italic_ word", "`code`"],
)
def test_the_slack_syntax_check_catches_each_form(text: str) -> None:
    assert SLACK_SYNTAX.search(text)


@pytest.mark.parametrize("text", ["~$budget.xlsx", "a*b", "snake_case_name", "2 * 3 * 4", "%s: %s"])
def test_the_slack_syntax_check_lets_plain_text_through(text: str) -> None:
    assert not SLACK_SYNTAX.search(text)


def test_product_never_imports_the_tooling() -> None:
    offenders = [
        f"{mod} imports {name}"
        for mod, names in _modules().items()
        for name in sorted(names)
        if _in(name, "qlocks_tools") and mod != "bot.cli"
    ]
    assert not offenders


def test_the_tooling_uses_the_product_only_through_its_front_doors() -> None:
    """The simulator checks the client against the wire format, so it uses none of the product; the playground
    builds the bot like a deployment (``bot.compose``), never reaching into listeners."""
    tooling = _modules(TOOLS, "qlocks_tools")
    assert not [
        f"{mod} imports {name}"
        for mod, names in tooling.items()
        if _in(mod, "qlocks_tools.simulator")
        for name in sorted(names)
        if _in(name, "bot", "requests")
    ]
    assert not [
        f"{mod} imports {name}"
        for mod, names in tooling.items()
        if _in(mod, "qlocks_tools.playground", "qlocks_tools.fakeslack")
        for name in sorted(names)
        if _in(name, "bot.slack.listeners", "bot.slack.app", "bot.locks.service")
    ]


def test_slack_layer_does_not_reach_into_the_wire() -> None:
    assert not [
        f"{mod} imports {name}"
        for mod, names in _modules().items()
        if _in(mod, "bot.slack")
        for name in sorted(names)
        if _in(name, "requests", "urllib3")
    ]


def test_config_and_audit_are_leaves() -> None:
    """They import nothing of the app but the state store, which imports nothing of the app at all."""
    for mod in ("config.py", "audit.py"):
        assert not [
            n for n in _imports(ROOT / mod) if _in(n, "bot") and not _in(n, "bot.config", "bot.store")
        ]
    for path in sorted((ROOT / "store").rglob("*.py")):
        assert not [n for n in _imports(path) if _in(n, "bot") and not _in(n, "bot.store")], path


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _graph(base: Path, package: str) -> dict[str, set[str]]:
    modules = _modules(base, package)
    return {
        mod: {name for name in names if name in modules and name != mod and not mod.startswith(name + ".")}
        for mod, names in modules.items()
    }


def test_no_import_circles_in_the_product() -> None:
    assert _cycles(_graph(ROOT, "bot")) == []


def test_the_circle_check_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_cryptography_is_a_tooling_dependency_not_a_product_one() -> None:
    product = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    tooling = tomllib.loads((REPO / "tools" / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not [d for d in product["dependencies"] if d.lower().startswith("cryptography")]
    assert [d for d in tooling["dependencies"] if d.lower().startswith("cryptography")]
    assert any(d.startswith("qlocks-tools") for d in product["optional-dependencies"]["demo"])


# The real `qlocks run` (HTTP mode) in its own interpreter: once it is listening, report what it has imported.
_RUN_PROBE = textwrap.dedent(
    """
    import json, os, sys
    import bot.slack.run as run

    serve = run.make_http_server

    def probe(*args, **kwargs):
        kwargs["port"] = 0  # a port picked in advance could be taken by another process before this binds it
        server = serve(*args, **kwargs)

        def report(*_args, **_kwargs):  # instead of serving: everything `qlocks run` loaded up to here
            loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("qlocks_tools", "cryptography"))
            print("LOADED " + json.dumps({"bad": loaded, "total": len(sys.modules)}), flush=True)
            os._exit(0)

        server.serve_forever = report
        return server

    run.make_http_server = probe
    from bot.cli import main
    sys.exit(main(["run"]))
    """
)


def test_qlocks_run_loads_no_tooling_and_no_cryptography(sim: Any, tmp_path: Path) -> None:
    from tests.slack.test_web import env_for

    with _fake_slack() as fake:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("QUMULO_", "SLACK_", "QLOCKS_"))},
            **env_for(sim, fake, tmp_path),
            "PORT": "8765",  # the probe binds port 0 instead
        }
        proc = subprocess.run(
            [sys.executable, "-c", _RUN_PROBE],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("LOADED ")]
    assert lines, f"qlocks run did not start: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    loaded = json.loads(lines[0][len("LOADED ") :])
    assert loaded["bad"] == [] and loaded["total"] > 100  # it really ran: Bolt, slack_sdk, requests are in


def _fake_slack() -> Any:
    from qlocks_tools.fakeslack import FakeSlack

    from tests.slack.conftest import BOT_TOKEN

    return FakeSlack(bot_token=BOT_TOKEN)


def test_tooling_commands_name_the_extra_when_it_is_missing(tmp_path: Path) -> None:
    blocker = textwrap.dedent(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "qlocks_tools" or name.startswith("qlocks_tools."):
                    raise ImportError("blocked for the test")
                return None
        sys.meta_path.insert(0, Block())
        from bot.cli import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    for command in ("simulator", "demo", "bench"):
        proc = subprocess.run(
            [sys.executable, "-c", blocker, command, "--help"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert proc.returncode == 2, proc.stderr
        assert "[demo]" in proc.stderr and f"qlocks {command}" in proc.stderr
        assert "Traceback" not in proc.stderr
