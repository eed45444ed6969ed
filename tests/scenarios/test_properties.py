"""Bad input, property by property (issue 6, item 3): hypothesis throws arbitrary
HTML, mention text, content warnings, languages, catalog text and TOML at the
pure core and the loaders, and checks the invariants that must hold for every
one of them.

Already covered elsewhere, and not repeated here: tag soup, arbitrary text and
quadratic-parser inputs for ``html_to_text`` (``test_text.py``); neutralising
and template parsing on their own (``test_render.py``); malformed status and
context entities and a 4,096-post thread (``test_understand.py``). This file
adds extreme sizes, the whole ``decide`` path, the loaders and command words.

Time is bounded by hypothesis ``deadline`` settings (generous, per example), not
by timed assertions: a quadratic slip turns seconds into minutes and fails them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from mastodon import Mastodon
from mastodon._url_regex import url_regex

from bot.catalog.config import Catalog, Config
from bot.catalog.essays import load_catalog
from bot.catalog.load import load_config
from bot.catalog.rules import load_rules
from bot.decide.decision import decide
from bot.decide.policy import Policy
from bot.decide.trace import Inputs
from bot.errors import ConfigError, Problem
from bot.model.catalog import Action, EssayMatch, Quote
from bot.model.decision import Explained, History, Reply
from bot.model.post import VISIBILITY_ORDER, Account, Mention, PlainText, Post, Thread
from bot.settings import DATA_DIR, Settings
from bot.text.html import MAX_HTML_CHARS, html_to_text
from bot.understand.request import body, command_in
from tests.decide.test_decision import ESSAY, NOW, RULES, SELF_ID, config

# Mastodon's own mention pattern (app/models/account.rb, MENTION_RE with
# USERNAME_RE): not after "=", "/" or a word character; a username, then an
# optional domain. What it finds in a posted status is who gets notified (and,
# in a private or direct post, who can read it).
SERVER_MENTION = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?(?:@[\w.-]+\w+)?)", re.IGNORECASE
)

#: Text that tries to be a mention, a template field or a URL, or to break counting.
HOSTILE = [
    "@mallory",
    "@mallory@evil.example",
    " @bob ",
    "x@y.org",
    "=@z",
    "{token}",
    "{settings}",
    "{0.__class__}",
    "{requester!r}",
    "{quote:>999}",
    "{{",
    "}}",
    "{",
    "}",
    "https://example.org/a/very/long/path?with=query&and=more",
    "#nobot",
    "«",
    "»",
    ". ",
    "! ",
    "… ",
    "\u200b",
    "\u202f",
    "e\u0301",  # a combining accent: one grapheme, two code points
    "👩‍👩‍👧‍👦",  # one grapheme, seven code points
    "\n",
]
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)), max_size=30).map(
    "".join
)
words_and_sentences = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(["affiches", "visuels", "IA", "travail", "Une phrase.", "Fin !"]),
        st.text(min_size=1, max_size=15),
    ),
    min_size=1,
    max_size=60,
).map(" ".join)


def server_length(text: str, spoiler_text: str, url_length: int) -> int:
    """What the server counts: ``Mastodon.get_status_length`` (graphemes, URLs at
    23, remote mentions by username) with the URLs reweighed to the instance's
    ``characters_reserved_per_url``."""
    length: int = Mastodon.get_status_length(text, spoiler_text)
    return length + (url_length - 23) * sum(1 for _ in url_regex.finditer(text))


# -- HTML to text: extremes --------------------------------------------------------------

TAGS = ["p", "span", "a", "li", "ul", "blockquote", "pre", "b", "del", "div", "x-y"]
ATTRS = ["", ' class="h-card"', ' class="invisible"', ' class="quote-inline"', ' href="h"']


@settings(max_examples=20, deadline=timedelta(seconds=20))
@given(
    depth=st.one_of(st.just(10_000), st.integers(min_value=1, max_value=10_000)),
    tags=st.lists(st.sampled_from(TAGS), min_size=1, max_size=4),
    attrs=st.sampled_from(ATTRS),
    inside=st.text(max_size=50),
    closed=st.booleans(),
)
def test_html_nested_ten_thousand_levels_deep(
    depth: int, tags: list[str], attrs: str, inside: str, closed: bool
) -> None:
    """Guard: ``html_to_text`` keeps no recursion and no per-level rescans (its
    parser is a flat stack machine, quote-inline depth counted, void elements not)."""
    opening = "".join(f"<{tags[i % len(tags)]}{attrs}>" for i in range(depth))
    closing = "".join(f"</{tags[i % len(tags)]}>" for i in reversed(range(depth))) if closed else ""
    result = html_to_text(opening + inside + closing)
    assert isinstance(result, PlainText)
    assert len(result.text) <= MAX_HTML_CHARS


MEGABYTE = 1_000_000


@settings(
    max_examples=8,
    deadline=timedelta(seconds=30),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    unit=st.lists(
        st.one_of(
            st.text(min_size=1, max_size=20),
            st.sampled_from(["<p>", "</p>", "<br>", "<a href='https://x.org/'>", "</a>", "&amp;"]),
            st.sampled_from(["<", "&#", "<!--", '<span class="invisible">']),
        ),
        min_size=1,
        max_size=10,
    ).map("".join)
)
def test_html_of_a_megabyte(unit: str) -> None:
    """Guard: ``MAX_HTML_CHARS`` cuts the input before parsing, and the defusing
    regexes are linear; a 1 MB status of any Unicode is read in bounded time."""
    html = (unit * (MEGABYTE // len(unit) + 1))[:MEGABYTE]
    result = html_to_text(html)
    assert len(result.text) <= MAX_HTML_CHARS


# -- the whole decision ------------------------------------------------------------------

usernames = st.from_regex(r"[a-z0-9_]{1,12}", fullmatch=True)
accts = st.builds(
    lambda user, domain: f"{user}@{domain}" if domain else user,
    usernames,
    st.sampled_from([None, "example.org", "mastodon.social", "a-b.example"]),
)
visibilities = st.sampled_from(VISIBILITY_ORDER)
languages = st.one_of(
    st.none(),
    st.sampled_from(["fr", "en", "de", "en-GB", "FR", "", "zz"]),
    st.text(max_size=5),
)
commands = st.sampled_from(
    ["", "citation ", "question ", "source ", "aide ", "pourquoi ", "stop ", "start "]
)


@st.composite
def quotes(draw: st.DrawFn) -> tuple[Quote, ...]:
    texts = draw(st.lists(words_and_sentences, min_size=1, max_size=6))
    return tuple(
        Quote(
            f"q{n}",
            ESSAY.id,
            text.strip() or "vide",
            tags=draw(st.sampled_from([(), ("visuels",), ("calme",), ("handle",)])),
        )
        for n, text in enumerate(texts)
    )


@st.composite
def threads(draw: st.DrawFn) -> Thread:
    texts = draw(st.lists(hostile_text, max_size=4))
    posts = tuple(
        Post(
            id=str(700 + n),
            account=Account(id=str(50 + n), acct=draw(accts), username="x"),
            content=PlainText(text),
            created_at=NOW - timedelta(minutes=10 - n),
        )
        for n, text in enumerate(texts)
    )
    return Thread(posts)


@st.composite
def decisions(draw: st.DrawFn, cfg: Config | None) -> Inputs:
    """Any mention, thread and history ``decide`` may be handed, with a catalog of
    hostile quotes (or the bundled one, when ``cfg`` is given)."""
    if cfg is None:
        essay = dataclasses.replace(
            ESSAY,
            quotes=draw(quotes()),
            author=draw(st.sampled_from(["Pauline Harmange", "@mallory@evil.example", "{token}"])),
            title=draw(st.sampled_from([ESSAY.title, "Titre de @mallory", "{0.__class__}"])),
        )
        cfg = config(RULES, essays=(essay,))
    essay_found = draw(st.booleans())
    policy = Policy(
        self_id=SELF_ID,
        default_visibility=draw(visibilities),
        default_language=draw(st.sampled_from(["fr", "en"])),
        max_characters=draw(st.sampled_from([100, 200, 500, 1000])),
        url_length=draw(st.sampled_from([1, 23, 64])),
        thread_cooldown=timedelta(0),
        account_cooldown=timedelta(0),
        rules_url=draw(st.sampled_from(["", "https://example.org/rules", "@mallory"])),
        min_evidence=draw(st.sampled_from([0.0, 4.0])),
    )
    thread = draw(threads())
    explained = None
    parent = None
    if thread.ancestors and draw(st.booleans()):
        # The mention answers one of the bot's posts, whose summary came from
        # an earlier trace (which quotes the words people used).
        parent = thread.ancestors[-1].id
        explained = Explained(parent, "citation", "quote", ESSAY.id, None, None, draw(hostile_text))
    acct = draw(accts)
    post = Post(
        id="900",
        account=Account(id="42", acct=acct, username=acct.split("@")[0]),
        content=PlainText("@filrouge " + draw(commands) + draw(hostile_text)),
        created_at=NOW,
        visibility=draw(visibilities),
        spoiler_text=draw(st.one_of(st.just(""), hostile_text)),
        language=draw(languages),
        in_reply_to_id=parent,
    )
    return Inputs(
        mention=Mention(notification_id="n900", post=post),
        thread=thread,
        essay=EssayMatch(cfg.catalog.essays[0] if essay_found else None, how="link"),
        config=cfg,
        history=History(explained=explained),
        policy=policy,
        now=NOW,
    )


def check_reply(inputs: Inputs, reply: Reply) -> None:
    post = inputs.mention.post
    policy = inputs.policy
    # Invariant 8: fits as the server counts, CW included.
    length = server_length(reply.text, reply.spoiler_text, policy.url_length)
    assert length <= policy.max_characters, (length, reply.text)
    # Invariant 3: never wider than the mention, nor than the default.
    rank = VISIBILITY_ORDER.index
    assert rank(reply.visibility) <= min(rank(post.visibility), rank(policy.default_visibility))
    # Invariant 4: the only mention the server will find is the requester.
    found = {m.lower() for m in SERVER_MENTION.findall(reply.text)}
    assert found <= {post.account.acct.lower()}, (found, reply.text)
    # Invariant 5, and the reply answers this mention.
    assert reply.spoiler_text == post.spoiler_text
    assert reply.in_reply_to_id == post.id
    # Invariant 11: a template field never reads an object.
    assert "<class" not in reply.text and "SecretStr" not in reply.text


@settings(max_examples=400, deadline=timedelta(seconds=5))
@given(decisions(None))
def test_every_reply_to_any_mention_about_hostile_quotes_keeps_the_invariants(
    inputs: Inputs,
) -> None:
    """Guards: fitting measures the whole status with ``status_length`` (invariant 8);
    ``narrowest()`` in ``make_reply`` (3); ``neutralise_mentions`` on every quote,
    title, author, rules URL and ``why`` summary (4); the CW copied (5); templates
    filled by the scanner in ``render``, never ``str.format`` (11)."""
    outcome = decide(inputs)
    if isinstance(outcome.decision, Reply):
        check_reply(inputs, outcome.decision)


BUNDLED = load_config(Settings(_env_file=None))  # type: ignore[call-arg]


@settings(max_examples=300, deadline=timedelta(seconds=5))
@given(decisions(BUNDLED))
def test_every_reply_from_the_bundled_rules_keeps_the_invariants(inputs: Inputs) -> None:
    """The same invariants with the rules and catalog the bot ships with."""
    outcome = decide(inputs)
    if isinstance(outcome.decision, Reply):
        check_reply(inputs, outcome.decision)


# -- the loaders ---------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    """A TOML inline value (there is no TOML writer in the standard library)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(data: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(key)} = {toml_value(value)}\n" for key, value in data.items())


