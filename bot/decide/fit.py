"""Rendering a reply and fitting it into the instance's character limit,
never cutting a quote mid-word.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.decide.candidates import Candidate, prompt_text
from bot.decide.policy import Policy
from bot.decide.trace import Inputs, Step
from bot.model.catalog import Action, Essay, Prompt, Quote, Rule
from bot.model.decision import Reply
from bot.model.post import narrowest
from bot.text.render import (
    PLACEHOLDERS,
    Template,
    neutralise_mentions,
    parse_template,
    render,
    shorten_at_sentence,
    status_length,
)

if TYPE_CHECKING:
    pass


# -- rendering and fitting ----------------------------------------------------


#: The placeholder whose line is left out when its value is empty (see
#: ``_optional_lines``).
OPTIONAL_LINE_FIELDS = frozenset({"rules_url"})


@lru_cache(maxsize=256)
def _without_lines_of(template: Template, name: str) -> Template:
    """``template`` without the lines whose only placeholder is ``{name}``.

    A placeholder cannot span lines (the loader rejects a field with a line
    break in it), so each line parses on its own and what is left is as valid
    as the whole.
    """
    kept = [
        line
        for line in template.source.split("\n")
        if parse_template(line, template.language).fields != (name,)
    ]
    return parse_template("\n".join(kept), template.language)


def _optional_lines(template: Template, values: Mapping[str, str]) -> Template:
    """The template without the lines of optional placeholders left empty: with
    no ``FILROUGE_RULES_URL``, "Pensez aux règles de l'instance : {rules_url}"
    goes rather than dangling. A line that also carries other placeholders stays."""
    for name in OPTIONAL_LINE_FIELDS:
        if name in template.fields and not values.get(name):
            template = _without_lines_of(template, name)
    return template


def _tidy(text: str) -> str:
    """The rendered text without trailing spaces, runs of blank lines or blank
    ends: what an empty value or a dropped line leaves behind."""
    lines: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip()


def _render(template: Template, values: Mapping[str, str]) -> str:
    return _tidy(render(template, values))


def _fits(text: str, policy: Policy, spoiler_text: str) -> tuple[bool, int]:
    length = status_length(text, spoiler_text, url_length=policy.url_length)
    return length <= policy.max_characters, length


@dataclass(frozen=True)
class _Fitted:
    text: str
    item: Candidate | None
    length: int
    shortened: bool = False


#: How many candidates, in rank order, may be cut at a sentence end when none fits whole.
SHORTEN_TRIES = 20
#: How many fitting attempts, and how many ranked candidates, the trace lists.
TRACE_TRIES = 10
TRACE_CANDIDATES = 10


def fit_reply(
    template: Template,
    base: Mapping[str, str],
    variants: Iterable[tuple[Candidate | None, Mapping[str, str]]],
    shorten_field: str | None,
    raw_of: Callable[[Candidate], str] | None,
    inputs: Inputs,
    steps: list[Step],
) -> _Fitted | None:
    """The first variant whose whole status fits; else one cut at a sentence end.

    ``variants`` is consumed lazily, in preference order: a shorter candidate
    further down is preferred to cutting the best one (invariant 8).
    """
    policy = inputs.policy
    spoiler = inputs.mention.post.spoiler_text
    template = _optional_lines(template, base)
    tried: list[str] = []
    kept: list[tuple[Candidate, Mapping[str, str]]] = []
    count = 0

    def note(entry: str) -> None:
        if len(tried) < TRACE_TRIES:
            tried.append(entry)

    def done(fitted: _Fitted, how: str) -> _Fitted:
        detail = f"{fitted.length}/{policy.max_characters} characters"
        if fitted.item is not None:
            detail += f" with {fitted.item.id}{how}"
        data = {"tried": tried, "count": count, **_chosen(fitted.item)}
        steps.append(Step("fit", "length", True, detail, data))
        return fitted

    for item, extra in variants:
        count += 1
        text = _render(template, {**base, **extra})
        ok, length = _fits(text, policy, spoiler)
        note(f"{item.id if item else 'text'}: {length}")
        if ok:
            return done(_Fitted(text, item, length), "")
        if item is not None and len(kept) < SHORTEN_TRIES:
            kept.append((item, extra))
    if shorten_field is not None and raw_of is not None:
        for item, extra in kept:
            fitted = _shorten(template, {**base, **extra}, shorten_field, raw_of(item), inputs)
            if fitted is not None:
                return done(dataclasses.replace(fitted, item=item), " cut at a sentence end")
            note(f"{item.id}: cannot be cut short enough")
    steps.append(
        Step(
            "fit",
            "length",
            False,
            f"nothing fits {policy.max_characters} characters",
            {"tried": tried, "count": count},
        )
    )
    return None


def _shorten(
    template: Template, values: Mapping[str, str], name: str, raw: str, inputs: Inputs
) -> _Fitted | None:
    """``values[name]`` replaced by ``raw`` cut at a sentence end so the status fits."""
    policy = inputs.policy
    spoiler = inputs.mention.post.spoiler_text
    _, overhead = _fits(_render(template, {**values, name: ""}), policy, spoiler)
    budget = policy.max_characters - overhead
    # status_length is not additive (graphemes merge, URLs weigh a fixed
    # amount, the neutralising zero-width spaces count), so the whole status is
    # measured again and the budget tightened by the overshoot.
    for _ in range(5):
        short = shorten_at_sentence(raw, budget, url_length=policy.url_length)
        if short is None:
            return None
        text = _render(template, {**values, name: neutralise_mentions(short)})
        ok, length = _fits(text, policy, spoiler)
        if ok:
            return _Fitted(text, None, length, shortened=True)
        budget -= length - policy.max_characters
    return None


def _chosen(item: Candidate | None) -> dict[str, str]:
    if item is None:
        return {}
    return {"chosen": item.id, "kind": "quote" if isinstance(item, Quote) else "prompt"}


def base_values(inputs: Inputs, rule_name: str, score: float) -> dict[str, str]:
    values = dict.fromkeys(PLACEHOLDERS, "")
    values.update(
        requester="@" + inputs.mention.post.account.acct,
        rules_url=neutralise_mentions(inputs.policy.rules_url),
        rule=rule_name,
        heat=f"{score:.2f}",
    )
    return values


def essay_values(essay: Essay) -> dict[str, str]:
    return {
        "author": neutralise_mentions(essay.author),
        "essay_title": neutralise_mentions(essay.title),
        "essay_url": neutralise_mentions(essay.url),
        "quote_url": neutralise_mentions(essay.url),
    }


def candidate_values(item: Candidate, language: str, default: str) -> tuple[str, dict[str, str]]:
    """The raw text of a candidate and the values it fills."""
    if isinstance(item, Quote):
        extra = {"quote": neutralise_mentions(item.text)}
        if item.anchor_url:
            extra["quote_url"] = neutralise_mentions(item.anchor_url)
        return item.text, extra
    text = prompt_text(item, language, default)
    return text, {"prompt": neutralise_mentions(text)}


def make_reply(
    inputs: Inputs,
    rule: Rule,
    language: str,
    text: str,
    *,
    action: Action | None = None,
    essay: Essay | None = None,
    item: Candidate | None = None,
) -> Reply:
    post = inputs.mention.post
    action = action or rule.action
    visibility = narrowest(post.visibility, inputs.policy.default_visibility)
    if action in (Action.STOP, Action.START, Action.TAKE_BACK):
        # Consent and taking back are between the person and the bot: confirmed
        # by a direct message whatever the mention's visibility (never wider).
        visibility = "direct"
    return Reply(
        text=text,
        visibility=visibility,
        # The content warning the person chose stays on the answer (invariant 5).
        spoiler_text=post.spoiler_text,
        language=language,
        in_reply_to_id=post.id,
        rule=rule.name,
        action=action,
        essay_id=essay.id if essay else None,
        quote_id=item.id if isinstance(item, Quote) else None,
        prompt_id=item.id if isinstance(item, Prompt) else None,
        mode=rule.mode,
        notify_moderators=rule.notify_moderators,
    )
