"""Concepts and context in the index: a vocabulary written once in the
catalog (``[[concepts]]``) counts as the keywords of each quote that names
it, and the passage around a quote (``context``) counts, less."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog.essays import load_catalog
from bot.model.catalog import Concept, Essay, Prompt, Quote
from bot.rank.expand import Lexicon
from bot.rank.index import Index
from bot.rank.query import Query
from bot.rank.tuning import JOIN_BOOST

MONEY = Concept("argent", {"fr": ("argent", "budget"), "en": ("money", "cash")})


def _essay(*quotes: Quote, prompts: tuple[Prompt, ...] = ()) -> Essay:
    return Essay(
        id="e",
        title="Essai",
        author="A",
        url="https://example.org/e",
        language="fr",
        quotes=quotes,
        prompts=prompts,
    )


def _scores(index: Index, text: str, ids: tuple[str, ...] = ("q1", "q2")) -> dict[str, float]:
    return {s.id: s.score for s in index.score(ids, Query(mention=text, language="en"))}


def test_a_concept_term_in_either_language_reaches_the_quotes_that_name_it() -> None:
    essay = _essay(
        Quote("q1", "e", "Personne n'avait de quoi payer.", concepts=("argent",)),
        Quote("q2", "e", "Personne n'avait de quoi payer."),
    )
    index = Index.build([essay], concepts={"argent": MONEY})
    for word in ("money", "cash", "budget", "argent"):
        scores = _scores(index, f"no {word} at all")
        assert scores["q1"] > 0 and scores["q2"] == 0.0, word
    # Without the catalog's concepts the names alone are no words.
    assert _scores(Index.build([essay]), "no money at all") == {"q1": 0.0, "q2": 0.0}


def test_a_prompt_names_concepts_too() -> None:
    prompt = Prompt(
        "p1", "e", {"fr": "Relisez ce passage.", "en": "Reread it."}, concepts=("argent",)
    )
    index = Index.build([_essay(prompts=(prompt,))], concepts={"argent": MONEY})
    assert _scores(index, "cash", ("p1",))["p1"] > 0
    # « cash » is its concept's, "reread" its English text's own
    (scored,) = index.score(("p1",), Query(mention="cash, reread", language="en"))
    assert set(scored.matched) == {"cash", "reread"} and scored.own == ("reread",)


def test_context_counts_below_the_quote_own_words() -> None:
    essay = _essay(
        Quote("q1", "e", "Les data centres boivent l'eau des rivières."),
        Quote("q2", "e", "Une phrase sans rapport.", context="Les data centres et l'eau."),
    )
    index = Index.build([essay])
    scores = _scores(index, "l'eau des data centres")
    assert scores["q1"] > scores["q2"] > 0


@pytest.mark.parametrize(
    ("mention", "matched", "own"),
    [
        # a concept's term is shared, not the quote's own word
        ("pas un rond, zéro budget", {"budget"}, set()),
        ("no money", {"money"}, set()),
        # the quote's text, a keyword or the context are its own
        ("il paie", {"paie"}, {"paie"}),
        ("les subventions", {"subventions"}, {"subventions"}),
        ("la mairie", {"mairie"}, {"mairie"}),
        # a term of the concept that is also a keyword is the quote's own
        ("plus de cash", {"cash"}, {"cash"}),
        ("money and subventions", {"money", "subventions"}, {"subventions"}),
    ],
)
def test_own_words_are_those_of_the_quote_not_of_its_concepts(
    mention: str, matched: set[str], own: set[str]
) -> None:
    quote = Quote(
        "q1",
        "e",
        "Personne ne paie les affiches.",
        keywords=("subventions", "cash"),
        concepts=("argent",),
        context="La mairie a coupé les aides.",
    )
    index = Index.build([_essay(quote)], concepts={"argent": MONEY})
    (scored,) = index.score(("q1",), Query(mention=mention, language="fr"))
    assert scored.score > 0
    assert (set(scored.matched), set(scored.own)) == (matched, own)


def test_synonyms_are_no_own_words() -> None:
    quote = Quote("q1", "e", "Personne ne paie l'affiche.")
    index = Index.build([_essay(quote)], Lexicon(groups=(("pancarte", "affiche"),)))
    (scored,) = index.score(("q1",), Query(mention="une pancarte", language="fr"))
    assert scored.score > 0 and scored.matched and scored.own == ()


def test_context_and_concepts_help_name_the_essay() -> None:
    quote = Quote("q1", "e", "Une phrase.", concepts=("argent",), context="Les rivières.")
    index = Index.build([_essay(quote)], concepts={"argent": MONEY})
    best = index.essay_scores(Query("cash and rivières", language="fr"))[0]
    assert best.id == "e" and best.score > 0


def test_the_loader_reads_concepts_and_context(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(
        """