no_surrogates = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
scalars = st.one_of(
    no_surrogates,
    st.sampled_from(["", " ", "fr", "en", "quote", "stop", "(", "[a-", "{qoute}", "{quote:>9}"]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.booleans(),
)
toml_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["id", "text", "when", "x", "fr"]), inner, max_size=3)
    ),
    max_leaves=10,
)

CATALOG_DATA = tomllib.loads((DATA_DIR / "catalog.toml").read_text(encoding="utf-8"))
RULES_DATA = tomllib.loads((DATA_DIR / "rules.toml").read_text(encoding="utf-8"))
CATALOG = load_catalog(DATA_DIR / "catalog.toml")


@st.composite
def mutated(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with a few values replaced by any TOML value, or keys dropped or added."""
    copy = json.loads(json.dumps(data, default=str))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        node: Any = copy
        # Walk down a random path, then change what is there.
        for _depth in range(draw(st.integers(min_value=0, max_value=5))):
            if isinstance(node, dict) and node:
                child = node[draw(st.sampled_from(sorted(node)))]
            elif isinstance(node, list) and node:
                child = node[draw(st.integers(min_value=0, max_value=len(node) - 1))]
            else:
                break
            if not isinstance(child, dict | list):
                break
            node = child
        if isinstance(node, dict):
            keys = sorted(node)
            action = draw(st.sampled_from(["replace", "drop", "add"]))
            if action == "add" or not keys:
                node[draw(st.sampled_from(["extra", "qoutes", "id", "when"]))] = draw(toml_values)
            elif action == "drop":
                del node[draw(st.sampled_from(keys))]
            else:
                node[draw(st.sampled_from(keys))] = draw(toml_values)
        elif isinstance(node, list):
            node.append(draw(toml_values))
    return copy


def assert_clean_error(error: ConfigError) -> None:
    assert error.problems, "a ConfigError must say what is wrong"
    for problem in error.problems:
        assert isinstance(problem, Problem)
        assert str(problem)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


TOML_PIECES = [
    "[[essays]]",
    "[[rules]]",
    "[rules.when]",
    'id = "x"',
    "quotes = [",
    "]",
    "\n",
    'text = """',
    "=",
    '"',
    "[essays.x]",
    "commands = [1]",
    "min_heat = nan",
]

