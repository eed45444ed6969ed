"""``filrouge stats``: counts from the record — mentions by outcome, replies by
rule, skips by reason, failures by error kind."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from bot.cli.log import add_db_option, duration, read_record

SECTIONS = (
    ("rule", "replies by rule"),
    ("reason", "skips by reason"),
    ("error", "failures by kind"),
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--since",
        type=duration,
        metavar="AGE",
        help="only mentions whose outcome changed in the last AGE (90m, 24h, 7d)",
    )
    add_db_option(parser)


def run(args: argparse.Namespace) -> int:
    store = read_record(args)
    if store is None:
        return 1
    since = None if args.since is None else datetime.now(UTC) - args.since
    with store:
        counts = store.audit.counts(since)
    if args.json:
        print(json.dumps(counts, ensure_ascii=False, sort_keys=True))
        return 0
    by_outcome = counts["outcome"]
    total = sum(by_outcome.values())
    summary = ", ".join(f"{count} {outcome}" for outcome, count in by_outcome.items())
    print(f"mentions: {total} ({summary})")
    for key, title in SECTIONS:
        section = counts.get(key, {})
        if not section:
            continue
        print(f"{title}:")
        width = max(len(name) for name in section)
        for name, count in section.items():
            print(f"  {name.ljust(width)}  {count}")
    return 0
