"""Docs are tested: every CLI command and every setting appears in the README."""

from __future__ import annotations

from pathlib import Path

import typer

from fleet.cli import app
from fleet.config import SETTINGS_DOC

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def command_paths(group, prefix: tuple[str, ...] = ()) -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        if getattr(command, "commands", None):  # a group of subcommands
            paths += command_paths(command, (*prefix, name))
        else:
            paths.append(" ".join((*prefix, name)))
    return paths


def test_readme_opens_with_the_two_commands():
    head = README[:600]
    assert "make run" in head and "make test" in head


def test_every_cli_command_is_in_the_readme():
    paths = command_paths(typer.main.get_command(app))
    assert {"db upgrade", "seed", "stats", "export estimates"} <= set(paths)
    missing = [p for p in paths if f"python -m fleet {p}" not in README]
    assert missing == []


def test_every_setting_is_in_the_readme():
    missing = [env for env, key, _ in SETTINGS_DOC.values() if env not in README or f"`{key}`" not in README]
    assert missing == []
