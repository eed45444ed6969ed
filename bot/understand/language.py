"""Which language a mention is written in, read from its text.

A status's ``language`` is often the client's default rather than what was
written, and some servers send none (Takahē). The text decides when a
language identifier made for short texts is sure; otherwise the status's
own tag stands.

The identifier is fastText's compressed language model (``lid.176.ftz``, 176
languages, shipped in ``bot/data/language``), run by ``fasttext-predict``.
It reads sentences well and SMS spellings poorly: « c trop nul sa » comes
out Romanian at 0.76, « on é dacc alors » Portuguese at 0.87. Reading a
French mention as a language the bot does not speak would skip it, so a
verdict for any language but the bot's own needs far more confidence.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from bot.model.post import Post
from bot.text.language import language_code
from bot.understand.request import without_handles

MODEL = Path(__file__).parents[1] / "data" / "language" / "lid.176.ftz"
#: The bundled templates' languages. The text overrides the status's tag
#: towards one of them when the model gives it ``CONFIDENCE``, towards any
#: other language (a mention then skipped) only at ``OTHER_CONFIDENCE``.
#: Both measured on ``tests/data/languages.toml`` and the chatter sets: the
#: same verdicts from 0.6 to 0.8; the SMS French the model reads as
#: Romanian or Portuguese comes out at 0.67–0.87.
OWN = frozenset({"fr", "en"})
CONFIDENCE = 0.7
OTHER_CONFIDENCE = 0.9
#: Fewer words than this and the text says too little to tell.
MIN_WORDS = 3

_URL = re.compile(r"https?://\S+")
_HANDLE = re.compile(r"@[\w.-]+(?:@[\w.-]+)?")
_WORDS = re.compile(r"[^\W\d_]{2,}")
_LABEL = "__label__"

log = logging.getLogger(__name__)


class _Model(Protocol):
    def predict(self, text: str, k: int = 1) -> tuple[Sequence[str], Sequence[float]]: ...


class Detector:
    """The model at ``path``, loaded at the first text it reads (about 5 MB).
    A model that cannot be read is logged once; the tags are trusted then."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._model: _Model | None = None
        self._broken = False
        self._lock = threading.Lock()

    def _load(self) -> _Model | None:
        with self._lock:
            if self._model is None and not self._broken:
                import fasttext

                try:
                    self._model = fasttext.load_model(str(self.path))
                except (OSError, ValueError) as error:
                    self._broken = True
                    log.warning(
                        "language model %s cannot be read (%s): trusting the posts' tags",
                        self.path,
                        error,
                    )
            return self._model

    def detect(self, text: str) -> str | None:
        """The language ``text`` is written in, when the model is sure."""
        plain = _HANDLE.sub(" ", _URL.sub(" ", without_handles(text)))
        if len(_WORDS.findall(plain)) < MIN_WORDS:
            return None
        model = self._load()
        if model is None:
            return None
        # The model reads one line of valid UTF-8 (a post may carry a lone surrogate).
        line = " ".join(plain.split()).encode("utf-8", "replace").decode("utf-8")
        labels, confidences = model.predict(line, k=1)
        if not labels:
            return None
        code = language_code(labels[0].removeprefix(_LABEL))
        need = CONFIDENCE if code in OWN else OTHER_CONFIDENCE
        return code if confidences[0] >= need else None


_detector = Detector(MODEL)


def detect(text: str) -> str | None:
    """The language ``text`` is written in, by the bundled model, when it is sure."""
    return _detector.detect(text)


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
