"""The console's pages over a record of many mentions (``bench/run.py``'s
console row): each page rendered in process, as the ops server's thread
renders it, median of a few runs, beside a baseline measured in the same run
(one ``count(*)`` over the mentions, the least any page does).
"""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.catalog.load import load_config
from bot.console.app import Console
from bot.ops.server import Request
from bot.record.audit import trace_facts
from bot.record.store import Store
from bot.settings import Settings

PAGES = (
    ("mentions, first page", "GET", "/console", {}),
    ("mentions, skipped in 7 days", "GET", "/console", {"outcome": ["skipped"], "since": ["7d"]}),
    ("mentions, page 150", "GET", "/console", {"page": ["150"]}),
    ("one mention's trace", "GET", "/console/mentions/n5000", {}),
    ("plots", "GET", "/console/plots", {}),
    ("catalog and coverage", "GET", "/console/catalog", {}),
)
TARGET_MS = 300.0


@dataclass(frozen=True)
class ConsoleBench:
    mentions: int
    baseline_ms: float
    #: (page, median ms, slowest ms)
    pages: tuple[tuple[str, float, float], ...]


def fill(path: Path, count: int, seed: int = 7) -> None:
    """``count`` mentions over 30 days: replies, skips, texts and traces."""
    Store(path).close()  # the schema
    rng = random.Random(seed)
    now = datetime.now(UTC)
    # Real traces: one that posted, one that fell short of its evidence.
    found = real_traces()
    traces = [json.dumps(trace, ensure_ascii=False) for trace in found]
    # What the record keeps beside each trace, as mark_replied/mark_skipped write it.
    facts = [trace_facts(trace) for trace in found]
    mentions, replies, texts = [], [], []
    for n in range(count):
        at = (now - timedelta(seconds=rng.uniform(0, 30 * 86400))).isoformat(
            timespec="microseconds"
        )
        nid = f"n{n}"
        replied = rng.random() < 0.6
        reason = None if replied else rng.choice(["off_topic", "hostile", "cooldown", "spam"])
        rule = rng.choice(["citation-par-defaut", "question-par-defaut", "lien-par-defaut"])
        mentions.append(
            (
                nid,
                f"s{n}",
                f"a{n % 500}",
                "replied" if replied else "skipped",
                at,
                at,
                reason,
                f"r{n}" if replied else None,
                rule if replied else None,
                traces[0] if replied else traces[1],
                "public",
                facts[0 if replied else 1]["weak"],
                facts[0 if replied else 1]["took"],
                facts[0 if replied else 1]["matched"],
            )
        )
        if replied:
            replies.append(
                (
                    nid,
                    f"r{n}",
                    f"t{n % 2000}",
                    f"a{n % 500}",
                    f"s{n}",
                    rule,
                    "quote",
                    "live",
                    "ia-probleme",
                    "petites-voix" if rule.startswith("citation") else None,
                    None,
                    "unlisted",
                    "fr",
                    "",
                    "@x Ce qu'en dit le texte…",
                    "{}",
                    at,
                )
            )
        texts.append(
            (
                nid,
                f"s{n}",
                f"a{n % 500}",
                f"user{n % 500}@example.org",
                "@filrouge on parle des affiches et des graphistes, et du budget",
                "",
                "public",
                at,
            )
        )
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO mentions (notification_id, status_id, account_id, state, received_at,"
            " updated_at, reason, reply_id, rule, trace, visibility, weak_words, decide_ms,"
            " matched_words) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            mentions,
        )
        db.executemany(
            "INSERT INTO replies (notification_id, reply_id, thread_id, account_id,"
            " in_reply_to_id, rule, action, mode, essay_id, quote_id, prompt_id, visibility,"
            " language, spoiler_text, text, summary, posted_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            replies,
        )
        db.executemany(
            "INSERT INTO mention_texts (notification_id, status_id, account_id, acct, text,"
            " url, visibility, kept_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            texts,
        )


def real_traces() -> list[dict[str, object]]:
    """Whole decision traces, as the bot records them (guards, heat, rules,
    evidence, candidates and their scores, fit): two mentions decided by the
    bundled catalog and rules, one answered with a quote, one whose evidence
    falls short."""
    from bot.app.asking import typed_inputs
    from bot.decide.decision import decide
    from bot.model.post import Account

    settings = Settings(_env_file=None, config_cache=False)  # type: ignore[call-arg]
    config = load_config(settings)
    reader = Account(id="a", acct="lecteur", username="lecteur")
    traces = []
    for text in (
        "@filrouge on n'a pas de budget pour une graphiste, l'affiche du concert on la fait"
        " comment ? #iaprobleme",
        "@filrouge bof, le patron a encore parlé de ça ce matin #iaprobleme",
    ):
        inputs = typed_inputs(
            text,
            config=config,
            settings=settings,
            requester=reader,
            self_id="1",
            now=datetime.now(UTC),
            language="fr",
        )
        traces.append({**decide(inputs).trace.to_json(), "decide_ms": 3.2})
    return traces


def _median_ms(run: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def measure_console(workdir: Path, count: int = 10_000, runs: int = 5) -> ConsoleBench:
    db = workdir / "console.sqlite3"
    fill(db, count)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, db_path=db, instance_url="https://bench.example", config_cache=False
    )
    config = load_config(settings)
    console = Console(settings=settings, config=lambda: config, self_id=lambda: "1")
    headers = {"host": "127.0.0.1"}

    def baseline() -> object:
        with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as connection:
            return connection.execute("SELECT count(*) FROM mentions").fetchone()

    baseline_ms, _ = _median_ms(baseline, runs)
    pages = []
    for name, method, path, query in PAGES:
        request = Request(method, path, query, headers)
        response = console(request)
        assert response.status == 200, (name, response.status)
        median, slowest = _median_ms(lambda request=request: console(request), runs)
        pages.append((name, median, slowest))
    return ConsoleBench(count, baseline_ms, tuple(pages))


def rows(result: ConsoleBench) -> list[str]:
    lines = [
        f"The console over a record of {result.mentions:,} mentions (30 days, texts kept),"
        f" each page rendered in process; median and slowest of the runs, in ms. Baseline:"
        f" one `count(*)` over the mentions in the same run, {result.baseline_ms:.2f} ms.",
        "",
        "| page | median | slowest | × baseline | < 300 ms |",
        "|---|---|---|---|---|",
    ]
    for name, median, slowest in result.pages:
        ratio = median / result.baseline_ms if result.baseline_ms else float("nan")
        ok = "yes" if slowest < TARGET_MS else "**no**"
        lines.append(f"| {name} | {median:.1f} | {slowest:.1f} | {ratio:.0f} | {ok} |")
    return lines