[[concepts]]
id = "argent"
fr = ["argent", "fric"]
en = ["money"]

[[essays]]
id = "e"
title = "Essai"
author = "A"
url = "https://example.org/e"
language = "fr"

[[essays.quotes]]
id = "q1"
text = "Une phrase."
concepts = ["argent"]
context = "Le paragraphe."
""",
        encoding="utf-8",
    )
    catalog = load_catalog(path)
    assert catalog.concepts["argent"].terms == {"fr": ("argent", "fric"), "en": ("money",)}
    assert catalog.concepts["argent"].line == 2
    quote = catalog.quote("q1")
    assert quote is not None
    assert (quote.concepts, quote.context) == (("argent",), "Le paragraphe.")


VISUALS = Concept("visuels", {"fr": ("affiche", "flyer"), "en": ("poster",)})
FAKES = Concept("desinformation", {"fr": ("désinfo",), "en": ("fake news",)})
SIDE_BY_SIDE = {"visuels": VISUALS, "desinformation": FAKES}


def _side_by_side() -> Index:
    """q1 sets posters and disinformation side by side; q2 is about posters
    and shares more words with a mention about them."""
    return Index.build(
        [
            _essay(
                Quote(
                    "q1",
                    "e",
                    "Ce n'est pas la même chose.",
                    keywords=("même chose",),
                    concepts=("desinformation",),
                    joins=("visuels", "desinformation"),
                ),
                Quote("q2", "e", "Des affiches de concert.", keywords=("affiche", "concert")),
            )
        ],
        concepts=SIDE_BY_SIDE,
    )


@pytest.mark.parametrize(
    ("mention", "thread", "first", "joined"),
    [
        # Both named, in the mention: the passage about both comes first
        # (without its joins, q2 would: 2.19 against 2.24).
        ("mes affiches de concert et la désinfo, même chose ?", (), "q1", True),
        # In the thread above: the same.
        ("hmm", ("une affiche de concert et la désinfo, même chose ?",), "q1", True),
        # In English, the phrase whole.
        ("my gig poster is not fake news", (), "q1", True),
        # One side only: no raise.
        ("mes affiches de concert, la même chose ?", (), "q2", False),
        # Half a phrase does not name its concept (« news » is not « fake news »).
        ("my concert poster made the news, same thing", (), "q2", False),
    ],
)
def test_a_quote_that_joins_two_concepts_wins_when_both_are_named(
    mention: str, thread: tuple[str, ...], first: str, joined: bool
) -> None:
    index = _side_by_side()
    scored = index.score(("q1", "q2"), Query(mention=mention, thread=thread, language="fr"))
    assert scored[0].id == first
    q1 = next(s for s in scored if s.id == "q1")
    assert q1.joined == (("visuels", "desinformation") if joined else ())


def test_a_join_raises_a_score_it_does_not_make() -> None:
    # Both concepts named, but nothing of q1's own words: it still scores 0.
    index = _side_by_side()
    scores = _scores(index, "affiche")
    assert scores["q1"] == 0.0
    unjoined = Index.build(
        [_essay(Quote("q1", "e", "Pareil.", concepts=("desinformation",)))],
        concepts=SIDE_BY_SIDE,
    )
    joined = Index.build(
        [
            _essay(
                Quote(
                    "q1",
                    "e",
                    "Pareil.",
                    concepts=("desinformation",),
                    joins=("visuels", "desinformation"),
                )
            )
        ],
        concepts=SIDE_BY_SIDE,
    )
    text = "une affiche, de la désinfo"
    assert _scores(joined, text, ("q1",))["q1"] == pytest.approx(
        JOIN_BOOST * _scores(unjoined, text, ("q1",))["q1"], abs=1e-5
    )


def test_a_pickled_index_still_tells_its_own_words() -> None:
    """The configuration cache stores the index pickled."""
    import pickle

    quote = Quote("q1", "e", "Il paie.", concepts=("argent",))
    index = Index.build([_essay(quote)], concepts={"argent": MONEY})
    again = pickle.loads(pickle.dumps(index))
    (scored,) = again.score(("q1",), Query(mention="il paie en cash", language="fr"))
    assert set(scored.matched) == {"paie", "cash"} and scored.own == ("paie",)
