"""``filrouge replay FILE``: what the current catalog and rules would do with saved threads.

FILE holds JSON lines, one thread per line: a JSON array of Mastodon status
entities, oldest first, ending with the mention (see ``bot.replay``). Each is
decided offline — no link resolved, an empty history, ``now`` set to the
mention's time — and printed, then a summary by rule and by skip reason.
``-`` reads standard input. ``--json`` prints one JSON object instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        metavar="FILE",
        help="JSON lines: each a JSON array of status entities, oldest first, the mention last"
        " ('-' for standard input)",
    )
    parser.add_argument(
        "--self",
        dest="handle",
        metavar="ACCT",
        default=None,
        help="the bot's handle in the saved threads (default: filrouge)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of the text"
    )


def run(args: argparse.Namespace) -> int:
    from bot.app.replay import DEFAULT_SELF, Summary, replay_lines, result_json, result_text
    from bot.app.wiring import policy_from_settings
    from bot.catalog.load import load_config
    from bot.errors import ConfigError
    from bot.record.store import peek_moderation
    from bot.settings import Settings

    settings = Settings.read(args.env_file)
    try:
        config = load_config(settings)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
    try:
        if args.file == "-":
            lines = sys.stdin.read().splitlines()
        else:
            lines = Path(args.file).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        print(f"filrouge: {args.file}: cannot read: {error.strerror or error}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as error:
        print(f"filrouge: {args.file}: not UTF-8 text ({error.reason})", file=sys.stderr)
        return 2
    # The bot's own id is found per thread; the rest of the policy is the settings'.
    policy = policy_from_settings(settings, self_id="")
    summary = Summary()
    results = []
    for result in replay_lines(
        lines,
        config,
        policy,
        threshold=settings.essay_threshold,
        handle=args.handle or DEFAULT_SELF,
        moderation=lambda ids: peek_moderation(settings.db_path, ids),
        detect_language=settings.detect_language,
    ):
        summary.add(result)
        if args.json:
            results.append(result_json(result, url_length=policy.url_length))
        else:
            print(
                result_text(
                    result, max_characters=policy.max_characters, url_length=policy.url_length
                )
            )
            print()
    if args.json:
        print(json.dumps({"results": results, "summary": summary.to_json()}, ensure_ascii=False))
    else:
        print(summary.to_text())
    # Unreadable lines are the file's problem and are counted; a decision that
    # failed is the bot's, and the exit code says so.
    return 1 if summary.crashed else 0
