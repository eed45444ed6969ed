"""bot.rank: analysis and BM25 scoring of quotes, prompts and essays."""

from __future__ import annotations

import gc
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from bot.model.catalog import Essay, Prompt, Quote
from bot.rank.analysis import analyze, stems_of
from bot.rank.index import Index
from bot.rank.phrases import never_matched
from bot.rank.query import Query, Scored
from bot.rank.tuning import MIN_WEIGHT, NEAREST_WEIGHT, THREAD_DECAY
from bot.rank.words import ALONE

# -- analyze ---------------------------------------------------------------------

SAME_TERMS = [
    # (a, b, language, why): both must analyse to the same terms
    ("l'IA", "IA", "fr", "elision l'"),
    ("l’IA", "l'IA", "fr", "typographic apostrophe"),
    ("qu’on utilise", "on utilise", "fr", "elision qu'"),
    ("jusqu'aux affiches", "affiches", "fr", "elision jusqu'"),
    ("lorsqu'elle crée", "elle crée", "fr", "elision lorsqu'"),
    ("d'un visuel", "visuel", "fr", "elision d' and stop word"),
    ("GÉNÉRÉES", "générées", "fr", "casing"),
    ("générées", "generees", "fr", "accents typed or not"),
    ("générées", "génératives", "fr", "plural and feminine of the same root"),
    ("affiche", "affiches", "fr", "plural"),
    ("visuels", "visuelle", "fr", "feminine"),
    ("épouvanté·es", "épouvantés", "fr", "inclusive writing with a middle dot"),
    ("étudiant.e.s", "étudiants", "fr", "inclusive writing with full stops"),
    ("Les affiches de la salle", "affiches salle", "fr", "French stop words"),
    ("the posters for the shows", "posters shows", "en", "English stop words"),
    ("generated", "generating", "en", "English stemming"),
    ("#IAGénérative", "IA générative", "fr", "camel-case hashtag split"),
    ("voir https://x.org/affiches", "voir", "fr", "URLs are not words"),
    ("@affiches@x.org merci", "merci", "fr", "handles are not words"),
    ("@affiches merci @@salle", "merci salle", "fr", "a local handle; an @ after an @ is none"),
    ("affiches@x.org", "affiches x org", "fr", "an e-mail address is no handle"),
    ("é@salle", "é salle", "fr", "an @ after a letter starts no handle"),
    ("a\u00a0b\u200bc", "a bc", "fr", "no-break and zero-width spaces"),
]


def test_words_fold_as_fold_does() -> None:
    # The analyser folds words through a table for Latin letters; it must
    # give what bot.text.fold gives, on every such letter and on mixes with
    # combining marks, ligatures, typographic apostrophes and other scripts.
    from bot.rank.analysis import _fold_word
    from bot.text.fold import fold

    letters = [chr(code) for code in range(0x250)] + list("’ʼœæﬁ\u200b\u0301\u0327éΣσςжİ")
    rng = random.Random(11)
    words = [*letters, "ge\u0301ne\u0301re\u0301es", "ÉCOUTE", "Œuvre", "straße", "ǅemal"]
    words += ["".join(rng.choices(letters, k=rng.randint(1, 9))) for _ in range(20_000)]
    assert [_fold_word(word) for word in words] == [fold(word) for word in words]


@pytest.mark.parametrize(("a", "b", "language", "why"), SAME_TERMS)
def test_analyze_same_terms(a: str, b: str, language: str, why: str) -> None:
    assert analyze(a, language) == analyze(b, language), why


#: (word, the word the stemmer took it for, language, why):
#: ``STEM_OVERRIDES`` keeps them apart, while each still meets its own
#: inflections.
STEMS_APART = [
    ("profit", "profs", "fr", "profit is no teacher"),
    ("openai", "open", "fr", "a company, not open source"),
    ("via", "vie", "fr", "a preposition of posts, not life"),
    ("pétition", "petite", "fr", "a petition is not small"),
    ("petition", "petites", "fr", "typed without its accent"),
    ("données", "dons", "fr", "data are not donations"),
    ("gens", "gêne", "fr", "people, not embarrassment"),
    ("géants", "geai", "fr", "giants, not two letters"),
    ("finies", "fin", "fr", "finite resources, not an ending"),
    ("rendement", "rend", "fr", "a yield, not « ça rend »"),
    ("sentiment", "sent", "fr", "a feeling, not a smell"),
    ("better", "bête", "fr", "an English word the French stemmer reads"),
    ("polite", "politics", "en", "manners, not politics"),
    ("meaning", "means", "en", "sense, not money"),
    ("literal", "liters", "en", "word for word, not water"),
    ("literate", "literal", "en", "reading, not word for word"),
]
STEMS_TOGETHER = [
    ("profit", "profits", "fr"),
    ("petit", "petite", "fr"),
    ("petits", "petites", "fr"),
    ("pétition", "petitions", "fr"),
    ("donnée", "donnees", "fr"),
    ("géant", "géantes", "fr"),
    ("fini", "finies", "fr"),
    ("sentiment", "sentiments", "fr"),
    ("polite", "politeness", "en"),
    ("meaning", "meanings", "en"),
]


