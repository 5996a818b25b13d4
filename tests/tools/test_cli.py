"""``qlocks simulator|demo|bench --help``: every option is listed with a sentence saying what it does."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest
from qlocks_tools.cli import DESCRIPTIONS, build_parser


def _options(command: str) -> list[argparse.Action]:
    parser = build_parser(command)
    return [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]


@pytest.mark.parametrize("command", sorted(DESCRIPTIONS))
def test_every_option_has_help_text(command: str) -> None:
    options = _options(command)
    assert options
    for action in options:
        text = action.help or ""
        assert text != argparse.SUPPRESS and len(text.split()) >= 3, f"{action.option_strings}: {text!r}"


@pytest.mark.parametrize("command", sorted(DESCRIPTIONS))
def test_help_output_mentions_every_option_with_its_text(command: str) -> None:
    env = {**os.environ, "COLUMNS": "400"}  # no wrapping: each option's text is on its line, whole
    result = subprocess.run(
        [sys.executable, "-m", "bot", command, "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.partition("options:")[2].splitlines()
    for action in _options(command):
        assert action.help
        flag = action.option_strings[-1]
        starts = [i for i, line in enumerate(lines) if line.lstrip().startswith(flag)]
        assert starts, f"{flag} is not in `qlocks {command} --help`"
        entry = [lines[starts[0]]]  # the option's line and its text (argparse may put it on the next line)
        for line in lines[starts[0] + 1 :]:
            if line.lstrip().startswith("-"):
                break
            entry.append(line)
        assert " ".join(action.help.split()) in " ".join(" ".join(entry).split()), entry


def test_seed_says_what_it_does() -> None:
    for command in ("simulator", "demo"):
        (seed,) = [a for a in _options(command) if "--seed" in a.option_strings]
        assert seed.help and "same seed" in seed.help and "default" in seed.help
