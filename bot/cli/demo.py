"""``filrouge demo``: see the bot answer a thread, with no account and no setup."""

from __future__ import annotations

import argparse
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=float,
        default=15.0,
        help="seconds to wait for the bot's reply (default: 15)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="show the bot's own log lines as it works"
    )


def run(args: argparse.Namespace) -> int:
    from bot.app.demo import run_demo

    return run_demo(sys.stdout, timeout=args.timeout, verbose=args.verbose, configure_logging=True)
