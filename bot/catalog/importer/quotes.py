"""Candidate quotes: sentence-bounded passages within the length that the
rules' quote templates leave for a quote at the instance's limit.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.catalog.fit import ASSUMED_REQUESTER
from bot.catalog.importer.ids import slug_words, unique_id
from bot.catalog.importer.page import MIN_QUOTE_LENGTH, TYPICAL_TEMPLATE
from bot.text.render import (
    PLACEHOLDERS,
    neutralise_mentions,
    parse_template,
    render,
    sentence_ends,
    status_length,
)

# -- the quote budget -------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """How long a candidate quote may be, and where that figure comes from."""

    max_length: int
    max_characters: int
    overhead: int
    #: ``rule (language)`` of the template that set the overhead, or a note.
    template: str


def quote_templates(rules_path: Path | None) -> list[tuple[str, str]]:
    """``(label, source)`` of each template in the rules file that shows a
    quote; empty when the file cannot be read (the caller falls back)."""
    if rules_path is None:
        return []
    try:
        data = tomllib.loads(rules_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    found: list[tuple[str, str]] = []
    rules = data.get("rules")
    if not isinstance(rules, list):
        return []
    for rule in rules:
        if not isinstance(rule, dict) or not isinstance(rule.get("templates"), dict):
            continue
        for language, source in rule["templates"].items():
            if not isinstance(source, str):
                continue
            try:
                template = parse_template(source, language)
            except ValueError:
                continue
            if "quote" in template.fields:
                found.append((f"{rule.get('name', '?')} ({language})", source))
    return found


def quote_budget(
    *,
    max_characters: int,
    url_length: int,
    author: str,
    title: str,
    url: str,
    templates: Sequence[tuple[str, str]] = (),
) -> Budget:
    """The longest quote that fits every quote template within ``max_characters``.

    Each template is rendered with an empty quote, a 30-character handle and
    this essay's author, title and URL, and measured as the server counts it;
    the largest of those is the overhead.
    """
    sources = list(templates) or [("typical template", TYPICAL_TEMPLATE)]
    values = dict.fromkeys(PLACEHOLDERS, "")
    values.update(
        requester=ASSUMED_REQUESTER,
        author=author,
        essay_title=title,
        essays=title,
        essay_url=url,
        quote_url=url,
        rules_url=url,
    )
    worst = ("", 0)
    for label, source in sources:
        length = status_length(render(parse_template(source, "fr"), values), url_length=url_length)
        if length > worst[1]:
            worst = (label, length)
    return Budget(
        max_length=max(0, max_characters - worst[1]),
        max_characters=max_characters,
        overhead=worst[1],
        template=worst[0],
    )


# -- candidate quotes -------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    id: str
    text: str
    #: 1-based number of the paragraph it comes from.
    paragraph: int
    length: int


@dataclass(frozen=True)
class Passages:
    candidates: tuple[Candidate, ...]
    #: Sentences that do not fit the budget even alone (they are left out).
    too_long: tuple[str, ...] = ()
    #: Paragraphs (or their leftovers) shorter than the minimum.
    too_short: int = 0


def _balanced(text: str) -> bool:
    """False when a « or “ is left open: ending a passage there would misquote."""
    return text.count("«") <= text.count("»") and text.count("“") <= text.count("”")


def sentences(paragraph: str) -> list[str]:
    """The paragraph cut at sentence ends that close every quotation mark
    opened before them (so a passage never ends inside a quotation)."""
    pieces: list[str] = []
    start = 0
    for end in sentence_ends(paragraph):
        if not _balanced(paragraph[:end]):
            continue
        piece = paragraph[start:end].strip()
        if piece:
            pieces.append(piece)
        start = end
    rest = paragraph[start:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def _pack(
    lengths: Sequence[int], limit: int, join: Callable[[int, int], int]
) -> list[tuple[int, int]]:
    """Split sentences ``0..n`` into runs ``(i, j)`` that each fit ``limit``.

    The fewest runs, and among those the most even ones (the longest run as
    short as possible), so a paragraph yields passages of similar weight rather
    than one full passage and a scrap. ``join(i, j)`` is the length of
    sentences ``i..j-1`` together. A sentence longer than ``limit`` breaks the
    paragraph in two around it.
    """
    n = len(lengths)
    # best[i] = (runs, longest run) for sentences i..n-1, with the cut after.
    infinite = (n + 1, 1 << 30)
    best: list[tuple[int, int]] = [infinite] * n + [(0, 0)]
    cut: list[int] = [n] * (n + 1)
    for i in range(n - 1, -1, -1):
        if lengths[i] > limit:
            # Cannot be quoted: whatever follows is packed on its own.
            best[i], cut[i] = best[i + 1], i + 1
            continue
        for j in range(i + 1, n + 1):
            if j > i + 1 and lengths[j - 1] > limit:
                break
            length = join(i, j)
            if length > limit:
                break
            runs, longest = best[j]
            option = (runs + 1, max(longest, length))
            if option < best[i]:
                best[i], cut[i] = option, j
    packed: list[tuple[int, int]] = []
    i = 0
    while i < n:
        j = cut[i]
        if lengths[i] <= limit:
            packed.append((i, j))
        i = j
    return packed


def _length(text: str, url_length: int) -> int:
    """A quote's length as posted: ``bot.decide`` neutralises its mentions
    (a zero-width space after each ``@``), which the server counts."""
    return status_length(neutralise_mentions(text), url_length=url_length)


def candidate_quotes(
    paragraphs: Sequence[str],
    *,
    max_length: int,
    url_length: int = 23,
    min_length: int = MIN_QUOTE_LENGTH,
    prefix: str = "",
    taken: Iterable[str] = (),
) -> Passages:
    """Verbatim passages of whole sentences, each at most ``max_length`` as the
    server counts it, at least ``min_length`` long, never crossing a paragraph.

    Ids are ``<prefix>-<first words>``, ASCII, unique, none in ``taken``.
    """
    used = set(taken)
    candidates: list[Candidate] = []
    too_long: list[str] = []
    too_short = 0
    for number, paragraph in enumerate(paragraphs, start=1):
        pieces = sentences(paragraph)
        lengths = [_length(piece, url_length) for piece in pieces]
        too_long += [
            piece for piece, length in zip(pieces, lengths, strict=True) if length > max_length
        ]

        def join(i: int, j: int, pieces: list[str] = pieces) -> int:
            return _length(" ".join(pieces[i:j]), url_length)

        for i, j in _pack(lengths, max_length, join):
            text = " ".join(pieces[i:j])
            length = join(i, j)
            if length < min_length:
                too_short += 1
                continue
            quote_id = unique_id(slug_words(text, prefix), used)
            used.add(quote_id)
            candidates.append(Candidate(quote_id, text, number, length))
    return Passages(tuple(candidates), tuple(too_long), too_short)
