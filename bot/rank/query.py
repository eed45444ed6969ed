"""What is asked of the index and what it answers."""

from __future__ import annotations

from dataclasses import dataclass

from bot.rank.tuning import MENTION_WEIGHT, MIN_WEIGHT, NEAREST_WEIGHT, THREAD_DECAY

# -- values ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Query:
    """What the bot is asked about: the mention and the thread above it.

    ``thread`` is oldest first, as in :class:`bot.model.Thread`.
    ``language`` is the mention's language. Each space stems every text of
    the query with its own stemmer whatever this says (posts are often
    mislabelled); this only adds its function words when it is the space's
    other language (``bot.rank.analysis.reading``: an English "an" is not
    the French « an »).
    """

    mention: str
    thread: tuple[str, ...] = ()
    language: str = "fr"

    def sources(self, *, deferring: bool = False) -> list[tuple[str, float]]:
        """(text, weight): the mention, then ancestors nearest first, until
        their weight drops below :data:`MIN_WEIGHT`. ``deferring``: the
        mention says nothing of its own (« pareil ? », "is it though"), so
        the post it answers is what it asks about and weighs as it would."""
        sources = [(self.mention, MENTION_WEIGHT)]
        weight = MENTION_WEIGHT if deferring else NEAREST_WEIGHT
        for text in reversed(self.thread):
            if weight < MIN_WEIGHT:
                break
            sources.append((text, weight))
            weight *= THREAD_DECAY
        return sources


@dataclass(frozen=True, slots=True)
class Scored:
    """A document's relevance to a query.

    ``score`` is a BM25 sum (0.0: nothing in common); ``matched`` holds the
    query's words that contributed, as written (casefolded), the most
    telling first.
    """

    id: str
    score: float
    matched: tuple[str, ...] = ()
    #: The concepts the quote sets side by side (its ``joins``) when the
    #: query named each of them, which raised its score.
    joined: tuple[str, ...] = ()
    #: The words of ``matched`` that are the document's own (its text, tags,
    #: keywords or context): not a synonym, nor only a term of a concept it
    #: names, which many passages share.
    own: tuple[str, ...] = ()
    #: The words of ``matched`` the document has only as common words of its
    #: text or context (``bot.rank.common``): they count for little, and are
    #: no evidence of their own.
    incidental: tuple[str, ...] = ()


def telling(matched: tuple[str, ...], incidental: tuple[str, ...]) -> tuple[str, ...]:
    """The shared words that may count as evidence, in order: not those the
    document has only as common words of its text (« gens » in « engager des
    gens », ``Scored.incidental``)."""
    if not incidental:
        return matched
    return tuple(word for word in matched if word not in incidental)
