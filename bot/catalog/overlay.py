"""The learnt overlay (``FILROUGE_CATALOG_OVERLAY``): keywords that moderators'
corrections taught, reviewed by a person and then loaded on top of the
catalog. ``filrouge catalog learned --apply FILE`` writes it; nothing reads it
unless the setting names it, so nothing is ever applied silently::

    [[learned]]
    id = "petites-voix"             # a quote or prompt of the catalog
    keywords = ["budget", "asso"]   # added to its keywords

An id the catalog does not have, or a key the overlay does not know, is a
problem named with the file and the line, like any in the catalog.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from bot.catalog.checks import ID_HINT, ID_PATTERN, Checker, read_toml
from bot.catalog.config import Catalog
from bot.catalog.lines import TablePath
from bot.errors import Problem
from bot.model.catalog import Prompt, Quote

_Item = TypeVar("_Item", Quote, Prompt)

HEADER = """\
# Keywords learnt from moderators' corrections, reviewed by a person before
# FILROUGE_CATALOG_OVERLAY names this file (written by
# `filrouge catalog learned --apply`; edit it freely: a later --apply keeps
# what is here and adds to it).
"""


def read_overlay(path: Path) -> tuple[dict[str, tuple[str, ...]], list[Problem], Checker | None]:
    """The keywords the overlay adds, by id, and its problems."""
    read, problems = read_toml(path, "overlay", "FILROUGE_CATALOG_OVERLAY")
    if read is None:
        return {}, problems, None
    data, lines = read
    check = Checker(path, lines)
    check.table(data, (), "overlay", ("learned",))
    learned: dict[str, tuple[str, ...]] = {}
    for index, raw in enumerate(check.tables(data, "learned", (), "overlay")):
        at: TablePath = (("learned", index),)
        where = f"learned #{index + 1}"
        check.table(raw, at, where, ("id", "keywords"))
        item = check.string(raw, "id", at, where, pattern=ID_PATTERN, hint=ID_HINT)
        words = check.strings(raw, "keywords", at, where)
        if item is not None:
            learned[item] = (*learned.get(item, ()), *words)
    return learned, check.problems, check


def apply_overlay(catalog: Catalog, path: Path) -> tuple[Catalog, list[Problem]]:
    """``catalog`` with the overlay's keywords added to its quotes and prompts."""
    learned, problems, check = read_overlay(path)
    if check is None:
        return catalog, problems
    known = {q.id for e in catalog.essays for q in e.quotes} | {
        p.id for e in catalog.essays for p in e.prompts
    }
    for index, item in enumerate(learned):
        if item not in known:
            check.add(
                (("learned", index),),
                "id",
                f'learned "{item}"',
                f'no quote or prompt "{item}" in the catalog',
                "remove the entry, or fix the id",
            )
    if check.problems:
        return catalog, check.sorted_problems()
    essays = []
    for essay in catalog.essays:
        quotes = tuple(_with_keywords(q, learned) for q in essay.quotes)
        prompts = tuple(_with_keywords(p, learned) for p in essay.prompts)
        essays.append(dataclasses.replace(essay, quotes=quotes, prompts=prompts))
    return dataclasses.replace(catalog, essays=tuple(essays)), []


def _with_keywords(item: _Item, learned: Mapping[str, Sequence[str]]) -> _Item:
    added: Sequence[str] = learned.get(item.id, ())
    if not added:
        return item
    keywords = tuple(dict.fromkeys((*item.keywords, *added)))
    return dataclasses.replace(item, keywords=keywords)


def write_overlay(path: Path, additions: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Add ``additions`` to the overlay at ``path`` (created if absent), keeping
    what it holds; the whole overlay, as written. Raises ``ConfigError``-worthy
    problems as ``ValueError`` when the existing file is broken."""
    current: dict[str, list[str]] = {}
    if path.exists():
        learned, problems, _ = read_overlay(path)
        if problems:
            raise ValueError("; ".join(str(problem) for problem in problems))
        current = {item: list(words) for item, words in learned.items()}
    for item, new in additions.items():
        current[item] = list(dict.fromkeys((*current.get(item, ()), *new)))
    parts = [HEADER]
    for item, words in current.items():
        listed = ", ".join(_toml(word) for word in words)
        parts.append(f"\n[[learned]]\nid = {_toml(item)}\nkeywords = [{listed}]\n")
    path.write_text("".join(parts), encoding="utf-8")
    return current


def _toml(value: str) -> str:
    # A JSON string is a TOML basic string: the same quotes and escapes.
    return json.dumps(value, ensure_ascii=False)
