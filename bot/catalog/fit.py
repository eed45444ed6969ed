"""Checks across catalog and rules: every rule has candidates, and every
template can fit the instance's character limit with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.catalog.checks import Checker, suggest
from bot.catalog.config import Catalog
from bot.catalog.lines import TablePath
from bot.model.catalog import Essay, Prompt, Quote, Rule
from bot.text.fold import fold
from bot.text.render import (
    Template,
    field_counts,
    neutralise_mentions,
    render,
    shortest_form,
    status_length,
)

#: What the fit check assumes for ``{requester}``: "@" and a 30-character handle.
#: A remote ``@user@domain`` counts as ``@user``, so this covers nearly everyone.
ASSUMED_REQUESTER = "@" + "x" * 30
#: Stands in for the instance's rules page in the fit check: any URL counts the same.
EXAMPLE_URL = "https://example.org/about"


if TYPE_CHECKING:
    pass


def check_candidates(
    check: Checker,
    rule: Rule,
    parsed: Mapping[str, Template],
    at: TablePath,
    where: str,
    catalog: Catalog,
) -> None:
    """Restrictions that can never matter, or that leave nothing to post, are mistakes."""
    uses_quote = uses(parsed, "quote", "quote_url")
    uses_prompt = uses(parsed, "prompt")
    if rule.quotes and not uses_quote:
        check.add(at, "quotes", where, "'quotes' has no effect: no template uses {quote}")
    if rule.prompts and not uses_prompt:
        check.add(at, "prompts", where, "'prompts' has no effect: no template uses {prompt}")
    if rule.tags and not (uses_quote or uses_prompt):
        check.add(at, "tags", where, "'tags' has no effect: no template uses {quote} or {prompt}")
    essays = rule_essays(rule, catalog)
    if not essays:
        return  # every essay it names is unknown, which is reported already
    # A restriction made only of unknown ids is reported already too; saying
    # that nothing matches it as well would only be noise.
    quotes_known = not rule.quotes or any(catalog.quote(id) for id in rule.quotes)
    prompts_known = not rule.prompts or any(catalog.prompt(id) for id in rule.prompts)
    missing = []
    if uses_quote and quotes_known and not any(candidate_quotes(rule, essay) for essay in essays):
        missing.append("quote")
    if (
        uses_prompt
        and prompts_known
        and not any(candidate_prompts(rule, essay) for essay in essays)
    ):
        missing.append("prompt")
    for placeholder in missing:
        check.add(
            at,
            "tags" if rule.tags else None,
            where,
            f"no {placeholder} in the catalog can fill {{{placeholder}}} for this rule",
            "loosen its quotes/prompts/tags/essays restrictions, or add matching entries",
        )
    items: list[Quote | Prompt] = []
    for essay in essays:
        items.extend(essay.quotes)
        items.extend(essay.prompts)
    known_tags = sorted({tag for item in items for tag in item.tags})
    folded_tags = {fold(tag) for tag in known_tags}
    for tag in rule.tags:
        if fold(tag) not in folded_tags:
            check.add(
                at,
                "tags",
                where,
                f'no quote or prompt carries tag "{tag}"',
                suggest(tag, known_tags, "tags"),
            )


class Lengths:
    """Server lengths for the fit check, each text counted once per load.

    A catalog of thousands of quotes meets every quote rule's templates; the
    quotes' shortest forms are the same for all of them.
    """

    def __init__(self, url_length: int) -> None:
        self.url_length = url_length
        self._lengths: dict[str, int] = {}
        self._shortest: dict[str, tuple[str, int]] = {}

    def of(self, text: str) -> int:
        length = self._lengths.get(text)
        if length is None:
            length = self._lengths[text] = status_length(text, url_length=self.url_length)
        return length

    def exact(self, text: str) -> int:
        """A rendered status: counted, not kept (no two are alike)."""
        return status_length(text, url_length=self.url_length)

    def shortest(self, quote_text: str) -> tuple[str, int]:
        """The shortest form a quote can be posted in, and its length."""
        found = self._shortest.get(quote_text)
        if found is None:
            form = shortest_form(neutralise_mentions(quote_text), url_length=self.url_length)
            found = self._shortest[quote_text] = (form, self.of(form))
        return found


def check_fit(
    check: Checker,
    rule: Rule,
    parsed: Mapping[str, Template],
    at: TablePath,
    where: str,
    catalog: Catalog,
    max_characters: int,
    lengths: Lengths,
) -> None:
    """Report templates that cannot fit ``max_characters`` in any case.

    Each template is rendered with the most favourable values the catalog
    allows: a 30-character handle, each candidate quote in its shortest form
    (its first sentence and "…"), the shortest prompt. If even that is too long
    the rule would always end in a skip, which the admin should know now.

    Counting every rendering exactly is what made a large catalog slow to
    load, so candidates are first ordered by an estimate: the template's
    length with the varying values left empty, plus each value's own length
    once per use. The estimate is near exact — values sit between template
    text — but a URL or a grapheme cluster can join across the seam, so it
    only decides the order: a template passes on the first candidate whose
    rendering, counted exactly, fits (almost always the first one tried), and
    fails only once every candidate has been counted exactly and none fits.
    """
    essays = rule_essays(rule, catalog)
    if not essays:
        return
    shortest_title = min((essay.title for essay in catalog.essays), key=len)
    for lang, template in parsed.items():
        counts = field_counts(template)
        quote_uses, url_uses, prompt_uses = (
            counts.get(name, 0) for name in ("quote", "quote_url", "prompt")
        )
        # (estimate, order, essay's values, quote, quote URL, prompt, detail):
        # order is the one the candidates were always tried in, so a tie names
        # the same quote as ever.
        candidates: list[tuple[int, int, dict[str, str], str, str, str, str]] = []
        for essay in essays:
            fixed = {
                "requester": ASSUMED_REQUESTER,
                "author": essay.author,
                "essay_title": essay.title,
                "essay_url": essay.url,
                "essays": shortest_title,
                "rules_url": EXAMPLE_URL,
                "rule": rule.name,
                "why": "",
                "heat": "0",
                "quote": "",
                "quote_url": "",
                "prompt": "",
            }
            overhead = lengths.of(render(template, fixed))
            quotes: list[Quote | None] = [None]
            prompts: list[str | None] = [None]
            if quote_uses or url_uses:
                quotes = list(candidate_quotes(rule, essay))
            if prompt_uses:
                prompts = [
                    min(
                        (neutralise_mentions(t) for t in _prompt_texts(p, lang, essay)),
                        key=len,
                    )
                    for p in candidate_prompts(rule, essay)
                ]
            for quote in quotes:
                quote_form, quote_length = (
                    ("", 0) if quote is None else lengths.shortest(quote.text)
                )
                quote_url = (quote.anchor_url if quote is not None else None) or essay.url
                detail = f'essay "{essay.id}"' if quote is None else f'quote "{quote.id}"'
                for prompt in prompts:
                    estimate = (
                        overhead
                        + quote_uses * quote_length
                        + url_uses * lengths.of(quote_url)
                        + prompt_uses * (lengths.of(prompt) if prompt else 0)
                    )
                    candidates.append(
                        (
                            estimate,
                            len(candidates),
                            fixed,
                            quote_form,
                            quote_url,
                            prompt or "",
                            detail,
                        )
                    )
        candidates.sort(key=lambda candidate: candidate[:2])
        best: tuple[int, int, str] | None = None
        for _, order, common, quote_text, url, prompt_text, detail in candidates:
            values = {**common, "quote": quote_text, "quote_url": url, "prompt": prompt_text}
            length = lengths.exact(render(template, values))
            if best is None or (length, order) < best[:2]:
                best = (length, order, detail)
            if length <= max_characters:
                break
        if best is not None and best[0] > max_characters:
            check.add(
                (*at, ("templates", None)),
                lang,
                where,
                f"template {lang!r} needs at least {best[0]} characters (with {best[2]}),"
                f" over the limit of {max_characters}",
                "shorten the template, or restrict the rule to shorter quotes; this assumes a"
                f" 30-character handle and URLs counted as {lengths.url_length}",
            )


def _prompt_texts(prompt: Prompt, language: str, essay: Essay) -> list[str]:
    """The texts a prompt may be posted in for ``language``: its own, else the
    essay's language, else any it has."""
    for lang in (language, essay.language):
        if lang in prompt.texts:
            return [prompt.texts[lang]]
    return list(prompt.texts.values())


def uses(parsed: Mapping[str, Template], *names: str) -> bool:
    return any(name in template.fields for template in parsed.values() for name in names)


def tagged(rule: Rule, item: Quote | Prompt) -> bool:
    """Whether ``item`` passes the rule's tag restriction; tags compare
    folded, as ``bot.decide`` compares them."""
    return not rule.tags or bool({fold(t) for t in rule.tags} & {fold(t) for t in item.tags})


def candidate_quotes(rule: Rule, essay: Essay) -> list[Quote]:
    return [
        quote
        for quote in essay.quotes
        if (not rule.quotes or quote.id in rule.quotes) and tagged(rule, quote)
    ]


def candidate_prompts(rule: Rule, essay: Essay) -> list[Prompt]:
    return [
        prompt
        for prompt in essay.prompts
        if (not rule.prompts or prompt.id in rule.prompts) and tagged(rule, prompt)
    ]


def rule_essays(rule: Rule, catalog: Catalog) -> list[Essay]:
    if rule.conditions.essays:
        return [e for e in catalog.essays if e.id in rule.conditions.essays]
    return list(catalog.essays)
