"""Concepts and context in the index: a vocabulary written once in the
catalog (``[[concepts]]``) counts as the keywords of each quote that names
it, and the passage around a quote (``context``) counts, less."""

from __future__ import annotations

from pathlib import Path

from bot.catalog.essays import load_catalog
from bot.model.catalog import Concept, Essay, Prompt, Quote
from bot.rank.index import Index
from bot.rank.query import Query

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


def test_context_counts_below_the_quote_own_words() -> None:
    essay = _essay(
        Quote("q1", "e", "Les data centres boivent l'eau des rivières."),
        Quote("q2", "e", "Une phrase sans rapport.", context="Les data centres et l'eau."),
    )
    index = Index.build([essay])
    scores = _scores(index, "l'eau des data centres")
    assert scores["q1"] > scores["q2"] > 0


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
