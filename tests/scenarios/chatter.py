"""The chatter evaluation: ``tests/data/eval/chatter.toml`` through the whole
decision, as ``filrouge preview`` runs it (the bundled catalog and rules,
``find_essay``, the language of the text, ``decide``), with the baselines
of the same run: plain word overlap and a random quote.

Each mention ends in one of: ``hit`` (a quote posted that a reader accepts),
``wrong`` (a quote posted that is not acceptable), ``abstained`` (a prompt, a
link, help or a skip: no quote). A must-not-quote mention ends ``clean`` or
``violation``.
"""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app.asking import typed_inputs
from bot.catalog.config import Config
from bot.decide.decision import decide
from bot.decide.trace import Inputs
from bot.model.catalog import Quote
from bot.model.decision import Reply, Skip
from bot.model.post import Account, Post
from bot.settings import Settings
from bot.text.fold import fold
from bot.text.plain import plain_to_text

CHATTER = Path(__file__).parents[1] / "data" / "eval" / "chatter.toml"
#: The second set, written after the first's figures: out of sample, whole.
FRESH = CHATTER.with_name("chatter_fresh.toml")
#: Off-topic mentions that share a word or two with the catalog, none to quote.
NEGATIVES = CHATTER.with_name("chatter_negatives.toml")
#: The third set, labelled before the bot was run on it: 60 mentions to
#: answer and 20 more off-topic ones that share a word with the catalog.
THIRD = CHATTER.with_name("chatter_third.toml")
#: The fourth, written after the third was read and before the changes it
#: measured: 40 mentions to answer and 10 off-topic ones.
FOURTH = CHATTER.with_name("chatter_fourth.toml")
#: The fifth, written after the fourth was read and before the changes it
#: measured: 50 mentions to answer and 12 off-topic ones.
FIFTH = CHATTER.with_name("chatter_fifth.toml")
#: The sixth, written after the fifth was read and before the last changes
#: it measured: 50 mentions to answer and 10 off-topic ones.
SIXTH = CHATTER.with_name("chatter_sixth.toml")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SELF_ID = "eval:filrouge"


@dataclass(frozen=True)
class Item:
    id: str
    language: str
    text: str
    thread: tuple[str, ...]
    ok: frozenset[str]
    #: For a must-not-quote mention, why.
    none: str | None
    #: From a set without halves (``FRESH``, ``NEGATIVES``).
    fresh: bool = False

    @property
    def half(self) -> str:
        """``tune`` (odd numbers), ``held-out`` (even), or ``fresh`` (a set
        without halves)."""
        if self.fresh:
            return "fresh"
        return "tune" if int(re.sub(r"\D", "", self.id)) % 2 else "held-out"


def load(path: Path = CHATTER) -> list[Item]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        Item(
            id=entry["id"],
            language=entry["lang"],
            text=entry["text"],
            thread=tuple(entry.get("thread", ())),
            ok=frozenset(entry.get("ok", ())),
            none=entry.get("none"),
            fresh=path != CHATTER,
        )
        for entry in data["m"]
    ]


def _post(number: int, text: str, language: str, *, acct: str, parent: str | None) -> Post:
    return Post(
        id=str(number),
        account=Account(id=f"eval:{acct}", acct=acct, username=acct),
        content=plain_to_text(text),
        created_at=NOW - timedelta(minutes=10 - number),
        language=language or None,
        in_reply_to_id=parent,
    )


@dataclass(frozen=True)
class Answer:
    quote: str | None
    #: ``reply:<action>`` or ``skip:<reason>``.
    what: str


def inputs_for(
    text: str,
    thread_texts: Sequence[str],
    language: str,
    config: Config,
    settings: Settings,
) -> Inputs:
    """A labelled mention as ``decide`` takes it, built by ``preview``'s own
    :func:`typed_inputs`: its thread's posts oldest first, the language read
    from the text, the essay found as live, an empty history."""
    ancestors: list[Post] = []
    for number, ancestor in enumerate(thread_texts, start=1):
        parent = ancestors[-1].id if ancestors else None
        ancestors.append(_post(number, ancestor, language, acct=f"p{number}", parent=parent))
    return typed_inputs(
        text,
        config=config,
        settings=settings,
        requester=Account(id="eval:lecteur", acct="lecteur", username="lecteur"),
        self_id=SELF_ID,
        now=NOW,
        ancestors=ancestors,
        language=language or None,
    )


def answer(item: Item, config: Config, settings: Settings) -> Answer:
    """What the bot answers to ``item``."""
    outcome = decide(inputs_for(item.text, item.thread, item.language, config, settings))
    decision = outcome.decision
    if isinstance(decision, Reply):
        return Answer(decision.quote_id, f"reply:{decision.action.value}")
    assert isinstance(decision, Skip)
    return Answer(None, f"skip:{decision.reason.value}")


def verdict(item: Item, quote: str | None) -> str:
    if item.none is not None:
        return "violation" if quote else "clean"
    if quote is None:
        return "abstained"
    return "hit" if quote in item.ok else "wrong"


# -- baselines of the same run ---------------------------------------------------------

_WORD = re.compile(r"\w+")


def _tokens(text: str) -> set[str]:
    return {word for word in _WORD.findall(fold(text)) if len(word) >= 3}


def overlap_choice(item: Item, quotes: Sequence[Quote]) -> str:
    """Plain word overlap with the quote's text (no keywords, stems or weights)."""
    query = _tokens(" ".join((*item.thread, item.text)))
    return min(quotes, key=lambda q: (-len(query & _tokens(q.text)), q.id)).id


def random_choice(item: Item, quotes: Sequence[Quote], rng: random.Random) -> str:
    return rng.choice(sorted(q.id for q in quotes))


@dataclass(frozen=True)
class Figures:
    n: int
    hit: int
    wrong: int
    abstained: int

    def row(self, name: str) -> str:
        n = self.n or 1
        return (
            f"| {name} | {self.n} | {self.hit / n:.3f} | {self.wrong / n:.3f}"
            f" | {self.abstained / n:.3f} |"
        )


def figures(items: Sequence[Item], chosen: Callable[[Item], str | None]) -> Figures:
    verdicts = [verdict(item, chosen(item)) for item in items if item.none is None]
    return Figures(
        len(verdicts), verdicts.count("hit"), verdicts.count("wrong"), verdicts.count("abstained")
    )
