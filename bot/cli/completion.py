"""``filrouge completion bash|zsh``: the shell completion script, on stdout.

Generated from the same argparse parser the commands use (by ``shtab``), so
it completes every command, option and choice there is, and never drifts.
Install it once::

    filrouge completion bash > /etc/bash_completion.d/filrouge
    filrouge completion zsh > "${fpath[1]}/_filrouge"
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=("bash", "zsh"), help="the shell to complete for")


def run(args: argparse.Namespace) -> int:
    import shtab

    from bot.cli.main import build_parser

    print(shtab.complete(build_parser(), shell=args.shell), end="")
    return 0
