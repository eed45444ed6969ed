"""``filrouge register``: authorise the bot's account and write its token to the env file.

The application it creates is saved in the env file too (mode 0600) and
reused: ``register`` prints the URL and stops when no one can paste the code,
and ``register --code CODE`` finishes it in a second run. ``--revoke`` takes
the bot's token back. Failures are one plain line: nothing answering, an
unknown host, TLS, a server that is not Mastodon's API.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--instance",
        metavar="URL",
        help="the bot account's instance, e.g. https://mastodon.example"
        " (default: FILROUGE_INSTANCE_URL from the env file)",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        default=Path(".env"),
        metavar="PATH",
        help="where to write FILROUGE_INSTANCE_URL and FILROUGE_ACCESS_TOKEN "
        "(created with mode 0600; other lines are kept; default: .env)",
    )
    parser.add_argument(
        "--code",
        metavar="CODE",
        help="the authorisation code, instead of reading it from standard input",
    )
    profile = parser.add_mutually_exclusive_group()
    profile.add_argument(
        "--yes",
        action="store_true",
        help="set the bot flag and the profile note without asking",
    )
    profile.add_argument(
        "--no-bot-flag",
        action="store_true",
        help="leave the profile (bot flag, note) unchanged without asking",
    )
    parser.add_argument(
        "--new-app",
        action="store_true",
        help="create a new application instead of reusing the one saved in the env file",
    )
    parser.add_argument(
        "--revoke",
        action="store_true",
        help="revoke the bot's token and forget it and the application (nothing else is asked)",
    )
    parser.add_argument(
        "--profile-code",
        metavar="CODE",
        help="the code of the second, one-time authorisation for the profile (with --yes)",
    )


def run(args: argparse.Namespace) -> int:
    from mastodon import MastodonError

    from bot.mastodon.errors import explain_failure
    from bot.mastodon.register import RegisterError, register, revoke
    from bot.ops.logs import Redactor
    from bot.settings import Settings

    settings = Settings.read(args.env_file)
    instance = args.instance or settings.instance_url
    if args.revoke:
        try:
            revoke(settings, env_file=args.env_file, say=print)
        except RegisterError as error:
            print(f"filrouge register: error: {error}", file=sys.stderr)
            return 1
        except (MastodonError, OSError) as error:
            reason = Redactor()(explain_failure(error, settings.instance_url))
            print(f"filrouge register: error: {reason}", file=sys.stderr)
            return 1
        return 0
    if not instance:
        print("filrouge register: error: give --instance URL", file=sys.stderr)
        return 2

    def ask(prompt: str) -> str:
        print(prompt, end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            print()
            raise EOFError
        return line

    profile = True if args.yes else False if args.no_bot_flag else None
    try:
        registration = register(
            instance,
            settings=settings,
            env_file=args.env_file,
            ask=ask,
            say=print,
            code=args.code,
            profile=profile,
            profile_code=args.profile_code,
            new_app=args.new_app,
        )
    except RegisterError as error:
        print(f"filrouge register: error: {Redactor()(str(error))}", file=sys.stderr)
        return 1
    except (MastodonError, OSError, ValueError, IndexError, KeyError) as error:
        # A server's error text could echo a token or code; redact by pattern.
        reason = Redactor()(explain_failure(error, instance))
        print(f"filrouge register: error: {reason}", file=sys.stderr)
        return 1
    print(f"Done: @{registration.acct} on {registration.instance_url}.")
    if args.env_file.resolve() != Path(".env").resolve():
        # Settings read ./.env; any other file is for systemd's EnvironmentFile= or --env-file.
        print(f"Load {args.env_file} as the bot's environment (see deploy/README.md).")
    print("Next: filrouge check-config, then filrouge run.")
    return 0
