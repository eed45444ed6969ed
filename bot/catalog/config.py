"""The compiled admin data: the catalog with its lookups, the rules with
their parsed templates, and the index, as ``load_config`` returns them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.model.catalog import Concept, Essay, Prompt, Quote, Rule
from bot.text.fold import fold
from bot.text.render import (
    Template,
)

if TYPE_CHECKING:
    from bot.rank.index import Index


# -- the loaded objects ---------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """The essays, with lookups by id, URL and hashtag.

    Quote and prompt ids share one namespace across the whole catalog, so a
    rule, the record or ``explain`` can name any of them with a bare id.
    """

    essays: tuple[Essay, ...]
    path: Path
    #: The concepts quotes and prompts name (``[[concepts]]``), by id.
    concepts: Mapping[str, Concept] = field(default_factory=dict)
    _essays: dict[str, Essay] = field(init=False, repr=False, compare=False)
    _quotes: dict[str, Quote] = field(init=False, repr=False, compare=False)
    _prompts: dict[str, Prompt] = field(init=False, repr=False, compare=False)
    _hashtags: dict[str, Essay] = field(init=False, repr=False, compare=False)
    # Built on first use, then swapped in whole so a concurrent reader never
    # sees it half-filled.
    _urls: dict[str, Essay] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_essays", {essay.id: essay for essay in self.essays})
        object.__setattr__(
            self, "_quotes", {q.id: q for essay in self.essays for q in essay.quotes}
        )
        object.__setattr__(
            self, "_prompts", {p.id: p for essay in self.essays for p in essay.prompts}
        )
        # Reversed so that, should two essays share a URL or hashtag (the
        # loader forbids it), the first one in the file wins.
        hashtags = {
            fold(tag.lstrip("#")): essay
            for essay in reversed(self.essays)
            for tag in essay.hashtags
        }
        object.__setattr__(self, "_hashtags", hashtags)
        object.__setattr__(self, "_urls", None)

    @property
    def quotes(self) -> tuple[Quote, ...]:
        return tuple(self._quotes.values())

    @property
    def prompts(self) -> tuple[Prompt, ...]:
        return tuple(self._prompts.values())

    def essay(self, id: str) -> Essay | None:
        return self._essays.get(id)

    def quote(self, id: str) -> Quote | None:
        return self._quotes.get(id)

    def prompt(self, id: str) -> Prompt | None:
        return self._prompts.get(id)

    def essay_by_url(self, url: str) -> Essay | None:
        """The essay whose canonical or alias URL is ``url``, once both are
        normalised (scheme, ``www.``, trailing slash, tracking parameters…)."""
        from bot.text.urls import normalize_url

        urls = self._urls
        if urls is None:
            urls = {
                normalize_url(known): essay
                for essay in reversed(self.essays)
                for known in (essay.url, *essay.aliases)
            }
            object.__setattr__(self, "_urls", urls)
        return urls.get(normalize_url(url))

    def essay_by_hashtag(self, tag: str) -> Essay | None:
        """The essay configured with hashtag ``tag`` (with or without ``#``,
        any case or accents)."""
        return self._hashtags.get(fold(tag.lstrip("#")))


@dataclass(frozen=True)
class RuleSet:
    """The rules in the order they are tried, with their parsed templates."""

    rules: tuple[Rule, ...]
    path: Path
    #: Keyed by (rule name, language code).
    templates: Mapping[tuple[str, str], Template]

    def rule(self, name: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.name == name), None)


@dataclass(frozen=True)
class Config:
    """Everything the decision needs from the admin files, compiled once."""

    catalog: Catalog
    rules: RuleSet
    index: Index
