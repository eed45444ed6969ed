"""Which template a reply uses: the rule's in the mention's language, the
built-in wording of special replies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from bot.model.decision import SkipReason
from bot.text.render import (
    Template,
    parse_template,
)

if TYPE_CHECKING:
    from bot.catalog.config import Config


# -- templates ----------------------------------------------------------------

#: Skips after which the next matching rule gets its turn.
FALL_THROUGH = frozenset(
    {SkipReason.NO_CANDIDATE, SkipReason.DOES_NOT_FIT, SkipReason.WEAK_EVIDENCE}
)

#: Used when the rules file has no ``unknown_essay`` / ``why_nothing`` rule
#: carrying its own wording (see ``special_template``).
BUILTIN_TEMPLATES: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("unknown_essay", "fr"): (
            "{requester} Je ne sais pas de quel texte parle ce fil. Ceux que je connais :\n{essays}"
        ),
        ("unknown_essay", "en"): (
            "{requester} I can't tell which essay this thread is about. The ones I know:\n{essays}"
        ),
        ("why_nothing", "fr"): (
            "{requester} Il n'y a rien à expliquer ici : réponds « pourquoi » à l'un de mes"
            " messages et je te dirai pourquoi je l'ai écrit."
        ),
        ("why_nothing", "en"): (
            '{requester} There is nothing to explain here: reply "why" to one of my posts'
            " and I will tell you why I wrote it."
        ),
        ("other_language", "en"): (
            "{requester} Sorry, I only answer in French and English: mention me again"
            " in one of them and I will point you to the essay."
        ),
        ("other_language", "fr"): (
            "{requester} Désolé, je ne réponds qu'en français et en anglais : mentionnez-moi"
            " dans l'une de ces langues et je vous renverrai au texte."
        ),
    }
)


#: How a title is set in quotation marks, per reply language (French puts a
#: non-breaking space inside « »; other languages get English quotes).
TITLE_QUOTES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {"fr": ("«\u00a0", "\u00a0»"), "en": ("“", "”")}
)


def _templates_of(config: Config, rule_name: str, raw: Mapping[str, str]) -> dict[str, Template]:
    found = {
        language: template
        for (name, language), template in config.rules.templates.items()
        if name == rule_name
    }
    for language, source in raw.items():
        if language not in found:
            found[language] = parse_template(source, language)
    return found


def _pick_language(available: Iterable[str], wanted: str | None, default: str) -> str | None:
    languages = sorted(set(available))
    if wanted in languages:
        return wanted
    if default in languages:
        return default
    return languages[0] if languages else None


def special_template(
    config: Config, name: str, wanted: str | None, default: str
) -> tuple[str, Template]:
    """The wording of a reply no rule asks for (no essay known, nothing to
    explain): a rule of that name in the rules file wins over the built-in one."""
    rule = next((r for r in config.rules.rules if r.name == name), None)
    templates = _templates_of(config, name, rule.templates if rule else {})
    if not templates:
        templates = {
            language: parse_template(source, language)
            for (key, language), source in BUILTIN_TEMPLATES.items()
            if key == name
        }
    language = _pick_language(templates, wanted, default)
    assert language is not None  # the built-in table has both languages
    return language, templates[language]