@pytest.mark.parametrize(("word", "taken_for", "language", "why"), STEMS_APART)
def test_a_stem_override_keeps_a_word_apart_from_the_one_it_was_taken_for(
    word: str, taken_for: str, language: str, why: str
) -> None:
    assert stems_of(word, language) != stems_of(taken_for, language), why


@pytest.mark.parametrize(("a", "b", "language"), STEMS_TOGETHER)
def test_a_stem_override_keeps_a_words_inflections_together(a: str, b: str, language: str) -> None:
    assert stems_of(a, language) == stems_of(b, language) != []


@pytest.mark.parametrize(("language", "algorithm"), [("fr", "french"), ("en", "english")])
def test_every_stem_override_changes_what_the_stemmer_gives(language: str, algorithm: str) -> None:
    """An entry the stemmer already agrees with is noise in the table."""
    import snowballstemmer

    from bot.rank.words import STEM_OVERRIDES
    from bot.text.fold import fold

    stemmer = snowballstemmer.stemmer(algorithm)
    table = STEM_OVERRIDES[language]
    by_stem: dict[str, list[str]] = {}
    for word, stem in table.items():
        assert table[fold(word)] == stem and stems_of(word, language) == [stem]
        by_stem.setdefault(stem, []).append(word)
    trail = "e" if language == "fr" else ""
    for stem, listed in by_stem.items():
        assert any(fold(stemmer.stemWord(w)).rstrip(trail) != stem for w in listed), stem


ANALYZE_CASES = [
    # (text, language, expected, why)
    ("Des affiches générées par l'IA", "fr", ["affich", "gener", "ia"], "the issue's example"),
    ("Le, la, les, de, des, et, mais", "fr", [], "only stop words"),
    ("ré-utiliser", "fr", ["utilis", "reutilis"], "prefixed compound also read whole"),
    ("peut-être est-ce", "fr", [], "compounds of stop words"),
    ("AI-generated posters", "en", ["ai", "generat", "aigener", "poster"], "English compound"),
    ("the AI", "en", ["ai"], "'ai' stays a word in English"),
    ("j'ai dessiné", "fr", ["dessin"], "'ai' is a French stop word"),
    ("Merci pour le partage, je lis ça ce soir", "fr", [], "conversation words"),
    ("what do you think of this new post?", "en", [], "conversation words"),
    ("2024 42 x", "fr", ["2024", "42"], "numbers kept, single characters dropped"),
    ("il y a deux ans, les deux camps", "fr", ["an", "camp"], "number words tell no topic"),
    ("two years ago, four phones", "en", ["year", "ago", "phone"], "nor in English"),
    ("", "fr", [], "empty"),
]


@pytest.mark.parametrize(("text", "language", "expected", "why"), ANALYZE_CASES)
def test_analyze(text: str, language: str, expected: list[str], why: str) -> None:
    assert analyze(text, language) == expected, why


def test_analyze_language_codes() -> None:
    assert analyze("affiches", "fr-CA") == analyze("affiches", "fr") == analyze("affiches", "FR")


def test_analyze_other_languages() -> None:
    # Stemmed when Snowball knows the language, with French and English stop words.
    assert analyze("die Häuser und the houses", "de") == ["die", "haus", "und", "hous"]
    # Not stemmed otherwise, but folded.
    assert analyze("Häuser the", "xx") == ["hauser"]


def test_analyze_returns_a_fresh_list() -> None:
    first = analyze("affiches générées", "fr")
    first.append("mutated")
    assert analyze("affiches générées", "fr") == ["affich", "gener"]


# -- queries -----------------------------------------------------------------------


