"""Loading the admin data: the bundled catalog and rules, lookups, and every
kind of mistake an admin can make, each reported with file, line and hint.

The broken files live in ``tests/data/catalogs/``. Each says what it expects
in ``# expect: LINE | WHERE | TEXT`` comments: a problem at that line, about
that essay/quote/prompt/rule, whose message (and hint) contains TEXT. A file
must produce exactly the problems it expects — all of them in one pass, and
no follow-on noise.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from bot.catalog.checks import _parse_toml
from bot.catalog.config import Catalog
from bot.catalog.essays import load_catalog
from bot.catalog.fit import ASSUMED_REQUESTER
from bot.catalog.lines import Lines, _split_lines
from bot.catalog.load import load_config
from bot.catalog.rules import load_rules
from bot.errors import ConfigError, Problem
from bot.model.catalog import Action, Essay, Mode, Prompt, Quote
from bot.settings import DATA_DIR, Settings
from bot.text.render import render, status_length

BROKEN = Path(__file__).parents[1] / "data" / "catalogs"
SMALL = BROKEN / "small.toml"
CATALOG = DATA_DIR / "catalog.toml"
RULES = DATA_DIR / "rules.toml"

SEED_REPLY = (
    "Pour les spectacles par exemple. Je trouve ça nul de faire des affiches générées par IA"
    " quand on peut juste ré-utiliser des photos de spectacles précédents c'est tellement"
    " plus parlant ^^."
)


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# -- the broken files -------------------------------------------------------------

_EXPECT = re.compile(r"^# expect: (\d+) \| (.+?) \| (.+)$", re.MULTILINE)


def _expected(path: Path) -> list[tuple[int, str, str]]:
    found = [
        (int(line), where, text) for line, where, text in _EXPECT.findall(path.read_text("utf-8"))
    ]
    assert found, f"{path.name} states no expectation"
    return found


def _described(problem: Problem) -> str:
    return f"{problem.message} (hint: {problem.hint})" if problem.hint else problem.message


def _assert_problems(path: Path, problems: tuple[Problem, ...]) -> None:
    expected = _expected(path)
    remaining = list(problems)
    for line, where, text in expected:
        match = next(
            (p for p in remaining if p.line == line and p.where == where and text in _described(p)),
            None,
        )
        assert match is not None, f"{path.name}: no problem {line} | {where} | {text} in:\n" + (
            "\n".join(str(p) for p in problems)
        )
        remaining.remove(match)
    assert not remaining, f"{path.name}: unexpected problems:\n" + "\n".join(map(str, remaining))
    assert all(Path(p.path) == path for p in problems)


@pytest.mark.parametrize("path", sorted(BROKEN.glob("catalog_*.toml")), ids=lambda path: path.stem)
def test_broken_catalog(path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_catalog(path)
    _assert_problems(path, caught.value.problems)


@pytest.mark.parametrize("path", sorted(BROKEN.glob("rules_*.toml")), ids=lambda path: path.stem)
def test_broken_rules(path: Path) -> None:
    catalog = load_catalog(SMALL)
    with pytest.raises(ConfigError) as caught:
        load_rules(path, catalog, max_characters=500, language="fr")
    _assert_problems(path, caught.value.problems)


def test_config_error_message_names_file_line_and_hint() -> None:
    with pytest.raises(ConfigError) as caught:
        load_rules(BROKEN / "rules_regex.toml", load_catalog(SMALL), max_characters=500)
    first = str(caught.value).splitlines()[0]
    assert first.startswith(f'{BROKEN / "rules_regex.toml"}:9: rule "visuels": regex')
    assert "(hint: " in first


def test_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_catalog(tmp_path / "nope.toml")
    (problem,) = caught.value.problems
    assert problem.message == "file not found"
    assert "FILROUGE_CATALOG_PATH" in problem.hint


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('title = "problème"'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_catalog(path)


def test_empty_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing yet\n")
    with pytest.raises(ConfigError, match="no essays"):
        load_catalog(empty)
    with pytest.raises(ConfigError, match="no rules"):
        load_rules(empty, load_catalog(SMALL), max_characters=500)


# -- limits the fit check uses ----------------------------------------------------------


def test_fit_depends_on_the_instance_limit() -> None:
    catalog = load_catalog(SMALL)
    rules = load_rules(BROKEN / "rules_fit.toml", catalog, max_characters=520)
    assert [rule.name for rule in rules.rules] == ["longue"]


def test_fit_counts_urls_at_the_instance_url_length() -> None:
    catalog = load_catalog(SMALL)
    # 517 with URLs at 23; at 3 per URL the same template needs 20 fewer.
    load_rules(BROKEN / "rules_fit.toml", catalog, max_characters=500, url_length=3)
    with pytest.raises(ConfigError, match="needs at least 537 characters"):
        load_rules(BROKEN / "rules_fit.toml", catalog, max_characters=520, url_length=43)


def test_fit_uses_the_shortest_sentence_of_a_quote(tmp_path: Path) -> None:
    # A long quote with an early sentence end can be shortened by decide, so a
    # template that fits its first sentence is fine.
    catalog_path = tmp_path / "catalog.toml"
    catalog_path.write_text(
        SMALL.read_text("utf-8").replace(
            "Une seule phrase très longue", "Court. Puis une seule phrase très longue"
        ),
        "utf-8",
    )
    load_rules(BROKEN / "rules_fit.toml", load_catalog(catalog_path), max_characters=500)


SEAM_CATALOG = f"""
[[essays]]
id = "essai"
title = "Un essai"
author = "Quelqu'un"
url = "https://example.org/essai"
language = "fr"

