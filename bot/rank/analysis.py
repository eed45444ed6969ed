"""Text into terms: folding, elisions, stop words (French, English and the
chatter of replies), Snowball stems, cached per language.

Each indexed text is analysed in its own language, and the query is analysed
again for each language it is compared with. A post's ``language`` is often
the client's default rather than what was written, so the query's language
never decides which stemmer meets which text; it only adds its function
words when it is the other bundled language (:func:`reading`).
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache, partial
from typing import Protocol

import snowballstemmer

from bot.rank.words import STEM_OVERRIDES, STOP_ANY, STOP_WORDS, words
from bot.text.fold import fold

# -- analysis ----------------------------------------------------------------------


#: French elided articles and conjunctions, stripped from the word they lean on
#: (« l'IA » is « IA », « qu'on » is « on »).
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)'")
#: A word: letters and digits, possibly joined by apostrophes or hyphens.
_TOKEN = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
#: An @-handle: an ``@`` not after a word character or another ``@``. The
#: lookbehind comes after the ``@`` so that the engine scans for it first.
_HANDLE = re.compile(r"@(?<![\w@]@)[\w.-]+(?:@[\w-]+(?:\.[\w-]+)+)?")
#: French inclusive writing: « épouvanté·es », « vrai.e.s » read as the base word.
_INCLUSIVE = re.compile(
    # The lookbehinds come after the separator so that the engine scans for
    # the separator first instead of testing every position.
    r"[·‧⋅•](?<=[^\W\d_].)[^\W\d_]{1,5}(?:[·‧⋅•][^\W\d_]{1,5})?"
    r"|\.(?<=[^\W\d_].)(?:e|es|s|x|ne|nes|se|ses|le|les|rice|rices|trice|trices|euse|euses"
    r"|ive|ives|ere|eres|ère|ères|fe|fes)(?:\.(?:e|es|s|x))?(?![\w.])"
)
_HASHTAG = re.compile(r"#(\w+)")
#: Hyphenated compounds whose first part is one of these are also read as one
#: word (« ré-utiliser » is « réutiliser »).
_PREFIXES = words(
    "anti auto co contre e extra hyper inter micro multi néo post pré pro ré semi super"
)

#: ISO 639-1 code → Snowball algorithm.
_SNOWBALL = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nl": "dutch",
    "no": "norwegian",
    "nb": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "tr": "turkish",
}


class _Stemmer(Protocol):
    def stemWord(self, word: str) -> str: ...


_STEMMERS: dict[str, _Stemmer | None] = {}
#: Pure-Python Snowball stemmers keep the word being stemmed on the object.
_STEM_LOCK = threading.Lock()


def stem_language(language: str) -> str:
    """``fr-CA``, ``en_US``, ``FR`` → ``fr``, ``en``, ``fr``."""
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]


#: :func:`bot.text.fold` of each character below U+0250 (ASCII, Latin-1 and
#: Latin Extended-A and B): on those, folding is character by character, and
#: a table beats the three Unicode normalisations ``fold`` runs.
_LATIN_FOLD = {code: fold(chr(code)) for code in range(0x250)}
_LATIN_END = "\u0250"


def _fold_word(word: str) -> str:
    """``fold(word)``, quicker for the words of Latin-script languages."""
    if word.isascii():
        return word.lower()
    if max(word) < _LATIN_END:
        return word.translate(_LATIN_FOLD)
    return fold(word)


#: Sizes of the analysis caches, per language of the catalog (texts are
#: read in the languages of the index, never in a post's). They hold what
#: recent threads said (the next mention in a thread reads the same posts
#: again; common words recur), and stay small: a bot runs for weeks, and full
#: caches of every text it has read would weigh more than the index.
STEM_CACHE = 1 << 13
TEXT_CACHE = 1024


def _stem(word: str, language: str) -> str:
    """Stem of a casefolded word that still has its accents, then folded.
    Not cached itself: its callers' caches hold the words it stems.

    The French Snowball stemmer reads accents (« générées » and
    « génératives » both give « géner »; without accents « generees » gives
    « genere »), so it sees them first. A trailing ``e`` left by the
    stemmer is dropped for French, which makes most words typed without
    accents meet their accented forms. A word of ``STEM_OVERRIDES`` has the
    stem listed there.
    """
    overrides = STEM_OVERRIDES.get(language)
    if overrides is not None and word in overrides:
        return sys.intern(overrides[word])
    with _STEM_LOCK:
        stemmer = _STEMMERS.get(language, ...)
        if stemmer is ...:
            algorithm = _SNOWBALL.get(language)
            stemmer = snowballstemmer.stemmer(algorithm) if algorithm else None
            if hasattr(stemmer, "maxCacheSize"):
                # PyStemmer's own cache: this function's is enough, and
                # keeping both costs more than stemming a word again.
                stemmer.maxCacheSize = 0  # type: ignore[union-attr]
            _STEMMERS[language] = stemmer
        stem = stemmer.stemWord(word) if stemmer is not None else word
    stem = _fold_word(stem)
    if language == "fr":
        trimmed = stem.rstrip("e")
        if len(trimmed) >= 2:
            stem = trimmed
    return sys.intern(stem)


def _split_camel(match: re.Match[str]) -> str:
    """``#IAGénérative`` → ``IA Générative``: hashtags glue words by capitals."""
    tag = match.group(1)
    if tag.islower() or tag.isupper():
        return " " + tag
    out = [tag[0]]
    # zip stops at the shortest: every character after the first, with its neighbours.
    for previous, char, following in zip(tag, tag[1:], tag[2:] + " ", strict=False):
        if char.isupper() and (previous.islower() or (previous.isupper() and following.islower())):
            out.append(" ")
        out.append(char)
    return " " + "".join(out)