def test_query_sources_weights() -> None:
    query = Query(mention="m", thread=("old", "older-but-one", "parent"))
    assert query.sources() == [
        ("m", 1.0),
        ("parent", NEAREST_WEIGHT),
        ("older-but-one", NEAREST_WEIGHT * THREAD_DECAY),
        ("old", NEAREST_WEIGHT * THREAD_DECAY**2),
    ]


def test_query_sources_stop_at_min_weight() -> None:
    sources = Query(mention="m", thread=tuple(f"p{n}" for n in range(200))).sources()
    assert all(weight >= MIN_WEIGHT for _, weight in sources)
    assert len(sources) < 20
    assert sources[1][0] == "p199", "nearest ancestor first"


# -- scoring -----------------------------------------------------------------------


def quote(
    qid: str, text: str, *, tags: tuple[str, ...] = (), keywords: tuple[str, ...] = ()
) -> Quote:
    return Quote(id=qid, essay_id="e", text=text, tags=tags, keywords=keywords)


def essay(*quotes: Quote, prompts: tuple[Prompt, ...] = (), eid: str = "e", **kw: str) -> Essay:
    return Essay(
        id=eid,
        title=kw.get("title", "Essai"),
        author="A",
        url=f"https://x.org/{eid}",
        language=kw.get("language", "fr"),
        quotes=tuple(Quote(q.id, eid, q.text, q.tags, q.keywords) for q in quotes),
        prompts=prompts,
        hashtags=tuple(kw["hashtags"].split()) if "hashtags" in kw else (),
    )


#: A small made-up catalog, loosely after the seed essay.
QUOTES = (
    quote(
        "visuels",
        "On est censé faire quoi, quand on n'a ni les compétences ni les moyens d'engager "
        "des gens pour faire de beaux visuels et des affiches pour promouvoir nos spectacles ?",
    ),
    quote("fascisme", "L'IA générative est un outil au service du fascisme, quoi qu'on en fasse."),
    quote("emplois", "Des milliers d'emplois ont été supprimés au profit de l'IA et des patrons."),
    quote(
        "ressources", "L'IA, c'est plus d'eau pour refroidir les data centers, plus d'électricité."
    ),
    quote(
        "precieux",
        "Penser à l'IA, c'est penser aux choses très précieuses qui rendent la vie belle.",
    ),
)
INDEX = Index.build([essay(*QUOTES)])
IDS = [q.id for q in QUOTES]


def ranked_ids(index: Index, query: Query, ids: list[str] | None = None) -> list[str]:
    return [s.id for s in index.score(ids if ids is not None else IDS, query)]


@pytest.mark.parametrize(
    ("mention", "shared"),
    [
        # the words the French stemmer took for the keyword « profit »: none
        ("les salaires des profs, signez la pétition", set()),
        # its own inflections still reach it
        ("tout ça pour les profits de qui ?", {"profits"}),
    ],
)
def test_a_mention_reaches_a_quote_through_a_word_not_a_stemmers_mistake(
    mention: str, shared: set[str]
) -> None:
    index = Index.build([essay(quote("patrons", "Au profit des patrons.", keywords=("profit",)))])
    scored = index.score(["patrons"], Query(mention=mention))
    assert {term for s in scored for term in s.matched} == shared


def test_mention_about_generated_posters_ranks_the_visuals_quote_first() -> None:
    query = Query(
        mention="@maiwann Pour les spectacles par exemple. Je trouve ça nul de faire des "
        "affiches générées par IA pour les spectacles",
    )
    result = INDEX.score(IDS, query)
    assert result[0].id == "visuels"
    assert result[0].score > result[1].score
    assert {"affiches", "spectacles"} <= set(result[0].matched)


MENTION_CASES = [
    # (mention, expected first, why)
    ("Les patrons suppriment des emplois avec l'IA", "emplois", "jobs"),
    ("et l'eau pour refroidir les data centers ?", "ressources", "resources"),
    ("c'est un outil fasciste, point", "fascisme", "fascist tool, inflected"),
    ("ce qui rend la vie belle", "precieux", "what makes life beautiful"),
    ("ON N'A PAS LES MOYENS D'ENGAGER UN GRAPHISTE", "visuels", "shouting, no accents"),
]


@pytest.mark.parametrize(("mention", "first", "why"), MENTION_CASES)
def test_mention_picks_the_quote(mention: str, first: str, why: str) -> None:
    assert ranked_ids(INDEX, Query(mention=mention))[0] == first, why


