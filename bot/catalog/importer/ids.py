"""Ids for a draft: slugs of the essay's title and of each quote's first words,
unique within the catalog it joins.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from bot.catalog.checks import ID_PATTERN
from bot.catalog.importer.extract import Article

# -- ids ----------------------------------------------------------------------------

#: Words that make poor ids: articles, pronouns, auxiliaries (fr and en).
_FILLER_WORDS = (
    "le la les un une des du de d l au aux et ou mais donc or ni car que qu qui quoi"
    " ce cet cette ces c ca se s sa son ses leur leurs nous vous ils elles il elle on"
    " je j me m te t tu y en ne n pas plus est sont a ont etait etre avoir fait dans"
    " sur par pour avec sans sous chez tout tous toute toutes tres bien aussi comme"
    " ai avait avons avez"
    " the a an of to in on at by for with and or but not is are was were be been it"
    " its this that these those i you he she we they my your our their as from"
)
_FILLER = frozenset(_FILLER_WORDS.split(" "))


def ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def slug_words(text: str, prefix: str, words: int = 3) -> str:
    # Elided words (n’ai, l’énergie) are split at the apostrophe first, so
    # that the article or negation falls away instead of gluing on.
    spaced = re.sub(r"['’ʼ]", " ", text)
    kept = [w for w in ascii_slug(spaced).split("-") if len(w) > 2 and w not in _FILLER][:words]
    slug = "-".join(kept) or "passage"
    return f"{prefix}-{slug}" if prefix else slug


def unique_id(candidate: str, used: set[str]) -> str:
    if candidate not in used:
        return candidate
    number = 2
    while f"{candidate}-{number}" in used:
        number += 1
    return f"{candidate}-{number}"


def essay_id_for(article: Article, *, taken: Iterable[str] = ()) -> str:
    """A slug for the essay: the last segment of its URL when that reads like
    one (``…/archive/ia-probleme/``), else the first words of its title."""
    used = set(taken)
    segment = ""
    if article.url:
        path = urlsplit(article.url).path.rstrip("/")
        segment = re.sub(r"\.(html?|php|aspx?)$", "", path.rsplit("/", 1)[-1], flags=re.I)
        segment = ascii_slug(unquote(segment))
    if not re.search(r"[a-z]", segment) or len(segment) > 40:
        segment = "-".join(ascii_slug(article.title).split("-")[:5])
    return unique_id(segment or "essai", used)


def valid_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value))