[[essays.quotes]]
id = "court"
text = "Court."
anchor_url = "https://example.org/essai#{"a" * 80}"

[[essays.quotes]]
id = "long"
text = "Une phrase un peu plus longue que l'autre."
anchor_url = "https://example.org/e"
"""

# "voir" glued to the link: the server sees no URL there and counts every
# character of it, where the link alone would count 23.
SEAM_RULES = """
[[rules]]
name = "citation"
action = "quote"
[rules.templates]
fr = "{requester} {quote} voir{quote_url}"
"""


def test_fit_counts_exactly_where_a_value_meets_the_template(tmp_path: Path) -> None:
    # Counted apart, the short quote with the long link looks shorter (6 + 23
    # against 42 + 23); counted in place, the long quote with the short link
    # is (42 + 21 against 6 + 106). The check must find the one that fits.
    (tmp_path / "catalog.toml").write_text(SEAM_CATALOG, "utf-8")
    (tmp_path / "rules.toml").write_text(SEAM_RULES, "utf-8")
    catalog = load_catalog(tmp_path / "catalog.toml")
    quote = "Une phrase un peu plus longue que l'autre."
    fits = status_length(f"{ASSUMED_REQUESTER} {quote} voirhttps://example.org/e")
    assert fits == 31 + 1 + 42 + 5 + 21
    assert load_rules(tmp_path / "rules.toml", catalog, max_characters=fits).rules
    needs = rf'needs at least {fits} characters \(with quote "long"\)'
    with pytest.raises(ConfigError, match=needs):
        load_rules(tmp_path / "rules.toml", catalog, max_characters=fits - 1)


def test_default_language_follows_the_setting() -> None:
    catalog = load_catalog(SMALL)
    rules = load_rules(BROKEN / "rules_language.toml", catalog, max_characters=500, language="en")
    assert rules.rules[0].templates == {"en": "{requester} {quote}"}


# -- load_config ---------------------------------------------------------------------


def test_load_config_reports_both_files_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(
            settings(
                catalog_path=BROKEN / "catalog_missing.toml",
                rules_path=BROKEN / "rules_regex.toml",
            )
        )
    files = {Path(p.path).name for p in caught.value.problems}
    assert files == {"catalog_missing.toml", "rules_regex.toml"}


def test_load_config_skips_references_when_the_catalog_is_broken() -> None:
    # rules_references.toml names unknown quotes; with no usable catalog those
    # checks are skipped rather than reported against nothing.
    with pytest.raises(ConfigError) as caught:
        load_config(
            settings(
                catalog_path=BROKEN / "catalog_syntax.toml",
                rules_path=BROKEN / "rules_references.toml",
            )
        )
    assert [Path(p.path).name for p in caught.value.problems] == ["catalog_syntax.toml"]


def test_load_config_bundled() -> None:
    config = load_config(settings())
    assert config.catalog.path == CATALOG
    assert config.rules.path == RULES
    assert config.index is not None


# -- the bundled catalog ------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


def test_bundled_essay(catalog: Catalog) -> None:
    (essay,) = catalog.essays
    assert essay.title == "L'IA est un problème, et pas celui que vous croyez"
    assert essay.author == "Pauline Harmange"
    assert essay.url == "https://mail.paulineharmange.fr/archive/ia-probleme/"
    assert essay.aliases == ("https://app.flus.fr/links/1853382202557961738",)
    assert essay.language == "fr"
    assert "iaprobleme" in essay.hashtags


def test_bundled_quotes_are_the_essay_not_the_reply(catalog: Catalog) -> None:
    quotes = catalog.quotes
    assert len(quotes) >= 8
    for quote in quotes:
        assert "spectacles par exemple" not in quote.text
        assert "moins « beau »" not in quote.text
        assert "@" not in quote.text
        # each quote is a whole passage: it starts like a sentence and ends like one
        assert quote.text[0].isupper() or quote.text[0] in "«"
        assert quote.text[-1] in ".!?»", quote.id
        assert quote.tags and quote.keywords, quote.id
        assert quote.anchor_url and quote.anchor_url.startswith(quote_essay_url(catalog, quote.id))
    assert catalog.quote("petites-voix") is not None


def quote_essay_url(catalog: Catalog, quote_id: str) -> str:
    quote = catalog.quote(quote_id)
    assert quote is not None
    essay = catalog.essay(quote.essay_id)
    assert essay is not None
    return essay.url


def test_bundled_prompts_speak_both_languages(catalog: Catalog) -> None:
    prompts = catalog.prompts
    assert len(prompts) >= 8
    for prompt in prompts:
        assert set(prompt.texts) >= {"fr", "en"}, prompt.id
        assert all(text.strip() for text in prompt.texts.values())
        assert prompt.tags, prompt.id
    petites_voix = catalog.prompt("q-petites-voix")
    assert petites_voix is not None
    assert "petites voix" in petites_voix.texts["fr"]
    assert "moyens" in petites_voix.texts["fr"]


def test_bundled_lines_point_at_the_tables(catalog: Catalog) -> None:
    lines = CATALOG.read_text("utf-8").splitlines()
    items: list[Essay | Quote | Prompt] = [*catalog.essays, *catalog.quotes, *catalog.prompts]
    for item in items:
        assert lines[item.line - 1].startswith("[["), item.id
        assert lines[item.line].strip() == f'id = "{item.id}"'


# -- lookups ---------------------------------------------------------------------


def test_lookups_by_id(catalog: Catalog) -> None:
    assert catalog.essay("ia-probleme") is catalog.essays[0]
    assert catalog.essay("nope") is None
    quote = catalog.quote("petites-voix")
    assert quote is not None and quote.essay_id == "ia-probleme"
    assert catalog.quote("q-petites-voix") is None  # a prompt is not a quote
    assert catalog.prompt("q-petites-voix") is not None
    assert catalog.prompt("petites-voix") is None


@pytest.mark.parametrize(
    "url",
    [
        "https://mail.paulineharmange.fr/archive/ia-probleme/",
        # no trailing slash
        "https://mail.paulineharmange.fr/archive/ia-probleme",
        # tracking parameters
        "https://mail.paulineharmange.fr/archive/ia-probleme/?utm_source=mastodon",
        # www. and http
        "http://www.mail.paulineharmange.fr/archive/ia-probleme/",
        # a fragment (such as a quote's anchor) is the same page
        "https://mail.paulineharmange.fr/archive/ia-probleme/#:~:text=des%20petites%20voix",
        # the aggregator alias
        "https://app.flus.fr/links/1853382202557961738",
    ],
)
def test_essay_by_url(catalog: Catalog, url: str) -> None:
    assert catalog.essay_by_url(url) is catalog.essays[0]


@pytest.mark.parametrize(
    "url",
    [
        "https://mail.paulineharmange.fr/archive/",
        "https://mail.paulineharmange.fr/archive/ia-probleme-2/",
        "https://example.org/",
    ],
)
def test_essay_by_url_unknown(catalog: Catalog, url: str) -> None:
    assert catalog.essay_by_url(url) is None


@pytest.mark.parametrize("tag", ["iaprobleme", "#iaprobleme", "IAProbleme", "#IAProblème"])
def test_essay_by_hashtag(catalog: Catalog, tag: str) -> None:
    assert catalog.essay_by_hashtag(tag) is catalog.essays[0]


def test_essay_by_hashtag_unknown(catalog: Catalog) -> None:
    assert catalog.essay_by_hashtag("ia") is None


# -- the bundled rules -------------------------------------------------------------


def test_bundled_rules_order(catalog: Catalog) -> None:
    ruleset = load_rules(RULES, catalog, max_characters=500)
    names = [rule.name for rule in ruleset.rules]
    assert names == [
        "stop",
        "start",
        "supprime",
        "aide",
        "pourquoi",
        "source",
        "question",
        "citation",
        "apaisement",
        "citation-par-defaut",
        "question-par-defaut",
        "aide-vide",
        "lien-par-defaut",
        # wording only, never matched (see bot.model.catalog.SPECIAL_TEMPLATES)
        "unknown_essay",
        "why_nothing",
    ]
    commands = {rule.name: set(rule.conditions.commands) for rule in ruleset.rules}
    assert commands["stop"] == {"stop", "arrête"}
    assert commands["start"] == {"start"}
    # Consent, take-back and why act only on a request that stands alone.
    alone = {rule.name for rule in ruleset.rules if rule.conditions.alone}
    assert alone == {"stop", "start", "supprime", "pourquoi"}
    assert {"aide", "help"} <= commands["aide"]
    assert {"pourquoi", "why"} <= commands["pourquoi"]
    assert {"source", "lien"} <= commands["source"]
    assert {"question", "prompt"} <= commands["question"]
    assert {"citation", "quote"} <= commands["citation"]
    actions = {rule.name: rule.action for rule in ruleset.rules}
    assert actions["stop"] is Action.STOP and actions["start"] is Action.START
    assert actions["aide"] is Action.HELP and actions["pourquoi"] is Action.WHY
    assert actions["source"] is Action.LINK and actions["question"] is Action.PROMPT
    assert actions["citation"] is Action.QUOTE and actions["apaisement"] is Action.DEESCALATE
    apaisement = ruleset.rule("apaisement")
    assert apaisement is not None and apaisement.conditions.min_heat is not None
    assert all(rule.mode is Mode.LIVE for rule in ruleset.rules)
    # the default rules have no conditions at all
    for name in ("citation-par-defaut", "question-par-defaut", "lien-par-defaut"):
        rule = ruleset.rule(name)
        assert rule is not None and not rule.conditions.commands


def test_bundled_command_words_are_unique(catalog: Catalog) -> None:
    from bot.text.fold import fold

    ruleset = load_rules(RULES, catalog, max_characters=500)
    words = [fold(word) for rule in ruleset.rules for word in rule.conditions.commands]
    assert len(words) == len(set(words))


def test_bundled_templates_speak_both_languages(catalog: Catalog) -> None:
    ruleset = load_rules(RULES, catalog, max_characters=500)
    for rule in ruleset.rules:
        assert set(rule.templates) == {"fr", "en"}, rule.name
        for lang, template in rule.templates.items():
            assert template.startswith("{requester} "), (rule.name, lang)
            assert ruleset.templates[(rule.name, lang)].source == template


def test_bundled_french_typography(catalog: Catalog) -> None:
    ruleset = load_rules(RULES, catalog, max_characters=500)
    texts = [rule.templates["fr"] for rule in ruleset.rules]
    texts += [prompt.texts["fr"] for prompt in catalog.prompts]
    for text in texts:
        # a no-break space before : ; ! ? and inside « », never a plain one
        assert not re.search(r" [:;!?»]", text), text
        assert "« " not in text, text
        assert unicodedata.normalize("NFC", text) == text


def _values(catalog: Catalog, rule_name: str) -> dict[str, str]:
    essay = catalog.essays[0]
    return {
        "requester": ASSUMED_REQUESTER,
        "author": essay.author,
        "essay_title": essay.title,
        "essay_url": essay.url,
        "essays": essay.title,
        "rules_url": "https://example.org/about/rules",
        "rule": rule_name,
        "why": "x" * 100,
        "heat": "0.82",
        "quote": "",
        "quote_url": essay.url,
        "prompt": "",
    }


def test_every_bundled_quote_and_prompt_fits_whole(catalog: Catalog) -> None:
    """With a 30-character handle, no quote or prompt ever needs shortening in
    the shipped templates, and at least 40 characters remain for a CW."""
    ruleset = load_rules(RULES, catalog, max_characters=500)
    for (name, lang), template in ruleset.templates.items():
        for quote in catalog.quotes if "quote" in template.fields else [None]:
            for prompt in catalog.prompts if "prompt" in template.fields else [None]:
                values = _values(catalog, name)
                if quote is not None:
                    values["quote"] = quote.text
                    values["quote_url"] = quote.anchor_url or values["essay_url"]
                if prompt is not None:
                    values["prompt"] = prompt.texts[lang]
                text = render(template, values)
                assert status_length(text) <= 460, (name, lang, quote, prompt)


def test_help_lists_every_command(catalog: Catalog) -> None:
    ruleset = load_rules(RULES, catalog, max_characters=500)
    for lang, words in {
        "fr": ("citation", "question", "source", "pourquoi", "stop", "start"),
        "en": ("quote", "question", "source", "why", "stop", "start"),
    }.items():
        text = ruleset.templates[("aide", lang)].source
        for word in words:
            assert re.search(rf"^{word}\b|/ {word}\b", text, re.MULTILINE), (lang, word)


def test_bundled_rules_leave_room(catalog: Catalog) -> None:
    # A long content warning or handle still leaves room for every shipped
    # rule: the quote rules shorten long quotes at a sentence boundary.
    load_rules(RULES, catalog, max_characters=450)
    with pytest.raises(ConfigError) as caught:
        load_rules(RULES, catalog, max_characters=300)
    assert {p.where for p in caught.value.problems} >= {'rule "aide"'}


# -- ranking finds the right passage -------------------------------------------------

# What people write under the essay, and the quote and prompt that answer it.
# These pin the catalog's keywords (French and English), not the ranker.
RANKING = [
    # the reader's reply from the seed thread: posters for shows, no money for designers
    (SEED_REPLY, "fr", "petites-voix", "q-petites-voix"),
    (
        "For shows, for example. Making AI-generated posters is lame when you can just reuse"
        " photos from previous shows.",
        "en",
        "petites-voix",
        "q-petites-voix",
    ),
    (
        "On n'a pas de budget pour payer un graphiste, on fait comment ?",
        "fr",
        "petites-voix",
        "q-petites-voix",
    ),
    ("We can't afford a designer for our gig posters", "en", "petites-voix", "q-petites-voix"),
    (
        "Faut pas tout mélanger, une affiche pour un concert c'est pas de la propagande d'extrême"
        " droite",
        "fr",
        "meme-panier",
        "q-meme-panier",
    ),
    (
        "C'est juste un outil, tout dépend de ce qu'on en fait",
        "fr",
        "outil-fascisme",
        "q-outil-fascisme",
    ),
    ("It's just a tool, it depends how you use it", "en", "outil-fascisme", "q-outil-fascisme"),
    ("Avant on se débrouillait très bien sans IA", "fr", "deux-ans", "q-deux-ans"),
    ("How did we do it two years ago, before ChatGPT?", "en", "deux-ans", "q-deux-ans"),
    ("L'art c'est ce qui nous rend humains", "fr", "choses-precieuses", "q-choses-precieuses"),
    ("Art is what makes us human", "en", "choses-precieuses", "q-choses-precieuses"),
    ("Au boulot ça nous fait gagner un temps fou", "fr", "productivite", "q-productivite"),
    ("AI makes me so much more productive at work", "en", "productivite", "q-productivite"),
    (
        "Les boîtes virent des gens pour les remplacer par des IA",
        "fr",
        "au-profit-des-patrons",
        "q-au-profit-des-patrons",
    ),
    (
        "Companies are firing people and replacing them with AI",
        "en",
        "au-profit-des-patrons",
        "q-au-profit-des-patrons",
    ),
    (
        "OpenAI veut atteindre l'AGI en augmentant la puissance de calcul",
        "fr",
        "plan-milliardaires",
        "q-ressources",
    ),
    ("Les data centers pompent l'eau des rivières", "fr", "ressources-finies", "q-ressources"),
    ("Datacenters use so much water and electricity", "en", "ressources-finies", "q-ressources"),
]


@pytest.mark.parametrize(("mention", "language", "quote", "prompt"), RANKING)
def test_catalog_keywords_find_the_passage(
    catalog: Catalog, mention: str, language: str, quote: str, prompt: str
) -> None:
    from bot.rank.index import Index
    from bot.rank.query import Query

    index = Index.build(catalog.essays)
    query = Query(mention=mention, thread=(), language=language)
    quotes = index.score([q.id for q in catalog.quotes], query)
    assert quotes[0].id == quote, quotes[:3]
    prompts = index.score([p.id for p in catalog.prompts], query)
    assert prompts[0].id == prompt, prompts[:3]


# -- line recovery -------------------------------------------------------------------


def test_lines_follow_headers_keys_and_skip_multiline_strings() -> None:
    source = "\n".join(
        [
            "[[rules]]",  # 1
            'name = "a"',  # 2
            'when.commands = ["x"]',  # 3
            "[rules.templates]",  # 4
            'fr = """',  # 5
            "[[rules]]",  # 6 inside a string: not a header
            'name = "fake"',  # 7 inside a string: not a key
            '"""',  # 8
            'en = "{requester}"',  # 9
            "[[rules]]  # the second rule",  # 10
            'name = "b"',  # 11
            "[ rules . when ]",  # 12
            "regex = [",  # 13
            "  '(',",  # 14
            "]",  # 15
        ]
    )
    lines = Lines(source)
    assert lines.line((("rules", 0),)) == 1
    assert lines.line((("rules", 0),), "name") == 2
    assert lines.line((("rules", 0), ("when", None)), "commands") == 3
    assert lines.line((("rules", 0),), "when") == 3
    assert lines.line((("rules", 0), ("templates", None)), "fr") == 5
    assert lines.line((("rules", 0), ("templates", None)), "en") == 9
    assert lines.line((("rules", 1),), "name") == 11
    assert lines.line((("rules", 1),), "when") == 12
    assert lines.line((("rules", 1), ("when", None)), "regex") == 13
    # unknown keys fall back to their table, unknown tables to the top
    assert lines.line((("rules", 1),), "mode") == 10
    assert lines.line((("rules", 7),)) == 1