OTHER_LANGUAGE_CASES = [
    # (essay language, keyword, mention, mention language, why): the keyword is
    # in the essay's other language, and its own stemmer must read it.
    ("fr", "poster", "we made gig posters", "en", "the French stemmer reads « post »"),
    ("fr", "designer", "small orgs can't pay designers", "en", "« designers » is « designer »"),
    ("fr", "volunteer", "we're all volunteers here", "en", "« volunteers » is « volunteer »"),
    ("fr", "writer", "all the writers I know", "en", "« writers » is « writer »"),
    ("fr", "poster", "we made gig posters", "fr", "whatever the mention's tag says"),
    ("en", "payer", "personne n'est payé", "fr", "a French keyword of an English essay"),
]


@pytest.mark.parametrize(
    ("essay_language", "keyword", "mention", "language", "why"), OTHER_LANGUAGE_CASES
)
def test_a_keyword_in_the_other_language_meets_the_words_people_write(
    essay_language: str, keyword: str, mention: str, language: str, why: str
) -> None:
    index = Index.build(
        [
            essay(
                quote("q1", "Un texte sans rapport.", keywords=(keyword,)),
                quote("q2", "Rien à voir ici."),
                language=essay_language,
            )
        ]
    )
    [best] = index.score(["q1", "q2"], Query(mention=mention, language=language), limit=1)
    assert best.id == "q1" and best.score > 0, why


def test_a_word_read_in_the_other_language_counts_once() -> None:
    """« poster » is indexed under both languages' stems; one keyword, one
    count: the quote scores as a keyword the two stemmers read alike would."""
    both = Index.build([essay(quote("q1", "Un texte.", keywords=("poster",)), quote("q2", "x"))])
    alike = Index.build([essay(quote("q1", "Un texte.", keywords=("gig",)), quote("q2", "x"))])
    [poster] = both.score(["q1"], Query(mention="posters", language="en"))
    [gig] = alike.score(["q1"], Query(mention="gig", language="en"))
    assert poster.score == pytest.approx(gig.score)


def test_mention_outweighs_thread() -> None:
    query = Query(mention="les patrons et les emplois", thread=("l'eau des data centers",))
    assert ranked_ids(INDEX, query)[:2] == ["emplois", "ressources"]


def test_thread_counts_when_the_mention_says_nothing() -> None:
    query = Query(mention="@filrouge citation", thread=("l'eau des data centers",))
    assert ranked_ids(INDEX, query)[0] == "ressources"


def test_query_sources_of_a_deferring_mention() -> None:
    query = Query(mention="m", thread=("old", "parent"))
    assert query.sources(deferring=True) == [
        ("m", 1.0),
        ("parent", 1.0),
        ("old", THREAD_DECAY),
    ]


@pytest.mark.parametrize(
    ("mention", "defers"),
    [
        ("@filrouge hmm", True),
        ("@filrouge is it though", True),
        ("@filrouge t'en penses quoi ?", True),
        ("@filrouge exactement !", True),
        ("@filrouge 🙄", True),
        # agreement and reaction, as people type it
        ("@filrouge yep", True),
        ("@filrouge ouais, bref", True),
        ("@filrouge mdr franchement", True),
        ("@filrouge lmao honestly", True),
        ("@filrouge tbh, mood", True),
        # "literally" is no word of its own: English stemming made it "liters"
        ("@filrouge literally", True),
        # A word of its own, even one no quote has: the thread stays the
        # background it is (a recipe asked for in a thread about data centres).
        ("@filrouge une recette de crêpes ?", False),
        ("@filrouge et les patrons ?", False),
    ],
)
def test_a_mention_with_no_word_of_its_own_asks_about_the_post_it_answers(
    mention: str, defers: bool
) -> None:
    parent = "l'eau des data centers"
    direct = INDEX.score(["ressources"], Query(mention=parent))[0].score
    answered = INDEX.score(["ressources"], Query(mention=mention, thread=(parent,)))[0].score
    if defers:
        assert answered == pytest.approx(direct)
    else:
        assert answered == pytest.approx(NEAREST_WEIGHT * direct, abs=1e-5)


PHRASES = Index.build(
    [
        essay(
            quote("pareil", "Ce n'est pas pareil.", keywords=("not the same", "faire sans")),
            quote("soi", "Le faire soi-même.", keywords=("soi-même",)),
            quote("intox", "La propagande.", keywords=('"fausses photos"',)),
            quote("avant", "Le temps d'avant.", keywords=('"avant l’IA"',)),
            quote("autre", "Une autre phrase, sur les affiches."),
            quote("seul", "Un mot.", keywords=("before", "yourself", "de", "the")),
        )
    ]
)


