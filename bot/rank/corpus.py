"""The inverted index over one kind of document (quotes, prompts or essays):
BM25F weights precomputed per field, postings in flat arrays, and the
scoring of a query over them.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from bot.rank.expand import Lexicon, is_expanded
from bot.rank.query import Query, Scored
from bot.rank.space import COUNT, Space, Term, View
from bot.rank.tuning import SCORE_DIGITS


@dataclass(frozen=True, slots=True)
class _Wanted:
    """The documents a list of ids names, resolved once per list."""

    #: Document numbers; None for every document.
    docs: frozenset[int] | None
    #: The ids the index does not know (they score 0.0), sorted.
    unknown: tuple[str, ...]
    #: Per space, whether it holds any of the documents: a space that holds
    #: none is not read at all (quotes in French leave the English prompts be).
    spaces: tuple[bool, ...]
    #: Per space, its documents that are not wanted when they are few (an
    #: essay's quotes without its prompts): dropped from the scores one by
    #: one rather than every score checked. None: check every score.
    unwanted: tuple[frozenset[int] | None, ...] = ()


#: Lists of ids remembered by :meth:`Corpus.want` (an archive's essays, two
#: kinds of candidates each); past that the memory starts afresh.
WANTED_MEMO = 256


class Corpus:
    """Documents (by id) spread over per-language spaces."""

    def __init__(
        self, ids: Sequence[str], views: Sequence[View], lexicon: Lexicon | None = None
    ) -> None:
        self.ids = list(ids)
        self.number = {doc_id: n for n, doc_id in enumerate(self.ids)}
        #: Documents in id order, to list zero scores without sorting them.
        self.by_id = sorted(range(len(self.ids)), key=self.ids.__getitem__)
        by_language: dict[str, list[View]] = defaultdict(list)
        for view in views:
            by_language[view.language].append(view)
        self.spaces = [Space(lang, by_language[lang]) for lang in sorted(by_language)]
        for space in self.spaces:
            space.lexicon = lexicon
        #: The space of each document's first view: its only one, for most.
        self.home: dict[int, int] = {}
        spaces_per_doc: dict[int, int] = defaultdict(int)
        for number, space in enumerate(self.spaces):
            for doc in space.stems:
                self.home.setdefault(doc, number)
                spaces_per_doc[doc] += 1
        for space in self.spaces:
            space.shared = frozenset(doc for doc in space.stems if spaces_per_doc[doc] > 1)
        self._wanted: dict[int, tuple[Sequence[str], _Wanted]] = {}

    def want(self, ids: Sequence[str]) -> _Wanted:
        """The documents ``ids`` names. A tuple is remembered (by identity: it
        cannot change), so that the candidates of an essay, asked about at
        every mention, are looked up once rather than id by id each time."""
        memo = self._wanted.get(id(ids))
        if memo is not None and memo[0] is ids:
            return memo[1]
        unique = dict.fromkeys(ids)
        numbers = list(map(self.number.get, unique))
        unknown: tuple[str, ...] = ()
        if None in numbers:
            unknown = tuple(sorted(i for i, n in zip(unique, numbers, strict=True) if n is None))
        known = cast(set[int], set(numbers) - {None})
        docs = None if len(known) == len(self.ids) else frozenset(known)
        spaces = tuple(
            docs is None or not space.stems.keys().isdisjoint(docs) for space in self.spaces
        )
        unwanted: list[frozenset[int] | None] = []
        for space in self.spaces:
            others = None
            if docs is not None and len(space.stems) - len(docs) <= len(space.stems) // 8:
                others = frozenset(space.stems.keys() - docs)
                others = others if len(others) <= len(space.stems) // 8 else None
            unwanted.append(others)
        wanted = _Wanted(docs, unknown, spaces, tuple(unwanted))
        if isinstance(ids, tuple):
            if len(self._wanted) >= WANTED_MEMO:
                self._wanted.clear()
            # The tuple is kept with its entry, so its id cannot be reused.
            self._wanted[id(ids)] = (ids, wanted)
        return wanted

    def best(
        self, wanted: _Wanted | None, query: Query, *, masks_of_all: bool = True
    ) -> tuple[dict[int, float], dict[int, int], dict[int, int], list[list[Term]]]:
        """Each document's best score above zero; the query terms it shares
        (a bit mask over that space's terms; only for some documents unless
        ``masks_of_all``); for documents in several spaces, the space that
        gave it; the query's terms per space. ``wanted`` None means every
        document."""
        docs = None if wanted is None else wanted.docs
        found: dict[int, float] = {}
        shared_terms: dict[int, int] = {}
        where: dict[int, int] = {}
        all_terms: list[list[Term]] = []
        for number, space in enumerate(self.spaces):
            if wanted is not None and not wanted.spaces[number]:
                all_terms.append([])
                continue
            terms = space.query_terms(query)
            all_terms.append(terms)
            if not terms:
                continue
            cost = sum(space.postings[term.stem] & COUNT for term in terms)
            if docs is not None and len(docs) * 8 < cost:
                # Few candidates: look each one up rather than walk postings.
                values, masks = _score_documents(space, docs, terms)
            else:
                values, masks = _score_postings(space, terms, masks=masks_of_all)
                others = None if wanted is None else wanted.unwanted[number]
                if others is not None:
                    for doc in others:
                        values.pop(doc, None)
                        masks.pop(doc, None)
                elif docs is not None:
                    values = {doc: value for doc, value in values.items() if doc in docs}
            # Few documents are shared: look them up rather than go through
            # every score (a frozenset intersected with a dict walks the dict).
            for doc in [doc for doc in space.shared if doc in values]:
                if doc not in found or values[doc] > found[doc]:
                    where[doc] = number
                else:  # an earlier language scored it at least as high
                    values[doc] = found[doc]
                    if doc in shared_terms:
                        masks[doc] = shared_terms[doc]
                    else:
                        masks.pop(doc, None)
            if found:
                found.update(values)
                shared_terms.update(masks)
            else:  # the first space read: taken whole rather than copied
                found, shared_terms = values, masks
        return found, shared_terms, where, all_terms

    def ranked(
        self,
        wanted: _Wanted | None,
        query: Query,
        *,
        limit: int | None = None,
        unknown: Sequence[str] = (),
        exclude: Collection[int] = frozenset(),
        boost: Mapping[int, float] | None = None,
    ) -> list[Scored]:
        """Scored for the documents wanted (every one if None) but those in
        ``exclude``, and the ``unknown`` ids (scored 0.0, given sorted): best
        first, ties by id, at most ``limit``. The score of a document in
        ``boost`` that scored at all is multiplied by its factor."""
        if limit is not None and limit <= 0:
            return []
        docs = None if wanted is None else wanted.docs
        # With a limit, the few documents listed have their shared words
        # found afterwards rather than every document's while scoring.
        found, masks, where, terms = self.best(wanted, query, masks_of_all=limit is None)
        for doc in exclude:
            found.pop(doc, None)
        if boost:
            for doc, factor in boost.items():
                if doc in found:
                    found[doc] *= factor
        ids = self.ids
        items: Iterable[tuple[int, float]] = found.items()
        if limit is not None and len(found) > limit:
            # Only what can reach the first `limit` places is sorted; the
            # margin keeps every score that rounds to the cut-off value. A
            # few more than asked are taken first, which holds them unless
            # more scores than that are tied at the cut-off.
            # Sorting the scores and picking by them both run in C.
            cutoff = heapq.nlargest(limit, found.values())[-1] - _MARGIN
            items = list(itertools.compress(found.items(), map(cutoff.__le__, found.values())))
        keyed = sorted((-round(value, SCORE_DIGITS), ids[doc], doc) for doc, value in items)[:limit]
        words: dict[tuple[int, int], tuple[str, ...]] = {}
        owned: dict[tuple[int, int], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        orders: dict[int, dict[str, int]] = {}
        out = []
        for negative, doc_id, doc in keyed:
            space = where.get(doc, self.home[doc])
            mask = masks.get(doc)
            if mask is None:
                order = orders.get(space)
                if order is None:
                    orders[space] = order = {term.stem: n for n, term in enumerate(terms[space])}
                ranks = self.spaces[space].common(doc, terms[space], order)
                mask = sum(1 << n for n in ranks)
            # Many documents share the same few query words: decode each set once.
            key = (space, mask)
            matched = words.get(key)
            if matched is None:
                words[key] = matched = _words_of(terms[key[0]], key[1])
            borrowed = self.spaces[space].borrowed.get(doc)
            everywhere = self.spaces[space].incidental.get(doc)
            # A document with neither has the words of its mask for its own.
            plain = borrowed is None and everywhere is None
            found_words = owned.get(key) if plain else None
            if found_words is None:
                found_words = _own_words(
                    terms[space], mask, borrowed or frozenset(), everywhere or ()
                )
                if plain:
                    owned[key] = found_words
            own, incidental = found_words
            out.append(Scored(doc_id, -negative, matched, own=own, incidental=incidental))
        room = None if limit is None else limit - len(out)
        if room is not None and room <= 0:
            return out
        # The rest score zero, by id. With a limit only its first few are
        # built: walking the documents in id order stops there, where sorting
        # every wanted id would cost as much as listing them all.
        zero: Iterable[str]
        if docs is None:
            zero = (ids[doc] for doc in self.by_id if doc not in found and doc not in exclude)
        elif room is not None and len(docs) * 4 >= len(ids):
            zero = (
                ids[doc]
                for doc in self.by_id
                if doc in docs and doc not in found and doc not in exclude
            )
        else:
            zero = sorted(ids[doc] for doc in docs if doc not in found and doc not in exclude)
        if unknown:
            zero = heapq.merge(zero, unknown)
        out.extend(Scored(doc_id, 0.0) for doc_id in itertools.islice(zero, room))
        return out


#: Below the rounding of :data:`SCORE_DIGITS`: a score this close to the
#: cut-off may round to the same value.
_MARGIN = 10.0**-SCORE_DIGITS


def _words_of(terms: Sequence[Term], mask: int) -> tuple[str, ...]:
    """The words of the terms whose bits are set, in query order."""
    words: dict[str, None] = {}
    while mask:
        low = mask & -mask
        words[terms[low.bit_length() - 1].word] = None
        mask ^= low
    return tuple(words)


def _own_words(
    terms: Sequence[Term], mask: int, borrowed: frozenset[str], incidental: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words of the terms whose bits are set, in query order: those that
    are neither a synonym nor one of the ``borrowed`` or ``incidental``
    stems (the document's own), and those of the ``incidental`` stems."""
    own: dict[str, None] = {}
    common: dict[str, None] = {}
    while mask:
        low = mask & -mask
        term = terms[low.bit_length() - 1]
        if term.stem in incidental:
            common[term.word] = None
        elif term.stem not in borrowed and not is_expanded(term.word):
            own[term.word] = None
        mask ^= low
    return tuple(own), tuple(common)