def test_lines_count_nested_arrays_per_parent() -> None:
    source = "\n".join(
        [
            "[[essays]]",  # 1
            "[[essays.quotes]]",  # 2
            "[[essays.quotes]]",  # 3
            "[[essays]]",  # 4
            "[[essays.quotes]]",  # 5
            "[[essays.prompts]]",  # 6
            "[essays.prompts.text]",  # 7
            "fr = 'x'",  # 8
        ]
    )
    lines = Lines(source)
    assert lines.line((("essays", 0), ("quotes", 1))) == 3
    assert lines.line((("essays", 1), ("quotes", 0))) == 5
    assert lines.line((("essays", 1), ("prompts", 0), ("text", None)), "fr") == 8
    assert lines.line((("essays", 1), ("prompts", 0)), "text") == 7


def test_lines_place_keys_only_once_one_is_asked_for() -> None:
    # Loading a valid catalog only asks where tables start; the lines of keys
    # serve problem reports, and are found then.
    lines = Lines(CATALOG.read_text("utf-8"))
    first_quote = (("essays", 0), ("quotes", 0))
    header = lines.line(first_quote)
    assert lines._keys is None
    assert lines.line(first_quote, "id") == header + 1
    assert lines.line(first_quote, "tags") == header + 3
    assert lines._keys is not None


