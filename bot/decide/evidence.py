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
accident (« an », « voir »), two rarely are, and a word the language uses
everywhere that the passage has only in its text (« gens », ``bot.rank.common``)
counts for none (:func:`telling`). When nothing
names the essay (the catalog's only one, taken by default), one of the
shared words must also be the passage's own, not only a term of a concept
it names (:func:`backed`). Below it the rule hands over to the next one —
the bundled rules fall back from a quote to a prompt, then help for a
mention that says nothing, then the link — and when none has evidence the
mention is off topic: a recorded skip, never an arbitrary quote.
"""

from __future__ import annotations

from bot.decide.candidates import Ranked, allowed_ids
from bot.decide.policy import Policy
from bot.decide.trace import Inputs, Step, marked
from bot.model.catalog import Action, Essay, Rule
from bot.model.decision import Skip, SkipReason
from bot.rank.expand import is_expanded, is_near
from bot.rank.query import Scored
from bot.rank.query import telling as telling_words

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


def telling(best: Scored | Ranked) -> tuple[str, ...]:
    """The shared words of ``best`` that may count as evidence
    (:func:`bot.rank.query.telling`)."""
    return telling_words(best.matched, best.incidental)


def needed(rule: Rule, policy: Policy) -> float:
    """The evidence ``rule`` needs before it posts."""
    if rule.min_evidence is not None:
        return rule.min_evidence
    if rule.conditions.commands or rule.action not in BACKED:
        return 0.0
    return policy.min_evidence


def strongest(inputs: Inputs, essay: Essay, language: str) -> Scored:
    """The quote or prompt of ``essay`` that scores best for the mention and
    its thread, with the words it shares with them (score 0.0: none)."""
    from bot.rank.query import Query

    query = Query(
        mention=inputs.mention.post.text,
        thread=tuple(post.text for post in inputs.thread.ancestors),
        language=language,
    )
    best = Scored("", 0.0)
    for pool in (essay.quotes, essay.prompts):
        # The same tuple of ids each time: the index looks them up once.
        ids = allowed_ids(inputs.config.catalog, pool)
        top = inputs.config.index.score(ids, query, limit=1) if ids else []
        if top and top[0].score > best.score:
            best = top[0]
    return best


def backed(inputs: Inputs, need: float, best: Scored | Ranked) -> bool:
    """Whether a candidate may be posted: :func:`enough`, and when nothing
    names the essay (the catalog's only one, taken by default), one of the
    words it shares is its own (``Scored.own``). A concept's vocabulary is
    how people say what many passages are about: with nothing to say the
    thread is about the essay, « piano » and « apprendre » are someone's
    week, not the passage about the joy of making things.

    A quote whose ``joins`` the thread all names is backed whatever its
    score: the curator wrote that it is about those concepts side by side,
    and the thread set them side by side."""
    if best.joined:
        return True
    if not enough(best.score, telling(best), need):
        return False
    return need <= 0 or bool(best.own) or inputs.essay.how not in NO_ESSAY_EVIDENCE


def weigh(
    inputs: Inputs,
    what: str,
    need: float,
    best: Scored | Ranked,
) -> Step:
    """The trace step that says whether ``best`` (``what``: a quote, a prompt,
    the essay) is :func:`backed`, and why."""
    score, words, joined = best.score, best.matched, best.joined
    shared = marked(words, best.incidental) or "no shared words"
    named = " and ".join(joined)
    plain = enough(score, telling(best), need)
    ok = backed(inputs, need, best)
    if ok and not plain:
        detail = (
            f"{score:.2f} under {need:.2f} ({shared}), but the thread names {named},"
            " which it sets side by side"
        )
    elif ok or not plain:
        sign = "enough" if ok else "not enough"
        detail = f"{score:.2f} {sign} against {need:.2f} ({shared}"
        detail += f"; the thread names {named})" if joined else ")"
    else:
        detail = (
            f"{score:.2f} against {need:.2f}, but only a concept's words or synonyms"
            f" ({shared}) and nothing names the essay"
        )
    data = {"score": round(score, 4), "threshold": need, "words": list(words)}
    data |= {"own": list(best.own)} | ({"joins": list(joined)} if joined else {})
    data |= {"common": list(best.incidental)} if best.incidental else {}
    return Step("evidence", what, ok, detail, data)


def weak(rule: Rule, what: str, step: Step) -> Skip:
    """Too little evidence for ``rule`` (``step``, from :func:`weigh`): the
    next rule gets its turn."""
    return Skip(SkipReason.WEAK_EVIDENCE, f"{what}: {step.detail}", rule.name)