LOADER_SETTINGS = settings(
    max_examples=250,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@LOADER_SETTINGS
@given(data=mutated(CATALOG_DATA))
def test_a_catalog_with_any_wrong_value_loads_or_says_why(
    tmp_path: Path, data: dict[str, Any]
) -> None:
    """Guard: ``Checker`` type-checks every value before use, so a wrong value is a
    ``Problem`` in the ``ConfigError``, never a ``TypeError``/``KeyError`` traceback."""
    path = write(tmp_path, "catalog.toml", toml_document(data))
    try:
        catalog = load_catalog(path)
    except ConfigError as error:
        assert_clean_error(error)
    else:
        assert isinstance(catalog, Catalog)


@LOADER_SETTINGS
@given(data=mutated(RULES_DATA), max_characters=st.sampled_from([100, 500]))
def test_rules_with_any_wrong_value_load_or_say_why(
    tmp_path: Path, data: dict[str, Any], max_characters: int
) -> None:
    """Same guard for the rules loader (conditions, regexes, templates, fit checks)."""
    path = write(tmp_path, "rules.toml", toml_document(data))
    try:
        load_rules(path, CATALOG, max_characters=max_characters)
    except ConfigError as error:
        assert_clean_error(error)


@LOADER_SETTINGS
@given(
    raw=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.lists(
            st.sampled_from(TOML_PIECES),
            max_size=30,
        ).map(lambda parts: "\n".join(parts).encode()),
    ),
    which=st.sampled_from(["catalog", "rules"]),
)
def test_any_bytes_as_admin_files_load_or_say_why(tmp_path: Path, raw: bytes, which: str) -> None:
    """Guard: ``_read`` (not UTF-8, unreadable) and ``_parse_toml`` (syntax) turn
    every file into a located ``Problem`` before the checks see it."""
    path = write(tmp_path, f"{which}.toml", raw)
    try:
        if which == "catalog":
            load_catalog(path)
        else:
            load_rules(path, CATALOG, max_characters=500)
    except ConfigError as error:
        assert_clean_error(error)