def test_lines_of_a_file_keep_no_text_and_read_the_file_again_for_keys(tmp_path: Path) -> None:
    # A large catalog's text is not held for the whole load: the lines of
    # keys a problem needs are found by reading the file again.
    path = tmp_path / "catalog.toml"
    source = CATALOG.read_text("utf-8")
    path.write_text(source, encoding="utf-8")
    lines = Lines(source, path)
    assert lines._text is None
    first_quote = (("essays", 0), ("quotes", 0))
    header = lines.line(first_quote)
    assert lines.line(first_quote, "id") == header + 1
    assert lines.line(first_quote, "tags") == header + 3


@pytest.mark.parametrize("change", ["lines added", "same length", "removed"])
def test_lines_fall_back_to_headers_when_the_file_changed(tmp_path: Path, change: str) -> None:
    # The file changed between the load and the first problem: what is read
    # now is not what was scanned, so a key is placed on the header line of
    # its table, read with the rest and still right.
    path = tmp_path / "catalog.toml"
    source = CATALOG.read_text("utf-8")
    path.write_text(source, encoding="utf-8")
    lines = Lines(source, path)
    if change == "lines added":
        path.write_text("# reviewed\n\n" + source, encoding="utf-8")
    elif change == "same length":
        path.write_text(source.replace("id = ", "id= ", 1) + " ", encoding="utf-8")
    else:
        path.unlink()
    first_quote = (("essays", 0), ("quotes", 0))
    header = lines.line(first_quote)
    assert lines.line(first_quote, "tags") == header
    assert lines.line((("essays", 0),), "title") == lines.line((("essays", 0),))


