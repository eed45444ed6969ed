"""What moderators' corrections teach the catalog (``filrouge catalog
learned``); pure.

A correction says that for one mention another quote or prompt would have
fitted better (``mieux <id>``). The mention's own words that this passage is
not indexed with are the words it lacks: each correction counts each such
word once, and the ones at least ``minimum`` corrections agree on are
suggested as keywords. Stop words, handles and links never are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from bot.catalog.coverage import content_words
from bot.rank.analysis import stems_of

if TYPE_CHECKING:
    from bot.rank.index import Index


def lacking(text: str, item_id: str, index: Index) -> set[str]:
    """The content words of ``text`` whose stems ``item_id`` is not indexed with."""
    known = index.stems(item_id)
    found = set()
    for word in content_words(text, index.languages):
        stems = {stem for language in index.languages for stem in stems_of(word, language)}
        if stems and not stems & known:
            found.add(word)
    return found


def suggestions(
    corrections: Iterable[Mapping[str, Any]], index: Index, minimum: int = 1
) -> dict[str, Counter[str]]:
    """Per quote or prompt a correction named, the words it lacks, counted by
    correction; words below ``minimum`` left out."""
    counts: dict[str, Counter[str]] = {}
    for correction in corrections:
        item, text = correction.get("item_id"), correction.get("text")
        if not item or not text:
            continue
        counts.setdefault(str(item), Counter()).update(lacking(str(text), str(item), index))
    return {
        item: Counter({word: n for word, n in words.items() if n >= minimum})
        for item, words in counts.items()
        if any(n >= minimum for n in words.values())
    }
