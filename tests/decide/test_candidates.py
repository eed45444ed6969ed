"""decide with many candidates: the index is asked for the first few ranked
quotes only, and for more when fitting gets past them; the tie-break by least
recently used must still see every tied candidate."""

from __future__ import annotations

from datetime import timedelta

from bot.decide.candidates import RANK_FIRST
from bot.decide.decision import decide
from bot.model.catalog import Action, Essay, Quote
from bot.model.decision import History
from tests.decide.test_decision import ESSAY, NOW, T_QUOTE, config, make, reply_of, rule

COUNT = max(100, RANK_FIRST * 3)
TIED = "Une phrase du texte."
#: No sentence end before the last word, too long for a status: cannot fit or be cut.
TOO_LONG = "mot " * 200 + "fin."


def catalog(long_ones: int = 0) -> Essay:
    quotes = tuple(
        Quote(f"q{n:03d}", ESSAY.id, TOO_LONG if n < long_ones else TIED) for n in range(COUNT)
    )
    return Essay(
        id=ESSAY.id,
        title=ESSAY.title,
        author=ESSAY.author,
        url=ESSAY.url,
        language="fr",
        quotes=quotes,
    )


def chosen(essay: Essay, history: History) -> str | None:
    cfg = config((rule("citation", Action.QUOTE, T_QUOTE),), essays=(essay,))
    # Nothing in common with any quote: every one scores 0.0, a single tie.
    outcome = decide(make("@filrouge xyzzy", cfg=cfg, history=history, essay=essay))
    return reply_of(outcome).quote_id


def test_the_never_used_come_first_in_id_order_past_the_first_batch() -> None:
    essay = catalog()
    used = {f"q{n:03d}": NOW - timedelta(minutes=n + 1) for n in range(RANK_FIRST + 10)}
    thread = frozenset({f"q{RANK_FIRST + 10:03d}"})
    history = History(last_used=used, thread_quote_ids=thread)
    assert chosen(essay, history) == f"q{RANK_FIRST + 11:03d}"


def test_when_every_one_was_used_the_oldest_use_wins() -> None:
    essay = catalog()
    used = {f"q{n:03d}": NOW - timedelta(minutes=1) for n in range(COUNT)}
    oldest = f"q{COUNT - 3:03d}"
    used[oldest] = NOW - timedelta(days=3)
    assert chosen(essay, History(last_used=used)) == oldest


def test_fitting_goes_past_the_first_batch() -> None:
    # The first RANK_FIRST + 8 candidates (by id, all tied) cannot be posted.
    essay = catalog(long_ones=RANK_FIRST + 8)
    assert chosen(essay, History()) == f"q{RANK_FIRST + 8:03d}"
