"""``filrouge completion``: the script bash really completes with, and zsh's."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from bot.cli.main import COMMANDS, main


def complete(capsys: pytest.CaptureFixture[str], *words: str) -> list[str]:
    """What bash offers after ``filrouge <words>`` with the generated script loaded."""
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    line = " ".join(("filrouge", *words))
    probe = (
        f"{script}\n"
        f"COMP_WORDS=(filrouge {' '.join(words)}); COMP_CWORD={len(words)};"
        f" COMP_LINE='{line}'; COMP_POINT={len(line)};"
        " _shtab_filrouge; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    return [word.strip() for word in done.stdout.split("\n") if word.strip()]


needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")


@needs_bash
def test_bash_completes_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    offered = complete(capsys, "")
    assert {command.name.split()[0] for command in COMMANDS} <= set(offered)
    assert complete(capsys, "check-") == ["check-config"]


@needs_bash
def test_bash_completes_options_and_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert "--online" in complete(capsys, "check-config", "--")
    assert "--env-file" in complete(capsys, "check-config", "--")
    assert sorted(complete(capsys, "completion", "")) == ["bash", "zsh"]


def test_zsh_script_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "zsh"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#compdef filrouge")
    for command in COMMANDS:
        assert command.name.split()[-1] in script
