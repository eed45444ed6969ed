"""The quotes and prompts a rule allows, ranked for the mention and its thread."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.decide.trace import Inputs
from bot.model.catalog import Essay, Prompt, Quote, Rule
from bot.text.fold import fold

if TYPE_CHECKING:
    from bot.rank.query import Scored


# -- candidates ---------------------------------------------------------------

Candidate = Quote | Prompt


@dataclass(frozen=True)
class Ranked:
    """A candidate with its relevance (``bot.rank.Scored``) and when it was last posted."""

    item: Candidate
    score: float
    matched: tuple[str, ...]
    last_used: datetime | None
    #: The concepts it sets side by side that the thread named (``joins``).
    joined: tuple[str, ...] = ()
    #: The shared words that are its own (``Scored.own``).
    own: tuple[str, ...] = ()
    #: The shared words that are only common words of its text (``Scored.incidental``).
    incidental: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Allowed:
    """The quotes (or prompts) of an essay that a rule may post, by id, in order."""

    ids: tuple[str, ...]
    by_id: Mapping[str, Candidate]


#: ``_Allowed`` per essay pool and rule filter, by the pool's identity (a
#: catalog's tuples live as long as it is loaded; the pool is kept with its
#: entry, so its id cannot be reused): going through thousands of quotes at
#: every mention would cost more than ranking them. It holds one catalog's
#: pools: another catalog (a reload) starts it afresh, so that the old one
#: is not kept alive; so does reaching the bound.
_ALLOWED: dict[
    tuple[int, tuple[str, ...], tuple[str, ...]], tuple[Sequence[Candidate], _Allowed]
] = {}
_ALLOWED_OF: list[object] = [None]
ALLOWED_MEMO = 256


def _allowed(
    catalog: object, pool: Sequence[Candidate], allowed: tuple[str, ...], tags: tuple[str, ...]
) -> _Allowed:
    if _ALLOWED_OF[0] is not catalog:
        _ALLOWED.clear()
        _ALLOWED_OF[0] = catalog
    key = (id(pool), allowed, tags)
    hit = _ALLOWED.get(key)
    if hit is not None and hit[0] is pool:
        return hit[1]
    items = pool
    if allowed:
        items = [item for item in items if item.id in allowed]
    folded = {_fold_tag(tag) for tag in tags}
    if folded:
        items = [item for item in items if any(_fold_tag(tag) in folded for tag in item.tags)]
    by_id = {item.id: item for item in items}
    result = _Allowed(tuple(by_id), by_id)
    if isinstance(pool, tuple):
        if len(_ALLOWED) >= ALLOWED_MEMO:
            _ALLOWED.clear()
        _ALLOWED[key] = (pool, result)
    return result


def allowed_ids(catalog: object, pool: Sequence[Candidate]) -> tuple[str, ...]:
    """Every id of an essay's quotes (or prompts), as one tuple kept per pool."""
    return _allowed(catalog, pool, (), ()).ids


@dataclass(frozen=True)
class _Pool:
    """The candidates of a rule: what it allows of the essay's quotes (or
    prompts), less those already posted in this thread."""

    allowed: _Allowed
    #: Allowed, but already posted in this thread: not candidates.
    used: frozenset[str]

    def __len__(self) -> int:
        return len(self.allowed.by_id) - len(self.used)


def candidates_for(rule: Rule, essay: Essay, kind: str, inputs: Inputs) -> _Pool:
    pool: Sequence[Candidate] = essay.quotes if kind == "quote" else essay.prompts
    allowed = _allowed(
        inputs.config.catalog, pool, rule.quotes if kind == "quote" else rule.prompts, rule.tags
    )
    used = inputs.history.thread_quote_ids if kind == "quote" else inputs.history.thread_prompt_ids
    return _Pool(allowed, frozenset(doc_id for doc_id in used if doc_id in allowed.by_id))


@lru_cache(maxsize=8192)
def _fold_tag(tag: str) -> str:
    # Tags repeat across thousands of quotes: fold each once per process.
    return fold(tag).lstrip("#")


#: How many ranked candidates the index is asked for first; four times more
#: each time the caller gets past them (nothing fits, or a run of equal scores).
#: A few more than the trace lists (``TRACE_CANDIDATES``): the index finds the
#: words each one shares with the thread, which costs per candidate.
RANK_FIRST = 16


def rank_candidates(items: _Pool, inputs: Inputs, language: str) -> Iterator[Ranked]:
    """The candidates, most relevant first; equal scores go to the least recently
    used (never used first), then to the id.

    Lazy: the index is asked for the first ``RANK_FIRST`` only, and for more
    when the caller gets that far (with thousands of quotes the first one
    usually fits, and listing them all would cost more than the rest of the
    decision). The candidates used before are few: they are scored apart and
    merged in, after the never-used ones of equal score, which the index
    lists by id as the tie-break wants (it rounds scores as this does).
    """
    from bot.rank.query import Query
    from bot.rank.tuning import SCORE_DIGITS

    query = Query(
        mention=inputs.mention.post.text,
        thread=tuple(post.text for post in inputs.thread.ancestors),
        language=language,
    )
    by_id = items.allowed.by_id
    index = inputs.config.index
    last_used = inputs.history.last_used
    again = [i for i in last_used if i in by_id and i not in items.used]
    skip = items.used.union(again)

    def fresh() -> Iterator[tuple[tuple[float, int, float, str], Scored]]:
        limit, done = RANK_FIRST, 0
        while True:
            # The index's list with a limit is the head of its full list, so
            # a longer one goes on where the shorter stopped.
            scored = index.score(items.allowed.ids, query, limit=limit, exclude=skip)
            for s in scored[done:]:
                yield (-round(s.score, SCORE_DIGITS), 0, 0.0, s.id), s
            if len(scored) < limit:
                return
            done, limit = len(scored), limit * 4

    # Scores are rounded so float noise cannot beat the least-recently-used rule.
    used = sorted(
        ((-round(s.score, SCORE_DIGITS), 1, last_used[s.id].timestamp(), s.id), s)
        for s in (index.score(again, query) if again else ())
    )
    for _, s in heapq.merge(fresh(), used, key=lambda keyed: keyed[0]):
        yield Ranked(
            by_id[s.id], s.score, s.matched, last_used.get(s.id), s.joined, s.own, s.incidental
        )


def prompt_text(prompt: Prompt, language: str, default: str) -> str:
    for code in (language, default):
        if code in prompt.texts:
            return prompt.texts[code]
    return next(iter(prompt.texts.values()), "")