def test_a_catalog_edited_while_it_loads_reports_problems_on_header_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "catalog.toml"
    source = (BROKEN / "catalog_keys.toml").read_text("utf-8")
    path.write_text(source, encoding="utf-8")

    def parse_then_edit(
        file: Path, text: str, what: str
    ) -> tuple[dict[str, Any] | None, list[Problem]]:
        parsed = _parse_toml(file, text, what)
        path.write_text("# edited\n" + source, encoding="utf-8")
        return parsed

    monkeypatch.setattr("bot.catalog.checks._parse_toml", parse_then_edit)
    with pytest.raises(ConfigError) as caught:
        load_catalog(path)
    # Lines 16 and 20 are keys; 13, 18 and 24 the headers of their tables.
    assert [(p.line, p.where) for p in caught.value.problems] == [
        (13, 'quote "q"'),
        (18, 'prompt "p"'),
        (24, 'prompt "p2"'),
    ]


def test_lines_are_split_as_splitlines_splits_them() -> None:
    # The source is read a piece at a time; a piece ends after a newline, so
    # a CR LF pair or another line boundary is never cut in two.
    source = "a\r\nb\rc\n\nd\u2028e\x85f\x0cg\r\n\r\nh\n\ni"
    for piece in range(len(source) + 2):
        assert list(_split_lines(source, piece)) == source.splitlines(), piece
    assert list(_split_lines("")) == []


