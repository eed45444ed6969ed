"""Keywords matched whole, as phrases, rather than by their words' stems.

Two kinds, both written by the curator as keywords or concept terms:

- a keyword made of function words only (« faire sans », "not the same",
  "how did we"): it has no stem and would never be matched; it is matched
  word for word (folded, split at apostrophes and hyphens). A keyword of
  one function word is matched so only when that word says something alone
  (``ALONE``: « avant », « sans », "before", "yourself"); « de » or "the"
  alone is never matched, and ``check-config`` says so (``never_matched``);
- a keyword in double quotes (``'"fausses photos"'``): its words are common
  alone and telling together. It is matched on its content words' stems,
  in that order with nothing but stop words between (« de fausses photos
  d'un politique »), and never by one of its words alone; with fewer than
  two content words (``'"avant l'IA"'``), word for word.

A phrase is one term of its document, keyed by its words joined by spaces
(no stem has a space), a quoted one after a ``"``, a single word after a
space.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from itertools import pairwise

from bot.rank.analysis import phrase_words, stems_of, term_pairs
from bot.rank.words import ALONE

#: Marks a keyword matched only whole, and the key of its phrase.
QUOTE = '"'
#: Marks the key of a keyword of one function word (no stem has a space).
SINGLE = " "


def is_quoted(text: str) -> bool:
    stripped = text.strip()
    return len(stripped) > 2 and stripped[0] == QUOTE and stripped[-1] == QUOTE


def never_matched(text: str, language: str) -> bool:
    """Whether a keyword, tag or concept term can match nothing: it has no
    content word in ``language`` and :class:`Phrases` makes no phrase of it
    (« de », "the", « merci », an emoji). A quoted single word is the
    loader's to report."""
    if is_quoted(text):
        return False
    stems = stems_of(text, language)
    return not stems and Phrases().add(text, stems)[0] is None


class Phrases:
    """The phrases of one space: added while it is built, then looked for in
    each text of a query."""

    def __init__(self) -> None:
        self._words: dict[_Pair, set[tuple[str, ...]]] = defaultdict(set)
        self._stems: dict[_Pair, set[tuple[str, ...]]] = defaultdict(set)
        #: Their first two words (or stems) → the phrases, longest first (see
        #: ``freeze``): a text's pairs of neighbours are looked up at once.
        self.by_words: _Table = {}
        self.by_stems: _Table = {}
        #: Keywords of one function word (« avant », "before"), folded.
        self.single: frozenset[str] = frozenset()
        self._single: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self.by_words or self.by_stems or self.single)

    def add(self, text: str, stems: Sequence[str]) -> tuple[str | None, bool]:
        """The key of the field ``text`` if it is a phrase (None if not), and
        whether its stems still count one by one."""
        quoted = is_quoted(text)
        if quoted and len(stems) > 1:
            phrase = tuple(stems)
            self._stems[phrase[0], phrase[1]].add(phrase)
            return sys.intern(QUOTE + " ".join(phrase)), False
        if quoted or not stems:
            words = phrase_words(text, cached=False)
            if len(words) > 1:
                self._words[words[0], words[1]].add(words)
                return sys.intern(" ".join(words)), not quoted
            if len(words) == 1 and not quoted and words[0] in ALONE:
                self._single.add(words[0])
                return sys.intern(SINGLE + words[0]), True
        return None, True

    def freeze(self) -> None:
        self.by_words, self.by_stems = _longest_first(self._words), _longest_first(self._stems)
        self.single = frozenset(self._single)
        self._words, self._stems, self._single = defaultdict(set), defaultdict(set), set()

    def found(self, text: str, terms: str) -> Iterator[tuple[str, str]]:
        """(key, the words as written) of each phrase in ``text``, whose terms
        are ``terms`` (``analyze_cached``); the longest where several start."""
        said = phrase_words(text) if self.single or self.by_words else ()
        if self.single:
            # In the text's order: the first place a word is said.
            for word in dict.fromkeys(said):
                if word in self.single:
                    yield SINGLE + word, word
        if self.by_words:
            for _, phrase in _starts(said, self.by_words):
                key = " ".join(phrase)
                yield key, key
        if self.by_stems and terms:
            pairs = list(term_pairs(terms))
            stems = tuple(stem for stem, _ in pairs)
            for at, phrase in _starts(stems, self.by_stems):
                words = " ".join(word for _, word in pairs[at : at + len(phrase)])
                yield QUOTE + " ".join(phrase), words


_Pair = tuple[str, str]
_Table = dict[_Pair, tuple[tuple[str, ...], ...]]


def _starts(said: tuple[str, ...], table: _Table) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Where a phrase of ``table`` starts in ``said``, and the longest there."""
    neighbours = list(pairwise(said))
    # The pairs of neighbours that start a phrase, found at once (in C); each
    # one's places are searched for (in C as well), not every position.
    for pair in table.keys() & set(neighbours):
        at = -1
        while True:
            try:
                at = neighbours.index(pair, at + 1)
            except ValueError:
                break
            for phrase in table[pair]:
                if said[at : at + len(phrase)] == phrase:
                    yield at, phrase
                    break


def _longest_first(table: dict[_Pair, set[tuple[str, ...]]]) -> _Table:
    return {
        pair: tuple(sorted(found, key=lambda phrase: (-len(phrase), phrase)))
        for pair, found in table.items()
    }
