"""The most frequent words of French and English, derived from wordfreq's
data into :mod:`bot.rank.frequent` for :mod:`bot.rank.common`.

Rebuild it with::

    pip install wordfreq
    python -m bot.catalog.frequent

What is kept: the words of wordfreq's list whose Zipf frequency is at least
:data:`KEPT` (below the cut-off :data:`bot.rank.common.ZIPF`, so that it can
be moved without a rebuild), folded as the index folds text, letters only;
a folded spelling shared by several words keeps the highest frequency.
wordfreq's data is CC BY-SA 4.0 (Robyn Speer and contributors); the
module's header and ``bot/data/language/NOTICE`` say so. Nothing here runs
when the bot runs.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import version
from pathlib import Path

from bot.text.fold import fold

LANGUAGES = ("fr", "en")
#: The lowest Zipf frequency kept.
KEPT = 5.0
#: The head of wordfreq's list read per language (beyond it nothing is that frequent).
READ = 5000
#: Characters of pairs per line of the module.
PER_LINE = 86
TARGET = Path(__file__).resolve().parents[1] / "rank" / "frequent.py"


def derive(language: str) -> dict[str, float]:
    """Folded word → Zipf frequency, most frequent first."""
    # Imported here: only a rebuild needs it (``pip install wordfreq``).
    from wordfreq import top_n_list, zipf_frequency  # type: ignore[import-not-found,unused-ignore]

    best: dict[str, float] = {}
    for word in top_n_list(language, READ):
        zipf = zipf_frequency(word, language)
        folded = fold(word)
        if zipf >= KEPT and folded.isalpha() and zipf > best.get(folded, 0.0):
            best[folded] = zipf
    return dict(sorted(best.items(), key=lambda pair: (-pair[1], pair[0])))


def render(tables: dict[str, dict[str, float]], source: str) -> str:
    """The module: per language, ``word:zipf`` pairs in one string (a table
    of a thousand entries would be a thousand lines of code); ``source``
    names what they were derived from (« wordfreq 3.1.1 »)."""
    lines = [
        '"""The most frequent words of French and English, folded, with their',
        "Zipf frequency (log10 of occurrences per billion words), as",
        "``word:zipf`` pairs, most frequent first.",
        "",
        f"Derived from {source}'s data by",
        "``python -m bot.catalog.frequent``; do not edit. The data: CC BY-SA 4.0,",
        "Robyn Speer and contributors (https://github.com/rspeer/wordfreq); see",
        "bot/data/language/NOTICE.",
        '"""',
        "",
        "PAIRS: dict[str, str] = {",
    ]
    for language, words in tables.items():
        lines.append(f'    "{language}": (')
        pairs = [f"{word}:{zipf:.2f}" for word, zipf in words.items()]
        row: list[str] = []
        for pair in pairs:
            if row and len(" ".join((*row, pair))) > PER_LINE:
                lines.append(f'        "{" ".join(row)} "')
                row = []
            row.append(pair)
        lines.append(f'        "{" ".join(row)}"')
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.catalog.frequent",
        description=f"Rebuild {TARGET.name} from wordfreq's data.",
    )
    parser.parse_args(argv)
    tables = {language: derive(language) for language in LANGUAGES}
    TARGET.write_text(render(tables, f"wordfreq {version('wordfreq')}"), encoding="utf-8")
    counts = ", ".join(f"{language} {len(words)}" for language, words in tables.items())
    print(f"{TARGET}: {counts} words", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
