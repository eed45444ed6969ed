"""The curator's to-do list, from what the record says the mentions got
(``filrouge catalog coverage`` and the console's catalog page); pure.

- what they got: a quote, a prompt, a link or help, or a skip by reason;
- the weak matches: the words on which a quote, prompt or link fell short of
  the evidence it needed, most frequent first (what the catalog half knows);
- the unmatched words: content words of mentions that got no quote which no
  passage uses at all (what the catalog does not know), from the texts the
  record keeps under ``FILROUGE_RECORD_TEXT_DAYS``;
- the quotes and prompts never chosen, essay by essay, then the most chosen;
- the quotes and prompts whose replies people asked to have taken back.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.rank.analysis import stems_of
from bot.text.fold import fold

if TYPE_CHECKING:
    from bot.catalog.config import Catalog
    from bot.rank.index import Index

#: Links and @-handles, left out of a kept text before its words are read.
_NOT_WORDS = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+|@[\w.-]+(?:@[\w.-]+)?")
_WORD = re.compile(r"[^\W\d_]{3,}")


def words(text: str) -> set[str]:
    """The words of ``text``, folded, links and handles left out."""
    return set(_WORD.findall(_NOT_WORDS.sub(" ", fold(text))))


def content_words(text: str, languages: Sequence[str]) -> set[str]:
    """The words of ``text`` that are content words in every one of
    ``languages``: a stop word in one of them tells nothing."""
    return {word for word in words(text) if all(stems_of(word, language) for language in languages)}


def unmatched(text: str, index: Index, seen: dict[str, bool] | None = None) -> set[str]:
    """The content words of ``text`` that no quote or prompt uses, in any of
    the index's languages (folded; each once). ``seen`` remembers the verdict
    on each word across texts."""
    verdicts = {} if seen is None else seen
    found: set[str] = set()
    for word in words(text):
        verdict = verdicts.get(word)
        if verdict is None:
            stems = [stems_of(word, language) for language in index.languages]
            # A stop word in one of the languages tells nothing.
            verdict = all(stems) and not any(
                index.knows(stem) for language_stems in stems for stem in language_stems
            )
            verdicts[word] = verdict
        if verdict:
            found.add(word)
    return found


def coverage(
    catalog: Catalog, data: Mapping[str, Any], index: Index | None = None
) -> dict[str, Any]:
    """The report, from the catalog and ``Audit.coverage_since``; with an
    ``index``, the unmatched words of the kept texts too."""
    got: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    quotes: Counter[str] = Counter()
    prompts: Counter[str] = Counter()
    taken_back: Counter[str] = Counter()
    for outcome in data["outcomes"]:
        count = int(outcome["count"])
        item = outcome["quote"] or outcome["prompt"]
        if outcome["taken_back"] == "request" and item:
            # Asked to be removed by the people it concerned: the curator's to
            # read first (a reply to a deleted mention says nothing about it).
            taken_back[str(item)] += count
        if outcome["state"] == "skipped":
            skipped[str(outcome["reason"])] += count
        elif outcome["quote"]:
            got["quote"] += count
            quotes[str(outcome["quote"])] += count
        elif outcome["prompt"]:
            got["prompt"] += count
            prompts[str(outcome["prompt"])] += count
        else:
            got["other"] += count
    missing: Counter[str] = Counter()
    if index is not None:
        verdicts: dict[str, bool] = {}
        for text in data["texts"]:
            missing.update(unmatched(str(text), index, verdicts))
    essays = []
    for essay in catalog.essays:
        ids = (*(q.id for q in essay.quotes), *(p.id for p in essay.prompts))
        essays.append(
            {
                "essay": essay.id,
                "quotes_never_chosen": [q.id for q in essay.quotes if q.id not in quotes],
                "prompts_never_chosen": [p.id for p in essay.prompts if p.id not in prompts],
                "chosen": {item_id: quotes[item_id] + prompts[item_id] for item_id in ids},
            }
        )
    return {
        "mentions": int(data["mentions"]),
        "answered": ranked(got),
        "skipped": ranked(skipped),
        "weak_match_words": ranked(Counter(data["weak"]), 30),
        "unmatched_words": ranked(missing, 30),
        "texts_kept": len(data["texts"]),
        "essays": essays,
        "quotes_most_chosen": ranked(quotes, 10),
        "prompts_most_chosen": ranked(prompts, 10),
        "taken_back": ranked(taken_back),
    }


def ranked(counts: Counter[str], limit: int | None = None) -> dict[str, int]:
    """Most frequent first, ties in alphabetical order (the same report twice)."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ordered[:limit])