# -- command words ---------------------------------------------------------------------------

# (what the person typed after "@filrouge ", the action it must be taken as;
#  None: not a command at all, the mention is answered as a request)
COMMAND_WORDS: list[tuple[str, Action | None]] = [
    ("stop", Action.STOP),
    ("STOP", Action.STOP),
    ("Stop.", Action.STOP),
    ("stop !", Action.STOP),
    # fullwidth letters: NFKC folds them to ASCII, they read as the same word
    ("ＳＴＯＰ", Action.STOP),
    ("ｓtop", Action.STOP),
    # a zero-width space, joiner or soft hyphen inside or before the word is invisible
    ("s\u200btop", Action.STOP),
    ("st\u200dop", Action.STOP),
    ("sto\u00adp", Action.STOP),
    ("\u2060stop", Action.STOP),
    # the bot's own replies say: mentionnez-moi avec le mot « start » / the word “stop”
    ("« stop »", Action.STOP),
    ("«\u202fstop\u202f»", Action.STOP),
    ("“stop”", Action.STOP),
    ('"start"', Action.START),
    ("« Aide »", Action.HELP),
    # accents and case folded
    ("AÏDE", Action.HELP),
    ("Aide", Action.HELP),
    ("aidé", Action.HELP),
    ("arrête", Action.STOP),
    ("ARRETE !", Action.STOP),
    # alone: courtesy may follow, a sentence may not
    ("stop merci 🙏", Action.STOP),
    ("« stop » s'il vous plaît", Action.STOP),
    ("stop comparing posters to propaganda", None),
    ("arrête de comparer les affiches et la propagande", None),
    ("why would anyone want that", None),
    ("POURQUOI", Action.WHY),
    ("pourquoï", Action.WHY),
    ("Citation", Action.QUOTE),
    # Cyrillic look-alikes are other letters: "ѕтор", "stор", "ѕtop" must not stop
    ("ѕтор", None),
    ("st\u043ep", None),
    ("\u0455top", None),
    ("\u0430ide", None),
    # Greek omicron, and mathematical letters (NFKC folds those: they are styling)
    ("st\u03bfp", None),
    ("\U0001d42c\U0001d42d\U0001d428\U0001d429", Action.STOP),
    # longer words and words further on are not commands
    ("stopper", None),
    ("stop-motion", None),
    ("je dis stop", None),
    ("s top", None),
]