@pytest.mark.parametrize(
    ("mention", "first", "phrase"),
    [
        ("@filrouge posters are not the same as propaganda", "pareil", "not the same"),
        ("@filrouge NOT THE SAME!!", "pareil", "not the same"),
        ("@filrouge on peut très bien faire sans, non ?", "pareil", "faire sans"),
        ("@filrouge le faire soi même", "soi", "soi meme"),
        ("@filrouge le faire soi-même", "soi", "soi meme"),
        # The same words, not in that order, or apart: no phrase.
        ("@filrouge the same is not true", None, None),
        ("@filrouge sans rien faire", None, None),
        ("@filrouge not really the same", None, None),
        # Quoted: its stems in that order, stop words between them aside,
        # shown as written; never one of its words alone.
        ("@filrouge des fausses photos d'un politique", "intox", "fausses photos"),
        ("@filrouge les FAUSSES PHOTOS", "intox", "fausses photos"),
        ("@filrouge des photos", None, None),
        ("@filrouge une photo fausse", None, None),
        ("@filrouge de fausses et belles photos", None, None),
        # Quoted, with one content word: word for word, never that word alone.
        ("@filrouge on faisait comment avant l'IA ?", "avant", "avant l ia"),
        ("@filrouge l'IA avant tout", None, None),
        # One function word that says something alone: word for word.
        ("@filrouge how did we do it before?", "seul", "before"),
        ("@filrouge do it YOURSELF", "seul", "yourself"),
        # One that says nothing alone is never matched: it is in every post.
        ("@filrouge de la musique", None, None),
        ("@filrouge the end", None, None),
    ],
)
def test_a_phrase_keyword_is_matched_whole(
    mention: str, first: str | None, phrase: str | None
) -> None:
    """A keyword with no word of its own is matched word for word: its stop
    words are no terms, and it would never be matched at all. A quoted one
    is matched whole or not at all."""
    ids = ["pareil", "soi", "intox", "avant", "autre", "seul"]
    best = PHRASES.score(ids, Query(mention=mention))[0]
    if first is None:
        assert best.score == 0.0
    else:
        assert (best.id, best.matched) == (first, (phrase,))
        assert best.score > 0


@pytest.mark.parametrize(
    ("keyword", "language", "never"),
    [
        ("de", "fr", True),
        ("the", "en", True),
        ("De", "en", True),
        ("merci", "fr", True),  # a conversation word
        ("lire", "fr", True),
        ("🙄", "fr", True),
        ("…", "en", True),
        ("avant", "fr", False),
        ("Before", "en", False),
        ("même", "fr", False),
        ("faire sans", "fr", False),
        ("lu le texte", "fr", False),
        ("graphiste", "fr", False),
        ('"fausses photos"', "fr", False),
    ],
)
def test_a_keyword_that_no_post_can_match_is_known(
    keyword: str, language: str, never: bool
) -> None:
    """What ``check-config`` warns about: a keyword of one function or
    conversation word, or of none, is in the index yet matches nothing."""
    assert never_matched(keyword, language) is never
    index = Index.build([essay(quote("q", "Un mot.", keywords=(keyword,)))])
    if never:
        assert index.score(["q"], Query(mention=f"@filrouge {keyword} {keyword}"))[0].score == 0
    else:
        said = keyword.strip('"')
        assert index.score(["q"], Query(mention=f"@filrouge {said}"))[0].score > 0


def test_the_words_that_say_something_alone_are_function_words() -> None:
    """``ALONE`` lists function words: each is a stop word in French or in
    English (« encore » is an English word too), and in a language where it
    has a stem it is matched by that stem, not a second time as a word."""
    assert len(ALONE) >= 10
    for word in ALONE:
        assert not stems_of(word, "fr") or not stems_of(word, "en"), word
        assert not never_matched(word, "fr") and not never_matched(word, "en"), word


def test_nearer_posts_outweigh_older_ones() -> None:
    older = Query(mention="", thread=("les emplois", "l'eau"))
    newer = Query(mention="", thread=("l'eau", "les emplois"))
    assert ranked_ids(INDEX, older)[0] == "ressources"
    assert ranked_ids(INDEX, newer)[0] == "emplois"


