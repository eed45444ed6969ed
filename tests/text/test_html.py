"""bot.text: folding, Mastodon HTML to plain text, typed text."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model.post import MentionRef, PlainText
from bot.text.fold import fold
from bot.text.html import MAX_HTML_CHARS, acct_from_mention, html_to_text
from bot.text.plain import plain_to_text

STATUSES = json.loads(
    (Path(__file__).parents[1] / "data" / "html" / "statuses.json").read_text(encoding="utf-8")
)


# -- fold ----------------------------------------------------------------------

FOLD_CASES = [
    # (input, folded, why)
    ("Générées", "generees", "accents and case"),
    ("L’IA", "l'ia", "typographic apostrophe U+2019"),
    ("lʼIA", "l'ia", "modifier letter apostrophe U+02BC"),
    ("‘quote’", "'quote'", "single quotation marks"),
    ("ÇA ÉTAIT", "ca etait", "capital accented letters"),
    ("Straße", "strasse", "casefold, not lower"),
    ("cœur Æsop", "coeur aesop", "ligatures readers type as two letters"),
    ("ﬁn", "fin", "NFKC compatibility ligature"),
    ("e\u0301te\u0301", "ete", "decomposed accents"),
    ("dé\u200bjà", "deja", "zero-width space inside a word"),
    ("\ufeffbom\u2060wj", "bomwj", "BOM and word joiner"),
    ("re\u00adconnaître", "reconnaitre", "soft hyphen"),
    ("a\u00a0b\u202fc", "a b c", "no-break spaces become spaces (NFKC)"),
    ("plain ascii", "plain ascii", "ASCII fast path"),
    ("", "", "empty"),
]


@pytest.mark.parametrize(("text", "expected", "why"), FOLD_CASES)
def test_fold(text: str, expected: str, why: str) -> None:
    assert fold(text) == expected, why


def test_fold_keep_accents_still_casefolds_and_maps_apostrophes() -> None:
    assert fold("L’IA Générée\u200b", keep_accents=True) == "l'ia générée"


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


# -- html_to_text: recorded server shapes ------------------------------------------


@pytest.mark.parametrize("case", STATUSES, ids=[case["name"] for case in STATUSES])
def test_html_to_text_server_shapes(case: dict[str, Any]) -> None:
    result = html_to_text(case["content"])
    assert result.text == case["text"]
    assert [[m.acct, m.url] for m in result.mentions] == case["mentions"]
    assert list(result.hashtags) == case["hashtags"]
    assert list(result.links) == case["links"]


# -- html_to_text: one behaviour per row ---------------------------------------------

HTML_CASES = [
    # (html, expected text, why)
    ("<p>a</p><p>b</p>", "a\n\nb", "paragraphs are separated by a blank line"),
    ("<p>a<br>b</p>", "a\nb", "<br> is a line break"),
    ("<p>a<br/>b<br />c</p>", "a\nb\nc", "self-closing <br /> counts once"),
    ("<p>a</p>\n\n<p>b</p>", "a\n\nb", "whitespace between blocks is not text"),
    ("<p>  a   b\n c  </p>", "a b c", "runs of spaces collapse"),
    ("<p>a</p><p></p><p></p><p>b</p>", "a\n\nb", "empty paragraphs add nothing"),
    ("<p>a<br><br><br><br>b</p>", "a\n\nb", "at most one blank line"),
    ("<p><br>a</p>", "a", "a leading break is dropped"),
    ("<p>x&nbsp;&nbsp;y</p>", "x y", "&nbsp; collapses like a space"),
    ("<p>&eacute;t&#233; &#x2014; &amp;</p>", "été — &", "named, decimal and hex entities"),
    ("<p>5 &lt; 6 &gt; 4</p>", "5 < 6 > 4", "escaped brackets are text"),
    ("<p>a <b>b</b> <em>c</em> <u>d</u></p>", "a b c d", "inline formatting is kept as text"),
    ("<h1>Titre</h1><p>corps</p>", "Titre\n\ncorps", "headings are paragraphs"),
    ("<ol><li>un</li><li>deux</li></ol>", "- un\n- deux", "list items are bullets"),
    ("<script>alert('x')</script><p>ok</p>", "ok", "script content dropped"),
    ("<style>p { color: red }</style>ok", "ok", "style content dropped"),
    ("<p>ok<!-- hidden --></p>", "ok", "comments dropped"),
    ("<p>a<!-- unclosed", "a", "an unclosed comment hides the rest, as in a browser"),
    (
        "<p class='quote-inline'>RE: x<p>kept",
        "kept",
        "an unclosed quote-inline ends at the next <p>",
    ),
    (
        "<p><span class='quote-inline'>RE: <span>x</span></span> kept</p>",
        "kept",
        "quote-inline on an inline element, with nested spans",
    ),
    ("<p>a <span class='invisible'>b</span></p>", "a b", "invisible text outside links stays"),
    ("<p>a</p></p></span></a>b", "a\n\nb", "stray end tags are ignored"),
    (
        "<p>a <a href='https://x.org/'>lien <a href='https://y.org/'>deux</a></p>",
        "a lien deux",
        "an anchor left open ends at the next one",
    ),
    ("1 < 2 and 3 <4", "1 < 2 and 3 <4", "a bare < that opens no tag is text"),
    ("<p>a <img class='emoji' alt=':blobcat:' src='x.png'> b</p>", "a :blobcat: b", "emoji image"),
    ("<p>a <img alt='a photo' src='x.png'> b</p>", "a b", "other images are not text"),
    ("", "", "empty input"),
    ("   ", "", "blank input"),
    ("plain text", "plain text", "no markup at all"),
]


@pytest.mark.parametrize(("html", "expected", "why"), HTML_CASES)
def test_html_to_text(html: str, expected: str, why: str) -> None:
    assert html_to_text(html).text == expected, why


LINK_CASES = [
    # (anchor, expected links, expected text, why)
    (
        '<a href="https://example.com/a/very/long/path" rel="nofollow noopener">'
        '<span class="invisible">https://</span><span class="ellipsis">example.com/a/very/lo</span>'
        '<span class="invisible">ng/path</span></a>',
        ["https://example.com/a/very/long/path"],
        "https://example.com/a/very/long/path",
        "Mastodon's shortened link reads in full",
    ),
    (
        '<a href="https://example.com/x">le site</a>',
        ["https://example.com/x"],
        "le site",
        "a link with words keeps its words",
    ),
    (
        '<a href="https://example.com/x">example.com/y…</a>',
        ["https://example.com/x"],
        "example.com/y…",
        "an ellipsis that does not shorten the href is left alone",
    ),
    ('<a href="mailto:a@b.org">écrire</a>', [], "écrire", "only http(s) links are listed"),
    ('<a href="/relative">ici</a>', [], "ici", "relative links are not listed"),
    ('<a href="https://x.org/"></a>', ["https://x.org/"], "https://x.org/", "empty anchor"),
    (
        '<a href="https://x.org/1">a</a> <a href="https://x.org/1">b</a>',
        ["https://x.org/1"],
        "a b",
        "a link repeated is listed once",
    ),
]


@pytest.mark.parametrize(("html", "links", "text", "why"), LINK_CASES)
def test_html_links(html: str, links: list[str], text: str, why: str) -> None:
    result = html_to_text(f"<p>{html}</p>")
    assert list(result.links) == links, why
    assert result.text == text, why


HASHTAG_CASES = [
    # (anchor, expected hashtags, why)
    (
        '<a href="https://m.org/tags/IA" class="mention hashtag" rel="tag">#<span>IA</span></a>',
        ["IA"],
        "Mastodon",
    ),
    ('<a href="https://a.org/tag/ia" class="hashtag" rel="tag ugc">#ia</a>', ["ia"], "Akkoma"),
    ('<a href="https://m.io/tags/ia" rel="tag">#ia</a>', ["ia"], "rel=tag only"),
    ('<a href="https://x.org/tags/fil">#fil</a>', ["fil"], "no markers, text starts with #"),
    (
        '<a href="https://m.org/tags/vide" class="hashtag"></a>',
        ["vide"],
        "empty text: from the href",
    ),
    (
        '<a href="https://m.org/tags/IA" class="mention hashtag" rel="tag">#<span>IA</span></a> '
        '<a href="https://m.org/tags/IA" class="mention hashtag" rel="tag">#<span>IA</span></a>',
        ["IA"],
        "listed once",
    ),
]


@pytest.mark.parametrize(("html", "hashtags", "why"), HASHTAG_CASES)
def test_html_hashtags(html: str, hashtags: list[str], why: str) -> None:
    result = html_to_text(f"<p>{html}</p>")
    assert list(result.hashtags) == hashtags, why
    assert result.mentions == (), "a hashtag has the mention class but is not a mention"


ACCT_CASES = [
    # (href, shown, acct, why)
    ("https://mastodon.social/@maiwann", "@maiwann", "maiwann@mastodon.social", "Mastodon"),
    ("https://Piaille.FR/@Alice", "@Alice", "Alice@piaille.fr", "host lowercased, name kept"),
    ("https://akkoma.example/users/bob", "@bob", "bob@akkoma.example", "Akkoma/Pleroma"),
    ("https://lemmy.ml/u/erin", "@erin", "erin@lemmy.ml", "Lemmy"),
    ("https://friendica.example/profile/frank", "@frank", "frank@friendica.example", "Friendica"),
    ("https://pixelfed.social/gina", "@gina", "gina@pixelfed.social", "Pixelfed"),
    ("https://misskey.io/users/9abcdef", "@dave", "dave@misskey.io", "id URL: the shown name wins"),
    ("https://blog.example/author/hank/", "@hank", "hank@blog.example", "WordPress author URL"),
    ("https://mastodon.social/@eve@other.example", "@eve", "eve@other.example", "/@user@domain"),
    ("https://x.org/@a", "@eve@mastodon.social", "eve@mastodon.social", "shown with a domain"),
    ("https://x.org/@ivan", "", "ivan@x.org", "no text: from the path"),
    ("/@local", "@local", "local", "relative link: no domain"),
    ("http://[::1", "@broken", "broken", "unparsable URL"),
    ("", "", "", "nothing to go on"),
]


@pytest.mark.parametrize(("href", "shown", "acct", "why"), ACCT_CASES)
def test_acct_from_mention(href: str, shown: str, acct: str, why: str) -> None:
    assert acct_from_mention(href, shown) == acct, why


def test_mention_inside_h_card_without_class() -> None:
    html = '<span class="h-card"><a href="https://x.org/@z">@<span>z</span></a></span> salut'
    result = html_to_text(html)
    assert result.mentions == (MentionRef(acct="z@x.org", url="https://x.org/@z"),)
    assert result.text == "@z salut"


def test_mention_without_markers_is_recognised_by_its_text() -> None:
    result = html_to_text('<a href="https://x.org/@z">@z</a> salut')
    assert [m.acct for m in result.mentions] == ["z@x.org"]
    assert result.links == ()


def test_html_to_text_returns_plaintext() -> None:
    assert html_to_text("<p>x</p>") == PlainText(text="x")


# -- html_to_text: never raises, bounded time -----------------------------------------

#: Inputs that make html.parser rescan the rest of the input from every `<`
#: (quadratic: minutes for the 200 KB below) unless defused first.
ADVERSARIAL = {
    "unclosed start tags": "<a b=c" * 33_000,
    "lone brackets": "<a<" * 66_000,
    "unclosed comments": "<!--x>" * 33_000,
    "cdata": "<![CDATA[x>" * 18_000,
    "end tags": "</" * 100_000,
    "processing instructions": "<?" * 100_000,
    "deep nesting": "<span>" * 33_000 + "x",
    "deep quote-inline": '<p class="quote-inline">' * 8_000 + "x",
    "deep lists": "<ul><li>" * 25_000 + "x",
    "many anchors": '<a href="https://x.org/">' * 10_000,
    "entities": "&#x" * 66_000,
}


@pytest.mark.parametrize("html", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_html_to_text_bounded_time(html: str) -> None:
    start = time.process_time()
    html_to_text(html)
    # About 0.1 s here; the bound only has to catch quadratic behaviour (minutes).
    assert time.process_time() - start < 5.0


def test_html_to_text_cuts_huge_input() -> None:
    result = html_to_text("<p>" + "mot " * MAX_HTML_CHARS + "</p>")
    assert len(result.text) <= MAX_HTML_CHARS


TAGS = st.sampled_from(
    ["p", "br", "span", "a", "li", "ul", "pre", "script", "b", "img", "blockquote", "x-y"]
)
ATTRS = st.sampled_from(
    [
        "",
        ' class="h-card"',
        ' class="u-url mention"',
        ' class="mention hashtag"',
        ' class="quote-inline"',
        ' class="invisible"',
        ' class="ellipsis"',
        ' href="https://x.org/@a"',
        ' href="https://x.org/tags/t"',
        " href",
        ' rel="tag"',
    ]
)
PIECES = st.one_of(
    st.text(max_size=8),
    st.builds(lambda tag, attrs: f"<{tag}{attrs}>", TAGS, ATTRS),
    st.builds(lambda tag: f"</{tag}>", TAGS),
    st.sampled_from(["<", ">", "&", "&amp", "&#", "<!--", "-->", "<![CDATA[", "\u00a0", "#", "@"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join))
def test_html_to_text_never_raises_on_tag_soup(html: str) -> None:
    result = html_to_text(html)
    assert isinstance(result, PlainText)
    assert result.text == result.text.strip()
    assert "\n\n\n" not in result.text


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_html_to_text_never_raises_on_any_text(html: str) -> None:
    assert isinstance(html_to_text(html), PlainText)


# -- plain_to_text ---------------------------------------------------------------------

PLAIN_CASES = [
    # (text, mentions, hashtags, links, why)
    ("@filrouge source", ["filrouge"], [], [], "local mention"),
    ("@filrouge@bots.example aide", ["filrouge@bots.example"], [], [], "remote mention"),
    ("@Bob@Piaille.FR hi", ["Bob@piaille.fr"], [], [], "domain lowercased, name kept"),
    ("écrire à a@b.org", [], [], [], "an e-mail address is not a mention"),
    ("@a et @a encore", ["a"], [], [], "a mention repeated is listed once"),
    ("(@a), @b.", ["a", "b"], [], [], "punctuation around mentions"),
    ("#IA et #ia_gen #1 #2024ia", [], ["IA", "ia_gen", "2024ia"], [], "a hashtag needs a letter"),
    ("C#, a#b, &#35;", [], [], [], "# inside a word or entity is no hashtag"),
    ("#générative", [], ["générative"], [], "accented hashtag"),
    (
        "voir https://x.org/a?b=c#frag.",
        [],
        [],
        ["https://x.org/a?b=c#frag"],
        "trailing full stop is the sentence's; a fragment is no hashtag",
    ),
    (
        "(https://en.wikipedia.org/wiki/Fil_(couture))",
        [],
        [],
        ["https://en.wikipedia.org/wiki/Fil_(couture)"],
        "balanced parenthesis kept, the closing one dropped",
    ),
    ("https://mastodon.social/@maiwann", [], [], ["https://mastodon.social/@maiwann"], "URL"),
    ("« https://x.org/a »", [], [], ["https://x.org/a"], "French quotes around a URL"),
    ("http:// nothing", [], [], [], "a scheme alone is no link"),
    ("", [], [], [], "empty"),
]


@pytest.mark.parametrize(("text", "mentions", "hashtags", "links", "why"), PLAIN_CASES)
def test_plain_to_text(
    text: str, mentions: list[str], hashtags: list[str], links: list[str], why: str
) -> None:
    result = plain_to_text(text)
    assert [m.acct for m in result.mentions] == mentions, why
    assert list(result.hashtags) == hashtags, why
    assert list(result.links) == links, why


def test_plain_to_text_normalises_spaces_and_line_ends() -> None:
    assert plain_to_text("  a\u00a0b\r\nc  \n\n\n\nd ").text == "a b\nc\n\nd"
