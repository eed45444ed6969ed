"""Which essay a thread is about, from its words alone, on mentions written
the way people reply (``tests/data/eval/essays.toml``): the share found, the
share named wrong, the share left unknown (the bot then lists the essays it
knows, which is honest). ``pytest -s -n 0`` prints the figures.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from bot.catalog.config import Config
from tests.understand.test_essays import ask, config, found, status, thread_of

__all__ = ["config"]

CASES = tomllib.loads(
    (Path(__file__).parents[1] / "data" / "eval" / "essays.toml").read_text(encoding="utf-8")
)["cases"]
#: Measured when the set was written (see the README's *Relevance*); a change
#: that finds fewer essays, or names a wrong one, fails here.
FOUND_FLOOR = 0.96
WRONG_CEILING = 0.0


def test_the_essay_is_found_from_topic_words(config: Config) -> None:
    right = wrong = unknown = 0
    misses = []
    for case in CASES:
        # language null, as Takahē sends it: read from the text
        above = case.get("thread", "Vous en pensez quoi ?")
        mention, thread = thread_of(
            status("maiwann", f"<p>{above}</p>", language=None),
            ask(case["text"].removeprefix("@filrouge "), language=None),
        )
        match = found(config, mention, thread)
        if match.essay is None:
            unknown += 1
            misses.append(("unknown", case["essay"], case["text"]))
        elif match.essay.id == case["essay"]:
            right += 1
        else:
            wrong += 1
            misses.append((match.essay.id, case["essay"], case["text"]))
    n = len(CASES)
    print(f"\nessay found {right}/{n} ({right / n:.3f}), wrong {wrong}, unknown {unknown}")
    for got, wanted, text in misses:
        print(f"  {got} (wanted {wanted}): {text}")
    assert right / n >= FOUND_FLOOR
    assert wrong / n <= WRONG_CEILING
