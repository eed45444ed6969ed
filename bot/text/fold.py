""":func:`fold` is the one normalisation used wherever text is compared:
keywords, commands, hashtags and the ranking all go through it.
"""

from __future__ import annotations

import re
import unicodedata

# -- folding ------------------------------------------------------------------

#: Typographic apostrophes that people (and French keyboards) type for ``'``.
_APOSTROPHES = dict.fromkeys("\u2019\u02bc\u2018\u2032\uff07", "'")
#: Invisible characters that split or glue words without showing: zero-width
#: space/joiners, word joiner, BOM, soft hyphen.
_INVISIBLE = dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad", "")
#: Ligatures that NFKC keeps but that readers type as two letters (« cœur » / « coeur »).
_LIGATURES = {"œ": "oe", "æ": "ae"}
_CASEFOLD_MAP = {**_APOSTROPHES, **_INVISIBLE}
_FOLD_MAP = {**_CASEFOLD_MAP, **_LIGATURES}
# Regexes rather than str.translate: translate walks a dict per character,
# these scan in C and call back only on the rare hit.
_CASEFOLD_CHARS = re.compile("[" + "".join(_CASEFOLD_MAP) + "]")
_FOLD_CHARS = re.compile("[" + "".join(_FOLD_MAP) + "]")
#: Combining marks left by NFD: diacritics (U+0300-036F) and their extensions.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str, *, keep_accents: bool = False) -> str:
    """Normalise text for comparison: NFKC, casefold, accents stripped.

    Typographic apostrophes become ``'``, zero-width characters and soft
    hyphens are removed, ``œ``/``æ`` become ``oe``/``ae``. NFKC also turns
    non-breaking spaces into plain spaces and ligatures such as ``ﬁ`` into
    letters. ``keep_accents=True`` stops before stripping accents and
    ligatures (the French stemmer needs them, see ``bot.rank``).

    >>> fold("L’Écoute  Œuvre")
    "l'ecoute  oeuvre"
    """
    if text.isascii():
        # Nothing below changes ASCII but case, and this is the common case.
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    if keep_accents:
        return _CASEFOLD_CHARS.sub(_replace_casefold, text)
    text = _FOLD_CHARS.sub(_replace_fold, text)
    stripped = _COMBINING.sub("", unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFC", stripped)


def _replace_casefold(match: re.Match[str]) -> str:
    return _CASEFOLD_MAP[match.group()]


def _replace_fold(match: re.Match[str]) -> str:
    return _FOLD_MAP[match.group()]
