"""The curator's to-do list, from what the record says the mentions got
(``filrouge catalog coverage`` and the console's catalog page); pure.

- what they got: a quote, a prompt, a link or help, or a skip by reason;
- the weak matches: the words on which a quote, prompt or link fell short of
  the evidence it needed, most frequent first (what the catalog half knows);
- the unmatched words: content words of mentions that got no quote which no
  passage uses at all (what the catalog does not know), from the texts the
  record keeps under ``FILROUGE_RECORD_TEXT_DAYS``;
- the quotes and prompts never chosen, essay by essay, then the most chosen;
- the concepts whose words matched the mentions most, and those that never
  did (a vocabulary nobody uses, or one no passage names);
- the quotes and prompts whose replies people asked to have taken back.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.rank.analysis import stems_of
from bot.rank.expand import ARROW, NEAR
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
    concepts = concepts_matched(catalog, data.get("matched", ()))
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
        "concepts_matched": ranked(concepts, 20),
        "concepts_never_matched": sorted(set(catalog.concepts) - set(concepts)),
        "taken_back": ranked(taken_back),
    }


#: The languages a concept's terms and a matched word are read in.
_READ_IN = ("fr", "en")


def concepts_matched(catalog: Catalog, matched: Sequence[Mapping[str, Any]]) -> Counter[str]:
    """Per concept, how many times one of its terms was a word the posted
    passage matched (``Audit.coverage_since``'s ``matched``): the words of the
    mention, or the lexicon's word they reached (« taf→travail »), read as
    the passage's."""
    named: dict[str, tuple[str, ...]] = {}
    for essay in catalog.essays:
        named.update((q.id, q.concepts) for q in essay.quotes if q.concepts)
        named.update((p.id, p.concepts) for p in essay.prompts if p.concepts)
    stems = {
        concept.id: {s for term in concept.all_terms() for s in _stems(term)}
        for concept in catalog.concepts.values()
    }
    counts: Counter[str] = Counter()
    for row in matched:
        names = named.get(str(row.get("item")))
        if not names:
            continue
        word = str(row.get("word", "")).rpartition(ARROW)[2].rpartition(NEAR)[2]
        found = _stems(word)
        for name in names:
            if found & stems.get(name, set()):
                counts[name] += int(row.get("count", 0))
    return counts


def _stems(text: str) -> set[str]:
    return {stem for lang in _READ_IN for stem in stems_of(text, lang)}


def ranked(counts: Counter[str], limit: int | None = None) -> dict[str, int]:
    """Most frequent first, ties in alphabetical order (the same report twice)."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ordered[:limit])
