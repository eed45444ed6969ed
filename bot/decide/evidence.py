"""Evidence before a passage: a rule without command words posts a quote or
a prompt only when it speaks to what was said, and the essay's link only when
the thread is about the essay.

The evidence of a candidate is its relevance score (``bot.rank``: BM25 over
the mention and the posts above it, stems and folded words, weighted by how
rare a word is across the catalog, so words every quote shares weigh little).
A candidate has evidence when its score reaches ``min_evidence`` (the rule's
own, else the policy's default for rules without command words; a rule
someone asked for by name needs none), or when it shares ``WORDS`` distinct
words or more with what was said: one word in common is too often an
accident (« an », « voir », « gens »), two rarely are. Below
it the rule hands over to the next one — the bundled rules fall back from a
quote to a prompt, then help for a mention that says nothing, then the link —
and when none has evidence the mention is off topic: a recorded skip, never
an arbitrary quote.
"""

from __future__ import annotations

from bot.decide.candidates import allowed_ids
from bot.decide.policy import Policy
from bot.decide.trace import Inputs
from bot.model.catalog import Action, Essay, Rule
from bot.rank.expand import is_expanded, is_near

#: How an essay found without any text evidence was chosen: the only essay of
#: the catalog, or none.
NO_ESSAY_EVIDENCE = frozenset({"default", "none"})
#: The actions that post something from the essay, which evidence must back.
BACKED = frozenset({Action.QUOTE, Action.PROMPT, Action.LINK})


#: Distinct shared words that are evidence enough whatever their score.
WORDS = 2


def enough(score: float, words: tuple[str, ...], need: float) -> bool:
    """Whether a candidate with this score and these shared words may be posted.

    Synonyms (``bot.rank.expand``) add to the score, never to the count of
    words: « images » reaching « affiche », « visuel » and « poster » in one
    quote is one word of the mention, and a thesaurus synonym alone, which
    may be any sense of the word, is no evidence at all.
    """
    if need <= 0:
        return True
    if score <= 0 or all(map(is_near, words)):
        return False
    plain = {word for word in words if not is_expanded(word)}
    return score >= need or len(plain) >= WORDS


def needed(rule: Rule, policy: Policy) -> float:
    """The evidence ``rule`` needs before it posts."""
    if rule.min_evidence is not None:
        return rule.min_evidence
    if rule.conditions.commands or rule.action not in BACKED:
        return 0.0
    return policy.min_evidence


def strongest(inputs: Inputs, essay: Essay, language: str) -> tuple[float, tuple[str, ...]]:
    """The best score any quote or prompt of ``essay`` has for the mention and
    its thread, with the words it shares with them."""
    from bot.rank.query import Query

    query = Query(
        mention=inputs.mention.post.text,
        thread=tuple(post.text for post in inputs.thread.ancestors),
        language=language,
    )
    best: tuple[float, tuple[str, ...]] = (0.0, ())
    for pool in (essay.quotes, essay.prompts):
        # The same tuple of ids each time: the index looks them up once.
        ids = allowed_ids(inputs.config.catalog, pool)
        top = inputs.config.index.score(ids, query, limit=1) if ids else []
        if top and top[0].score > best[0]:
            best = (top[0].score, tuple(top[0].matched))
    return best
