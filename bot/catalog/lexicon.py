"""The lexicon files the bot ships (``bot/data/lexicon/``), read into a
:class:`bot.rank.expand.Lexicon`.

- ``familiar.toml``: groups of words of the familiar register, French and
  English together (« fric », « thune », « money », « cash »), curated here;
- ``thesaurus.fr.tsv``, ``thesaurus.en.tsv``: derived from LibreOffice's
  thesauri by ``python -m bot.catalog.thesaurus`` (see ``NOTICE``).

A thesaurus is tens of thousands of lines: it is mapped, not loaded, and a
stem is found by bisection over the lines' offsets (a few hundred kilobytes),
so the bot's memory grows by the pages it reads, not by the file.
"""

from __future__ import annotations

import mmap
import tomllib
from array import array
from bisect import bisect_left
from functools import lru_cache
from pathlib import Path

from bot.errors import ConfigError, Problem
from bot.rank.expand import Lexicon

DATA = Path(__file__).resolve().parents[1] / "data" / "lexicon"
LANGUAGES = ("fr", "en")


class Thesaurus:
    """``stem<TAB>synonyms`` lines, sorted by stem, read in place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as file:
            try:
                self._data: bytes | mmap.mmap = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):  # an empty file, or no mmap here
                self._data = file.read()
        data = self._data
        starts = array("I")
        at = 0
        end = len(data)
        while at < end:
            stop = data.find(b"\n", at)
            stop = end if stop < 0 else stop
            if data[at : at + 1] != b"#" and stop > at:
                starts.append(at)
            at = stop + 1
        self._starts = starts

    def __reduce__(self) -> tuple[type[Thesaurus], tuple[Path]]:
        # A pickled configuration maps the file again when it is read back.
        return (Thesaurus, (self.path,))

    def __len__(self) -> int:
        return len(self._starts)

    def _key(self, n: int) -> bytes:
        start = self._starts[n]
        return self._data[start : self._data.find(b"\t", start)]

    def get(self, stem: str) -> str | None:
        key = stem.encode("utf-8")
        n = bisect_left(range(len(self._starts)), key, key=self._key)
        if n == len(self._starts) or self._key(n) != key:
            return None
        start = self._starts[n] + len(key) + 1
        stop = self._data.find(b"\n", start)
        line = self._data[start : stop if stop >= 0 else len(self._data)]
        return bytes(line).decode("utf-8")


def read_group_languages(path: Path) -> tuple[dict[str, tuple[str, ...]], ...]:
    """The groups of ``familiar.toml``: each ``[[groups]]`` has a ``name`` and
    ``fr`` and ``en`` word lists (casefolded), kept apart here."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([Problem(path, None, "lexicon", f"cannot be read: {exc}")]) from exc
    groups: list[dict[str, tuple[str, ...]]] = []
    problems = []
    for number, group in enumerate(data.get("groups", []), start=1):
        name = group.get("name", f"group {number}")
        words = [*group.get("fr", []), *group.get("en", [])]
        if not words or not all(isinstance(w, str) and w.strip() for w in words):
            problems.append(Problem(path, None, f'group "{name}"', "needs fr and en words"))
            continue
        groups.append(
            {
                language: tuple(w.casefold() for w in group.get(language, []))
                for language in LANGUAGES
            }
        )
    if problems:
        raise ConfigError(problems)
    return tuple(groups)


@lru_cache(maxsize=4)
def load_lexicon(directory: Path = DATA) -> Lexicon:
    """The lexicon of ``directory``, read once per process."""
    thesauri = {}
    for language in LANGUAGES:
        path = directory / f"thesaurus.{language}.tsv"
        if path.is_file():
            thesauri[language] = Thesaurus(path)
    groups = read_group_languages(directory / "familiar.toml")
    languages: dict[str, set[str]] = {}
    for group in groups:
        for language, words in group.items():
            for word in words:
                languages.setdefault(word, set()).add(language)
    return Lexicon(
        groups=tuple(
            tuple(w for language in LANGUAGES for w in group[language]) for group in groups
        ),
        languages={word: frozenset(langs) for word, langs in languages.items()},
        thesauri=thesauri,
    )
