"""Concepts drafted from the essay's own text, for the curator to review.

``yake`` (an unsupervised keyword extractor, the ``draft`` extra) ranks the
words and two-word phrases that the essay is about. Each one that some
candidate quote uses becomes a draft ``[[concepts]]`` entry:

- its terms in the essay's language are the forms the essay itself uses
  (« visuel », « visuels »), plus the words of the familiar-register group
  that holds it (``bot/data/lexicon/familiar.toml``), in both languages;
- the thesaurus's synonyms are listed beside it in a comment, never as
  terms: a thesaurus gives every sense of a word, and only the curator knows
  which one the essay means;
- the candidate quotes that use it name it (``concepts = [...]``).

Nothing here is posted: the curator keeps, merges, renames or deletes each
concept, and writes the English terms a French essay's readers would use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.catalog.importer.ids import ascii_slug, unique_id
from bot.catalog.importer.quotes import Candidate
from bot.catalog.lexicon import DATA, LANGUAGES, Thesaurus, read_group_languages
from bot.rank.analysis import stem_language, stems_of

#: ``(text, language, how many) → [(keyphrase, score)]``, best (lowest) first.
Keywords = Callable[[str, str, int], Sequence[tuple[str, float]]]

#: Candidates asked of the extractor per concept kept: most fall to the filters.
_ASKED = 4
#: Forms of a word the essay uses, and synonyms shown, at most.
_FORMS = 4
_SYNONYMS = 8
#: Quotes a concept must be used by (fewer when the draft has fewer).
_SHARED = 2
_WORD = re.compile(r"[^\W\d_][\w’'-]*")
_ELIDED = re.compile(r"^[^\W\d_]{1,2}['’]")


class DraftingUnavailable(Exception):
    """The keyword extractor is not installed."""


@dataclass(frozen=True)
class DraftConcept:
    id: str
    #: Language → terms, the essay's language first.
    terms: Mapping[str, tuple[str, ...]]
    #: The extractor's score (lower means more central to the text).
    score: float
    #: Ids of the candidate quotes that use it.
    quotes: tuple[str, ...]
    #: Thesaurus synonyms for the curator to choose from.
    synonyms: tuple[str, ...] = ()
    #: Whether a familiar-register group supplied terms.
    familiar: bool = False


@dataclass(frozen=True)
class Vocabulary:
    """What drafting reads besides the essay: the familiar groups by language
    and the thesauri."""

    groups: tuple[dict[str, tuple[str, ...]], ...] = ()
    thesauri: Mapping[str, Thesaurus] = field(default_factory=dict)

    @classmethod
    def bundled(cls, directory: Path = DATA) -> Vocabulary:
        thesauri = {
            language: Thesaurus(path)
            for language in LANGUAGES
            if (path := directory / f"thesaurus.{language}.tsv").is_file()
        }
        return cls(read_group_languages(directory / "familiar.toml"), thesauri)


def yake_keywords(text: str, language: str, top: int) -> Sequence[tuple[str, float]]:
    """Keyphrases of one or two words by YAKE!, best first."""
    try:
        import yake  # type: ignore[import-untyped]
    except ImportError as error:
        raise DraftingUnavailable(
            "concepts are drafted by yake, which is not installed"
            " (pip install 'fil-rouge[draft]'); the draft has none"
        ) from error
    extractor = yake.KeywordExtractor(lan=language, n=2, top=top, dedupLim=0.8)
    return [(str(phrase), float(score)) for phrase, score in extractor.extract_keywords(text)]


def draft_concepts(
    paragraphs: Sequence[str],
    candidates: Sequence[Candidate],
    *,
    language: str,
    limit: int,
    vocabulary: Vocabulary,
    taken: Iterable[str] = (),
    keywords: Keywords = yake_keywords,
) -> tuple[DraftConcept, ...]:
    """Up to ``limit`` concepts, most central first, each used by at least two
    candidate quotes (one, when there is only one); ids avoid ``taken`` (the
    catalog's concept ids)."""
    if limit <= 0 or not candidates:
        return ()
    language = stem_language(language)
    text = "\n".join(paragraphs)
    forms = _forms(text, language)
    quote_stems = [(c.id, set(stems_of(c.text, language))) for c in candidates]
    order = {c.id: n for n, c in enumerate(candidates)}
    group_stems = [
        {s for w in group.get(language, ()) for s in stems_of(w, language)}
        for group in vocabulary.groups
    ]
    used_ids = set(taken)
    seen: set[str] = set()
    drafted: list[DraftConcept] = []
    #: Familiar group number → the drafted concept that holds its words.
    by_group: dict[int, int] = {}
    for phrase, score in keywords(text, language, limit * _ASKED):
        # « l’IA » is « IA »: the elided article goes, as the analysis drops it.
        words = [_ELIDED.sub("", w) for w in _WORD.findall(phrase) if stems_of(w, language)]
        stems = [stems_of(w, language)[0] for w in words]
        # A phrase of stop words, one already drafted, or one in no quote.
        if not stems or set(stems) <= seen:
            continue
        quotes = tuple(cid for cid, found in quote_stems if set(stems) <= found)
        # A vocabulary is shared: a word of one quote is that quote's keyword.
        if len(quotes) < min(_SHARED, len(candidates)):
            continue
        seen.update(stems)
        head = " ".join(words) if len(words) > 1 else words[0]
        # Two words are drafted as a phrase (``bot.rank.phrases``): each of
        # them alone is often a word of any text (« fausses », « photos »).
        whole = [f'"{head}"'] if len(words) > 1 else []
        own = _dedupe([head.casefold(), *forms.get(stems[0], ())] if len(words) == 1 else whole)
        groups = [n for n, found in enumerate(group_stems) if len(words) == 1 and stems[0] in found]
        if held := [by_group[n] for n in groups if n in by_group]:
            # « paie » after « salaire »: one meaning, one concept, more quotes.
            earlier = drafted[held[0]]
            mine = _dedupe([*earlier.terms[language], *own[:_FORMS]])
            drafted[held[0]] = replace(
                earlier,
                terms={**earlier.terms, language: tuple(mine)},
                quotes=tuple(sorted({*earlier.quotes, *quotes}, key=order.__getitem__)),
            )
            continue
        terms: dict[str, list[str]] = {language: list(own[:_FORMS])}
        for number in groups:
            by_group[number] = len(drafted)
            for other in LANGUAGES:
                terms.setdefault(other, []).extend(vocabulary.groups[number].get(other, ()))
        concept_id = unique_id(ascii_slug(head) or "concept", used_ids)
        used_ids.add(concept_id)
        listed = {lang: tuple(_dedupe(words_)) for lang, words_ in terms.items()}
        synonyms = _synonyms(vocabulary, stems[0], language) if len(words) == 1 else ()
        drafted.append(
            DraftConcept(
                id=concept_id,
                terms=listed,
                score=score,
                quotes=quotes,
                synonyms=tuple(s for s in synonyms if s not in listed[language]),
                familiar=bool(groups),
            )
        )
        if len(drafted) == limit:
            break
    return tuple(drafted)


def _forms(text: str, language: str) -> dict[str, list[str]]:
    """Stem → the forms the text spells it with, most frequent first."""
    counts: dict[str, dict[str, int]] = {}
    for word in _WORD.findall(text):
        found = stems_of(word, language)
        if len(found) == 1:
            spelled = counts.setdefault(found[0], {})
            key = _ELIDED.sub("", word.casefold())
            spelled[key] = spelled.get(key, 0) + 1
    return {
        stem: sorted(spelled, key=lambda w: (-spelled[w], w)) for stem, spelled in counts.items()
    }


def _synonyms(vocabulary: Vocabulary, stem: str, language: str) -> tuple[str, ...]:
    table = vocabulary.thesauri.get(stem_language(language))
    line = table.get(stem) if table is not None else None
    return tuple(line.split("|")[:_SYNONYMS]) if line else ()


def _dedupe(words: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(w for w in words if w))
