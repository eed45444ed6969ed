"""The thesaurus the bot ships, derived from LibreOffice's (Debian's
``mythes-fr`` and ``mythes-en-us``) into ``bot/data/lexicon/``.

Rebuild it with::

    apt-get install mythes-fr mythes-en-us
    python -m bot.catalog.thesaurus /usr/share/mythes

A MyThes ``.dat`` file lists each headword with its senses, one line each:
``(part of speech)|synonym|synonym (generic term)|…``. What is kept, for a
query word to reach the words a catalog uses:

- single-word headwords and synonyms (a query is read word by word);
- plain synonyms and ``(similar term)``; antonyms, hypernyms (``generic
  term``) and ``related term`` are dropped (« patron » must not reach
  « employé », nor « money » reach « asset »);
- entries keyed by the headword's stem, as the index stems what it reads:
  « virés », « virent » and « virer » find the same entry. Headwords that
  share a stem are merged, the shortest (usually the lemma) first;
- at most :data:`PER_KEY` synonyms a key, in the thesaurus's order (its
  first senses are the common ones).

The output is UTF-8 text, one ``stem<TAB>synonym|synonym|…`` line per key,
sorted, after a header naming the source and its licence; ``NOTICE`` beside
it carries the copyright notices. Nothing here runs when the bot runs.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.rank.analysis import analyze_cached, term_pairs

#: Synonyms kept per key.
PER_KEY = 24
#: Marks of the senses that are not synonyms.
_DROPPED = re.compile(r"\((?:antonym|generic term|related term)\)")
_MARK = re.compile(r"\s*\([^)]*\)\s*$")
_WORD = re.compile(r"^[^\W\d_]+(?:-[^\W\d_]+)*$")


@dataclass(frozen=True, slots=True)
class Source:
    language: str
    file: str
    package: str
    copyright: str
    licence: str


SOURCES = (
    Source(
        "fr",
        "thes_fr.dat",
        "mythes-fr 1:7.5.0 (LibreOffice dictionaries, Debian)",
        "Kevin Hendricks, Frédéric Labbé, Laurent Godard",
        "LGPL-2.1-or-later",
    ),
    Source(
        "en",
        "th_en_US_v2.dat",
        "mythes-en-us 1:7.5.0 (LibreOffice dictionaries, Debian)",
        "Kevin Atkinson, Benjamin Titze; from Princeton WordNet",
        "custom permissive",
    ),
)


def read_mythes(lines: Iterable[str]) -> Iterator[tuple[str, list[list[str]]]]:
    """(headword, senses) of a MyThes ``.dat`` file's lines (encoding line first)."""
    it = iter(lines)
    next(it, None)
    for line in it:
        head, _, count = line.rstrip("\n").rpartition("|")
        if not head or not count.strip().isdigit():
            continue
        senses = []
        for _ in range(int(count)):
            sense = next(it, "").rstrip("\n").split("|")
            senses.append(sense[1:])
        yield head, senses


def _stem(word: str, language: str) -> str | None:
    pairs = list(term_pairs(analyze_cached(word, language)))
    return pairs[0][0] if len(pairs) == 1 else None


def derive(entries: Iterable[tuple[str, list[list[str]]]], language: str) -> dict[str, list[str]]:
    """Stem → synonyms (casefolded, single words, other stems than the key)."""
    heads: dict[str, list[tuple[str, list[list[str]]]]] = defaultdict(list)
    for head, senses in entries:
        word = head.casefold()
        if not _WORD.match(word):
            continue
        stem = _stem(word, language)
        if stem is not None:
            heads[stem].append((word, senses))
    out: dict[str, list[str]] = {}
    for stem, found in heads.items():
        found.sort(key=lambda pair: (len(pair[0]), pair[0]))
        synonyms: dict[str, str] = {}
        for _, senses in found:
            for sense in senses:
                for raw in sense:
                    if _DROPPED.search(raw):
                        continue
                    synonym = _MARK.sub("", raw).strip().casefold()
                    if not _WORD.match(synonym):
                        continue
                    target = _stem(synonym, language)
                    if target is None or target == stem or target in synonyms:
                        continue
                    synonyms[target] = synonym
        if synonyms:
            out[stem] = list(synonyms.values())[:PER_KEY]
    return out


def write(path: Path, source: Source, table: dict[str, list[str]]) -> None:
    lines = [
        f"# Derived from {source.file}, {source.package}.",
        f"# Copyright: {source.copyright}. Licence: {source.licence}; see NOTICE.",
        "# Rebuilt by: python -m bot.catalog.thesaurus /usr/share/mythes",
        "# stem<TAB>synonym|synonym|...",
    ]
    lines.extend(f"{stem}\t{'|'.join(words)}" for stem, words in sorted(table.items()))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.catalog.thesaurus", description=__doc__)
    parser.add_argument("mythes", type=Path, help="the folder of thes_fr.dat and th_en_US_v2.dat")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "lexicon"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for source in SOURCES:
        dat = args.mythes / source.file
        with dat.open(encoding="utf-8") as lines:
            table = derive(read_mythes(lines), source.language)
        target = args.out / f"thesaurus.{source.language}.tsv"
        write(target, source, table)
        print(f"{target}: {len(table)} keys from {dat}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
