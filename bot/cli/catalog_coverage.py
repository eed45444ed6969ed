"""``filrouge catalog coverage``: the curator's to-do list, from the record.

For the mentions of a window (``--since``, default 30 days):

- what they got: a quote, a prompt, a link or help, or a recorded skip, by reason;
- the weak matches: the words on which a quote, prompt or link fell short of
  the evidence it needed, most frequent first (what the catalog half knows);
- the quotes and prompts never chosen, essay by essay, then the most chosen;
- the quotes and prompts whose replies people asked to have taken back.

The record keeps no mention's text (only outcomes and decision traces), so
the words the catalog did not know at all are not listed here.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.cli.log import add_db_option, duration, read_record

if TYPE_CHECKING:
    from bot.catalog.config import Catalog


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


def coverage(catalog: Catalog, outcomes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The report, from the catalog and ``Audit.outcomes_since``; pure."""
    got: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    weak_words: Counter[str] = Counter()
    quotes: Counter[str] = Counter()
    prompts: Counter[str] = Counter()
    taken_back: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome.get("taken_back") == "request" and (outcome["quote"] or outcome["prompt"]):
            # Asked to be removed by the people it concerned: the curator's to
            # read first (a reply to a deleted mention says nothing about it).
            taken_back[str(outcome["quote"] or outcome["prompt"])] += 1
        if outcome["state"] == "skipped":
            skipped[str(outcome["reason"])] += 1
        elif outcome["quote"]:
            got["quote"] += 1
            quotes[str(outcome["quote"])] += 1
        elif outcome["prompt"]:
            got["prompt"] += 1
            prompts[str(outcome["prompt"])] += 1
        else:
            got["other"] += 1
        fell_short: set[str] = set()  # counted once per mention
        for step in outcome["steps"]:
            if isinstance(step, Mapping) and step.get("kind") == "evidence" and not step.get("ok"):
                data = step.get("data")
                words = data.get("words", []) if isinstance(data, Mapping) else []
                fell_short.update(str(word) for word in words)
        weak_words.update(fell_short)
    essays = []
    for essay in catalog.essays:
        essays.append(
            {
                "essay": essay.id,
                "quotes_never_chosen": [q.id for q in essay.quotes if q.id not in quotes],
                "prompts_never_chosen": [p.id for p in essay.prompts if p.id not in prompts],
            }
        )
    return {
        "mentions": len(outcomes),
        "answered": _ranked(got),
        "skipped": _ranked(skipped),
        "weak_match_words": _ranked(weak_words, 30),
        "essays": essays,
        "quotes_most_chosen": _ranked(quotes, 10),
        "prompts_most_chosen": _ranked(prompts, 10),
        "taken_back": _ranked(taken_back),
    }


def run(args: argparse.Namespace) -> int:
    from bot.catalog.essays import read_catalog
    from bot.settings import Settings

    settings = Settings.read(args.env_file)
    catalog, problems = read_catalog(settings.catalog_path)
    if catalog is None or problems:
        for problem in problems:
            print(problem)
        print("the catalog does not load: run `filrouge check-config`")
        return 1
    store = read_record(args)
    if store is None:
        return 1
    with store:
        outcomes = store.audit.outcomes_since(datetime.now(UTC) - args.since)
    report = coverage(catalog, outcomes)
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
    for essay in report["essays"]:
        print(f"essay {essay['essay']}:")
        print("  quotes never chosen: " + (", ".join(essay["quotes_never_chosen"]) or "none"))
        print("  prompts never chosen: " + (", ".join(essay["prompts_never_chosen"]) or "none"))
    if report["quotes_most_chosen"]:
        print("quotes most chosen: " + _counts(report["quotes_most_chosen"]))
    if report["taken_back"]:
        print("taken back on request: " + _counts(report["taken_back"]))
    return 0


def _ranked(counts: Counter[str], limit: int | None = None) -> dict[str, int]:
    """Most frequent first, ties in alphabetical order (the same report twice)."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ordered[:limit])


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} ({count})" for name, count in counts.items())
