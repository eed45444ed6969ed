"""The ``filrouge`` command line.

Each command lives in ``bot/cli/<module>.py`` and defines two functions:
``configure(parser)`` adds its arguments, ``run(args) -> int`` does the work and
returns the exit code. Command modules keep heavy imports inside ``run`` so that
``filrouge --help`` stays fast and an optional dependency only matters to the
command that needs it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import __version__


@dataclass(frozen=True)
class Command:
    name: str
    module: str
    help: str
    #: Shown under the help text: one example of use.
    example: str


COMMANDS: tuple[Command, ...] = (
    Command(
        name="run",
        module="bot.cli.run",
        help="Run the bot: stream and poll mentions, decide, reply, record (until SIGTERM).",
        example="filrouge run --dry-run",
    ),
    Command(
        name="demo",
        module="bot.cli.demo",
        help="See the bot answer a heated thread on an embedded Mastodon (no account needed).",
        example="filrouge demo",
    ),
    Command(
        name="preview",
        module="bot.cli.preview",
        help="Show the reply the bot would post to a mention with this text (offline).",
        example='filrouge preview --json --lang en "@filrouge source"',
    ),
    Command(
        name="explain",
        module="bot.cli.explain",
        help="Show why: guards, heat, rules tried, candidate scores, length budget.",
        example='filrouge explain "@filrouge Je trouve ça nul, ces affiches générées par IA"',
    ),
    Command(
        name="check-config",
        module="bot.cli.check_config",
        help="Load settings, catalog and rules as run does; list every problem found.",
        example="filrouge check-config --online",
    ),
    Command(
        name="register",
        module="bot.cli.register",
        help="Authorise the bot's Mastodon account and write its token to the env file.",
        example="filrouge register --instance https://mastodon.example --env-file .env",
    ),
    Command(
        name="catalog import",
        module="bot.cli.catalog_import",
        help="Write a draft catalog entry (metadata, quotes, concepts) from an essay's page.",
        example="filrouge catalog import https://blog.example/essai/ --out essai.toml",
    ),
    Command(
        name="catalog coverage",
        module="bot.cli.catalog_coverage",
        help="List what the record says the catalog lacks: skips, weak matches, unused quotes.",
        example="filrouge catalog coverage --since 30d",
    ),
    Command(
        name="catalog learned",
        module="bot.cli.catalog_learned",
        help="List the keywords moderators' corrections suggest; --apply writes them for review.",
        example="filrouge catalog learned --apply learned.toml",
    ),
    Command(
        name="replay",
        module="bot.cli.replay",
        help="Run the catalog and rules over saved threads (JSON lines); summarise by rule.",
        example="filrouge replay threads.jsonl",
    ),
    Command(
        name="log",
        module="bot.cli.log",
        help="Show recent mentions from the record: outcome, rule, reason, quote, reply.",
        example="filrouge log --since 24h --outcome skipped",
    ),
    Command(
        name="stats",
        module="bot.cli.stats",
        help="Count mentions by outcome, replies by rule, skips by reason, failures by kind.",
        example="filrouge stats --since 24h",
    ),
    Command(
        name="completion",
        module="bot.cli.completion",
        help="Print the shell completion script for bash or zsh.",
        example="filrouge completion bash > /etc/bash_completion.d/filrouge",
    ),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="filrouge",
        description="A Mastodon bot that brings a thread back to the essay it is about.",
    )
    parser.add_argument("--version", action="version", version=f"filrouge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        # Sub-commands with a space ("catalog import") nest one level.
        *group, leaf = command.name.split()
        target = sub
        for part in group:
            if part not in target.choices:
                nested = target.add_parser(part, help=f"{part} commands")
                nested.add_subparsers(dest=f"{part}_command", metavar="COMMAND", required=True)
            group_parser = target.choices[part]
            target = next(
                action
                for action in group_parser._actions
                if isinstance(action, argparse._SubParsersAction)
            )
        command_parser = target.add_parser(
            leaf,
            help=command.help,
            description=command.help,
            epilog=f"example: {command.example}",
        )
        command_parser.set_defaults(_command=command)
        module = importlib.import_module(command.module)
        module.configure(command_parser)
        has_own = any("--env-file" in a.option_strings for a in command_parser._actions)
        # The demo runs on its own embedded server; register writes its --env-file.
        if command.name not in NO_SETTINGS and not has_own:
            command_parser.add_argument(
                "--env-file",
                type=Path,
                metavar="FILE",
                default=Path(".env"),
                help="read settings from FILE instead of ./.env (the environment still wins)",
            )
    return parser


#: Commands that read no settings, and so take no --env-file.
NO_SETTINGS = frozenset({"demo", "completion"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Command = args._command
    module = importlib.import_module(command.module)
    code: int = module.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