def test_repeating_a_word_in_the_thread_does_not_outweigh_the_mention() -> None:
    thread = tuple("l'eau, l'eau, toujours l'eau" for _ in range(10))
    query = Query(mention="les emplois", thread=thread)
    assert ranked_ids(INDEX, query)[0] == "emplois"


def test_tags_and_keywords_are_boosted() -> None:
    plain = quote("a-plain", "Un texte sur les affiches et la musique.")
    tagged = quote("b-tagged", "Un texte sur les affiches et la musique.", tags=("musique",))
    keyworded = quote("c-keyword", "Un texte sur le sujet.", keywords=("graphiste",))
    index = Index.build([essay(plain, tagged, keyworded)])
    query = Query(mention="la musique")
    result = index.score(["a-plain", "b-tagged", "c-keyword"], query)
    assert [s.id for s in result] == ["b-tagged", "a-plain", "c-keyword"]
    assert result[0].score > result[1].score > 0.0
    graphiste = index.score(["a-plain", "c-keyword"], Query(mention="un graphiste"))
    assert graphiste[0].id == "c-keyword"
    assert graphiste[0].matched == ("graphiste",)


def test_rare_words_count_more_than_common_ones() -> None:
    quotes = [quote(f"q{n}", f"affiches numéro {n}") for n in range(5)]
    quotes.append(quote("z-rare", "affiches et typographie"))
    index = Index.build([essay(*quotes)])
    result = index.score([q.id for q in quotes], Query(mention="affiches typographie"))
    assert result[0].id == "z-rare"


def test_shorter_documents_win_on_equal_matches() -> None:
    short = quote("b-short", "les affiches")
    long = quote("a-long", "les affiches " + " ".join(f"mot{n}" for n in range(40)))
    index = Index.build([essay(short, long)])
    assert ranked_ids(index, Query(mention="affiches"), ["a-long", "b-short"]) == [
        "b-short",
        "a-long",
    ]


def test_ties_are_broken_by_id() -> None:
    quotes = [quote(qid, "le même texte sur les affiches") for qid in ("c", "a", "b")]
    index = Index.build([essay(*quotes)])
    result = index.score(["c", "b", "a"], Query(mention="affiches"))
    assert [s.id for s in result] == ["a", "b", "c"]
    assert len({s.score for s in result}) == 1


def test_one_scored_per_distinct_id_unknown_ids_score_zero() -> None:
    result = INDEX.score(
        ["zz-unknown", "emplois", "visuels", "emplois", "aa-unknown"], Query(mention="emplois")
    )
    assert [s.id for s in result] == ["emplois", "aa-unknown", "visuels", "zz-unknown"]
    assert result[0].score > 0.0
    assert result[1:] == [
        Scored("aa-unknown", 0.0),
        Scored("visuels", 0.0),
        Scored("zz-unknown", 0.0),
    ]


def test_no_match_scores_zero_in_id_order() -> None:
    result = INDEX.score(list(reversed(IDS)), Query(mention="rien à voir, xyzzy"))
    assert result == [Scored(qid, 0.0) for qid in sorted(IDS)]


def test_empty_inputs() -> None:
    assert INDEX.score([], Query(mention="affiches")) == []
    assert Index.build([]).score(["a"], Query(mention="x")) == [Scored("a", 0.0)]
    assert Index.build([]).essay_scores(Query(mention="x")) == []


def test_matched_are_the_words_as_written() -> None:
    result = INDEX.score(["visuels"], Query(mention="Des Affiches générées pour nos spectacles"))
    assert set(result[0].matched) == {"affiches", "spectacles"}


def test_prompts_are_indexed_in_every_language() -> None:
    prompt = Prompt(
        id="p-moyens",
        essay_id="e",
        texts={
            "fr": "Que dit le texte de celles et ceux qui n'ont pas les moyens ?",
            "en": "What does the essay say about people who cannot afford designers?",
        },
        tags=("moyens",),
    )
    other = Prompt(id="p-autre", essay_id="e", texts={"fr": "Relisez le passage sur l'eau."})
    index = Index.build([essay(*QUOTES, prompts=(prompt, other))])
    ids = ["p-autre", "p-moyens"]
    english = index.score(ids, Query(mention="we cannot afford designers", language="en"))
    assert english[0].id == "p-moyens"
    assert "designers" in english[0].matched
    french = index.score(ids, Query(mention="pas les moyens", language="fr"))
    assert french[0].id == "p-moyens"
    # The mention's declared language does not decide: posts are often mislabelled.
    mislabelled = index.score(ids, Query(mention="pas les moyens", language="en"))
    assert mislabelled == french
    assert index.score(["p-moyens", "visuels"], Query(mention="moyens"))[0].score > 0


