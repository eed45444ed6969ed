"""Loading the catalog of essays, quotes and prompts (``catalog.toml``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.catalog.checks import (
    HASHTAG,
    ID_HINT,
    ID_PATTERN,
    LANGUAGE,
    URL_PATTERN,
    Checker,
    kind_of,
    read_toml,
)
from bot.catalog.concepts import check_joins, check_quoted, check_references, read_concepts
from bot.catalog.config import Catalog
from bot.catalog.lines import TablePath
from bot.errors import ConfigError, Problem
from bot.model.catalog import Concept, Essay, Prompt, Quote
from bot.text.fold import fold

if TYPE_CHECKING:
    pass


# -- the catalog ----------------------------------------------------------------

_ESSAY_KEYS = (
    "id",
    "title",
    "author",
    "url",
    "language",
    "aliases",
    "hashtags",
    "quotes",
    "prompts",
)
_QUOTE_KEYS = ("id", "text", "tags", "keywords", "concepts", "joins", "context", "anchor_url")
_PROMPT_KEYS = ("id", "text", "tags", "keywords", "concepts")


class _Shared:
    """One object for each distinct tag, keyword or language code of a
    catalog, and for each distinct tuple of them.

    They repeat from quote to quote (a few dozen tags over thousands of
    quotes) and the loaded catalog lives as long as the process, so keeping
    a single copy of each is megabytes saved on a large catalog. The table
    itself lives only while the catalog loads.
    """

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._tuples: dict[tuple[str, ...], tuple[str, ...]] = {}

    def string(self, value: str) -> str:
        return self._strings.setdefault(value, value)

    def strings(self, values: tuple[str, ...]) -> tuple[str, ...]:
        if not values:
            return ()
        shared = tuple(self.string(value) for value in values)
        return self._tuples.setdefault(shared, shared)


def load_catalog(path: Path) -> Catalog:
    """Load and check a catalog file; raise ``ConfigError`` listing every problem."""
    catalog, problems = read_catalog(path)
    if problems or catalog is None:
        raise ConfigError(problems)
    return catalog


def read_catalog(path: Path) -> tuple[Catalog | None, list[Problem]]:
    read, problems = read_toml(path, "catalog", "FILROUGE_CATALOG_PATH")
    if read is None:
        return None, problems
    data, lines = read
    check = Checker(path, lines)
    check.table(data, (), "catalog", ("essays", "concepts"))
    concepts = read_concepts(check, data)
    raw_essays = check.tables(data, "essays", (), "catalog")
    if not raw_essays and "essays" not in data:
        check.add((), None, "catalog", "no essays", "add an [[essays]] table")

    essays: list[Essay] = []
    essay_lines: dict[str, int] = {}
    #: Quote and prompt ids share one namespace: id → (kind, line).
    item_lines: dict[str, tuple[str, int]] = {}
    url_owner: dict[str, tuple[str, int]] = {}
    hashtag_owner: dict[str, str] = {}
    shared = _Shared()
    from bot.text.urls import normalize_url as normalise

    for index, raw in _consume(raw_essays):
        at: TablePath = (("essays", index),)
        label = raw.get("id") if isinstance(raw.get("id"), str) else f"#{index + 1}"
        where = f'essay "{label}"'
        line = check.lines.line(at)
        check.table(raw, at, where, _ESSAY_KEYS)
        essay_id = check.string(raw, "id", at, where, pattern=ID_PATTERN, hint=ID_HINT)
        if essay_id is not None:
            if essay_id in essay_lines:
                check.add(
                    at,
                    "id",
                    where,
                    f'duplicate essay id "{essay_id}"'
                    f" (first defined on line {essay_lines[essay_id]})",
                    "every essay needs its own id",
                )
            else:
                essay_lines[essay_id] = line
        title = check.string(raw, "title", at, where)
        author = check.string(raw, "author", at, where)
        url = check.string(
            raw, "url", at, where, pattern=URL_PATTERN, hint="the essay's canonical http(s) URL"
        )
        language = check.string(
            raw, "language", at, where, pattern=LANGUAGE, hint='an ISO 639-1 code such as "fr"'
        )
        aliases = check.strings(
            raw, "aliases", at, where, pattern=URL_PATTERN, hint="aliases are http(s) URLs"
        )
        hashtags = tuple(
            tag.lstrip("#")
            for tag in check.strings(
                raw,
                "hashtags",
                at,
                where,
                pattern=HASHTAG,
                hint='a hashtag is one word, e.g. "iaprobleme"',
            )
        )
        for known in (url, *aliases):
            if known is None:
                continue
            key = normalise(known)
            if key in url_owner and url_owner[key][0] != label:
                owner, owner_line = url_owner[key]
                check.add(
                    at,
                    "url" if known == url else "aliases",
                    where,
                    f'URL {known} already belongs to essay "{owner}" (line {owner_line})',
                    "a URL can lead to one essay only",
                )
            url_owner.setdefault(key, (str(label), line))
        for tag in hashtags:
            key = fold(tag)
            if key in hashtag_owner and hashtag_owner[key] != label:
                check.add(
                    at,
                    "hashtags",
                    where,
                    f'hashtag #{tag} already belongs to essay "{hashtag_owner[key]}"',
                    "a hashtag can point to one essay only",
                )
            hashtag_owner.setdefault(key, str(label))

        quotes = _load_quotes(check, raw, at, essay_id or "", item_lines, shared, concepts)
        prompts = _load_prompts(check, raw, at, essay_id or "", item_lines, shared, concepts)
        if not quotes and not prompts and "quotes" not in raw and "prompts" not in raw:
            check.add(
                at,
                None,
                where,
                "the essay has no quotes and no prompts",
                "add [[essays.quotes]] or [[essays.prompts]] tables;"
                " without them the bot can only link to it",
            )
        if essay_id and title and author and url and language:
            essays.append(
                Essay(
                    id=essay_id,
                    title=title,
                    author=author,
                    url=url,
                    language=shared.string(language),
                    aliases=aliases,
                    hashtags=hashtags,
                    quotes=quotes,
                    prompts=prompts,
                    line=line,
                )
            )
    catalog = Catalog(essays=tuple(essays), path=path, concepts=concepts)
    return catalog, check.sorted_problems()


def _consume(tables: list[Any]) -> Iterator[tuple[int, Any]]:
    """Each table of a parsed array with its index, dropped from the array as
    it is handed out.

    The parsed TOML of a large catalog takes more memory than the catalog it
    becomes: once a quote's table has become a ``Quote`` nothing reads it
    again, so it goes, and the two are never held whole at the same time.
    The array keeps its length (an empty slot in place of each table), so
    whether a key was given at all can still be asked of its parent.
    """
    for index, table in enumerate(tables):
        tables[index] = None
        yield index, table


def _claim_id(
    check: Checker,
    at: TablePath,
    where: str,
    item_id: str,
    kind: str,
    item_lines: dict[str, tuple[str, int]],
) -> None:
    if item_id in item_lines:
        other_kind, other_line = item_lines[item_id]
        check.add(
            at,
            "id",
            where,
            f'duplicate id "{item_id}": already used by a {other_kind} on line {other_line}',
            "quote and prompt ids must be unique across the whole catalog",
        )
    else:
        item_lines[item_id] = (kind, check.lines.line(at))


@dataclass(frozen=True, slots=True)
class _Item:
    """What a quote and a prompt share, read and checked."""

    raw: Mapping[str, Any]
    at: TablePath
    where: str
    id: str
    tags: tuple[str, ...]
    keywords: tuple[str, ...]
    concepts: tuple[str, ...]


_T = TypeVar("_T", Quote, Prompt)


def _load_items(
    check: Checker,
    raw_essay: Mapping[str, Any],
    essay_at: TablePath,
    essay_id: str,
    item_lines: dict[str, tuple[str, int]],
    shared: _Shared,
    concepts: Mapping[str, Concept],
    kind: str,
    keys: tuple[str, ...],
    build: Callable[[_Item], _T | None],
) -> tuple[_T, ...]:
    """An essay's quotes or prompts (``kind``): the id, tags and keywords are
    read here, ``build`` reads the rest and makes the item (None when a
    problem was found)."""
    items: list[_T] = []
    plural = f"{kind}s"
    for index, raw in _consume(check.tables(raw_essay, plural, essay_at, f'essay "{essay_id}"')):
        at: TablePath = (*essay_at, (plural, index))
        label = raw.get("id") if isinstance(raw.get("id"), str) else f"#{index + 1}"
        where = f'{kind} "{label}"'
        check.table(raw, at, where, keys)
        item_id = check.string(raw, "id", at, where, pattern=ID_PATTERN, hint=ID_HINT)
        tags = shared.strings(check.strings(raw, "tags", at, where))
        keywords = shared.strings(check.strings(raw, "keywords", at, where))
        check_quoted(check, keywords, at, where, "keywords")
        named = shared.strings(check_references(check, raw, at, where, concepts))
        item = build(_Item(raw, at, where, item_id or "", tags, keywords, named))
        if item_id is not None:
            _claim_id(check, at, where, item_id, kind, item_lines)
        if item_id and item is not None:
            items.append(item)
    return tuple(items)


def _load_quotes(
    check: Checker,
    raw_essay: Mapping[str, Any],
    essay_at: TablePath,
    essay_id: str,
    item_lines: dict[str, tuple[str, int]],
    shared: _Shared,
    concepts: Mapping[str, Concept],
) -> tuple[Quote, ...]:
    def build(item: _Item) -> Quote | None:
        raw, at, where = item.raw, item.at, item.where
        text = check.string(raw, "text", at, where, hint="the passage, verbatim from the essay")
        anchor_url = check.string(
            raw,
            "anchor_url",
            at,
            where,
            required=False,
            pattern=URL_PATTERN,
            hint="a http(s) link to the passage",
        )
        context = check.string(
            raw,
            "context",
            at,
            where,
            required=False,
            hint="the paragraph around the quote, verbatim from the essay",
        )
        joins = check_joins(check, raw, at, where, concepts)
        if not text:
            return None
        return Quote(
            id=item.id,
            essay_id=essay_id,
            text=text,
            tags=item.tags,
            keywords=item.keywords,
            anchor_url=anchor_url,
            line=check.lines.line(at),
            concepts=item.concepts,
            context=context or None,
            joins=shared.strings(joins),
        )

    return _load_items(
        check,
        raw_essay,
        essay_at,
        essay_id,
        item_lines,
        shared,
        concepts,
        "quote",
        _QUOTE_KEYS,
        build,
    )


def _load_prompts(
    check: Checker,
    raw_essay: Mapping[str, Any],
    essay_at: TablePath,
    essay_id: str,
    item_lines: dict[str, tuple[str, int]],
    shared: _Shared,
    concepts: Mapping[str, Concept],
) -> tuple[Prompt, ...]:
    def build(item: _Item) -> Prompt | None:
        texts = language_table(check, item.raw, "text", item.at, item.where, "essays.prompts.text")
        if not texts:
            return None
        return Prompt(
            id=item.id,
            essay_id=essay_id,
            texts={shared.string(lang): text for lang, text in texts.items()},
            tags=item.tags,
            keywords=item.keywords,
            line=check.lines.line(item.at),
            concepts=item.concepts,
        )

    return _load_items(
        check,
        raw_essay,
        essay_at,
        essay_id,
        item_lines,
        shared,
        concepts,
        "prompt",
        _PROMPT_KEYS,
        build,
    )


def language_table(
    check: Checker,
    raw: Mapping[str, Any],
    key: str,
    at: TablePath,
    where: str,
    header: str,
) -> dict[str, str]:
    """A ``{language: text}`` table such as a prompt's text or a rule's templates."""
    hint = f'write [{header}] with one line per language: fr = "…", en = "…"'
    if key not in raw:
        check.add(at, None, where, f"missing required key {key!r}", hint)
        return {}
    value = raw[key]
    if not isinstance(value, dict):
        check.add(
            at, key, where, f"{key!r} must be a table of languages, not {kind_of(value)}", hint
        )
        return {}
    sub: TablePath = (*at, (key, None))
    texts: dict[str, str] = {}
    for language in value:
        text = check.string(value, language, sub, where, hint=hint)
        if not LANGUAGE.match(language):
            check.add(
                sub,
                language,
                where,
                f"{language!r} is not a language code",
                'use an ISO 639-1 code such as "fr" or "en"',
            )
        elif text is not None:
            texts[language] = text
    if not value:
        check.add(at, key, where, f"{key!r} has no language", hint)
    return texts