def stem_pairs_of(text: str, language: str) -> list[tuple[str, str]]:
    """(stem, word) of each content word of ``text``, in order. Catalog texts
    are read once, so this keeps them out of the per-text cache that queries
    use (:func:`analyze_cached`). Stems are interned: the index keeps each
    document's, and ten thousand quotes share a few tens of thousands."""
    terms = _token_terms_of(language)
    return [(sys.intern(s), w) for token in _split(text) for s, w in term_pairs(terms(token))]


def stems_of(text: str, language: str) -> list[str]:
    """The stem of each content word of ``text``, in order (:func:`stem_pairs_of`)."""
    return [stem for stem, _ in stem_pairs_of(text, language)]


#: The bundled languages, each the other's: a catalog in one carries keywords
#: in the other ("poster", "volunteers" in a French quote), which only the
#: other's stemmer reads as people write them (French reads « poster » as
#: « post », and "posters" as « poster »).
OTHER_LANGUAGE = {"fr": "en", "en": "fr"}


def other_stems(text: str, language: str) -> list[str]:
    """:func:`stems_of` ``text`` in ``language``'s other language (none for a
    language without one): how a keyword is also indexed."""
    other = OTHER_LANGUAGE.get(language)
    return stems_of(text, other) if other else []


def reading(space: str, text: str) -> str:
    """How a space in ``space``'s language reads a text in ``text``'s: with
    its stemmer, and that text's function words as well as its own when the
    text is in the other bundled language (see ``bot.rank.words``)."""
    if OTHER_LANGUAGE.get(space) == stem_language(text or space):
        return f"{space}<{stem_language(text)}"
    return space


def _other_stem(word: str, language: str) -> str | None:
    other = OTHER_LANGUAGE.get(language)
    return _stem(word, other) if other else None


#: The stem of a query word in its language's other language, or None: what
#: a word no passage has in ``language`` is looked up as next (cached: most
#: words of a thread are in no passage, and the next mention reads them again).
other_stem = lru_cache(maxsize=STEM_CACHE)(_other_stem)


def _split(text: str) -> tuple[str, ...]:
    """The words of ``text``, casefolded with their accents."""
    # Each pass only runs when its trigger character is there: most posts
    # have no hashtag, handle or URL, and analysis runs on every thread post.
    if "#" in text:
        text = _HASHTAG.sub(_split_camel, text)
    text = fold(text, keep_accents=True)
    if "://" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _HANDLE.sub(" ", text)
    text = _INCLUSIVE.sub("", text)
    return tuple(_TOKEN.findall(text))


#: Joins the parts of what the analysis caches keep: no token, stem or word has it.
_SEP = "\0"


def _token_terms(token: str, language: str) -> str:
    """The terms of one token: elision stripped, split at apostrophes and
    hyphens, stop words dropped; as ``"stem\0word\0stem\0word"``, ``""``
    for none (read with :func:`term_pairs`).

    One string rather than a tuple of pairs: the caches keep one per token
    and per text, and a string is nothing the garbage collector walks. New
    tuples are walked until a collection finds they hold only strings, and
    that collection comes every few hundred mentions, in the middle of one,
    with thousands of them.
    """
    stop = STOP_WORDS.get(language, STOP_ANY)
    language = language.partition("<")[0]
    if "'" not in token and "-" not in token:
        # Most tokens are one plain word: no elision, nothing to split.
        if len(token) < 2 or _fold_word(token) in stop:
            return ""
        return _stem(token, language) + _SEP + token
    terms: list[str] = []
    for piece in _ELISION.sub("", token).split("'"):
        parts = piece.split("-")
        kept = [part for part in parts if len(part) >= 2 and _fold_word(part) not in stop]
        for part in kept:
            terms.extend((_stem(part, language), part))
        if len(parts) > 1 and kept and (parts[0] in kept or _fold_word(parts[0]) in _PREFIXES):
            terms.extend((_stem("".join(parts), language), piece))
    return _SEP.join(terms)


