"""Templates, lengths and mention neutralising: the text the bot actually posts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mastodon import Mastodon

from bot.text.render import (
    ELLIPSIS,
    PLACEHOLDERS,
    ZERO_WIDTH_SPACE,
    Template,
    neutralise_mentions,
    parse_template,
    render,
    sentence_ends,
    shorten_at_sentence,
    shortest_form,
    status_length,
)

# -- parse_template ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "fields"),
    [
        # plain placeholders, each listed once, in order of first use
        ("{requester} « {quote} »", ("requester", "quote")),
        ("{quote} {author} {quote}", ("quote", "author")),
        # no placeholder at all is a valid (if odd) template
        ("plain text", ()),
        ("", ()),
        # doubled braces are literal braces, not fields
        ("{{literal}}", ()),
        ("{{{quote}}}", ("quote",)),
        # every documented placeholder is accepted
        (" ".join(f"{{{name}}}" for name in sorted(PLACEHOLDERS)), tuple(sorted(PLACEHOLDERS))),
        # multi-line templates
        ("{requester}\n\n{prompt}\n{essay_url}", ("requester", "prompt", "essay_url")),
    ],
)
def test_parse_accepts(source: str, fields: tuple[str, ...]) -> None:
    template = parse_template(source, "fr")
    assert template == Template(language="fr", source=source, fields=fields)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # attribute access: the classic str.format escape hatch
        ("{0.__class__}", "attribute access"),
        ("{quote.__class__.__mro__}", "attribute access"),
        ("{a.b}", "attribute access"),
        # index access
        ("{a[0]}", "index access"),
        ("{quote[0]}", "index access"),
        # conversions and format specs
        ("{a!r}", "conversion"),
        ("{quote!s}", "conversion"),
        ("{a:>9}", "format spec"),
        ("{quote:{width}}", "unbalanced"),
        # positional fields
        ("{}", "positional"),
        ("{0}", "positional"),
        # names outside the allowed set, including the settings object
        ("{settings}", "unknown placeholder {settings}"),
        ("{access_token}", "unknown placeholder"),
        ("{__import__}", "unknown placeholder"),
        # a near miss gets a suggestion
        ("{qoute}", "did you mean {quote}"),
        ("{Quote}", "did you mean {quote}"),
        # spaces are not trimmed silently
        ("{ quote }", "spaces inside"),
        # unbalanced braces
        ("{quote", "never closed"),
        ("quote}", "closes nothing"),
        ("{quote}}", "closes nothing"),
        ("{{quote}", "closes nothing"),
        ("{a{quote}", "never closed"),
        ("}{", "closes nothing"),
    ],
)
def test_parse_rejects(source: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_template(source, "fr")


def test_parse_error_gives_the_column() -> None:
    with pytest.raises(ValueError, match="column 13"):
        parse_template("{requester} {nope}", "fr")


# -- render -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("{requester} « {quote} »", {"requester": "@a", "quote": "Q"}, "@a « Q »"),
        ("{{literal}} {quote}", {"quote": "Q"}, "{literal} Q"),
        # values are inserted verbatim, never parsed again
        ("{quote}", {"quote": "{quote}"}, "{quote}"),
        ("{quote}", {"quote": "{0.__class__} {settings} {{x}}"}, "{0.__class__} {settings} {{x}}"),
        ("{quote} {author}", {"quote": "{author}", "author": "A"}, "{author} A"),
        # extra values are ignored
        ("{quote}", {"quote": "Q", "author": "A"}, "Q"),
        # a placeholder used twice gets the same value twice
        ("{quote}/{quote}", {"quote": "Q"}, "Q/Q"),
    ],
)
def test_render(source: str, values: dict[str, str], expected: str) -> None:
    assert render(parse_template(source, "fr"), values) == expected


def test_render_reports_a_missing_value() -> None:
    with pytest.raises(KeyError, match="author"):
        render(parse_template("{quote} {author}", "fr"), {"quote": "Q"})


def test_render_refuses_a_template_built_around_the_parser() -> None:
    # A Template made by hand with a bad source cannot smuggle in attribute access.
    forged = Template(language="fr", source="{quote.__class__}", fields=("quote",))
    with pytest.raises(ValueError, match="attribute access"):
        render(forged, {"quote": "Q"})


# -- status_length ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spoiler", "url_length", "expected"),
    [
        ("abc", "", 23, 3),
        # the CW counts
        ("abc", "CW", 23, 5),
        # every URL counts url_length, short or long
        ("hi https://a.io", "", 23, 26),
        ("hi https://example.org/" + "x" * 200, "", 23, 26),
        ("hi https://a.io", "", 30, 33),
        ("https://a.io https://b.io", "", 10, 21),
        # a text fragment is part of the URL
        ("x https://example.org/page/#:~:text=des%20petites%20voix", "", 23, 25),
        # a remote mention counts as its local part
        ("@alice@very.long.example.social hello", "", 23, 12),
        # graphemes, not code points: a family emoji is one
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467", "", 23, 1),
        # e-acute written with a combining accent is one grapheme
        ("e\u0301", "", 23, 1),
    ],
)
def test_status_length(text: str, spoiler: str, url_length: int, expected: int) -> None:
    assert status_length(text, spoiler, url_length=url_length) == expected


def test_status_length_agrees_with_mastodon_py_at_23() -> None:
    text = "@bob@example.social voir https://mail.example.org/archive/x/ et « ça »"
    assert status_length(text, "cw") == Mastodon.get_status_length(text, "cw")


# The characters ``status_length`` counts with ``len()`` (``_ONE_CLUSTER_EACH``).
STANDALONE = [
    chr(c)
    for c in (
        *range(0x0D),
        *range(0x0E, 0x0300),
        0x200B,
        *range(0x2010, 0x2028),
        *range(0x202F, 0x203B),
        0x20AC,
    )
]


def test_every_character_counted_by_len_is_one_grapheme_next_to_any_other() -> None:
    # Each alone, and each after and before a sample of the others (every
    # pair is 650,000 calls; the sample keeps every kind: ASCII, controls,
    # Latin-1, Latin Extended, spacing modifiers, punctuation).
    sample = [*STANDALONE[::7], "\n", "\u00a0", "\u2019", "\u200b", "\u202f", "\u2026"]
    for char in STANDALONE:
        assert Mastodon.get_status_length(char) == 1 == status_length(char), hex(ord(char))
        for other in sample:
            pair = char + other + char
            assert status_length(pair) == Mastodon.get_status_length(pair) == 3, pair


# Pieces of text: characters counted with len(), characters that are not
# (CR before LF, a combining accent, a joiner, half a flag), what starts a
# mention, URLs, and what may or may not let a URL start or go on.
PIECES = st.sampled_from(
    [
        *STANDALONE[::3],
        *("\r", "\n", "\u0301", "\u200d", "\U0001f1eb", "\U0001f468"),
        *("@", "@bob@example.social", "://", "x", "/", " "),
        *("https://a.io/x", "http://b.example.org/page#:~:text=x%20y", "HTTPS://C.FR"),
    ]
)


@settings(max_examples=400)
@given(
    st.lists(PIECES, max_size=30).map("".join),
    st.lists(PIECES, max_size=3).map("".join),
    st.sampled_from([10, 23, 30]),
)
def test_status_length_counts_like_mastodon_py_with_or_without_the_shortcut(
    text: str, spoiler: str, url_length: int
) -> None:
    from mastodon._url_regex import url_regex

    expected = Mastodon.get_status_length(text, spoiler)
    expected += sum(1 for _ in url_regex.finditer(text)) * (url_length - 23)
    assert status_length(text, spoiler, url_length=url_length) == expected


# -- neutralise_mentions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a local and a remote mention: the @ gets a zero-width space after it
        ("@someone", "@\u200bsomeone"),
        ("@someone@domain.tld", "@\u200bsomeone@domain.tld"),
        ("voir @a et @b.", "voir @\u200ba et @\u200bb."),
        ("(@someone)", "(@\u200bsomeone)"),
        ("«@someone»", "«@\u200bsomeone»"),
        ("line\n@someone", "line\n@\u200bsomeone"),
        # e-mail addresses stay readable and untouched
        ("write to someone@example.org", "write to someone@example.org"),
        # a profile URL keeps working
        ("https://mastodon.social/@someone", "https://mastodon.social/@someone"),
        # a lone @ or an @ before punctuation starts nothing
        ("rdv @ 18h", "rdv @ 18h"),
        ("@!", "@!"),
        ("", ""),
    ],
)
def test_neutralise_mentions(text: str, expected: str) -> None:
    assert neutralise_mentions(text) == expected


def test_neutralised_mention_is_not_counted_as_a_mention() -> None:
    # The server shortens a remote mention to its local part when counting; once
    # neutralised it is plain text again and counts in full.
    text = neutralise_mentions("@alice@very.long.example.social")
    assert status_length(text) == len("@alice@very.long.example.social") + 1
    assert ZERO_WIDTH_SPACE in text


def test_neutralise_is_idempotent() -> None:
    once = neutralise_mentions("@a @b@c.d")
    assert neutralise_mentions(once) == once


# -- sentences and shortening -------------------------------------------------------------

PANIER = (
    "D’un côté, celleux qui refusaient que soient mis dans le même panier un simple visuel"
    " pour informer d’un événement, et la diffusion de fake news et la montée de"
    " l’extrême-droite. « Ce n’est pas la même chose ! », criaient-iels, épouvanté·es de"
    " l’amalgame."
)
PATRONS = (
    "Et c’est aussi déjà des milliers d’emplois qui ont été supprimés au profit des"
    " intelligences artificielles. Enfin non. Au profit des patrons. Parce qu’il faut"
    " continuer de se dire que tout l’intérêt de toute entreprise capitaliste est de"
    " maximiser ses profits."
)


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("Un. Deux. Trois.", ["Un.", "Un. Deux.", "Un. Deux. Trois."]),
        ("Quoi ? Oui ! Bon…", ["Quoi ?", "Quoi ? Oui !", "Quoi ? Oui ! Bon…"]),
        # a "!" inside a quotation followed by a comma does not end the sentence
        (PANIER, [PANIER[: PANIER.index("droite.") + 7], PANIER]),
        # "(…)," is an elision, not an ending
        ("À ce que je sache (…), le seul plan.", ["À ce que je sache (…), le seul plan."]),
        # a closing quote belongs to the sentence it ends
        (
            "Elle dit : « Non. » Puis rien.",
            ["Elle dit : « Non. »", "Elle dit : « Non. » Puis rien."],
        ),
        # a question inside a quotation, carried on by a lower-case word
        (
            "« Et alors ? » se demanda-t-elle. Fin.",
            ["« Et alors ? » se demanda-t-elle.", "« Et alors ? » se demanda-t-elle. Fin."],
        ),
        # no ending at all
        ("sans point final", []),
    ],
)
def test_sentence_ends(text: str, ends: list[str]) -> None:
    assert [text[:end] for end in sentence_ends(text)] == ends


def test_shorten_returns_the_text_when_it_fits() -> None:
    assert shorten_at_sentence(PATRONS, len(PATRONS)) == PATRONS


@pytest.mark.parametrize(
    ("max_length", "expected"),
    [
        # room for two sentences (plus the ellipsis)
        (
            130,
            "Et c’est aussi déjà des milliers d’emplois qui ont été supprimés au profit des"
            " intelligences artificielles. Enfin non." + ELLIPSIS,
        ),
        # room for the first only
        (
            110,
            "Et c’est aussi déjà des milliers d’emplois qui ont été supprimés au profit des"
            " intelligences artificielles." + ELLIPSIS,
        ),
        # not even the first sentence fits
        (50, None),
    ],
)
def test_shorten_at_sentence(max_length: int, expected: str | None) -> None:
    assert shorten_at_sentence(PATRONS, max_length) == expected


def test_shorten_never_cuts_mid_word() -> None:
    words = set(PATRONS.replace(".", " ").split())
    for max_length in range(0, len(PATRONS) + 5):
        short = shorten_at_sentence(PATRONS, max_length)
        if short is None:
            continue
        assert status_length(short) <= max_length
        assert short == PATRONS or short.endswith(ELLIPSIS)
        body = short.removesuffix(ELLIPSIS)
        assert PATRONS.startswith(body)
        assert body.split()[-1].rstrip(".") in words


def test_shorten_never_leaves_a_quotation_open() -> None:
    text = "Elle dit : « Non. Jamais. » Puis elle est partie."
    # The only fitting boundary inside the quotation would misquote; the one after it is used.
    assert shorten_at_sentence(text, 30) == "Elle dit : « Non. Jamais. »" + ELLIPSIS
    assert shorten_at_sentence(text, 25) is None


def test_shorten_counts_urls_as_the_instance_does() -> None:
    text = "Lire https://example.org/" + "x" * 100 + ". Puis la suite du texte."
    assert shorten_at_sentence(text, 40) == text[: text.index(". ") + 1] + ELLIPSIS


def test_shortest_form() -> None:
    assert shortest_form(PATRONS) == PATRONS[: PATRONS.index("artificielles.") + 14] + ELLIPSIS
    assert shortest_form("Une seule phrase.") == "Une seule phrase."
    assert shortest_form("sans fin") == "sans fin"


# -- properties ----------------------------------------------------------------------


# The server's mention pattern (app/models/account.rb, MENTION_RE), in Python terms.
SERVER_MENTION = re.compile(r"(?<![=/\w])@(([a-z0-9_]+)(?:@[\w.-]+\w)?)", re.IGNORECASE)

_TEXT = st.lists(
    st.sampled_from([*"ab_Z9 @.-/=«»!?…\n{}éß", "@x", "a@b.c", "\u200b"]), max_size=40
).map("".join)


@given(_TEXT)
def test_no_mention_survives_neutralising(text: str) -> None:
    assert not SERVER_MENTION.search(neutralise_mentions(text))


@given(_TEXT)
def test_neutralising_only_adds_zero_width_spaces(text: str) -> None:
    assert neutralise_mentions(text).replace(ZERO_WIDTH_SPACE, "") == text.replace(
        ZERO_WIDTH_SPACE, ""
    )


@given(st.text(max_size=80))
def test_values_are_inserted_verbatim(value: str) -> None:
    template = parse_template("{requester} {{x}} {quote}", "fr")
    assert render(template, {"requester": "@a", "quote": value}) == "@a {x} " + value


@given(st.lists(st.sampled_from([*"{}abq_.:!0[] ", "quote"]), max_size=20).map("".join))
def test_parsing_fails_only_with_value_error(source: str) -> None:
    try:
        template = parse_template(source, "fr")
    except ValueError:
        return
    assert set(template.fields) <= PLACEHOLDERS


_SENTENCES = st.lists(
    st.builds(
        lambda words, end: " ".join(words) + end,
        st.lists(
            st.sampled_from(["Une", "phrase", "longue", "« mot »", "l’idée", "(…)"]),
            min_size=1,
            max_size=8,
        ),
        st.sampled_from([".", " !", " ?", "…"]),
    ),
    min_size=1,
    max_size=6,
)


@given(_SENTENCES, st.integers(min_value=0, max_value=200))
def test_shortening_keeps_whole_sentences(sentences: list[str], max_length: int) -> None:
    text = " ".join(sentences)
    short = shorten_at_sentence(text, max_length)
    if short is None:
        return
    assert status_length(short) <= max_length
    if short != text:
        body = short.removesuffix(ELLIPSIS)
        assert len(body) in sentence_ends(text)
        assert text.startswith(body)
