"""Relevance: which quote, prompt or essay speaks to what was just said.

Text is turned into terms by :func:`analyze` (folding, elisions, stop words,
Snowball stems) and documents are scored with BM25 (Robertson & Zaragoza,
"The Probabilistic Relevance Framework: BM25 and Beyond", 2009), in its
BM25F form: tags and keywords are fields whose term counts are boosted
before saturation.

Each indexed text is analysed in its own language, and the query is analysed
again for each language it is compared with. A post's ``language`` is often
the client's default rather than what was written, so the query's language
never decides which stemmer meets which text.

All the document side of BM25 is computed once in :meth:`Index.build`; a
query only sums precomputed weights over an inverted index, which keeps a
decision within a few milliseconds at ten thousand quotes.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.model.catalog import Concept, Essay, Quote
from bot.rank.analysis import analyze_cached, stem_language, stems_of, term_pairs
from bot.rank.corpus import Corpus
from bot.rank.expand import Lexicon
from bot.rank.query import Query, Scored
from bot.rank.space import View
from bot.rank.tuning import FIELD_BOOST, JOIN_BOOST, TITLE_BOOST

__all__ = ["Index", "freeze_after_load"]


@dataclass(frozen=True, slots=True)
class _Join:
    """A quote that sets concepts side by side (``joins``), read in its language."""

    doc: int
    language: str
    concepts: tuple[str, ...]
    #: Per concept, the stems of each of its terms: the query names the
    #: concept when it has every stem of one term (« fake news » needs both).
    sides: tuple[tuple[frozenset[str], ...], ...]

    def named_by(self, said: frozenset[str]) -> bool:
        return all(any(term <= said for term in side) for side in self.sides)


class Index:
    """Quotes and prompts (by id) and essays, ready to be scored.

    Built once per catalog load; immutable and safe to share between threads.
    """

    def __init__(self, documents: Corpus, essays: Corpus, joins: Sequence[_Join] = ()) -> None:
        self._documents = documents
        self._essays = essays
        self._joins = tuple(joins)

    @classmethod
    def build(
        cls,
        essays: Sequence[Essay],
        lexicon: Lexicon | None = None,
        concepts: Mapping[str, Concept] | None = None,
    ) -> Index:
        """Index every quote and prompt of ``essays``, and the essays themselves.

        A quote is read in its essay's language; a prompt in each language
        it has a text for (its score is its best language's). Tags and
        keywords count :data:`FIELD_BOOST` times. The first of two
        documents with the same id wins. With ``lexicon``, query words also
        reach their synonyms (``bot.rank.expand``). The terms of the
        ``concepts`` a quote or prompt names count as its keywords; a quote's
        ``context`` counts :data:`CONTEXT_WEIGHT` a word. A quote whose
        ``joins`` concepts the query all names scores :data:`JOIN_BOOST`
        times more.
        """
        ids: list[str] = []
        seen: set[str] = set()
        views: list[View] = []
        joins: list[_Join] = []
        for essay in essays:
            language = stem_language(essay.language)
            for quote in essay.quotes:
                if quote.id in seen:
                    continue
                seen.add(quote.id)
                if quote.joins and concepts:
                    joins.append(_join_of(len(ids), language, quote, concepts))
                fields = (*quote.tags, *quote.keywords)
                around = (quote.context,) if quote.context else ()
                borrowed = _terms(quote.concepts, concepts)
                views.append(
                    View(
                        len(ids),
                        language,
                        "quote",
                        (quote.text,),
                        fields,
                        FIELD_BOOST,
                        around,
                        borrowed,
                    )
                )
                ids.append(quote.id)
            for prompt in essay.prompts:
                if prompt.id in seen:
                    continue
                seen.add(prompt.id)
                fields = (*prompt.tags, *prompt.keywords)
                borrowed = _terms(prompt.concepts, concepts)
                for lang, text in sorted(prompt.texts.items()):
                    views.append(
                        View(
                            len(ids),
                            stem_language(lang),
                            "prompt",
                            (text,),
                            fields,
                            FIELD_BOOST,
                            borrowed=borrowed,
                        )
                    )
                ids.append(prompt.id)
        # Which essay a thread is about rests on words, not on a thesaurus's
        # senses: the essays are read with the familiar groups alone.
        familiar = lexicon.words_only() if lexicon is not None else None
        documents = Corpus(ids, views, lexicon)
        return cls(documents, _essay_corpus(essays, familiar, concepts), joins)

    def __len__(self) -> int:
        return len(self._documents.ids)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._documents.number

    def knows(self, stem: str) -> bool:
        """Whether some quote or prompt, in any language, has ``stem``."""
        return any(stem in space.postings for space in self._documents.spaces)

    def stems(self, doc_id: str) -> frozenset[str]:
        """Every stem a quote or prompt is indexed with, in all its languages."""
        number = self._documents.number.get(doc_id)
        if number is None:
            return frozenset()
        return frozenset(
            stem for space in self._documents.spaces for stem in space.stems.get(number, ())
        )

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(space.language for space in self._documents.spaces)

    def score(
        self,
        ids: Sequence[str],
        query: Query,
        *,
        limit: int | None = None,
        exclude: Collection[str] = (),
    ) -> list[Scored]:
        """One :class:`Scored` per distinct id given and not in ``exclude``,
        best first, ties by id.

        Ids the index does not know score 0.0. With ``limit``, only the
        first ``limit`` of that list are built: the same entries, much
        faster when thousands of ids are given. Give the same tuple of ids
        again (an essay's candidates) and it is not looked up again; leave
        a few of them out with ``exclude`` rather than by a new list.
        """
        corpus = self._documents
        wanted = corpus.want(ids)
        unknown: Sequence[str] = wanted.unknown
        skip: frozenset[int] = frozenset()
        if exclude:
            unknown = [doc_id for doc_id in unknown if doc_id not in exclude]
            numbers = map(corpus.number.get, exclude)
            skip = frozenset(n for n in numbers if n is not None)
        joined = self._joined(query) if self._joins else {}
        if not joined:
            return corpus.ranked(wanted, query, limit=limit, unknown=unknown, exclude=skip)
        boost = dict.fromkeys(joined, JOIN_BOOST)
        out = corpus.ranked(wanted, query, limit=limit, unknown=unknown, exclude=skip, boost=boost)
        number = corpus.number
        return [
            replace(s, joined=joined[number[s.id]])
            if s.score > 0 and number.get(s.id) in joined
            else s
            for s in out
        ]

    def _joined(self, query: Query) -> dict[int, tuple[str, ...]]:
        """The quotes whose ``joins`` the query names, with those concepts."""
        said: dict[str, frozenset[str]] = {}
        found: dict[int, tuple[str, ...]] = {}
        for join in self._joins:
            stems = said.get(join.language)
            if stems is None:
                said[join.language] = stems = frozenset(
                    stem
                    for text, _ in query.sources()
                    for stem, _ in term_pairs(analyze_cached(text, join.language))
                )
            if join.named_by(stems):
                found[join.doc] = join.concepts
        return found

    def essay_scores(self, query: Query, *, limit: int | None = None) -> list[Scored]:
        """Relevance of each essay (id = essay id): its title and hashtags
        (boosted), quotes, prompts, tags and keywords. Best first, ties by id."""
        return self._essays.ranked(None, query, limit=limit)


def _terms(named: Sequence[str], concepts: Mapping[str, Concept] | None) -> tuple[str, ...]:
    """The terms of the concepts ``named`` (unknown ones: none; the loader
    reports them)."""
    if not named or not concepts:
        return ()
    return tuple(term for name in named if name in concepts for term in concepts[name].all_terms())


def _join_of(doc: int, language: str, quote: Quote, concepts: Mapping[str, Concept]) -> _Join:
    named = tuple(name for name in quote.joins if name in concepts)
    sides = tuple(
        tuple(
            frozenset(stems)
            for term in concepts[name].all_terms()
            if (stems := stems_of(term, language))
        )
        for name in named
    )
    return _Join(doc, language, named, sides)


def _essay_corpus(
    essays: Sequence[Essay], lexicon: Lexicon | None, concepts: Mapping[str, Concept] | None
) -> Corpus:
    ids: list[str] = []
    seen: set[str] = set()
    views: list[View] = []
    for essay in essays:
        if essay.id in seen:
            continue
        seen.add(essay.id)
        language = stem_language(essay.language)
        texts: dict[str, list[str]] = defaultdict(list)
        for quote in essay.quotes:
            texts[language].extend((quote.text, *quote.tags, *quote.keywords))
            texts[language].extend(_terms(quote.concepts, concepts))
            if quote.context:
                texts[language].append(quote.context)
        for prompt in essay.prompts:
            for lang, text in prompt.texts.items():
                texts[stem_language(lang)].extend((text, *prompt.tags, *prompt.keywords))
                texts[stem_language(lang)].extend(_terms(prompt.concepts, concepts))
        texts.setdefault(language, [])
        fields = (essay.title, *essay.hashtags)
        for lang in sorted(texts):
            views.append(View(len(ids), lang, "essay", tuple(texts[lang]), fields, TITLE_BOOST))
        ids.append(essay.id)
    return Corpus(ids, views, lexicon)


def freeze_after_load() -> None:
    """Keep the garbage collector off what is loaded so far: call it once the
    configuration is loaded (``load_config``), at start-up and after a reload.

    An index of ten thousand quotes is a few million objects that live as
    long as the process: each full collection would walk them all, in the
    middle of a decision, for nothing (they hold no reference cycles to
    free). ``gc.freeze`` moves them to a generation the collector never
    scans; reference counting still frees them when a reload drops them.
    The collection first leaves only live objects to freeze.
    """
    gc.collect()
    gc.freeze()