@pytest.mark.parametrize(
    ("mention", "language", "shared"),
    [
        # the French space reads an English mention's "an" as the article it is
        ("an AI picture", "en", ()),
        # « un an » in French is a year
        ("ça fait un an", "fr", ("an",)),
        # the English space reads a French mention's « comment » as « how »
        ("comment on faisait", "fr", ()),
        ("a comment", "en", ("comment",)),
    ],
)
def test_a_text_s_own_function_words_are_function_words_in_either_space(
    mention: str, language: str, shared: tuple[str, ...]
) -> None:
    prompt = Prompt(
        id="p",
        essay_id="e",
        texts={"fr": "Il y a deux ans à peine.", "en": "Leave a comment on the essay."},
    )
    index = Index.build([essay(prompts=(prompt,))])
    (scored,) = index.score(["p"], Query(mention=mention, language=language))
    assert scored.matched == shared


def test_quotes_and_prompts_share_one_index() -> None:
    prompt = Prompt(id="p", essay_id="e", texts={"fr": "Et les data centers ?"})
    index = Index.build([essay(*QUOTES, prompts=(prompt,))])
    assert len(index) == len(QUOTES) + 1
    assert "p" in index and "visuels" in index and "nope" not in index


def test_first_of_duplicate_ids_wins() -> None:
    index = Index.build([essay(quote("a", "les affiches"), quote("a", "l'eau"))])
    assert len(index) == 1
    assert index.score(["a"], Query(mention="affiches"))[0].score > 0
    assert index.score(["a"], Query(mention="eau"))[0].score == 0.0


# -- essays --------------------------------------------------------------------------

ESSAYS = [
    essay(*QUOTES, eid="ia-probleme", title="L'IA est un problème", hashtags="iaprobleme"),
    essay(
        quote("velo-1", "La ville appartient aux cyclistes autant qu'aux voitures."),
        quote("velo-2", "Une piste cyclable protégée change la vie d'un quartier."),
        eid="velo",
        title="Le vélo en ville",
        hashtags="velotaf",
    ),
    essay(
        quote("garden-1", "A garden is a slow argument with the weather."),
        eid="garden",
        title="Gardening in a dry summer",
        language="en",
    ),
]
ESSAY_INDEX = Index.build(ESSAYS)

ESSAY_CASES = [
    # (mention, expected essay, why)
    ("les pistes cyclables de mon quartier", "velo", "quote text"),
    ("le vélo, en ville ?", "velo", "title"),
    ("#VeloTaf tous les jours", "velo", "hashtag"),
    ("les affiches générées par IA", "ia-probleme", "quote text"),
    ("my garden in this weather", "garden", "English essay"),
]


@pytest.mark.parametrize(("mention", "expected", "why"), ESSAY_CASES)
def test_essay_scores(mention: str, expected: str, why: str) -> None:
    result = ESSAY_INDEX.essay_scores(Query(mention=mention))
    assert result[0].id == expected, why
    assert result[0].score > result[1].score
    assert sorted(s.id for s in result) == ["garden", "ia-probleme", "velo"]


def test_essay_scores_nothing_in_common() -> None:
    result = ESSAY_INDEX.essay_scores(Query(mention="xyzzy"))
    assert result == [Scored("garden", 0.0), Scored("ia-probleme", 0.0), Scored("velo", 0.0)]


# -- the two scoring paths, limit, determinism ---------------------------------------


def synthetic(count: int, seed: int = 3) -> tuple[list[Essay], list[Query]]:
    rng = random.Random(seed)
    words = [f"mot{n}" for n in range(400)] + ["affiches", "spectacles", "emplois", "eau"]
    weights = [1.0 / (n + 1) for n in range(len(words))]

    def text(n: int) -> str:
        return " ".join(rng.choices(words, weights=weights, k=n))

    quotes = [
        quote(f"q{n:04d}", text(rng.randint(5, 30)), tags=(rng.choice(words),))
        for n in range(count)
    ]
    prompts = tuple(
        Prompt(id=f"p{n}", essay_id="e", texts={"fr": text(10), "en": text(10)}) for n in range(20)
    )
    queries = [
        Query(
            mention=text(rng.randint(1, 20)),
            thread=tuple(text(15) for _ in range(rng.randint(0, 30))),
        )
        for _ in range(15)
    ]
    return [essay(*quotes, prompts=prompts)], queries


