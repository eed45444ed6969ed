"""Which language a mention is written in, read from its text.

A status's ``language`` is often the client's default rather than what was
written, and some servers send none (Takahē). The text decides when a
detector made for short texts (``lingua``, restricted to the languages the
bot meets most, in its low-accuracy mode: trigrams only, a few megabytes)
is sure; otherwise the status's own tag stands.
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.model.post import Post
from bot.text.language import language_code
from bot.understand.request import without_handles

if TYPE_CHECKING:
    from lingua import LanguageDetector

#: ISO 639-1 codes the detector tells apart: the bot's own and the neighbours
#: most often mistaken for them.
DETECTED = ("fr", "en", "de", "es", "it")
#: How sure the detector must be before the text overrides the status's tag.
CONFIDENCE = 0.9
#: Fewer words than this and the text says too little to tell.
MIN_WORDS = 3

_URL = re.compile(r"https?://\S+")
_HANDLE = re.compile(r"@[\w.-]+(?:@[\w.-]+)?")
_WORDS = re.compile(r"[^\W\d_]{2,}")
_detector: list[Any] = []
_lock = threading.Lock()


def _load() -> LanguageDetector:
    with _lock:
        if not _detector:
            from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

            languages = [
                Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in DETECTED
            ]
            _detector.append(
                LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()
            )
        detector: LanguageDetector = _detector[0]
        return detector


def detect(text: str) -> str | None:
    """The language ``text`` is written in, when the detector is sure."""
    plain = _HANDLE.sub(" ", _URL.sub(" ", without_handles(text)))
    if len(_WORDS.findall(plain)) < MIN_WORDS:
        return None
    values = _load().compute_language_confidence_values(plain)
    if not values or values[0].value < CONFIDENCE:
        return None
    return str(values[0].language.iso_code_639_1.name).lower()


def mention_language(text: str, declared: object) -> str | None:
    """The text's language when it is clear, else the status's own tag."""
    return detect(text) or language_code(declared)


def with_language(post: Post, *, detect: bool = True) -> Post:
    """``post`` with the language its text is written in (see ``mention_language``);
    without ``detect``, with its own tag, read as a language code."""
    language = (
        mention_language(post.text, post.language) if detect else language_code(post.language)
    )
    return post if language == post.language else replace(post, language=language)
