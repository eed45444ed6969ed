"""``filrouge catalog learned``: what moderators' corrections suggest, and
what would change.

Lists, per quote or prompt an admin named with ``mieux <id>`` / ``better
<id>`` (by direct message, in reply to one of the bot's posts), the words of
the corrected mentions that passage is not indexed with; then each corrected
mention whose text the record still keeps, with what the bot chose, what the
moderator wanted, and what it would choose with those words added.
``--apply FILE`` writes the suggestions into the overlay FILE (keeping what
it holds) for a person to review; the catalog reads it only once
``FILROUGE_CATALOG_OVERLAY`` names it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.log import add_db_option, positive

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Mapping

    from bot.catalog.config import Config
    from bot.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--min",
        type=positive,
        default=1,
        metavar="N",
        help="suggest a word only when N corrections agree on it (default 1)",
    )
    parser.add_argument(
        "--apply",
        type=Path,
        metavar="FILE",
        default=None,
        help="write the suggestions into this overlay file, for review",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_db_option(parser)


def _chosen(result: dict[str, Any]) -> str:
    return str(result.get("quote") or result.get("prompt") or result.get("skip") or "nothing")


def report(
    corrections: list[dict[str, Any]],
    found: Mapping[str, Counter[str]],
    learnt: Config | None,
    settings: Settings,
) -> dict[str, Any]:
    """The corrections, the words they suggest (``found``) and, with the
    configuration those words make (``learnt``), what the bot would choose."""
    from bot.console.preview import preview

    now = datetime.now(UTC)
    mentions = []
    for correction in corrections:
        text = correction.get("text")
        if not text:
            continue
        entry = {
            "reply": correction["reply_id"],
            "chose": correction["quote_id"] or correction["prompt_id"],
            "wanted": correction["item_id"],
        }
        if learnt is not None:
            after = preview(
                {"text": str(text)}, config=learnt, settings=settings, self_id="", now=now
            )
            entry["with_learnt"] = _chosen(after)
        mentions.append(entry)
    return {
        "corrections": len(corrections),
        "none_fitted": sum(1 for c in corrections if not c.get("item_id")),
        "texts_forgotten": sum(1 for c in corrections if not c.get("text")),
        "suggestions": {item: dict(words.most_common()) for item, words in found.items()},
        "mentions": mentions,
    }


def run(args: argparse.Namespace) -> int:
    from bot.catalog.load import load_config
    from bot.catalog.overlay import write_overlay
    from bot.cli.catalog_coverage import loaded

    opened = loaded(args)
    if opened is None:
        return 1
    settings, config, store = opened
    with store:
        corrections = store.corrections.all()
    from bot.catalog.learned import suggestions

    found = suggestions(corrections, config.index, args.min)
    learnt = None
    if found:
        with tempfile.TemporaryDirectory(prefix="filrouge-learned-") as tmp:
            trial = Path(tmp) / "learned.toml"
            if settings.catalog_overlay is not None and settings.catalog_overlay.exists():
                trial.write_bytes(settings.catalog_overlay.read_bytes())
            write_overlay(trial, {item: list(words) for item, words in found.items()})
            trial_settings = settings.model_copy(
                update={"catalog_overlay": trial, "config_cache": False}
            )
            learnt = load_config(trial_settings)
    data = report(corrections, found, learnt, settings)
    if args.apply is not None and found:
        try:
            write_overlay(args.apply, {item: list(words) for item, words in found.items()})
        except ValueError as error:
            print(f"{args.apply}: cannot add to it: {error}")
            return 1
        data["applied_to"] = str(args.apply)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, sort_keys=True))
        return 0
    print(
        f"{data['corrections']} corrections ({data['none_fitted']} said none fitted;"
        f" {data['texts_forgotten']} whose mention's text is no longer kept)"
    )
    if not data["suggestions"]:
        print("no keyword to suggest yet")
    for item, words in data["suggestions"].items():
        listed = ", ".join(f"{word} ({count})" for word, count in words.items())
        print(f"{item}: {listed}")
    for entry in data["mentions"]:
        line = f"  reply {entry['reply']}: chose {entry['chose'] or 'none'}, wanted"
        line += f" {entry['wanted'] or 'none'}"
        if "with_learnt" in entry:
            line += f"; with the learnt keywords: {entry['with_learnt']}"
        print(line)
    if "applied_to" in data:
        print(
            f"wrote {data['applied_to']}: review it, then set"
            f" FILROUGE_CATALOG_OVERLAY={data['applied_to']} and reload (SIGHUP)"
        )
    return 0