# -- what a rule compiles to ----------------------------------------------------------

FULL_RULE = """
[[rules]]
name = "visuels"
action = "quote"
mode = "observe"
quotes = ["courte", "longue"]
tags = ["Court"]
notify_moderators = true
[rules.when]
commands = ["citation", "Quote"]
keywords = ["affiche", "graphiste"]
thread_keywords = ["spectacle"]
regex = ['\\bvisuels?\\b']
thread_regex = ["affiches?"]
not_keywords = ["stop"]
languages = ["fr", "en"]
essays = ["essai"]
visibilities = ["public", "direct"]
min_depth = 1
max_depth = 20
min_heat = 0
max_heat = 0.5
[rules.templates]
fr = "{requester} « {quote} » {quote_url}"
en = "{requester} “{quote}” {quote_url}"
"""


def test_a_rule_compiles_to_the_model(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(FULL_RULE, "utf-8")
    ruleset = load_rules(path, load_catalog(SMALL), max_characters=600)
    (rule,) = ruleset.rules
    assert rule.name == "visuels" and rule.line == 2
    assert rule.action is Action.QUOTE and rule.mode is Mode.OBSERVE
    assert rule.quotes == ("courte", "longue") and rule.tags == ("Court",)
    assert rule.notify_moderators is True
    when = rule.conditions
    assert when.commands == ("citation", "Quote")
    assert when.keywords == ("affiche", "graphiste")
    assert when.thread_keywords == ("spectacle",)
    assert when.regex == (r"\bvisuels?\b",) and when.thread_regex == ("affiches?",)
    assert when.not_keywords == ("stop",)
    assert when.languages == ("fr", "en") and when.essays == ("essai",)
    # narrowest first, whatever order the file used
    assert when.visibilities == ("direct", "public")
    assert (when.min_depth, when.max_depth) == (1, 20)
    assert (when.min_heat, when.max_heat) == (0.0, 0.5)
    assert rule.templates == {
        "fr": "{requester} « {quote} » {quote_url}",
        "en": "{requester} “{quote}” {quote_url}",
    }
    assert ruleset.templates[("visuels", "fr")].fields == ("requester", "quote", "quote_url")
    assert ruleset.rule("visuels") is rule and ruleset.rule("nope") is None


def test_defaults_of_a_minimal_rule(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rules]]\nname = "r"\naction = "link"\ntemplates.fr = "{requester} {essay_url}"\n'
    )
    (rule,) = load_rules(path, load_catalog(SMALL), max_characters=500).rules
    assert rule.mode is Mode.LIVE and rule.notify_moderators is False
    assert rule.conditions == type(rule.conditions)()
    assert (rule.quotes, rule.prompts, rule.tags) == ((), (), ())


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_heat_bounds_are_finite_and_positive(tmp_path: Path, value: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rules]]\nname = "r"\naction = "link"\nwhen.min_heat = '
        + value
        + '\ntemplates.fr = "{requester} {essay_url}"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_rules(path, load_catalog(SMALL), max_characters=500)
    (problem,) = caught.value.problems
    assert problem.line == 4 and "'min_heat' must be a finite number" in problem.message