def term_pairs(terms: str) -> Iterator[tuple[str, str]]:
    """(stem, word) of the terms of :func:`_token_terms` or :func:`analyze_cached`."""
    if not terms:
        return iter(())
    parts = iter(terms.split(_SEP))
    return zip(parts, parts, strict=False)


def _joined_tokens(text: str) -> str:
    """``_split(text)`` joined with ``_SEP``: what the cache keeps (see _token_terms)."""
    return _SEP.join(_split(text))


#: The same for every language, so a query read in two languages is split once.
_tokens = lru_cache(maxsize=TEXT_CACHE)(_joined_tokens)

#: Per language: token → its terms, and text → its terms. One cache per
#: language keyed by the string alone: a cache keyed by (string, language)
#: keeps a key tuple per entry besides.
_TOKEN_TERMS: dict[str, Callable[[str], str]] = {}
_TEXT_TERMS: dict[str, Callable[[str], str]] = {}
_CACHES_LOCK = threading.Lock()


def _token_terms_of(language: str) -> Callable[[str], str]:
    """:func:`_token_terms` in ``language``, cached (a thread repeats its words)."""
    cached = _TOKEN_TERMS.get(language)
    if cached is None:
        terms = partial(_token_terms, language=language)
        cached = _add_cache(_TOKEN_TERMS, language, STEM_CACHE, terms)
    return cached


def analyze_cached(text: str, language: str) -> str:
    """The terms of ``text`` as :func:`_token_terms` gives a token's, cached
    per language: the next mention in a thread reads the same posts again."""
    cached = _TEXT_TERMS.get(language)
    if cached is None:
        text_terms = partial(_text_terms, terms=_token_terms_of(language))
        cached = _add_cache(_TEXT_TERMS, language, TEXT_CACHE, text_terms)
    return cached(text)


def _add_cache(
    caches: dict[str, Callable[[str], str]],
    language: str,
    size: int,
    function: Callable[[str], str],
) -> Callable[[str], str]:
    """``function`` with a cache of ``size``, kept as ``caches[language]``
    unless another thread got there first."""
    with _CACHES_LOCK:
        return caches.setdefault(language, lru_cache(maxsize=size)(function))


#: Splits a folded token into the words a phrase is matched on.
_PHRASE_SPLIT = re.compile(r"['’-]+")


def _phrase_words_of(spaced: str) -> str:
    """Words joined by spaces, folded whole (character by character, as each
    word would be), split at apostrophes and hyphens when there are some."""
    joined = _fold_word(spaced)
    if "'" in joined or "-" in joined or "’" in joined:
        joined = " ".join(_PHRASE_SPLIT.sub(" ", joined).split())
    return joined


def _phrase_words(text: str) -> str:
    # The tokens the stems are read from, cached: a query's texts are split
    # once for both.
    return _phrase_words_of(_tokens(text).replace(_SEP, " "))


#: The same in every language; cached as ``_tokens`` is.
_phrase_words_cached = lru_cache(maxsize=TEXT_CACHE)(_phrase_words)


def phrase_words(text: str, *, cached: bool = True) -> tuple[str, ...]:
    """The words of ``text`` as a catalog's phrases are matched on: folded,
    split at apostrophes and hyphens, stop words kept (« just a tool », « pas
    la même chose » are phrases of function words but one). ``cached``
    False: a catalog's text, read once, kept out of the queries' caches."""
    joined = _phrase_words_cached(text) if cached else _phrase_words_of(" ".join(_split(text)))
    return tuple(joined.split(" ")) if joined else ()


def forget_texts() -> None:
    """Empty the per-text caches; the per-word ones stay. What a decision on
    texts it has never read meets: a benchmark that decides the same thread
    twice, with two configurations, calls it between the two."""
    _tokens.cache_clear()
    _phrase_words_cached.cache_clear()
    with _CACHES_LOCK:
        caches = list(_TEXT_TERMS.values())
    for cache in caches:
        cache.cache_clear()  # type: ignore[attr-defined]


def _text_terms(text: str, terms: Callable[[str], str]) -> str:
    # The loop runs in C: a thread's texts are hundreds of words per decision.
    return _SEP.join(filter(None, map(terms, _tokens(text).split(_SEP))))


def analyze(text: str, language: str) -> list[str]:
    """The terms of ``text`` as the index sees them: folded, elisions and
    stop words (French and English) removed, stemmed with Snowball.

    ``language`` is an ISO 639-1 code (``fr``, ``en``, also ``fr-CA``).
    Languages Snowball knows are stemmed with it; others are not stemmed
    and lose both French and English stop words.

    >>> analyze("Des affiches générées par l'IA", "fr")
    ['affich', 'gener', 'ia']
    """
    return [stem for stem, _ in term_pairs(analyze_cached(text, stem_language(language)))]
