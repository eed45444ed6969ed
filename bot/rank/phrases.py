"""Keywords matched whole, as phrases, rather than by their words' stems.

Two kinds, both written by the curator as keywords or concept terms:

- a keyword made of function words only (« faire sans », "not the same",
  "how did we"): it has no stem and would never be matched; it is matched
  word for word (folded, split at apostrophes and hyphens);
- a keyword in double quotes (``'"fausses photos"'``): its words are common
  alone and telling together. It is matched on its content words' stems,
  in that order with nothing but stop words between (« de fausses photos
  d'un politique »), and never by one of its words alone; with fewer than
  two content words (``'"avant l'IA"'``), word for word.

A phrase is one term of its document, keyed by its words joined by spaces
(no stem has a space), a quoted one after a ``"``.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence

from bot.rank.analysis import phrase_words

#: Marks a keyword matched only whole, and the key of its phrase.
QUOTE = '"'


def is_quoted(text: str) -> bool:
    stripped = text.strip()
    return len(stripped) > 2 and stripped[0] == QUOTE and stripped[-1] == QUOTE


class Phrases:
    """The phrases of one space: added while it is built, then looked for in
    each text of a query."""

    def __init__(self) -> None:
        self._words: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        self._stems: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        #: First word (or stem) → its phrases, longest first (see ``freeze``).
        self.by_word: _Table = {}
        self.by_stem: _Table = {}

    def __bool__(self) -> bool:
        return bool(self.by_word or self.by_stem)

    def add(self, text: str, stems: Sequence[str]) -> tuple[str | None, bool]:
        """The key of the field ``text`` if it is a phrase (None if not), and
        whether its stems still count one by one."""
        quoted = is_quoted(text)
        if quoted and len(stems) > 1:
            phrase = tuple(stems)
            self._stems[phrase[0]].add(phrase)
            return sys.intern(QUOTE + " ".join(phrase)), False
        if quoted or not stems:
            words = phrase_words(text, cached=False)
            if len(words) > 1:
                self._words[words[0]].add(words)
                return sys.intern(" ".join(words)), not quoted
        return None, True

    def freeze(self) -> None:
        self.by_word, self.by_stem = _longest_first(self._words), _longest_first(self._stems)
        self._words, self._stems = defaultdict(set), defaultdict(set)

    def found(self, text: str, pairs: Sequence[tuple[str, str]]) -> Iterator[tuple[str, str]]:
        """(key, the words as written) of each phrase in ``text``, whose
        (stem, word) terms are ``pairs``; the longest where several start."""
        if self.by_word:
            said = phrase_words(text)
            for at, word in enumerate(said):
                for phrase in self.by_word.get(word, ()):
                    if said[at : at + len(phrase)] == phrase:
                        key = " ".join(phrase)
                        yield key, key
                        break
        if self.by_stem:
            stems = [stem for stem, _ in pairs]
            for at, stem in enumerate(stems):
                for phrase in self.by_stem.get(stem, ()):
                    end = at + len(phrase)
                    if tuple(stems[at:end]) == phrase:
                        yield QUOTE + " ".join(phrase), " ".join(w for _, w in pairs[at:end])
                        break


_Table = dict[str, tuple[tuple[str, ...], ...]]


def _longest_first(table: dict[str, set[tuple[str, ...]]]) -> _Table:
    return {
        first: tuple(sorted(found, key=lambda p: (-len(p), p))) for first, found in table.items()
    }