def _score_documents(
    space: Space, docs: Iterable[int], terms: Sequence[Term]
) -> tuple[dict[int, float], dict[int, int]]:
    """Intersect each document's terms with the query's."""
    order = {term.stem: n for n, term in enumerate(terms)}
    values: dict[int, float] = {}
    masks: dict[int, int] = {}
    for doc in docs:
        if doc not in space.stems:
            continue
        ranks = space.common(doc, terms, order)
        if ranks:
            # Summed in query order, then each group's best in the order of
            # the groups, as _score_postings does: the same float whichever
            # path scored it, and in every process.
            total = 0.0
            best: dict[int, float] = {}
            for n in ranks:
                term = terms[n]
                value = term.weight * cast(float, space.weight(term.stem, doc))
                if term.group < 0:
                    total += value
                elif value > best.get(term.group, 0.0):
                    best[term.group] = value
            for group in sorted(best):
                total += best[group]
            values[doc] = total
            masks[doc] = sum(1 << n for n in ranks)
    return values, masks


def _score_postings(
    space: Space, terms: Sequence[Term], *, masks: bool = True
) -> tuple[dict[int, float], dict[int, int]]:
    """Walk each query term's postings: cheaper when most documents are wanted.
    Without ``masks``, only the scores (the walk is most of a decision's time
    at ten thousand quotes, and the masks half of the walk)."""
    values: dict[int, float] = {}
    shared: dict[int, int] = {}
    groups: dict[int, dict[int, float]] = {}
    get, bits = values.get, shared.get
    for n, term in enumerate(terms):
        start, end = space.span(term.stem)
        docs, weights = space.docs[start:end], space.weights[start:end]
        weight, bit = term.weight, 1 << n
        if term.group >= 0:
            # A word and its synonyms: the best of them per document, added
            # once every plain term is (see _score_documents).
            best = groups.setdefault(term.group, {})
            for doc, posting in zip(docs, weights, strict=True):
                value = weight * posting
                if value > best.get(doc, 0.0):
                    best[doc] = value
                if masks:
                    shared[doc] = bits(doc, 0) | bit
        elif masks:
            for doc, posting in zip(docs, weights, strict=True):
                values[doc] = get(doc, 0.0) + weight * posting
                shared[doc] = bits(doc, 0) | bit
        else:
            for doc, posting in zip(docs, weights, strict=True):
                values[doc] = get(doc, 0.0) + weight * posting
    for group in sorted(groups):
        for doc, value in groups[group].items():
            values[doc] = get(doc, 0.0) + value
    return values, shared
