"""bot.rank.expand and the lexicon it reads: the words people write reach the
words the catalog uses, at a discount, without a synonym ever passing for a
word of its own or beating a direct match."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.catalog.lexicon import DATA, Thesaurus, load_lexicon, read_group_languages
from bot.catalog.thesaurus import derive, read_mythes, write
from bot.decide.evidence import enough
from bot.errors import ConfigError
from bot.model.catalog import Essay, Quote
from bot.rank.analysis import analyze, stems_of
from bot.rank.expand import FAMILIAR, THESAURUS, Lexicon, source_of
from bot.rank.index import Index
from bot.rank.query import Query

LEXICON = load_lexicon()
GROUPS = tomllib.loads((DATA / "familiar.toml").read_text(encoding="utf-8"))["groups"]


def _essay(language: str, *quotes: tuple[str, str]) -> Essay:
    return Essay(
        id="e",
        title="Essai",
        author="A",
        url="https://example.org/e",
        language=language,
        quotes=tuple(Quote(id=qid, essay_id="e", text=text) for qid, text in quotes),
    )


def _top(index: Index, text: str, language: str = "fr") -> tuple[str, float, tuple[str, ...]]:
    best = index.score(("q1", "q2"), Query(mention=text, language=language), limit=1)[0]
    return best.id, best.score, best.matched


# -- the familiar groups, one test each ---------------------------------------------


@pytest.mark.parametrize("group", GROUPS, ids=[group["name"] for group in GROUPS])
def test_each_familiar_word_reaches_its_group_in_both_languages(group: dict[str, object]) -> None:
    """Every single word of a group finds a French quote that uses only the
    group's first French word, and an English one that uses only its first
    English word; an unrelated quote beside it stays at zero."""
    fr_words = [w for w in group["fr"] if " " not in w]  # type: ignore[attr-defined]
    en_words = [w for w in group["en"] if " " not in w]  # type: ignore[attr-defined]
    for language, head in (("fr", fr_words[0]), ("en", en_words[0])):
        index = Index.build(
            [_essay(language, ("q1", f"{head}"), ("q2", "zzz"))],
            lexicon=LEXICON,
        )
        for word in (*fr_words, *en_words):
            if not analyze(word, language):
                continue  # a stop word there (French « ai », English « an »)
            found, score, matched = _top(index, word, language)
            assert (found, score > 0) == ("q1", True), (group["name"], language, word)
            assert all(source_of(m) == word.casefold() for m in matched), matched


def test_groups_are_single_meanings_with_both_languages() -> None:
    names = [group["name"] for group in GROUPS]
    assert len(names) == len(set(names))
    for group in GROUPS:
        assert group["fr"] and group["en"], group["name"]
        words = [*group["fr"], *group["en"]]
        assert all(w == w.strip().casefold() for w in words), group["name"]


#: (mention, a quote it must not reach, why): a group word whose stem is a
#: common word's of another meaning would pass for the group (a phrase is
#: reached, never a key).
MISREADS = [
    ("la bibliothèque va fermer", "Les datacenters consomment", "« fermer » is not server farms"),
    ("the farm down the road", "Datacenters drink water", "a farm is not a server farm"),
    # read in French, the English "genai" of the AI group is « gen », as « gens » is
    ("des images midjourney", "Engager des gens", "English genai is not « gens »"),
    ("un logo chatgpt", "Des gens", "nor through another word of its group, « gens »"),
    ("les gens en parlent", "ChatGPT partout", "nor is « gens » a key to the AI group"),
]


@pytest.mark.parametrize(("mention", "text", "why"), MISREADS, ids=[r[2] for r in MISREADS])
def test_a_common_word_does_not_pass_for_a_group_word(mention: str, text: str, why: str) -> None:
    language = "fr" if "«" in why else "en"
    index = Index.build([_essay(language, ("q1", text), ("q2", "zzz"))], lexicon=LEXICON)
    found = index.score(("q1",), Query(mention=mention, language=language), limit=1)
    assert found[0].score == 0, (why, found[0].matched)


# -- how expansion scores -----------------------------------------------------------

#: (mention, the quote it must reach, why)
REACHES = [
    ("j'ai plus un rond, le fric part où ?", "L'argent des salariés", "familiar: fric → argent"),
    ("ils ont viré la moitié du service", "Les licenciements arrivent", "conjugated: viré → virer"),
    ("my boss wants me to use it", "Le patron impose l'outil", "English to French: boss → patron"),
    # "fired" is « fire » in English, « fired » read as French: its group is
    # found under the English stem
    ("they fired half the team", "Les licenciements arrivent", "English to French: fired"),
    ("le taf a changé", "Le travail a changé", "familiar: taf → travail"),
    # (« ils remplacent » needs no lexicon: English stemming, which reads the
    # catalog's keywords in its other language, gives « remplac » too.)
    ("les boîtes qui virent tout le monde", "Virer les salariés", "plural verb: virent"),
]


@pytest.mark.parametrize(
    ("word", "base"),
    [
        ("remplacent", "remplac"),
        ("licencient", "licenci"),
        ("virent", "vir"),
        ("pensent", "pens"),
        # Words of their own that end so: the thesaurus has them.
        ("argent", None),
        ("moment", None),
        ("client", None),
        ("parent", None),
        ("souvent", None),
        ("présent", None),
    ],
)
def test_a_french_plural_verb_reads_as_its_verb(word: str, base: str | None) -> None:
    (stem,) = analyze(word, "fr")
    assert LEXICON.base_form(stem, "fr") == base
    assert LEXICON.base_form(stem, "en") is None


@pytest.mark.parametrize(("mention", "text", "why"), REACHES, ids=[r[2] for r in REACHES])
def test_a_mention_reaches_the_catalog_words_it_meant(mention: str, text: str, why: str) -> None:
    index = Index.build([_essay("fr", ("q1", text), ("q2", "Rien à voir ici"))], lexicon=LEXICON)
    assert _top(index, mention)[0] == "q1", why
    bare = Index.build([_essay("fr", ("q1", text), ("q2", "Rien à voir ici"))])
    assert _top(bare, mention)[1] < _top(index, mention)[1], "the lexicon adds the evidence"


def test_a_synonym_never_beats_a_direct_match() -> None:
    index = Index.build(
        [_essay("fr", ("q1", "L'argent de la boîte"), ("q2", "Le salaire de la boîte"))],
        lexicon=Lexicon(groups=(("pognon", "argent"),)),
    )
    scored = {s.id: s for s in index.score(("q1", "q2"), Query("pognon, salaire", language="fr"))}
    assert scored["q2"].score > scored["q1"].score > 0
    assert scored["q1"].matched == ("pognon→argent",)


@pytest.mark.parametrize(
    ("mention", "language", "matched"),
    [
        # « personnes » is read in French: the French thesaurus's « âme »
        ("des personnes", "fr", ("personnes≈âme",)),
        # "persons", of an English mention, stems the same in the French
        # space: it is no word of the French thesaurus
        ("two persons", "en", ()),
    ],
)
def test_a_thesaurus_reads_only_its_own_language(
    mention: str, language: str, matched: tuple[str, ...]
) -> None:
    thesaurus = {"person": "âme"}
    index = Index.build(
        [_essay("fr", ("q1", "Une âme."))], lexicon=Lexicon(thesauri={"fr": thesaurus})
    )
    (scored,) = index.score(("q1",), Query(mention, language=language))
    assert scored.matched == matched


def test_a_thread_word_reached_by_a_mention_synonym_stays_a_word_of_its_own() -> None:
    """« argent » three posts up and « fric » in the mention: the quote is
    matched by the thread's own word, weighed as the mention's synonym."""
    index = Index.build(
        [_essay("fr", ("q1", "L'argent de la boîte"), ("q2", "Le salaire de la boîte"))],
        lexicon=Lexicon(groups=(("fric", "argent"),)),
    )
    thread = ("Tout est une question d'argent", "Bof", "Bof")
    far = index.score(("q1",), Query("vacances", thread=thread, language="fr"))[0]
    both = index.score(("q1",), Query("le fric", thread=thread, language="fr"))[0]
    assert both.matched == ("argent",)  # the plain word, not "fric→argent"
    assert both.score > far.score  # weighed as the mention's synonym


def test_essays_are_told_apart_by_words_and_familiar_groups_not_thesaurus_senses() -> None:
    """A thesaurus lists every sense of a word: « gesture » reaches « sign »
    and « communication ». Quotes are ranked with it (at 0.15, never as
    evidence alone), but which essay a thread is about rests on the words
    and the familiar groups: a sense the thesaurus happens to list must not
    make a second essay look as likely as the right one."""

    def essay(essay_id: str, text: str) -> Essay:
        return Essay(
            id=essay_id,
            title=essay_id,
            author="A",
            url=f"https://example.org/{essay_id}",
            language="en",
            quotes=(Quote(id=f"{essay_id}-q", essay_id=essay_id, text=text),),
        )

    index = Index.build(
        [essay("phones", "Keep your phone"), essay("posters", "Communication on a budget")],
        lexicon=LEXICON,
    )
    query = Query(mention="a real gesture: keep the phone", language="en")
    scores = {s.id: s.score for s in index.essay_scores(query)}
    assert scores["phones"] > 0 and scores["posters"] == 0
    # The quotes still reach the sense, at the thesaurus's discount.
    (posters,) = index.score(("posters-q",), query, limit=1)
    assert posters.score > 0 and all("≈" in word for word in posters.matched)
    # Familiar groups still cross languages for the essays: « boss » → « patron ».
    french = Index.build([_essay("fr", ("q1", "Le patron"))], lexicon=LEXICON)
    (found,) = french.essay_scores(Query(mention="my boss", language="en"))
    assert found.score > 0


def test_a_word_the_catalog_uses_is_not_expanded() -> None:
    index = Index.build(
        [_essay("fr", ("q1", "Le fric et rien d'autre"), ("q2", "L'argent et rien d'autre"))],
        lexicon=Lexicon(groups=(("fric", "argent"),)),
    )
    scored = {s.id: s.score for s in index.score(("q1", "q2"), Query("le fric", language="fr"))}
    assert scored == {"q1": scored["q1"], "q2": 0.0}


def test_one_word_scores_once_whatever_the_synonyms_a_quote_lists() -> None:
    lexicon = Lexicon(groups=(("pognon", "argent", "monnaie", "richesse"),))
    quotes = [_essay("fr", ("q1", "argent monnaie richesse"), ("q2", "x"))]
    many = Index.build(quotes, lexicon=lexicon)
    one = Index.build([_essay("fr", ("q1", "argent"), ("q2", "x"))], lexicon=lexicon)
    best_many = _top(many, "pognon")
    best_one = _top(one, "pognon")
    # The same word, once: the first is no more than the best single synonym
    # (a longer text is length-normalised down, never summed up).
    assert best_many[1] <= best_one[1] * 1.01
    assert {source_of(m) for m in best_many[2]} == {"pognon"}


def test_discounts_order_direct_then_familiar_then_thesaurus() -> None:
    assert 0 < THESAURUS < FAMILIAR < 1


# -- evidence --------------------------------------------------------------------------

EVIDENCE = [
    # (score, matched, need, expected, why)
    (6.0, ("affiche", "salle"), 5.0, True, "score enough"),
    (2.0, ("affiche", "salle"), 5.0, True, "two words the mention used"),
    (2.0, ("fric→argent", "thune→argent"), 5.0, False, "synonyms add no words"),
    (2.0, ("affiche", "affiche→poster"), 5.0, False, "one word and its synonym are one"),
    (6.0, ("recette≈gain",), 5.0, False, "a thesaurus synonym alone is no evidence"),
    (6.0, ("fric→argent",), 5.0, True, "a familiar synonym with score enough"),
    (0.0, (), 0.0, True, "a rule that needs none"),
]


@pytest.mark.parametrize(
    ("score", "matched", "need", "expected", "why"), EVIDENCE, ids=[e[4] for e in EVIDENCE]
)
def test_evidence_counts_synonyms_as_their_source(
    score: float, matched: tuple[str, ...], need: float, expected: bool, why: str
) -> None:
    assert enough(score, matched, need) is expected, why


# -- the thesaurus files -------------------------------------------------------------

DAT = """UTF-8
virer|2
(Verbe)|tourner|licencier|renvoyer
(Verbe)|pivoter|inverse (antonym)
viré|1
(Adjectif)|congédié|mis à la porte
fric|1
(Nom)|argent|pognon|monnaie (generic term)
"""


def test_the_thesaurus_is_derived_by_stem_without_antonyms_or_phrases(tmp_path: Path) -> None:
    from bot.catalog.thesaurus import SOURCES

    table = derive(read_mythes(DAT.splitlines(keepends=True)), "fr")
    assert table["vir"][:3] == ["congédié", "tourner", "licencier"]
    assert "inverse" not in table["vir"] and "mis à la porte" not in table["vir"]
    assert table["fric"] == ["argent", "pognon"]
    path = tmp_path / "thesaurus.fr.tsv"
    write(path, SOURCES[0], table)
    thesaurus = Thesaurus(path)
    assert len(thesaurus) == 2
    assert thesaurus.get("fric") == "argent|pognon"
    assert thesaurus.get("vir") is not None
    for absent in ("", "a", "fricc", "zzz", "vi"):
        assert thesaurus.get(absent) is None, absent
    assert "LGPL" in path.read_text(encoding="utf-8").splitlines()[1]


def test_the_shipped_thesauri_are_sorted_and_found_by_bisection() -> None:
    for language, sample in (("fr", "fric"), ("en", "boss")):
        thesaurus = LEXICON.thesauri[language]
        assert isinstance(thesaurus, Thesaurus)
        text = (DATA / f"thesaurus.{language}.tsv").read_text(encoding="utf-8")
        lines = [line.split("\t", 1)[0] for line in text.splitlines() if line[:1] != "#"]
        assert lines == sorted(lines) and len(lines) == len(set(lines)) == len(thesaurus)
        assert thesaurus.get(sample)
        for key in lines[:: max(1, len(lines) // 200)]:
            assert thesaurus.get(key), key


@pytest.mark.parametrize(
    ("word", "sense", "other_sense"),
    [
        ("profit", "bénéfice", "professeur"),
        ("profs", "professeur", "bénéfice"),
        ("gens", "foule", "embarras"),
        ("gêne", "embarras", "foule"),
        ("pétition", "requête", "minuscule"),
    ],
)
def test_the_shipped_thesaurus_is_keyed_by_the_stems_of_today(
    word: str, sense: str, other_sense: str
) -> None:
    """Rebuilt after a word's stem changes (``STEM_OVERRIDES``): « profit »
    finds its own senses, not those of the « profs » it was stemmed as."""
    (stem,) = stems_of(word, "fr")
    senses = (LEXICON.thesauri["fr"].get(stem) or "").split("|")
    assert sense in senses and other_sense not in senses


MYTHES = Path("/usr/share/mythes")


def _debian_version(package: str) -> str | None:
    import shutil
    import subprocess

    if shutil.which("dpkg-query") is None:
        return None
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def test_the_shipped_thesauri_are_what_the_builder_makes_of_debians_files(
    tmp_path: Path,
) -> None:
    """The files are keyed by the stems and function words of today: a change
    to the analysis that moves a key fails here until they are rebuilt
    (``python -m bot.catalog.thesaurus /usr/share/mythes``). CI installs
    Debian's ``mythes-fr`` and ``mythes-en-us``."""
    from bot.catalog.thesaurus import SOURCES, main

    for source in SOURCES:
        package, _, version = source.package.partition(" (")[0].partition(" ")
        installed = _debian_version(package)
        if installed is None or not (MYTHES / source.file).is_file():
            pytest.skip(f"needs Debian's {package} (apt-get install {package})")
        if installed.rsplit("-", 1)[0] != version:  # 1:7.5.0-1 is Debian's 1st of 1:7.5.0
            pytest.skip(f"Debian ships {package} {installed}; the files come from {version}")
    assert main([str(MYTHES), "--out", str(tmp_path)]) == 0
    for source in SOURCES:
        name = f"thesaurus.{source.language}.tsv"
        made = (tmp_path / name).read_text(encoding="utf-8")
        assert made == (DATA / name).read_text(encoding="utf-8"), f"rebuild {name}"


def test_the_shipped_files_name_their_source_and_licence() -> None:
    notice = (DATA / "NOTICE").read_text(encoding="utf-8")
    assert "LGPL-2.1" in notice and "WordNet" in notice and "Kevin Atkinson" in notice
    assert (DATA / "LGPL-2.1.txt").is_file()
    for language in ("fr", "en"):
        head = (DATA / f"thesaurus.{language}.tsv").read_text(encoding="utf-8")[:400]
        assert "mythes" in head and "python -m bot.catalog.thesaurus" in head


def test_a_broken_familiar_file_names_the_file_and_the_group(tmp_path: Path) -> None:
    path = tmp_path / "familiar.toml"
    path.write_text('[[groups]]\nname = "vide"\nfr = []\nen = []\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_group_languages(path)
    assert str(path) in str(caught.value) and "vide" in str(caught.value)
    path.write_text("[[groups]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot be read"):
        read_group_languages(path)


def test_a_pickled_index_keeps_its_lexicon() -> None:
    import pickle

    index = Index.build([_essay("fr", ("q1", "L'argent"), ("q2", "x"))], lexicon=LEXICON)
    again = pickle.loads(pickle.dumps(index))
    assert _top(again, "le fric")[0] == "q1"
