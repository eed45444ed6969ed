"""Words a language uses everywhere (``bot.rank.common``): incidental in a
passage's text, the curator's when listed as keywords."""

from __future__ import annotations

import pytest

from bot.catalog.frequent import KEPT, render
from bot.model.catalog import Essay, Quote
from bot.rank.common import INCIDENTAL_WEIGHT, ZIPF, common_words, zipf_of
from bot.rank.frequent import PAIRS
from bot.rank.index import Index
from bot.rank.query import Query
from bot.text.fold import fold


@pytest.mark.parametrize(
    ("language", "word", "common"),
    [
        ("fr", "gens", True),
        ("fr", "faire", True),
        ("fr", "chose", True),
        # among the most frequent, and a keyword of the bundled catalog: the
        # list does not decide, the keywords do (see below)
        ("fr", "travail", True),
        ("fr", "fachos", False),
        ("fr", "affiche", False),
        ("fr", "visuel", False),
        ("en", "people", True),
        ("en", "thing", True),
        ("en", "fascism", False),
        ("en", "poster", False),
        # folded, as the index folds
        ("fr", "deja", True),
        ("fr-CA", "gens", True),
        # a language without a list: nothing is common
        ("de", "leute", False),
        ("de", "gens", False),
    ],
)
def test_common_words(language: str, word: str, common: bool) -> None:
    assert (word in common_words(language)) is common


def test_the_shipped_lists_are_folded_words_most_frequent_first() -> None:
    assert set(PAIRS) == {"fr", "en"}
    for table in map(zipf_of, PAIRS):
        assert len(table) > 500
        values = list(table.values())
        assert values == sorted(values, reverse=True)
        assert min(values) >= KEPT
        assert KEPT <= ZIPF
        for word in table:
            assert word.isalpha() and fold(word) == word


def test_the_builder_writes_what_it_derived() -> None:
    table = {"fr": {f"mot{chr(97 + n % 26)}" * (1 + n // 26): 6.0 for n in range(60)}}
    table["en"] = {"people": 6.25, "thing": 5.72}
    namespace: dict[str, dict[str, str]] = {}
    module = render(table, "wordfreq 3.1.1")
    assert "Derived from wordfreq 3.1.1's data" in module
    exec(module, namespace)
    pairs = namespace["PAIRS"]
    assert {language: len(pairs[language].split()) for language in pairs} == {"fr": 60, "en": 2}
    assert pairs["en"] == "people:6.25 thing:5.72"


def _index(keywords: tuple[str, ...] = (), context: str | None = None) -> Index:
    text = "Engager des gens pour faire un visuel."
    quotes = (
        Quote("q1", "e", text, keywords=keywords, context=context),
        Quote("q2", "e", "Une affiche de concert."),
    )
    essay = Essay("e", "Essai", "A", "https://example.org/e", language="fr", quotes=quotes)
    return Index.build([essay])


def _q1(index: Index, mention: str) -> tuple[float, tuple[str, ...], tuple[str, ...]]:
    (scored,) = index.score(("q1",), Query(mention=mention, language="fr"))
    return scored.score, scored.incidental, scored.own


def test_a_common_word_of_a_quotes_text_is_incidental_there() -> None:
    _, incidental, own = _q1(_index(), "les gens")
    assert incidental == ("gens",)
    assert own == ()
    # a word of the text that French does not use everywhere is its own
    assert _q1(_index(), "un visuel")[1:] == ((), ("visuel",))


def test_an_incidental_word_weighs_less_than_the_same_word_would() -> None:
    common, _, _ = _q1(_index(), "les gens")
    plain, _, _ = _q1(_index(), "engager")
    # « gens » and « engager » are each once in the text, in one quote of two:
    # the same BM25 weight but for the discount (saturation makes it a bit more)
    assert common < plain * INCIDENTAL_WEIGHT * 1.5
    assert common > 0


def test_a_keyword_is_never_incidental() -> None:
    score, incidental, own = _q1(_index(keywords=("gens",)), "les gens")
    assert (incidental, own) == ((), ("gens",))
    assert score > _q1(_index(), "les gens")[0]


def test_a_common_word_of_the_context_is_incidental_too() -> None:
    index = _index(context="Le monde entier en parle.")
    assert _q1(index, "tout le monde")[1] == ("monde",)