def test_candidate_subsets_score_like_the_whole_index() -> None:
    essays, queries = synthetic(600)
    index = Index.build(essays)
    every = [q.id for q in essays[0].quotes] + [p.id for p in essays[0].prompts]
    rng = random.Random(5)
    for query in queries:
        whole = {s.id: s for s in index.score(every, query)}
        # Small subsets are scored document by document, large ones through
        # the postings: both must give the very same floats and words.
        for size in (1, 7, 60, 400, len(every) - 1):
            subset = rng.sample(every, size)
            part = index.score(subset, query)
            assert {s.id: s for s in part} == {i: whole[i] for i in subset}
            assert part == sorted(part, key=lambda s: (-s.score, s.id))


def test_limit_gives_the_head_of_the_full_list() -> None:
    essays, queries = synthetic(300)
    index = Index.build(essays)
    ids = [q.id for q in essays[0].quotes]
    for query in queries:
        full = index.score(ids, query)
        for limit in (0, 1, 3, 50, 1000):
            assert index.score(ids, query, limit=limit) == full[:limit]
        assert index.essay_scores(query, limit=1) == index.essay_scores(query)[:1]


def test_excluded_ids_are_left_out_of_the_same_list() -> None:
    essays, queries = synthetic(300)
    index = Index.build(essays)
    ids = (*(q.id for q in essays[0].quotes), "unknown-a", "unknown-z")
    rng = random.Random(7)
    for query in queries:
        full = index.score(ids, query)
        # The best ones, some from the middle, an unknown id, one not asked about.
        exclude = {full[0].id, *rng.sample(ids, 20), "unknown-a", "p1"}
        rest = [s for s in full if s.id not in exclude]
        assert index.score(ids, query, exclude=exclude) == rest
        for limit in (1, 5, 40, 1000):
            assert index.score(ids, query, limit=limit, exclude=exclude) == rest[:limit]


def test_a_tuple_of_ids_given_again_scores_alike() -> None:
    # A tuple is looked up once and remembered; asking again, or with an
    # equal list, must give the same answer.
    essays, queries = synthetic(200)
    index = Index.build(essays)
    ids = (*(q.id for q in essays[0].quotes[:150]), "nowhere")
    for query in queries[:5]:
        first = index.score(ids, query, limit=10)
        assert index.score(ids, query, limit=10) == first
        assert index.score(list(ids), query, limit=10) == first
        assert index.score(ids, query) == index.score(list(ids), query)


def test_a_language_holding_no_candidate_is_not_read() -> None:
    # Only French quotes are asked about: the English prompts' space is
    # skipped, and the scores are those of the whole index.
    essays, queries = synthetic(100)
    index = Index.build(essays)
    quotes = [q.id for q in essays[0].quotes]
    everything = quotes + [p.id for p in essays[0].prompts]
    for query in queries[:5]:
        whole = {s.id: s for s in index.score(everything, query)}
        assert index.score(quotes, query) == sorted(
            (whole[i] for i in quotes), key=lambda s: (-s.score, s.id)
        )


def test_scores_are_identical_across_processes() -> None:
    # Sets of strings iterate in a different order in each process
    # (PYTHONHASHSEED); the scores must not depend on it.
    script = (
        "import json, sys\n"
        "sys.path.insert(0, 'tests/rank')\n"
        "from test_index import synthetic\n"
        "from bot.rank.index import Index\n"
        "essays, queries = synthetic(200)\n"
        "index = Index.build(essays)\n"
        "ids = [q.id for q in essays[0].quotes]\n"
        "print(json.dumps([[(s.id, s.score, s.matched) for s in index.score(ids, q)[:20]]"
        " for q in queries]))\n"
    )
    root = Path(__file__).parents[2]
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]


def test_the_analysis_caches_keep_nothing_the_collector_walks() -> None:
    # Tuples kept by a cache are walked by the garbage collector until one of
    # its passes finds they hold only strings: with thousands of new words an
    # hour, that pass lands in the middle of a decision. Strings are never walked.
    from bot.rank.analysis import _token_terms_of, _tokens, analyze_cached

    text = "L'anti-IA d'aujourd'hui : des affiches générées, ré-utilisées #IAGénérative"
    values = [analyze_cached(text, "fr"), _tokens(text), _token_terms_of("fr")("anti-IA")]
    assert all(isinstance(value, str) and value for value in values)
    assert not any(gc.is_tracked(value) for value in values)