def test_hashtags_compare_folded(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    two = SMALL.read_text("utf-8") + (
        '\n[[essays]]\nid = "autre"\ntitle = "Autre"\nauthor = "A"\n'
        'url = "https://example.org/autre/"\nlanguage = "fr"\nhashtags = ["ÉSSAI"]\n'
        '[[essays.quotes]]\nid = "q-autre"\ntext = "Une phrase."\n'
    )
    path.write_text(two, "utf-8")
    with pytest.raises(ConfigError, match="hashtag #ÉSSAI already belongs to essay"):
        load_catalog(path)


def test_repeated_tags_keywords_and_languages_are_one_object(tmp_path: Path) -> None:
    # The catalog lives as long as the process: a tag used by a thousand
    # quotes is kept once, and so is an identical list of tags.
    path = tmp_path / "catalog.toml"
    path.write_text(
        '[[essays]]\nid = "e"\ntitle = "T"\nauthor = "A"\nurl = "https://example.org/e/"\n'
        'language = "fr"\n'
        + "".join(
            f'[[essays.quotes]]\nid = "q{n}"\ntext = "Une phrase {n}."\n'
            f'tags = ["visuels", "debat"]\nkeywords = ["affiche", "mot {n}"]\n'
            for n in range(2)
        )
        + "".join(
            f'[[essays.prompts]]\nid = "p{n}"\ntags = ["visuels"]\n'
            f'[essays.prompts.text]\nfr = "Relisez {n}."\n'
            for n in range(2)
        ),
        "utf-8",
    )
    (essay,) = load_catalog(path).essays
    first, second = essay.quotes
    assert first.tags == ("visuels", "debat") and first.tags is second.tags
    assert first.keywords == ("affiche", "mot 0") and second.keywords == ("affiche", "mot 1")
    assert first.keywords[0] is second.keywords[0]
    one, two = essay.prompts
    assert one.tags[0] is first.tags[0]
    ((lang_one, _),), ((lang_two, _),) = one.texts.items(), two.texts.items()
    assert lang_one == "fr" and lang_one is lang_two


# -- the documented formats ------------------------------------------------------------


def _documented(title: str) -> str:
    import textwrap

    import bot.catalog.load

    doc = bot.catalog.load.__doc__ or ""
    start = doc.index(title)
    block = doc[doc.index("::\n", start) + 3 :]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


def test_documented_formats_load(tmp_path: Path) -> None:
    catalog_path = tmp_path / "catalog.toml"
    catalog_path.write_text(_documented("Catalog format"), "utf-8")
    rules_path = tmp_path / "rules.toml"
    rules_path.write_text(_documented("Rules format"), "utf-8")
    catalog = load_catalog(catalog_path)
    assert [q.id for q in catalog.quotes] == ["petites-voix"]
    (rule,) = load_rules(rules_path, catalog, max_characters=500).rules
    assert rule.conditions.commands == ("citation", "quote")
    assert rule.conditions.max_heat == 1.0