@pytest.mark.parametrize(("typed", "expected"), COMMAND_WORDS, ids=[c[0] for c in COMMAND_WORDS])
def test_command_words_through_confusables(typed: str, expected: Action | None) -> None:
    """Guard: ``fold`` (NFKC, casefold, accents and zero-width characters removed)
    applied to the body and to each command, and ``_LEADING_PUNCT``/the word-end
    lookahead in ``decide``. Cyrillic and Greek letters are not folded: a
    look-alike is another word, and a bot that obeyed it could be steered by
    text that reads the same but says something else."""
    text = "@filrouge " + typed
    inputs = Inputs(
        mention=Mention(
            "n1",
            Post(
                id="1",
                account=Account(id="42", acct="lecteur@example.org", username="lecteur"),
                content=PlainText(text),
                created_at=NOW,
            ),
        ),
        thread=Thread(),
        essay=EssayMatch(BUNDLED.catalog.essays[0], how="link"),
        config=BUNDLED,
        history=History(),
        policy=Policy(self_id=SELF_ID),
        now=NOW,
    )
    decision = decide(inputs).decision
    assert isinstance(decision, Reply), decision
    commands = {Action.STOP, Action.START, Action.HELP, Action.WHY, Action.QUOTE}
    if expected is None:
        assert decision.rule not in {r.name for r in BUNDLED.rules.rules if r.conditions.commands}
        assert decision.action not in commands - {Action.QUOTE}
    else:
        assert decision.action == expected


COMMAND_SET = ("stop", "start", "aide", "help", "pourquoi", "source", "citation")
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


@settings(max_examples=500)
@given(
    word=st.sampled_from(COMMAND_SET),
    cases=st.lists(st.booleans(), min_size=10, max_size=10),
    widths=st.lists(st.booleans(), min_size=10, max_size=10),
    invisible=st.lists(st.sampled_from(["", *INVISIBLE]), min_size=11, max_size=11),
    before=st.sampled_from(["", " ", ", ", ": ", "« ", "“", '"', "\u00a0", "  "]),
    after=st.sampled_from(["", " ", " !", ".", " »", "”", "\n", " merci", "?"]),
)
def test_a_command_word_in_any_case_width_or_with_invisible_characters_matches(
    word: str,
    cases: list[bool],
    widths: list[bool],
    invisible: list[str],
    before: str,
    after: str,
) -> None:
    """Guard: ``fold`` on both sides of ``command_in``. Any mix of upper and lower
    case, fullwidth forms and invisible characters spells the same command."""
    letters = []
    for n, char in enumerate(word):
        char = char.upper() if cases[n % 10] else char
        if widths[n % 10]:
            char = chr(ord(char) + 0xFEE0)  # the fullwidth form of an ASCII letter
        letters.append(invisible[n % 11] + char)
    typed = before + "".join(letters) + invisible[10] + after
    assert command_in(body("@filrouge " + typed), [word]) == word


CONFUSABLES = {"o": "\u043e", "p": "\u0440", "a": "\u0430", "e": "\u0435", "c": "\u0441"}


@settings(max_examples=300)
@given(
    word=st.sampled_from(COMMAND_SET).filter(lambda w: any(c in CONFUSABLES for c in w)),
    data=st.data(),
)
def test_a_command_word_with_a_cyrillic_letter_never_matches(
    word: str, data: st.DataObject
) -> None:
    """Guard: ``fold`` does not map scripts onto each other. One Cyrillic letter
    that looks Latin makes another word, which no command matches."""
    positions = [n for n, char in enumerate(word) if char in CONFUSABLES]
    swap = data.draw(st.sets(st.sampled_from(positions), min_size=1))
    typed = "".join(CONFUSABLES[c] if n in swap else c for n, c in enumerate(word))
    assume(typed != word)
    assert command_in(body("@filrouge " + typed), COMMAND_SET) is None
