"""The words a language uses everywhere, which say little about a passage
that has them only in its text.

In a catalog of a few dozen passages the catalog's own idf cannot tell a
rare word from a common one: « gens » is in one quote of nine, so it weighs
as much as « fachos », and "the people who make a poster for their lotto"
was quoted the passage that says « engager des gens ». A word among the
most frequent of its language (Zipf frequency at least :data:`ZIPF`) that
a passage has only in its running text or its context, not in its tags,
keywords or concepts, is *incidental* there: it scores
:data:`INCIDENTAL_WEIGHT` times what it would, and it is no word of
evidence (``bot.decide.evidence``). A keyword is the curator's choice and
keeps its weight: « travail » and « avant » are among the most common
French words, and the catalog lists them on purpose.

The frequencies are wordfreq's, kept in :mod:`bot.rank.frequent` (rebuilt
by ``python -m bot.catalog.frequent``).
"""

from __future__ import annotations

from functools import cache

from bot.rank.frequent import PAIRS

#: From this Zipf frequency (about once in 300,000 words: « gens », « faire »,
#: « monde », "people", "thing") a word is common enough to be incidental
#: in a passage's text.
ZIPF = 5.5
#: What an incidental word of a passage's text counts, as occurrences.
INCIDENTAL_WEIGHT = 0.3


@cache
def common_words(language: str) -> frozenset[str]:
    """The folded words of ``language`` (ISO 639-1, or a tag such as
    ``fr-CA``) with a Zipf frequency of at least :data:`ZIPF`; none for a
    language without a list."""
    return frozenset(word for word, zipf in zipf_of(language).items() if zipf >= ZIPF)


def zipf_of(language: str) -> dict[str, float]:
    """Folded word → Zipf frequency, of the most frequent words of ``language``
    (from 5.0); empty for a language without a list."""
    pairs = PAIRS.get(language.split("-", 1)[0].lower(), "")
    return {word: float(zipf) for word, _, zipf in (p.partition(":") for p in pairs.split())}
