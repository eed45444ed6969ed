"""``why``: what the bot did for one of its posts, in the asker's language."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bot.decide.candidates import Candidate
from bot.decide.fit import candidate_values, essay_values, fit_reply, make_reply
from bot.decide.templates import special_template
from bot.decide.trace import Inputs, Step
from bot.model.catalog import Prompt, Rule
from bot.model.decision import Decision, Skip, SkipReason
from bot.text.language import language_code
from bot.text.render import (
    Template,
    neutralise_mentions,
)

if TYPE_CHECKING:
    from bot.catalog.config import Catalog
    from bot.model.decision import Explained


# -- why, in the asker's language ----------------------------------------------------

_NB = "\u00a0"  # French typography: a no-break space inside « » and before : ; ! ?

#: How ``why`` words each part of the explanation, per reply language; a
#: language not listed gets English. ``{0}``/``{1}`` are the condition's values.
WHY_WORDING: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "fr": MappingProxyType(
            {
                "rule": f"J’ai suivi la règle «{_NB}{{rule}}{_NB}»",
                "because": ", car {conditions}",
                "always": ", qui répond à toute mention",
                "and": " et ",
                "quote": f". J’ai choisi la citation «{_NB}{{id}}{_NB}»",
                "prompt": f". J’ai choisi la question «{_NB}{{id}}{_NB}»",
                "terms": f", pour les mots qu’elle partage avec le fil{_NB}: {{terms}}",
                "command": f"la mention commence par «{_NB}{{0}}{_NB}»",
                "keyword": f"la mention contient «{_NB}{{0}}{_NB}»",
                "thread_keyword": f"le fil contient «{_NB}{{0}}{_NB}»",
                "regex": f"la mention correspond au motif «{_NB}{{0}}{_NB}»",
                "thread_regex": f"le fil correspond au motif «{_NB}{{0}}{_NB}»",
                "language": "la mention est en {0}",
                "essay": f"le fil parle de «{_NB}{{0}}{_NB}»",
                "visibility": "la mention est en visibilité {0}",
                "min_heat": "le ton monte (chaleur {0} ≥ {1})",
                "max_heat": "le ton reste calme (chaleur {0} ≤ {1})",
            }
        ),
        "en": MappingProxyType(
            {
                "rule": "I followed the rule “{rule}”",
                "because": ", because {conditions}",
                "always": ", which answers any mention",
                "and": " and ",
                "quote": ". I chose the quote “{id}”",
                "prompt": ". I chose the question “{id}”",
                "terms": " for the words it shares with the thread: {terms}",
                "command": "the mention starts with “{0}”",
                "keyword": "the mention contains “{0}”",
                "thread_keyword": "the thread contains “{0}”",
                "regex": "the mention matches the pattern “{0}”",
                "thread_regex": "the thread matches the pattern “{0}”",
                "language": "the mention is in {0}",
                "essay": "the thread is about “{0}”",
                "visibility": "the mention is {0}",
                "min_heat": "things are heating up (heat {0} ≥ {1})",
                "max_heat": "things are calm (heat {0} ≤ {1})",
            }
        ),
    }
)
#: The shared words ``why`` lists at most.
WHY_TERMS = 5


def _why_data(summary: str) -> dict[str, Any]:
    """The structured ``why`` a reply was recorded with; {} for a summary
    written as prose (replies recorded before the summary became data)."""
    try:
        data = json.loads(summary)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def why_text(explained: Explained, language: str, catalog: Catalog | None = None) -> str:
    """Why the bot posted ``explained``, in ``language`` (French or English),
    from the data recorded with it: the rule, the conditions that held, the
    quote or prompt and the words it shared with the thread."""
    words = WHY_WORDING.get(language, WHY_WORDING["en"])
    data = _why_data(explained.summary)
    rule = str(data.get("rule") or explained.rule)
    text = words["rule"].format(rule=rule)
    conditions = [c for c in data.get("conditions", ()) if c and c[0] in words]
    if conditions:
        parts = []
        for kind, *values in conditions:
            if kind == "essay" and catalog is not None and (essay := catalog.essay(values[0])):
                values = [essay.title]
            if kind in ("min_heat", "max_heat") and language == "fr":
                values = [v.replace(".", ",") for v in values]
            parts.append(words[kind].format(*values, ""))
        text += words["because"].format(conditions=words["and"].join(parts))
    elif "conditions" in data:
        text += words["always"]
    kind = data.get("kind") or (
        "quote" if explained.quote_id else "prompt" if explained.prompt_id else None
    )
    item = data.get("id") or explained.quote_id or explained.prompt_id
    if kind in ("quote", "prompt") and item:
        text += words[kind].format(id=item)
        terms = [str(t) for t in data.get("terms", ())][:WHY_TERMS]
        if terms:
            text += words["terms"].format(terms=", ".join(terms))
    return text + "."


def why_reply(
    inputs: Inputs,
    rule: Rule,
    language: str,
    template: Template,
    base: dict[str, str],
    steps: list[Step],
) -> Decision:
    policy = inputs.policy
    explained = inputs.history.explained
    if explained is None:
        steps.append(Step("why", "explained", False, "not a reply to one of the bot's posts"))
        wanted = language_code(inputs.mention.post.language)
        language, template = special_template(
            inputs.config, "why_nothing", wanted, policy.default_language
        )
        fitted = fit_reply(template, base, [(None, {})], None, None, inputs, steps)
        if fitted is None:
            return Skip(SkipReason.DOES_NOT_FIT, "the template does not fit", rule.name)
        return make_reply(inputs, rule, language, fitted.text)
    catalog = inputs.config.catalog
    steps.append(Step("why", explained.status_id, True, f"explaining rule {explained.rule!r}"))
    essay = catalog.essay(explained.essay_id) if explained.essay_id else None
    if essay is not None:
        base.update(essay_values(essay))
    base.update(
        rule=explained.rule, why=neutralise_mentions(why_text(explained, language, catalog))
    )
    item: Candidate | None = None
    if explained.quote_id:
        item = catalog.quote(explained.quote_id)
    elif explained.prompt_id:
        item = catalog.prompt(explained.prompt_id)
    variants: list[tuple[Candidate | None, Mapping[str, str]]] = [(None, {})]
    shorten: str | None = None
    if item is not None:
        extra = candidate_values(item, language, policy.default_language)[1]
        if isinstance(item, Prompt):
            # A template written for quotes still shows the prompt.
            extra["quote"] = extra["prompt"]
        variants = [(item, extra)]
        shorten = "quote" if "quote" in template.fields else "prompt"

    def raw_of(candidate: Candidate) -> str:
        return candidate_values(candidate, language, policy.default_language)[0]

    fitted = fit_reply(template, base, variants, shorten, raw_of, inputs, steps)
    if fitted is None:
        return Skip(SkipReason.DOES_NOT_FIT, "the explanation does not fit", rule.name)
    return make_reply(inputs, rule, language, fitted.text, essay=essay)
