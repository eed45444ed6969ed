"""Docs are tested: every command has help and an example, and the README's
table of commands is exactly what ``filrouge --help`` offers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli.main import COMMANDS, build_parser, main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _readme_commands() -> list[str]:
    return re.findall(r"^\| `filrouge ([a-z -]+)` \|", README, flags=re.MULTILINE)


def test_readme_table_matches_the_cli() -> None:
    assert _readme_commands() == [command.name for command in COMMANDS]


def test_readme_rows_carry_the_cli_help_and_example() -> None:
    for command in COMMANDS:
        row = f"| `filrouge {command.name}` | {command.help} | `{command.example}` |"
        assert row in README, f"README row for {command.name} differs from bot/cli.py"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_command_has_help(command: object, capsys: pytest.CaptureFixture[str]) -> None:
    name = command.name  # type: ignore[attr-defined]
    with pytest.raises(SystemExit) as exited:
        main([*name.split(), "--help"])
    assert exited.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert command.help in out  # type: ignore[attr-defined]
    assert "example: filrouge" in out


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command.name.split()[0] in out


def test_readme_first_command_runs_the_demo() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    assert "filrouge demo" in blocks[0]
    assert "pytest" in blocks[1]
