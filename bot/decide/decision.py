"""The decision: one mention in, one ``Reply`` or ``Skip`` out, with a trace.

``decide(inputs)`` is a pure function. It reads the values it is handed (the
mention, its thread, the essay ``understand`` found, the compiled catalog and
rules, what the record knows, the policy and ``now``) and never the clock, the
network, the database or a random source. Everything the bot does on purpose
is decided here, so this is where the tests point.

The order, and why:

1. **Guards** (``Skip``): itself; bot accounts not allowlisted; ``#nobot`` and
   friends in the profile; opted out (``start`` still goes through, so anyone
   can opt back in; ``stop`` again gets silence, which is what was asked);
   blocked account or domain; too old; a re-mention that carries no command
   (composers pre-fill every participant, so that is conversation, not a
   request): in reply to the bot's own post, or — once the bot has replied in
   the thread — in reply to someone else's post that mentioned the bot, with
   the bot's handle in the leading block of mentions (the first request of a
   thread is never held to this, nor a mention that names the bot after its
   first words, nor a reply to a post that did not mention it); the
   thread's reply limit and cooldown; the account's cooldown. ``stop``,
   ``start`` and taking back a reply (``supprime``, ``bot.decide.take_back``)
   skip the limit, the cooldowns, the age and an opt-out: consent and the
   right to have a reply removed must always work.
   ``help`` and ``why`` do not, they are requests like any other.
2. **Rules** in file order; ``off`` rules are skipped (and traced); the first
   whose conditions all hold answers. A command word counts only as the first
   word after the leading @-mentions ("@filrouge source", not "j'ai cherché
   le lien"). A rule left with nothing to post (every quote already in this
   thread, nothing fits) hands over to the next matching rule, which is how
   the rules file chains its fallbacks.
3. **Essay**: quote, prompt, link and de-escalation replies need one. Without
   it the bot lists the essays it knows (``unknown_essay = "list"``) or stays
   silent.
4. **Candidates**: the essay's quotes (or prompts) the rule allows, minus those
   already posted in this thread, ranked by relevance; ties go to the least
   recently used, then to the id.
5. **Render and fit**: the template in the mention's language when the rule has
   one, else the default; every value that came from a person or the catalog
   has its ``@`` neutralised, so the only mention is the requester. The first
   candidate whose whole status fits ``max_characters`` wins; failing that a
   quote is cut at a sentence end with "…"; failing that, ``Skip``.
6. **Reply**: visibility never wider than the mention's (capped by the
   default), the content warning kept, ``in_reply_to_id`` the mention.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from bot.decide.abstain import hostile, spam
from bot.decide.candidates import Candidate, Ranked, candidates_for, rank_candidates
from bot.decide.evidence import NO_ESSAY_EVIDENCE, backed, needed, strongest, weak, weigh
from bot.decide.fit import (
    TRACE_CANDIDATES,
    base_values,
    candidate_values,
    essay_values,
    fit_reply,
    make_reply,
)
from bot.decide.guards import ALWAYS_HEARD, check_guards, held
from bot.decide.heat import Heat, heat
from bot.decide.rules import Facts, command_rule, match_rule
from bot.decide.take_back import take_back_reply
from bot.decide.templates import (
    FALL_THROUGH,
    TITLE_QUOTES,
    _pick_language,
    _templates_of,
    special_template,
)
from bot.decide.trace import Inputs, Outcome, Step, Trace
from bot.decide.why import why_reply
from bot.model.catalog import SPECIAL_TEMPLATES, Action, Conditions, Mode, Rule
from bot.model.decision import Decision, Reply, Skip, SkipReason
from bot.model.ids import same_id
from bot.text.fold import fold
from bot.text.language import language_code
from bot.text.render import (
    neutralise_mentions,
)
from bot.text.urls import url_host
from bot.understand.request import body

if TYPE_CHECKING:
    pass


# -- the decision -------------------------------------------------------------


def decide(inputs: Inputs) -> Outcome:
    """Reply or skip, and why. Pure: see the module docstring for the order.

    A mention without a command is a request unless it is conversation: a
    reply to the bot's own post, or a later reply in a thread the bot has
    answered, to a post that mentioned the bot, whose leading @-mentions
    carry the bot only because the composer pre-filled them
    (``Skip(NOT_ADDRESSED)``).
    """
    steps: list[Step] = []
    temperature = heat(inputs.mention.post, inputs.thread, inputs.now)
    decision = held(_decide(inputs, temperature, steps), inputs.moderation, steps)
    if isinstance(decision, Reply):
        detail = f"reply ({decision.action}) by rule {decision.rule!r}"
        if decision.mode != Mode.LIVE:
            detail += f" in {decision.mode} mode"
    else:
        detail = f"skip: {decision.reason} {decision.detail}".rstrip()
    steps.append(Step("decision", "outcome", isinstance(decision, Reply), detail))
    return Outcome(decision=decision, trace=Trace(steps), heat=temperature)


def _decide(inputs: Inputs, temperature: Heat, steps: list[Step]) -> Decision:
    post = inputs.mention.post
    policy = inputs.policy
    rules = inputs.config.rules.rules
    text_body = body(post.text)
    ancestors = inputs.thread.ancestors
    answers_bot = bool(ancestors) and (
        same_id(post.in_reply_to_id, ancestors[-1].id)
        and same_id(ancestors[-1].account.id, policy.self_id)
    )
    command = command_rule(rules, text_body, answers_bot)

    skip = check_guards(inputs, command, steps)
    if skip is not None:
        return skip
    if command is None or command.action not in ALWAYS_HEARD:
        # Consent always works; anything else is first asked whether it is a
        # request about the essay at all.
        abstained = _abstain(inputs, text_body, steps)
        if abstained is not None:
            return abstained

    steps.append(
        Step(
            "heat",
            "score",
            None,
            f"{temperature.score:.2f}"
            + (f" ({', '.join(temperature.matched)})" if temperature.matched else ""),
            {"signals": dict(temperature.signals)},
        )
    )
    essay = inputs.essay.essay
    steps.append(
        Step(
            "essay",
            essay.id if essay else "none",
            essay is not None,
            f"{inputs.essay.how}: {inputs.essay.evidence}"
            if inputs.essay.evidence
            else inputs.essay.how,
        )
    )

    facts = Facts(
        text=post.text,
        body=text_body,
        folded=fold(post.text),
        thread_texts=(*(p.text for p in inputs.thread.ancestors), post.text),
        language=language_code(post.language),
        essay_id=essay.id if essay else None,
        visibility=post.visibility,
        depth=inputs.thread.depth,
        heat=temperature.score,
        answers_bot=answers_bot,
    )
    off_match: Rule | None = None
    fell_through: Skip | None = None
    for rule in rules:
        if rule.name in SPECIAL_TEMPLATES and not rule.conditions.commands:
            continue  # wording for a built-in reply, not a rule to match
        matched, why, conditions = match_rule(rule, facts, policy)
        if rule.mode == Mode.OFF:
            steps.append(
                Step("rule", rule.name, False, f"off ({'would match: ' if matched else ''}{why})")
            )
            off_match = off_match or (rule if matched else None)
            continue
        steps.append(
            Step("rule", rule.name, matched, why, {"conditions": conditions} if matched else {})
        )
        if not matched:
            continue
        decision = _answer(inputs, rule, temperature, steps)
        if (
            isinstance(decision, Skip)
            and decision.reason in FALL_THROUGH
            and decision.takes_back is None
        ):
            # A rule with nothing left to post (every quote already in this
            # thread, nothing fits) lets the next rule answer: the rules file
            # lists its fallbacks (quote, then prompt, then link) in order.
            steps.append(Step("rule", rule.name, False, f"{decision.detail}; trying the next rule"))
            fell_through = fell_through or decision
            continue
        return decision
    if fell_through is not None and fell_through.reason is SkipReason.WEAK_EVIDENCE:
        return Skip(
            SkipReason.OFF_TOPIC,
            f"nothing in the essay speaks to it ({fell_through.detail})",
            fell_through.rule,
        )
    if fell_through is not None:
        return fell_through
    if off_match is not None:
        return Skip(SkipReason.RULE_OFF, f"rule {off_match.name!r} is off", off_match.name)
    return Skip(SkipReason.NO_RULE, "no rule matches")


def _answer(inputs: Inputs, rule: Rule, temperature: Heat, steps: list[Step]) -> Decision:
    policy = inputs.policy
    config = inputs.config
    wanted = language_code(inputs.mention.post.language)
    templates = _templates_of(config, rule.name, rule.templates)
    language = _pick_language(templates, wanted, policy.default_language)
    if language is None:
        return Skip(SkipReason.NO_RULE, f"rule {rule.name!r} has no template", rule.name)
    template = templates[language]
    steps.append(
        Step(
            "language",
            language,
            None,
            f"mention in {wanted or 'an unknown language'}"
            + ("" if wanted == language else f", no template: {language}"),
        )
    )
    base = base_values(inputs, rule.name, temperature.score)
    fields = set(template.fields)
    essay = inputs.essay.essay

    if rule.action == Action.WHY:
        return why_reply(inputs, rule, language, template, base, steps)
    if rule.action == Action.TAKE_BACK:
        return take_back_reply(inputs, rule, language, template, base, steps)

    needs_essay = rule.action in (Action.QUOTE, Action.PROMPT, Action.LINK, Action.DEESCALATE)
    needs_essay = needs_essay or bool(
        fields & {"author", "essay_title", "essay_url", "quote_url", "quote", "prompt"}
    )
    if needs_essay and essay is None:
        return _unknown_essay(inputs, rule, wanted, base, steps)
    if essay is not None:
        base.update(essay_values(essay))

    kind: str | None = None
    if rule.action == Action.QUOTE:
        kind = "quote"
    elif rule.action == Action.PROMPT or "prompt" in fields:
        kind = "prompt"
    elif "quote" in fields:
        kind = "quote"
    need = needed(rule, policy)
    if kind is None or essay is None:
        if need and essay is not None and inputs.essay.how in NO_ESSAY_EVIDENCE:
            best_of = strongest(inputs, essay, wanted or policy.default_language)
            steps.append(weigh(inputs, "essay", need, best_of))
            if not steps[-1].ok:
                return weak(rule, "the essay", steps[-1])
        fitted = fit_reply(template, base, [(None, {})], None, None, inputs, steps)
        if fitted is None:
            return Skip(SkipReason.DOES_NOT_FIT, "the template does not fit", rule.name)
        return make_reply(inputs, rule, language, fitted.text, essay=essay)

    items = candidates_for(rule, essay, kind, inputs)
    if not items:
        used = inputs.history.thread_quote_ids | inputs.history.thread_prompt_ids
        steps.append(
            Step("candidates", kind, False, f"no {kind} left ({len(used)} already in this thread)")
        )
        return Skip(SkipReason.NO_CANDIDATE, f"no {kind} left for this thread", rule.name)
    ranked = rank_candidates(items, inputs, wanted or policy.default_language)
    head = list(itertools.islice(ranked, TRACE_CANDIDATES))
    steps.append(
        Step(
            "candidates",
            kind,
            True,
            f"{kind} {head[0].item.id} ranked first of {len(items)}",
            {
                "candidates": [
                    {
                        "id": r.item.id,
                        "score": round(r.score, 4),
                        "matched": list(r.matched),
                        "last_used": r.last_used,
                    }
                    | ({"joins": list(r.joined)} if r.joined else {})
                    | ({"common": list(r.incidental)} if r.incidental else {})
                    for r in head
                ]
            },
        )
    )
    default = policy.default_language
    if need:
        steps.append(weigh(inputs, kind, need, head[0]))
        if not steps[-1].ok:
            return weak(rule, f"{kind} {head[0].item.id}", steps[-1])

    def has_evidence(r: Ranked) -> bool:
        return backed(inputs, need, r)

    shown = inputs.history.shown_to_account
    if head[0].item.id in shown:
        # The same person, the same passage again: another with evidence first.
        others = [r for r in head if r.item.id not in shown and has_evidence(r)]
        if others:
            steps.append(
                Step(
                    "candidates",
                    "repeat",
                    None,
                    f"{head[0].item.id} was shown to this account recently;"
                    f" {others[0].item.id} instead",
                )
            )
            head = others + [r for r in head if r not in others]
    ranking = itertools.chain(head, ranked)

    def variants() -> Iterator[tuple[Candidate | None, Mapping[str, str]]]:
        for r in ranking:
            if not has_evidence(r):
                continue  # a lower score may still share more words
            yield r.item, candidate_values(r.item, language, default)[1]

    def raw_of(item: Candidate) -> str:
        return candidate_values(item, language, default)[0]

    fitted = fit_reply(template, base, variants(), kind, raw_of, inputs, steps)
    if fitted is None:
        return Skip(SkipReason.DOES_NOT_FIT, f"no {kind} fits the template", rule.name)
    return make_reply(inputs, rule, language, fitted.text, essay=essay, item=fitted.item)


def _abstain(inputs: Inputs, text_body: str, steps: list[Step]) -> Decision | None:
    """A mention that is no request about the essay: hostile, spam, or in a
    language no template speaks (``bot.decide.abstain``)."""
    post = inputs.mention.post
    # An insult in a mention that names someone else is aimed at them: the
    # de-escalation rules are for that, not this guard.
    insult = hostile(text_body) if len(post.content.mentions) <= 1 else None
    if insult is not None:
        steps.append(Step("guard", "hostile", False, f"only {insult!r}, aimed at the bot"))
        return Skip(SkipReason.HOSTILE, f"only {insult!r}, aimed at the bot")
    catalog = inputs.config.catalog
    known = {h for e in catalog.essays for u in (e.url, *e.aliases) if (h := url_host(u))}
    if inputs.policy.instance_domain:
        known.add(inputs.policy.instance_domain)
    why = spam(post, known)
    if why is not None:
        steps.append(Step("guard", "spam", False, why))
        return Skip(SkipReason.SPAM, why)
    language = language_code(post.language)
    spoken = {lang for _, lang in inputs.config.rules.templates}
    if language is None or language in spoken:
        steps.append(Step("guard", "language", True, f"{language or 'unknown'}: spoken"))
        return None
    detail = f"written in {language}; the bot speaks {', '.join(sorted(spoken))}"
    steps.append(Step("guard", "language", False, detail))
    if inputs.policy.other_language == "help":
        return _other_language_help(inputs, detail, steps)
    return Skip(SkipReason.OTHER_LANGUAGE, detail)


def _other_language_help(inputs: Inputs, detail: str, steps: list[Step]) -> Decision:
    language, template = special_template(inputs.config, "other_language", "en", "en")
    rule = Rule(name="other_language", action=Action.HELP, conditions=Conditions(), templates={})
    base = base_values(inputs, rule.name, 0.0)
    fitted = fit_reply(template, base, [(None, {})], None, None, inputs, steps)
    if fitted is None:
        return Skip(SkipReason.OTHER_LANGUAGE, detail)
    return make_reply(inputs, rule, language, fitted.text, action=Action.HELP)


def _unknown_essay(
    inputs: Inputs, rule: Rule, wanted: str | None, base: dict[str, str], steps: list[Step]
) -> Decision:
    policy = inputs.policy
    if policy.unknown_essay != "list":
        return Skip(SkipReason.NO_ESSAY, "no essay could be told apart", rule.name)
    language, template = special_template(
        inputs.config, "unknown_essay", wanted, policy.default_language
    )
    essays = inputs.config.catalog.essays
    opening, closing = TITLE_QUOTES.get(language, TITLE_QUOTES["en"])
    lines = [
        f"{opening}{neutralise_mentions(e.title)}{closing} {neutralise_mentions(e.url)}"
        for e in essays
    ]
    # As many essays as fit, catalog order; a long archive lists its first ones.
    variants: list[tuple[Candidate | None, Mapping[str, str]]] = [
        (None, {"essays": "\n".join(lines[:n])}) for n in range(len(lines), 0, -1)
    ]
    fitted = fit_reply(template, base, variants, None, None, inputs, steps)
    if fitted is None:
        return Skip(SkipReason.NO_ESSAY, "no essay could be told apart", rule.name)
    return make_reply(inputs, rule, language, fitted.text, action=Action.HELP)
