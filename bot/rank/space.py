"""One view of a corpus (the texts, or the tags and keywords): its terms, their
postings packed in flat arrays, and the BM25 weight of each posting.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.rank.analysis import (
    analyze_cached,
    other_stem,
    other_stems,
    reading,
    stem_pairs_of,
    stems_of,
    term_pairs,
)
from bot.rank.common import INCIDENTAL_WEIGHT, common_words
from bot.rank.expand import Lexicon, source_of
from bot.rank.phrases import Phrases
from bot.rank.query import Query
from bot.rank.tuning import CONTEXT_WEIGHT, K1, MAX_QUERY_TERMS, B
from bot.text.fold import fold


@dataclass(frozen=True, slots=True)
class View:
    """One language's text of a document: a quote has one, a prompt one per
    language. A document has at most one view per language."""

    doc: int
    language: str
    #: Groups documents whose lengths are compared (quotes with quotes).
    kind: str
    body: tuple[str, ...]
    #: Tags, keywords, a title: counted ``boost`` times each, not length-normalised.
    fields: tuple[str, ...]
    boost: float
    #: The passage around a quote: counted :data:`CONTEXT_WEIGHT` times each,
    #: not in the length (a long paragraph must not make its quote short).
    context: tuple[str, ...] = ()
    #: The terms of the concepts it names: fields too, but a vocabulary many
    #: passages share, not the document's own words (``Space.borrowed``).
    borrowed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Term:
    stem: str
    weight: float
    word: str
    #: Terms of one query word (the word and the synonyms it reached) share a
    #: group number: a document scores the best of them, not their sum, so a
    #: word is worth one word whatever the number of synonyms a quote lists.
    #: -1: the only term of its word.
    group: int = -1


class Space:
    """The BM25 index of every view in one language, keyed by document number.

    Laid out to stay small at tens of thousands of documents: the postings of
    every stem sit end to end in two arrays (document numbers, weights), and
    a document keeps only the tuple of its stems.
    """

    def __init__(self, language: str, views: Sequence[View]) -> None:
        self.language = language
        #: Document number → its stems, sorted.
        self.stems: dict[int, tuple[str, ...]] = {}
        #: Document number → the stems it has only from its concepts' terms
        #: (none listed: every stem is its own).
        self.borrowed: dict[int, frozenset[str]] = {}
        #: Document number → the stems it has only in its text or context, of
        #: words its language uses everywhere (``bot.rank.common``): they
        #: weigh little there and are no evidence. A tuple: a few stems at most.
        self.incidental: dict[int, tuple[str, ...]] = {}
        common = common_words(language)
        # Per view, in order: how often each of its stems is in its body and
        # in its fields, end to end in two arrays, and its length, until the
        # collection's statistics are known. Flat arrays rather than a pair
        # per view: ten thousand views' worth of small objects is megabytes.
        body_counts: array[int] = array("I")
        field_counts: array[int] = array("I")
        context_counts: array[int] = array("I")
        view_lengths: array[int] = array("I")
        document_frequency: dict[str, int] = defaultdict(int)
        lengths: dict[str, list[int]] = defaultdict(list)
        phrases = Phrases()
        for view in views:
            body: dict[str, int] = defaultdict(int)
            length = 0
            everywhere: set[str] = set()
            for text in view.body:
                for stem, word in stem_pairs_of(text, language):
                    body[stem] += 1
                    length += 1
                    if word in common or fold(word) in common:
                        everywhere.add(stem)
            fields: dict[str, int] = defaultdict(int)
            own: frozenset[str] = frozenset()
            for number, text in enumerate((*view.fields, *view.borrowed)):
                if number == len(view.fields):
                    own = frozenset(fields)  # what the concepts add comes next
                field_stems = stems_of(text, language)
                # A phrase (``bot.rank.phrases``) is a term of its own; a
                # quoted one counts only whole.
                key, by_stem = phrases.add(text, field_stems)
                if key is not None:
                    fields[key] += 1
                if by_stem:
                    # Read in the other language too, each stem once: an
                    # English keyword of a French quote meets its plural.
                    for stem in dict.fromkeys((*field_stems, *other_stems(text, language))):
                        fields[stem] += 1
            around: dict[str, int] = defaultdict(int)
            for text in view.context:
                for stem, word in stem_pairs_of(text, language):
                    around[stem] += 1
                    if word in common or fold(word) in common:
                        everywhere.add(stem)
            if everywhere:
                incidental = tuple(sorted(everywhere - fields.keys()))
                if incidental:
                    self.incidental[view.doc] = incidental
            stems = tuple(sorted(body.keys() | fields.keys() | around.keys()))
            if view.borrowed:
                only = fields.keys() - own - body.keys() - around.keys()
                if only:
                    self.borrowed[view.doc] = frozenset(only)
            body_counts.extend(body.get(stem, 0) for stem in stems)
            field_counts.extend(fields.get(stem, 0) for stem in stems)
            context_counts.extend(around.get(stem, 0) for stem in stems)
            view_lengths.append(length)
            lengths[view.kind].append(length)
            for stem in stems:
                document_frequency[stem] += 1
            self.stems[view.doc] = stems
        phrases.freeze()
        #: The keywords matched whole: a query that has one has its key as a term.
        self.phrases = phrases
        #: Views in this space: with a stem's number of postings (its
        #: document frequency), what its idf is computed from (``idf``).
        self.total = len(views)
        average = {kind: (sum(ls) / len(ls)) or 1.0 for kind, ls in lengths.items()}
        #: Stem → where its postings are in ``docs`` and ``weights``: first
        #: index << 32 | count (one int rather than a pair: there are tens of
        #: thousands of stems).
        self.postings: dict[str, int] = {}
        size = 0
        for stem in sorted(document_frequency):
            # The count starts at 0 and is counted up as the postings are
            # laid out: the entry is its own cursor, no other table is built.
            self.postings[stem] = size << 32
            size += document_frequency[stem]
        #: Document numbers, stem after stem; within a stem in increasing
        #: order (views come in document order), which ``weight`` bisects.
        self.docs = array("i", bytes(4 * size))
        #: The BM25 weight of each posting: the whole document side of the
        #: formula, so a query only multiplies and adds.
        self.weights = array("d", bytes(8 * size))
        # The idf of each document frequency met: a few hundred values, where
        # a table per stem would be tens of thousands.
        idf_of_df: dict[int, float] = {}
        bodies, boosted, nearby = iter(body_counts), iter(field_counts), iter(context_counts)
        for view, length in zip(views, view_lengths, strict=True):
            # Body counts are length-normalised; field counts are not (tags
            # are a few words, their length says nothing).
            norm = 1.0 - B + B * length / average[view.kind]
            # ``stems`` first: zip stops there, before taking the next view's counts.
            incidental = self.incidental.get(view.doc, ())
            for stem, body_count, field_count, context_count in zip(
                self.stems[view.doc], bodies, boosted, nearby, strict=False
            ):
                tf = body_count / norm + field_count * view.boost + context_count * CONTEXT_WEIGHT
                if incidental and stem in incidental:
                    tf *= INCIDENTAL_WEIGHT
                df = document_frequency[stem]
                idf = idf_of_df.get(df)
                if idf is None:
                    idf = idf_of_df[df] = self._idf(df)
                packed = self.postings[stem]
                at = (packed >> 32) + (packed & COUNT)
                self.postings[stem] = packed + 1
                self.docs[at] = view.doc
                self.weights[at] = idf * tf * (K1 + 1.0) / (tf + K1)
        #: The vocabulary bridge that expands query stems (set by Corpus).
        self.lexicon: Lexicon | None = None
        #: Documents that also have a view in another space (set by Corpus).
        self.shared: frozenset[int] = frozenset()
        #: The last query and its terms: ``decide`` asks about the same query
        #: more than once (the candidates used before, then more of the rest).
        self._last: tuple[Query, list[Term]] | None = None

    def _idf(self, df: int) -> float:
        return math.log(1.0 + (self.total - df + 0.5) / (df + 0.5))

    def idf(self, stem: str) -> float:
        """The idf of a stem of this space: computed again rather than kept,
        which would be one more entry per stem (tens of thousands)."""
        return self._idf(self.postings[stem] & COUNT)

    def span(self, stem: str) -> tuple[int, int]:
        """Where the postings of ``stem`` start and end in ``docs``/``weights``."""
        packed = self.postings[stem]
        start = packed >> 32
        return start, start + (packed & COUNT)

    def weight(self, stem: str, doc: int) -> float | None:
        """The weight of ``stem`` in ``doc``, if it is there."""
        start, end = self.span(stem)
        at = bisect_left(self.docs, doc, start, end)
        return self.weights[at] if at < end and self.docs[at] == doc else None

    def common(self, doc: int, terms: Sequence[Term], order: Mapping[str, int]) -> list[int]:
        """The positions in ``terms`` of the stems ``doc`` has, in order."""
        stems = self.stems[doc]
        if len(stems) <= 4 * len(terms):
            return sorted(map(order.__getitem__, order.keys() & stems))
        # A long document (an essay's whole text): look each term up instead.
        return [n for n, term in enumerate(terms) if self.weight(term.stem, doc) is not None]

    def query_terms(self, query: Query) -> list[Term]:
        """The query's terms found in this space, most telling first: each
        stem weighs what its heaviest source does (mention 1.0, posts less).
        The list is shared: callers do not change it."""
        last = self._last
        if last is not None and (last[0] is query or last[0] == query):
            return last[1]
        terms = self._query_terms(query)
        # One assignment: another thread reads either pair whole.
        self._last = (query, terms)
        return terms

    def _query_terms(self, query: Query) -> list[Term]:
        weights: dict[str, float] = {}
        words: dict[str, str] = {}
        postings = self.postings
        lexicon = self.lexicon
        reached: dict[str, tuple[float, str]] = {}
        # The query's texts are read in the mention's language (its function
        # words), with this space's stemmer.
        read_as = reading(self.language, query.language)
        # A text in the other language is not looked up in this one's thesaurus.
        native = read_as == self.language
        # A mention without a content word of its own defers to the thread.
        deferring = bool(query.thread) and not analyze_cached(query.mention, read_as)
        for text, weight in query.sources(deferring=deferring):
            terms = analyze_cached(text, read_as)
            if self.phrases:
                for key, said in self.phrases.found(text, terms):
                    if weight > weights.get(key, 0.0):
                        weights[key] = weight
                        words[key] = said
            for stem, word in term_pairs(terms):
                if stem not in postings:
                    # "designers" in a French space: the English stem of the
                    # keyword "designer" (see ``other_stems``).
                    other = other_stem(word, self.language)
                    if other is not None and other in postings:
                        stem = other
                if lexicon is not None and stem not in postings:
                    # « ils remplacent » says « remplacer »: the same word.
                    base = lexicon.base_form(stem, self.language)
                    if base is not None and base in postings:
                        stem = base
                seen = weights.get(stem)
                if seen is None:
                    if stem in postings:
                        weights[stem] = weight
                        words[stem] = word
                elif weight > seen:
                    weights[stem] = weight
                if lexicon is None or stem in postings:
                    # A word the catalog uses is read as it is: its synonyms
                    # would only spread it to the passages that lack it.
                    continue
                other = other_stem(word, self.language)
                for expansion in lexicon.expand(stem, self.language, other, thesaurus=native):
                    if expansion.stem not in postings:
                        continue
                    value = weight * expansion.weight
                    known = reached.get(expansion.stem)
                    if known is None or value > known[0]:
                        joined = f"{word}{expansion.joiner}{expansion.word}"
                        reached[expansion.stem] = (value, joined)
        # A stem the query used stays that word (a plain word of the thread,
        # evidence of its own); a synonym from a heavier source (the mention's
        # « fric » for a thread's « argent ») only raises its weight.
        for stem, (value, word) in reached.items():
            seen = weights.get(stem)
            if seen is None:
                weights[stem] = value
                words[stem] = word
            elif value > seen:
                weights[stem] = value
        # idf (as ``idf`` computes it) inlined: this runs for every stem a
        # thread shares with the space, hundreds per decision.
        total, log = self.total, math.log
        telling = sorted(
            (-weight * log(1.0 + (total - df + 0.5) / (df + 0.5)), stem)
            for stem, weight in weights.items()
            for df in (postings[stem] & COUNT,)
        )
        kept = [stem for _, stem in telling[:MAX_QUERY_TERMS]]
        if not reached:
            return [Term(stem, weights[stem], words[stem]) for stem in kept]
        sources = [source_of(words[stem]) for stem in kept]
        counts = Counter(sources)
        groups: dict[str, int] = {}
        return [
            Term(
                stem,
                weights[stem],
                words[stem],
                groups.setdefault(source, len(groups)) if counts[source] > 1 else -1,
            )
            for stem, source in zip(kept, sources, strict=True)
        ]


COUNT = (1 << 32) - 1
