"""``filrouge catalog coverage``: the curator's to-do list, from the record,
for the mentions of a window (``--since``, default 30 days); the report is
``bot.catalog.coverage``'s. The unmatched words come from the texts the
record keeps (``FILROUGE_RECORD_TEXT_DAYS``): none are listed when it keeps none.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.cli.log import add_db_option, duration, read_record

if TYPE_CHECKING:
    from bot.catalog.config import Config
    from bot.record.store import Store
    from bot.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=duration,
        metavar="AGE",
        default=timedelta(days=30),
        help="the mentions whose outcome changed in the last AGE (default 30d)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_db_option(parser)


def loaded(args: argparse.Namespace) -> tuple[Settings, Config, Store] | None:
    """The settings, the admin data and the record a catalog report reads, or
    None once what stops it is printed (broken files, no record)."""
    from bot.catalog.load import load_config
    from bot.errors import ConfigError
    from bot.settings import Settings

    settings = Settings.read(args.env_file)
    try:
        config = load_config(settings)
    except ConfigError as error:
        for problem in error.problems:
            print(problem)
        print("the catalog does not load: run `filrouge check-config`")
        return None
    store = read_record(args)
    if store is None:
        return None
    return settings, config, store


def run(args: argparse.Namespace) -> int:
    from bot.catalog.coverage import coverage

    opened = loaded(args)
    if opened is None:
        return 1
    _, config, store = opened
    with store:
        data = store.audit.coverage_since(datetime.now(UTC) - args.since)
    report = coverage(config.catalog, data, config.index)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, sort_keys=True))
        return 0
    days = args.since.total_seconds() / 86400
    print(f"{report['mentions']} mentions in the last {days:g} days")
    print("answered: " + (_counts(report["answered"]) or "none"))
    print("skipped: " + (_counts(report["skipped"]) or "none"))
    if report["weak_match_words"]:
        print("weak matches rested on: " + _counts(report["weak_match_words"]))
        print("  (words some passage shares, not enough to post it: add keywords or a prompt)")
    if report["unmatched_words"]:
        print("words no passage knows: " + _counts(report["unmatched_words"]))
        print("  (from mentions that got no quote: a concept or keywords to add?)")
    elif not report["texts_kept"]:
        print("words no passage knows: the record keeps no texts (FILROUGE_RECORD_TEXT_DAYS)")
    for essay in report["essays"]:
        print(f"essay {essay['essay']}:")
        print("  quotes never chosen: " + (", ".join(essay["quotes_never_chosen"]) or "none"))
        print("  prompts never chosen: " + (", ".join(essay["prompts_never_chosen"]) or "none"))
    if report["quotes_most_chosen"]:
        print("quotes most chosen: " + _counts(report["quotes_most_chosen"]))
    if report["concepts_matched"]:
        print("concepts whose words matched most: " + _counts(report["concepts_matched"]))
    if report["concepts_never_matched"]:
        print("concepts that never matched: " + ", ".join(report["concepts_never_matched"]))
    if report["taken_back"]:
        print("taken back on request: " + _counts(report["taken_back"]))
    return 0


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} ({count})" for name, count in counts.items())
