"""Concepts drafted by ``filrouge catalog import`` from the essay's text
(YAKE! and the bundled lexicon), for the curator to review."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.app.asking import typed_inputs
from bot.catalog.essays import load_catalog
from bot.catalog.importer.concepts import Vocabulary, draft_concepts
from bot.catalog.importer.draft import Draft, ExistingCatalog, draft_toml, make_draft
from bot.catalog.importer.extract import Article, extract
from bot.catalog.importer.page import read_local
from bot.catalog.importer.quotes import candidate_quotes
from bot.catalog.load import load_config
from bot.decide.decision import decide
from bot.model.post import Account
from bot.rank.analysis import stems_of
from bot.settings import DATA_DIR, Settings

DATA = Path(__file__).parents[1] / "data" / "import"
FRENCH = DATA / "carnets_sobriete.html"
ENGLISH = DATA / "long_loan_library.html"
TODAY = date(2026, 12, 7)

#: An essay about pay, in the plain register: « salaire » is a word of the
#: familiar groups, which hold its English words.
PAY = Article(
    title="Le salaire des artistes",
    author="A. Autrice",
    url="https://essais.example/salaire-artistes/",
    language="fr",
    published=None,
    paragraphs=(
        "Le salaire des artistes ne suit pas. Une affiche demande des jours de travail,"
        " et le salaire promis arrive tard, quand il arrive.",
        "On dit aux artistes que la visibilité paiera. Le salaire, lui, paie le loyer ;"
        " la visibilité ne paie rien du tout.",
        "Les associations voudraient payer une affiche. Elles n’en ont pas les moyens, et"
        " l’outil gratuit leur promet une affiche en trois secondes.",
        "Alors l’affiche générée remplace le salaire d’une graphiste, et personne ne"
        " l’a décidé vraiment : chacun a fait au plus simple.",
    ),
)


def draft_of(article: Article, **options: object) -> tuple[Draft, str]:
    options.setdefault("concepts", 12)
    draft = make_draft(
        article,
        source="test",
        max_characters=500,
        url_length=23,
        default_language="fr",
        rules_path=DATA_DIR / "rules.toml",
        **options,  # type: ignore[arg-type]
    )
    return draft, draft_toml(draft, today=TODAY)


@pytest.mark.parametrize("page", [FRENCH, ENGLISH], ids=["fr", "en"])
def test_each_concept_is_used_by_the_quotes_that_name_it(page: Path, tmp_path: Path) -> None:
    article = extract(read_local(str(page)))
    draft, text = draft_of(article)
    concepts = draft.concepts
    assert 4 <= len(concepts) <= 12
    path = tmp_path / "draft.toml"
    path.write_text(text, encoding="utf-8")
    catalog = load_catalog(path)
    assert sorted(catalog.concepts) == sorted(c.id for c in concepts)
    (essay,) = catalog.essays
    named = {
        concept: [q for q in essay.quotes if concept in q.concepts] for concept in catalog.concepts
    }
    for concept in concepts:
        # « l’affiche » is drafted as « affiche »: an elided article is no term.
        terms = [t for ts in concept.terms.values() for t in ts]
        assert not [t for t in terms if re.match(r"^\w{1,2}['’]", t)], concept
        quotes = named[concept.id]
        assert len(quotes) >= 2, concept.id  # a vocabulary is shared, or it is a keyword
        own = concept.terms[article.language][0]
        for quote in quotes:
            assert set(stems_of(own, article.language)) <= set(
                stems_of(quote.text, article.language)
            )


def test_central_words_come_first_and_stop_words_never() -> None:
    _, text = draft_of(extract(read_local(str(ENGLISH))))
    data = tomllib.loads(text)
    ids = [c["id"] for c in data["concepts"]]
    assert {"library", "books"} <= set(ids[:4])  # the essay's subject, near the top
    for concept in data["concepts"]:
        for word in concept.get("en", []):
            assert stems_of(word, "en"), word


def test_a_familiar_word_brings_its_group_in_both_languages() -> None:
    draft, _ = draft_of(PAY)
    by_id = {c.id: c for c in draft.concepts}
    salaire = by_id["salaire"]
    assert salaire.familiar
    assert salaire.terms["fr"][0] == "salaire"
    assert {"paie", "rémunération"} <= set(salaire.terms["fr"])
    assert {"salary", "wage", "pay"} <= set(salaire.terms["en"])
    # « paie » means what « salaire » does: merged into it, not a concept of its own.
    assert "paie" not in by_id
    assert {"dit-artistes-visibilite", "associations-voudraient-payer"} <= set(salaire.quotes)


def test_a_word_no_group_holds_leaves_the_other_language_to_write() -> None:
    draft, text = draft_of(extract(read_local(str(ENGLISH))))
    library = {c.id: c for c in draft.concepts}["library"]
    assert not library.familiar and library.terms == {"en": ("library",)}
    assert '# fr = ["…"]' in text.split('id = "library"')[1].split("[[")[0]


def test_thesaurus_synonyms_are_offered_never_indexed(tmp_path: Path) -> None:
    draft, text = draft_of(PAY)
    for concept in draft.concepts:
        assert not set(concept.synonyms) & set(concept.terms["fr"])
    affiche = {c.id: c for c in draft.concepts}["affiche"]
    assert {"placard", "panneau"} <= set(affiche.synonyms)  # the thesaurus knows « affiche »
    assert f"# thesaurus: {', '.join(affiche.synonyms)}" in text
    catalog = tmp_path / "draft.toml"
    catalog.write_text(text, encoding="utf-8")
    indexed = load_catalog(catalog).concepts["affiche"].terms["fr"]
    assert "placard" not in indexed and "panneau" not in indexed


def test_a_drafted_concept_reaches_its_quotes_from_an_english_reply(tmp_path: Path) -> None:
    """The point of a concept: the familiar group's English words index the
    French quotes that use « salaire », once the draft joins the catalog."""
    _, text = draft_of(PAY)
    catalog_file = tmp_path / "catalog.toml"
    bundled = (DATA_DIR / "catalog.toml").read_text(encoding="utf-8")
    catalog_file.write_text(bundled + "\n" + text, encoding="utf-8")
    settings = Settings(_env_file=None, catalog_path=catalog_file, db_path=tmp_path / "db")
    config = load_config(settings)
    essay = config.catalog.essay("salaire-artistes")
    assert essay is not None
    salaried = {q.id for q in essay.quotes if "salaire" in q.concepts}

    def chosen(words: str) -> str | None:
        outcome = decide(
            typed_inputs(
                f"@filrouge {PAY.url} {words}",
                config=config,
                settings=settings,
                requester=Account(id="1", acct="reader", username="reader"),
                self_id="0",
                now=datetime.now(UTC),
            )
        )
        return getattr(outcome.decision, "quote_id", None)

    assert chosen("artists never get a decent wage for this, nobody pays them") in salaried

    # The same draft without its concepts: the English words reach nothing.
    _, bare = draft_of(PAY, concepts=0)
    catalog_file.write_text(bundled + "\n" + bare, encoding="utf-8")
    config = load_config(settings)
    assert chosen("artists never get a decent wage for this, nobody pays them") is None


def test_ids_avoid_the_catalog_s_concepts() -> None:
    existing = ExistingCatalog(concept_ids=frozenset({"salaire"}))
    draft, _ = draft_of(PAY, existing=existing)
    ids = [c.id for c in draft.concepts]
    assert "salaire" not in ids and "salaire-2" in ids


def test_no_concepts_when_asked_for_none() -> None:
    draft, text = draft_of(extract(read_local(str(FRENCH))), concepts=0)
    assert draft.concepts == () and "[[concepts]]" not in text


def test_a_lone_candidate_names_every_concept_it_uses() -> None:
    """With fewer than two candidate quotes, one is enough to share a concept."""
    article = extract(read_local(str(FRENCH)))
    passages = candidate_quotes(article.paragraphs, max_length=400, url_length=23)
    (only,) = passages.candidates[:1]
    concepts = draft_concepts(
        article.paragraphs, [only], language="fr", limit=5, vocabulary=Vocabulary.bundled()
    )
    assert concepts and all(c.quotes == (only.id,) for c in concepts)


def test_without_yake_the_draft_says_so_and_has_no_concepts(tmp_path: Path) -> None:
    """``yake`` is an extra: ``catalog import`` without it still writes the
    draft, tells the admin what to install, and drafts no concept."""
    out = tmp_path / "draft.toml"
    code = (
        "import sys; sys.modules['yake'] = None\n"
        "from bot.cli.main import main\n"
        f"sys.exit(main(['catalog', 'import', {str(FRENCH)!r}, '--out', {str(out)!r}]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FILROUGE_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'fil-rouge[draft]'" in done.stderr
    text = out.read_text(encoding="utf-8")
    assert "[[concepts]]" not in text and "# REVIEW: concepts are drafted by yake" in text
    assert len(tomllib.loads(text)["essays"][0]["quotes"]) == 13


def test_an_elided_article_is_no_part_of_a_concept() -> None:
    """On the seed essay's passages YAKE! ranks « l’IA » and « L'IA »: one
    concept « ia », whose terms carry no article."""
    passages = [q.text for q in load_catalog(DATA_DIR / "catalog.toml").essays[0].quotes]
    candidates = candidate_quotes(passages, max_length=400, url_length=23).candidates
    concepts = draft_concepts(
        passages, candidates, language="fr", limit=12, vocabulary=Vocabulary.bundled()
    )
    by_id = {c.id: c for c in concepts}
    assert "ia" in by_id and not [c for c in by_id if c.startswith("l-")]
    assert by_id["ia"].terms["fr"][0] == "ia"


#: An essay where two passages speak of fake photos, each word common alone.
FAKES = Article(
    title="Les fausses photos",
    author="A. Autrice",
    url="https://essais.example/fausses-photos/",
    language="fr",
    published=None,
    paragraphs=(
        "Les fausses photos circulent plus vite que les vraies, et personne ne les vérifie"
        " avant de les partager à son tour.",
        "Une affiche de concert n’est pas une campagne de fausses photos : la comparer à la"
        " propagande, c’est oublier qui paie les serveurs.",
        "Les photos de vacances, elles, ne trompent personne ; on les regarde et on passe.",
    ),
)


def test_a_concept_of_two_words_is_drafted_as_a_phrase(tmp_path: Path) -> None:
    """« fausses photos »: each word is a word of any text, the two are one
    meaning. Drafted in quotes (matched whole, ``bot.rank.phrases``), as a
    TOML literal string the curator reads as written."""

    def keywords(text: str, language: str, top: int) -> list[tuple[str, float]]:
        return [("fausses photos", 0.01)]

    draft, text = draft_of(FAKES, keywords=keywords)
    (concept,) = draft.concepts
    assert concept.terms["fr"] == ('"fausses photos"',)
    assert """fr = ['"fausses photos"']""" in text
    path = tmp_path / "draft.toml"
    path.write_text(text, encoding="utf-8")
    assert load_catalog(path).concepts[concept.id].terms["fr"] == ('"fausses photos"',)
