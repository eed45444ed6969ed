"""The catalog's concepts (``[[concepts]]`` in ``catalog.toml``): a vocabulary
the curator writes once, in each language, and quotes and prompts name::

    [[concepts]]
    id = "argent"
    fr = ["argent", "salaire", "budget", "moyens"]
    en = ["money", "pay", "budget"]

    [[essays.quotes]]
    id = "petites-voix"
    concepts = ["argent"]

A quote that names a concept is indexed with its terms as if they were its
keywords: one list for every quote about money, in both languages, instead of
the same words repeated (and forgotten) quote after quote.

A quote about two things set side by side (« un simple visuel » and « la
diffusion de fake news ») names them in ``joins``: when the thread names each
of them, the quote outranks one that speaks of only one (``bot.rank.index``)::

    joins = ["visuels", "desinformation"]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.catalog.checks import ID_HINT, ID_PATTERN, LANGUAGE, Checker
from bot.catalog.lines import TablePath
from bot.model.catalog import Concept
from bot.rank.analysis import phrase_words
from bot.rank.phrases import is_quoted


def read_concepts(check: Checker, data: Mapping[str, Any]) -> dict[str, Concept]:
    """The concepts of a parsed catalog, by id; problems go to ``check``."""
    concepts: dict[str, Concept] = {}
    for index, raw in enumerate(check.tables(data, "concepts", (), "catalog")):
        at: TablePath = (("concepts", index),)
        label = raw.get("id") if isinstance(raw.get("id"), str) else f"#{index + 1}"
        where = f'concept "{label}"'
        languages = [key for key in raw if key != "id"]
        check.table(raw, at, where, ("id", *(k for k in languages if LANGUAGE.match(k))))
        concept_id = check.string(raw, "id", at, where, pattern=ID_PATTERN, hint=ID_HINT)
        terms = {
            language: words
            for language in languages
            if LANGUAGE.match(language) and (words := check.strings(raw, language, at, where))
        }
        for language, words in terms.items():
            check_quoted(check, words, at, where, language)
        if not terms:
            check.add(
                at,
                None,
                where,
                "the concept has no terms",
                'list its words per language: fr = ["…"], en = ["…"]',
            )
        if concept_id is None:
            continue
        if concept_id in concepts:
            check.add(
                at,
                "id",
                where,
                f'duplicate concept id "{concept_id}"'
                f" (first defined on line {concepts[concept_id].line})",
                "every concept needs its own id",
            )
        elif terms:
            concepts[concept_id] = Concept(concept_id, terms, check.lines.line(at))
    return concepts


def check_quoted(
    check: Checker, values: tuple[str, ...], at: TablePath, where: str, key: str
) -> None:
    """A keyword in double quotes is a phrase matched whole
    (``bot.rank.phrases``): a single word would silently be matched as itself."""
    for value in values:
        if is_quoted(value) and len(phrase_words(value, cached=False)) < 2:
            check.add(
                at,
                key,
                where,
                f"{value} is quoted but is a single word",
                "quotes make a phrase of two words or more matched whole, such as"
                " '\"fausses photos\"'; write a single word without them",
            )


def check_references(
    check: Checker,
    raw: Mapping[str, Any],
    at: TablePath,
    where: str,
    concepts: Mapping[str, Concept],
    key: str = "concepts",
) -> tuple[str, ...]:
    """The concept ids a quote or prompt names (``concepts = [...]``, or the
    list under ``key``), each one checked against the catalog's; unknown ones
    are reported and dropped."""
    named = check.strings(raw, key, at, where, pattern=ID_PATTERN, hint=ID_HINT)
    known = tuple(concept for concept in named if concept in concepts)
    for concept in named:
        if concept not in concepts:
            listed = ", ".join(sorted(concepts)) or "none yet"
            check.add(
                at,
                key,
                where,
                f'unknown concept "{concept}"',
                f"define it under [[concepts]] (known: {listed})",
            )
    return known


def check_joins(
    check: Checker,
    raw: Mapping[str, Any],
    at: TablePath,
    where: str,
    concepts: Mapping[str, Concept],
) -> tuple[str, ...]:
    """The concepts a quote sets side by side (``joins = [...]``): two or more
    distinct known ones, or none (reported)."""
    named = check_references(check, raw, at, where, concepts, "joins")
    distinct = tuple(dict.fromkeys(named))
    listed = raw.get("joins")
    if len(distinct) < 2 and isinstance(listed, list) and len(listed) == 1:
        # Two or more listed but fewer known or distinct: reported above.
        check.add(
            at,
            "joins",
            where,
            "joins needs two different concepts or more",
            'name the things the passage sets side by side: joins = ["visuels", "desinformation"]',
        )
    return distinct if len(distinct) >= 2 else ()
