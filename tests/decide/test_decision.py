"""The decision core, table by table. Every guard, every invariant, no network.

The catalog and rules are built here as values (not loaded from files) so each
test shows exactly what the decision sees; the ranking index is the real one.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app.wiring import policy_from_settings
from bot.catalog.config import Catalog, Config, RuleSet
from bot.decide.decision import decide
from bot.decide.policy import Policy
from bot.decide.trace import Inputs, Outcome, Trace
from bot.model.catalog import (
    Action,
    Concept,
    Conditions,
    Essay,
    EssayMatch,
    Mode,
    Prompt,
    Quote,
    Rule,
)
from bot.model.decision import Explained, History, Moderation, Paused, Reply, Skip, SkipReason
from bot.model.post import (
    VISIBILITY_ORDER,
    Account,
    Mention,
    MentionRef,
    PlainText,
    Post,
    Thread,
    Visibility,
)
from bot.rank.index import Index
from bot.text.render import ELLIPSIS, parse_template, status_length
from bot.understand.request import body, request_words

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SELF_ID = "109000"
URL = "https://mail.paulineharmange.fr/archive/ia-probleme/"

VOIX = (
    "Au milieu, des petites voix demandaient : « On est censé faire quoi, quand on n’a ni"
    " les compétences ni les moyens d’engager des gens pour faire de beaux visuels pour"
    " promouvoir notre travail ? »"
)
MENTIR = (
    "Sans mentir, incrédule devant mon ordi j’ai prononcé à haute voix : « mais comment on"
    " faisait, il y a genre deux ans à peine ? ». C’était la première fois, mais pas la"
    " dernière, que je me mettrais à parler toute seule pendant cette période où j’ai"
    " beaucoup réfléchi à l’IA."
)
EMPLOIS = (
    "Et c’est aussi déjà des milliers d’emplois qui ont été supprimés au profit des"
    " intelligences artificielles."
)
RESSOURCES = (
    "Plus d’électricité, plus de cartes graphiques à stocker dans de plus grands data"
    " centers, plus de données à injecter dans les systèmes, plus d’eau pour refroidir les"
    " circuits. Vous noterez que toutes ces ressources ont pour point commun de ne pas être"
    " infinies."
)
#: A quote with an @-handle in it: it must never become a mention.
HANDLE = "Comme l’écrivait @someone@example.org, on parle de nous. Et @autre aussi."

ESSAY = Essay(
    id="ia-probleme",
    title="L'IA est un problème, et pas celui que vous croyez",
    author="Pauline Harmange",
    url=URL,
    language="fr",
    quotes=(
        Quote("voix", "ia-probleme", VOIX, tags=("visuels",), keywords=("affiche", "visuel")),
        Quote("mentir", "ia-probleme", MENTIR, tags=("ia",)),
        Quote("emplois", "ia-probleme", EMPLOIS, tags=("travail",), keywords=("emploi",)),
        Quote("ressources", "ia-probleme", RESSOURCES, tags=("ecologie",)),
        Quote("handle", "ia-probleme", HANDLE, tags=("handle",)),
    ),
    prompts=(
        Prompt(
            "q-voix",
            "ia-probleme",
            {
                "fr": "Relisez le passage sur les « petites voix » : que proposeriez-vous ?",
                "en": "Reread the passage on the “small voices”: what would you suggest?",
            },
            tags=("visuels",),
        ),
        Prompt(
            "q-calme",
            "ia-probleme",
            {"fr": "Et si on relisait le texte avant de répondre ?"},
            tags=("calme",),
        ),
    ),
)
OTHER = Essay(
    id="autre",
    title="Un autre texte",
    author="Quelqu'un",
    url="https://example.org/autre",
    language="fr",
    quotes=(Quote("autre-q", "autre", "Une phrase d'un autre texte."),),
)

T_QUOTE = {
    "fr": "{requester} « {quote} » — {author}, {quote_url}",
    "en": "{requester} This essay says (in French): “{quote}” — {author}, {quote_url}",
}


def rule(name: str, action: Action, templates: dict[str, str] | None = None, **kwargs: Any) -> Rule:
    conditions = kwargs.pop("when", Conditions())
    return Rule(
        name=name,
        action=action,
        conditions=conditions,
        templates=templates or {"fr": f"{{requester}} {name}", "en": f"{{requester}} {name} (en)"},
        **kwargs,
    )


RULES: tuple[Rule, ...] = (
    rule("stop", Action.STOP, when=Conditions(commands=("stop", "arrête"))),
    rule("start", Action.START, when=Conditions(commands=("start",))),
    rule("aide", Action.HELP, when=Conditions(commands=("aide", "help"))),
    rule(
        "pourquoi",
        Action.WHY,
        {
            "fr": "{requester} Règle « {rule} » : {why} ({quote})",
            "en": "{requester} Rule “{rule}”: {why} ({quote})",
        },
        when=Conditions(commands=("pourquoi", "why")),
    ),
    rule(
        "source",
        Action.LINK,
        {"fr": "{requester} « {essay_title} », {author} : {essay_url}"},
        when=Conditions(commands=("source", "lien", "link")),
    ),
    rule(
        "question",
        Action.PROMPT,
        {"fr": "{requester} {prompt} {essay_url}", "en": "{requester} {prompt} {essay_url}"},
        when=Conditions(commands=("question", "prompt")),
        tags=("visuels",),
    ),
    rule(
        "calme",
        Action.DEESCALATE,
        {"fr": "{requester} On respire. {prompt}\nLes règles : {rules_url}"},
        tags=("calme",),
        notify_moderators=True,
    ),
    rule("citation", Action.QUOTE, T_QUOTE),
)

#: No evidence threshold: these tests are about guards, rules, ranking and
#: fitting; the evidence a passage needs is tested on its own below.
POLICY = Policy(
    self_id=SELF_ID,
    default_visibility="public",
    rules_url="https://example.org/rules",
    min_evidence=0.0,
)
REQUESTER = Account(id="42", acct="lecteur@example.org", username="lecteur")
BOT_ACCOUNT = Account(id=SELF_ID, acct="filrouge", username="filrouge")


def config(rules: Sequence[Rule] = RULES, essays: Sequence[Essay] = (ESSAY,)) -> Config:
    templates = {
        (r.name, lang): parse_template(source, lang)
        for r in rules
        for lang, source in r.templates.items()
    }
    return Config(
        catalog=Catalog(essays=tuple(essays), path=Path("catalog.toml")),
        rules=RuleSet(rules=tuple(rules), path=Path("rules.toml"), templates=templates),
        index=Index.build(tuple(essays)),
    )


CONFIG = config()
#: A mention hot enough for the de-escalation rule on its own.
HEATED = "@filrouge @bob T'es vraiment qu'un abruti !!! Tu comprends RIEN, ta gueule"
NO_THREAD = Thread()
NO_HISTORY = History()


def make(
    text: str = "@filrouge Nous n'avons pas les moyens de payer des gens pour nos affiches",
    *,
    account: Account = REQUESTER,
    language: str | None = "fr",
    visibility: Visibility = "public",
    cw: str = "",
    created_at: datetime = NOW,
    in_reply_to_id: str | None = None,
    thread: Thread = NO_THREAD,
    history: History = NO_HISTORY,
    policy: Policy = POLICY,
    cfg: Config | None = None,
    essay: Essay | None = ESSAY,
) -> Inputs:
    post = Post(
        id="900",
        account=account,
        content=PlainText(text),
        created_at=created_at,
        visibility=visibility,
        spoiler_text=cw,
        language=language,
        in_reply_to_id=in_reply_to_id,
    )
    return Inputs(
        mention=Mention(notification_id="n900", post=post),
        thread=thread,
        essay=EssayMatch(essay, how="link" if essay else "none"),
        config=cfg or CONFIG,
        history=history,
        policy=policy,
        now=NOW,
    )


def reply_of(outcome: Outcome) -> Reply:
    assert isinstance(outcome.decision, Reply), outcome.trace.to_text()
    return outcome.decision


def skip_of(outcome: Outcome) -> Skip:
    assert isinstance(outcome.decision, Skip), outcome.decision
    return outcome.decision


# -- the seed mention -----------------------------------------------------------


def test_a_mention_about_visuals_gets_the_visuals_quote_and_the_link() -> None:
    reply = reply_of(decide(make()))
    assert reply.action == Action.QUOTE
    assert reply.quote_id == "voix"
    assert URL in reply.text
    assert reply.text.startswith("@lecteur@example.org ")
    assert status_length(reply.text) <= 500
    assert reply.in_reply_to_id == "900"
    assert reply.essay_id == "ia-probleme"


# -- guards ---------------------------------------------------------------------

BOT = dataclasses.replace(REQUESTER, bot=True)
OLD = timedelta(hours=25)
BOTS_POST = Post(
    id="800",
    account=BOT_ACCOUNT,
    content=PlainText("@lecteur « … »"),
    created_at=NOW - timedelta(hours=1),
)
EXPLAINED = Explained("800", "citation", "quote", "ia-probleme", "voix", None, "keyword 'affiche'")
POSTED = (NOW - timedelta(hours=2),)

# (row id, inputs, expected skip reason or the action of the reply)
GUARDS: list[tuple[str, Inputs, SkipReason | Action]] = [
    # the baseline every row departs from: a plain request is answered
    ("baseline", make(), Action.QUOTE),
    # its own post (e.g. the bot's reply quoting @filrouge)
    ("self", make(account=BOT_ACCOUNT), SkipReason.SELF),
    # an account flagged bot
    ("bot", make(account=BOT), SkipReason.BOT_ACCOUNT),
    # an allowlisted bot, by acct and by id
    (
        "bot allowlisted by acct",
        make(
            account=BOT,
            policy=dataclasses.replace(POLICY, bot_allowlist=frozenset({"lecteur@example.org"})),
        ),
        Action.QUOTE,
    ),
    (
        "bot allowlisted by id",
        make(account=BOT, policy=dataclasses.replace(POLICY, bot_allowlist=frozenset({"42"}))),
        Action.QUOTE,
    ),
    # #nobot in the bio, any case
    (
        "nobot",
        make(account=dataclasses.replace(REQUESTER, profile_text="Dev. #NoBot, merci")),
        SkipReason.NOBOT,
    ),
    # the other configured tags
    (
        "noai",
        make(account=dataclasses.replace(REQUESTER, profile_text="#noai #art")),
        SkipReason.NOBOT,
    ),
    # the word without "#" is not the tag, nor is a longer tag
    (
        "nobot word",
        make(account=dataclasses.replace(REQUESTER, profile_text="nobot fan, #noaiart")),
        Action.QUOTE,
    ),
    # opted out with stop earlier
    ("opted out", make(history=History(opted_out=True)), SkipReason.OPTED_OUT),
    # ...but "start" opts back in
    ("opted out, start", make("@filrouge start", history=History(opted_out=True)), Action.START),
    # ...and "stop" again stays silent: they already asked for silence
    (
        "opted out, stop",
        make("@filrouge stop", history=History(opted_out=True)),
        SkipReason.OPTED_OUT,
    ),
    # blocked by account id, by acct, by domain
    (
        "blocked id",
        make(policy=dataclasses.replace(POLICY, blocked=frozenset({"42"}))),
        SkipReason.BLOCKED,
    ),
    (
        "blocked acct",
        make(policy=dataclasses.replace(POLICY, blocked=frozenset({"lecteur@example.org"}))),
        SkipReason.BLOCKED,
    ),
    (
        "blocked domain",
        make(policy=dataclasses.replace(POLICY, blocked=frozenset({"example.org"}))),
        SkipReason.BLOCKED,
    ),
    # older than max_mention_age (24 h), and just under it
    ("too old", make(created_at=NOW - OLD), SkipReason.TOO_OLD),
    ("not too old", make(created_at=NOW - timedelta(hours=23)), Action.QUOTE),
    # a reply to the bot's post with no command: the composer re-mentioned it
    (
        "re-mention",
        make(in_reply_to_id="800", thread=Thread((BOTS_POST,))),
        SkipReason.NOT_ADDRESSED,
    ),
    # same, the bot's post known from the record only
    (
        "re-mention (record)",
        make(in_reply_to_id="800", history=History(explained=EXPLAINED)),
        SkipReason.NOT_ADDRESSED,
    ),
    # a reply to the bot's post with a command is a request
    (
        "re-mention with command",
        make("@filrouge source", in_reply_to_id="800", thread=Thread((BOTS_POST,))),
        Action.LINK,
    ),
    # a reply to someone else's post is a new request
    ("reply to a person", make(in_reply_to_id="799"), Action.QUOTE),
    # the thread limit (3)
    ("thread limit", make(history=History(thread_replies=POSTED * 3)), SkipReason.THREAD_LIMIT),
    ("under thread limit", make(history=History(thread_replies=POSTED * 2)), Action.QUOTE),
    # thread cooldown (10 min), and past it
    (
        "thread cooldown",
        make(history=History(thread_replies=(NOW - timedelta(minutes=5),))),
        SkipReason.THREAD_COOLDOWN,
    ),
    (
        "thread cooldown over",
        make(history=History(thread_replies=(NOW - timedelta(minutes=11),))),
        Action.QUOTE,
    ),
    # account cooldown (2 min)
    (
        "account cooldown",
        make(history=History(account_replies=(NOW - timedelta(minutes=1),))),
        SkipReason.ACCOUNT_COOLDOWN,
    ),
    (
        "account cooldown over",
        make(history=History(account_replies=(NOW - timedelta(minutes=3),))),
        Action.QUOTE,
    ),
    # consent always works: stop and start skip the limit and cooldowns
    (
        "stop past the limit",
        make("@filrouge stop", history=History(thread_replies=POSTED * 3)),
        Action.STOP,
    ),
    (
        "start in cooldown",
        make(
            "@filrouge start",
            history=History(opted_out=True, account_replies=(NOW - timedelta(seconds=10),)),
        ),
        Action.START,
    ),
    # help is a request like any other: cooldowns apply
    (
        "help in cooldown",
        make("@filrouge aide", history=History(thread_replies=(NOW - timedelta(minutes=1),))),
        SkipReason.THREAD_COOLDOWN,
    ),
]


@pytest.mark.parametrize(
    ("inputs", "expected"), [g[1:] for g in GUARDS], ids=[g[0] for g in GUARDS]
)
def test_guards(inputs: Inputs, expected: SkipReason | Action) -> None:
    outcome = decide(inputs)
    if isinstance(expected, SkipReason):
        assert skip_of(outcome).reason == expected
        guard_steps = [s for s in outcome.trace if s.kind == "guard" and s.ok is False]
        assert len(guard_steps) == 1
    else:
        assert reply_of(outcome).action == expected


ANSWERED = History(thread_replies=(NOW - timedelta(minutes=30),))
BOT_REF = MentionRef("filrouge", account_id=SELF_ID)
ALICE_REF = MentionRef("alice", account_id="7")
#: Alice asked the bot for the source; the bot answered.
ALICE_POST = Post(
    "799", Account("7", "alice", "alice"), PlainText("@filrouge source", (BOT_REF,)), NOW
)


def prefilled(text: str, **kwargs: Any) -> Inputs:
    """A reply to Alice's post, which mentioned the bot, in a thread it answered."""
    mentions = kwargs.pop("mentions", (ALICE_REF, BOT_REF))
    inputs = make(
        text,
        in_reply_to_id="799",
        thread=kwargs.pop("thread", Thread((ALICE_POST,))),
        history=kwargs.pop("history", ANSWERED),
        **kwargs,
    )
    post = dataclasses.replace(
        inputs.mention.post, content=PlainText(text, mentions=tuple(mentions))
    )
    return dataclasses.replace(inputs, mention=Mention("n900", post))


# (row id, inputs, expected skip reason or the action of the reply)
PREFILLED: list[tuple[str, Inputs, SkipReason | Action]] = [
    # the composer put @alice @filrouge in front of an answer to Alice
    (
        "prefilled",
        prefilled("@alice @filrouge je ne suis pas d'accord, les affiches coûtent cher"),
        SkipReason.NOT_ADDRESSED,
    ),
    # the bot first in the block, a full handle
    (
        "prefilled, full handle",
        prefilled(
            "@filrouge@social.example @alice pas d'accord",
            mentions=(MentionRef("filrouge@social.example", account_id=SELF_ID), ALICE_REF),
        ),
        SkipReason.NOT_ADDRESSED,
    ),
    # the bot's handle known from its post in the thread, not from the mention
    (
        "prefilled, handle from the thread",
        prefilled(
            "@alice @filrouge pas d'accord",
            mentions=(),
            thread=Thread((dataclasses.replace(BOTS_POST, id="700"), ALICE_POST)),
        ),
        SkipReason.NOT_ADDRESSED,
    ),
    # the first request in the thread is a request, pre-filled or not
    (
        "first request",
        prefilled("@alice @filrouge les affiches coûtent cher", history=NO_HISTORY),
        Action.QUOTE,
    ),
    # a command says it is meant for the bot
    ("with a command", prefilled("@alice @filrouge question"), Action.PROMPT),
    ("with a command, link", prefilled("@alice @filrouge source ?"), Action.LINK),
    # the bot named after the words was typed on purpose
    (
        "named in the sentence",
        prefilled("@alice je crois que @filrouge a un extrait là-dessus"),
        Action.QUOTE,
    ),
    # not a reply: a new post that starts by mentioning the bot
    (
        "not a reply",
        dataclasses.replace(
            prefilled("@alice @filrouge les affiches"),
            mention=Mention(
                "n900",
                dataclasses.replace(
                    prefilled("@alice @filrouge les affiches").mention.post, in_reply_to_id=None
                ),
            ),
        ),
        Action.QUOTE,
    ),
    # the post answered did not mention the bot: the composer did not put it there
    (
        "parent without the bot",
        prefilled(
            "@alice @filrouge les affiches coûtent cher",
            thread=Thread((dataclasses.replace(ALICE_POST, content=PlainText("Un avis")),)),
        ),
        Action.QUOTE,
    ),
    # the parent's mention known by its text only
    (
        "parent's mention in its text",
        prefilled(
            "@alice @filrouge pas d'accord",
            thread=Thread((dataclasses.replace(ALICE_POST, content=PlainText("@filrouge aide")),)),
        ),
        SkipReason.NOT_ADDRESSED,
    ),
    # the bot's handle is not known at all: a request, as before
    (
        "handle unknown",
        prefilled(
            "@alice @filrouge pas d'accord",
            mentions=(),
            thread=Thread((dataclasses.replace(ALICE_POST, content=PlainText("@filrouge aide")),)),
        ),
        Action.QUOTE,
    ),
]


@pytest.mark.parametrize(
    ("inputs", "expected"), [p[1:] for p in PREFILLED], ids=[p[0] for p in PREFILLED]
)
def test_a_composer_prefill_is_not_a_request(inputs: Inputs, expected: SkipReason | Action) -> None:
    outcome = decide(inputs)
    if isinstance(expected, SkipReason):
        skip = skip_of(outcome)
        assert skip.reason == expected
        assert "pre-filled" in skip.detail
    else:
        assert reply_of(outcome).action == expected, outcome.trace.to_text()


# -- visibility never widens ----------------------------------------------------


@pytest.mark.parametrize(
    ("mention", "default"), list(itertools.product(VISIBILITY_ORDER, VISIBILITY_ORDER))
)
def test_visibility_never_widens(mention: Visibility, default: Visibility) -> None:
    policy = dataclasses.replace(POLICY, default_visibility=default)
    reply = reply_of(decide(make(visibility=mention, policy=policy)))
    rank = VISIBILITY_ORDER.index
    assert rank(reply.visibility) == min(rank(mention), rank(default))


# -- content warning, language --------------------------------------------------


def test_content_warning_is_kept_and_counted() -> None:
    cw = "IA, débat animé " * 5
    reply = reply_of(decide(make(cw=cw)))
    assert reply.spoiler_text == cw
    assert status_length(reply.text, reply.spoiler_text) <= 500


LANGUAGES = [
    # French mention, French template
    ("fr", "fr", "fr"),
    # English mention gets the English template
    ("en", "fr", "en"),
    # regional tag
    ("en-GB", "fr", "en"),
    # unknown language: the default
    (None, "fr", "fr"),
    # written in a language no template speaks: no reply (understand has
    # already let the text's own language override a client's default tag)
    ("de", "fr", None),
    ("de", "en", None),
]


@pytest.mark.parametrize(("mention", "default", "expected"), LANGUAGES)
def test_language(mention: str | None, default: str, expected: str | None) -> None:
    policy = dataclasses.replace(POLICY, default_language=default)
    outcome = decide(make(language=mention, policy=policy))
    if expected is None:
        assert skip_of(outcome).reason is SkipReason.OTHER_LANGUAGE
        return
    reply = reply_of(outcome)
    assert reply.language == expected
    if expected == "en":
        assert "This essay says" in reply.text
        assert "« " in reply.text  # the quote itself stays in French


def test_rule_without_template_in_the_mention_language_uses_default() -> None:
    # "source" has only a French template
    reply = reply_of(decide(make("@filrouge source", language="en")))
    assert (reply.action, reply.language) == (Action.LINK, "fr")


def test_prompt_in_reply_language_with_fallback() -> None:
    reply = reply_of(decide(make("@filrouge question", language="en")))
    assert reply.prompt_id == "q-voix"
    assert "small voices" in reply.text


# -- only the requester is mentioned --------------------------------------------

MENTION_RE = re.compile(r"(?<![\w/=])@(\w+(?:@[\w.-]+\w)?)")


@pytest.mark.parametrize("visibility", ["public", "direct"])
def test_only_the_requester_is_mentioned(visibility: Visibility) -> None:
    handle_only = dataclasses.replace(RULES[-1], name="handle", tags=("handle",))
    evil = dataclasses.replace(ESSAY, author="@mallory@evil.example", title="Texte de @mallory")
    cfg = config((*RULES[:-1], handle_only), essays=(evil,))
    reply = reply_of(decide(make("@filrouge @alice cite @bob", visibility=visibility, cfg=cfg)))
    assert reply.quote_id == "handle"
    assert "someone" in reply.text
    assert MENTION_RE.findall(reply.text) == ["lecteur@example.org"]


# -- rules: order, commands, modes ----------------------------------------------

COMMANDS = [
    # the command word right after the mention
    ("@filrouge source", "source"),
    # any case, trailing punctuation
    ("@filrouge Source !", "source"),
    # a synonym, after a comma
    ("@filrouge, lien", "source"),
    # several leading mentions (a composer's prefill)
    ("@filrouge @alice @bob@example.org LIEN", "source"),
    # accents folded: "arrete" and "arrête" both stop
    ("@filrouge arrete", "stop"),
    ("@filrouge help", "aide"),
    ("@filrouge aide", "aide"),
    ("@filrouge why", "pourquoi"),
    ("@filrouge question", "question"),
    # a command word in the middle of a sentence is just a word
    ("@filrouge j'ai cherché le lien partout pour les affiches", "citation"),
    # a longer word that starts like a command
    ("@filrouge sources des affiches ?", "citation"),
    # the mention after the words: the first word still counts
    ("source @filrouge", "source"),
]


@pytest.mark.parametrize(("text", "rule_name"), COMMANDS)
def test_command_word_position(text: str, rule_name: str) -> None:
    assert reply_of(decide(make(text))).rule == rule_name


def test_body_strips_leading_mentions() -> None:
    assert body("@filrouge @a@b.c, Lien !") == "lien !"
    assert body("  @x") == ""


def test_request_words_drop_the_mentions_and_the_command() -> None:
    commands = ("citation", "source")
    assert request_words("@filrouge @a@b.c, Citation : les Affiches", commands) == "les affiches"
    # a word that only starts like a command stays
    assert request_words("@filrouge sources des affiches", commands) == "sources des affiches"
    # a command word later in the text is a word
    assert request_words("@filrouge les affiches, source ?", commands) == "les affiches, source ?"
    assert request_words("@filrouge source", commands) == ""


def test_first_matching_rule_wins_and_trace_shows_each_rule_tried() -> None:
    first = rule("visuels", Action.QUOTE, T_QUOTE, when=Conditions(keywords=("affiches",)))
    outcome = decide(make(cfg=config((*RULES[:-1], first, RULES[-1]))))
    assert reply_of(outcome).rule == "visuels"
    tried = [s.name for s in outcome.trace if s.kind == "rule"]
    assert tried == [r.name for r in RULES[:-1]] + ["visuels"]
    # swapped: the catch-all comes first and wins
    outcome = decide(make(cfg=config((*RULES[:-1], RULES[-1], first))))
    assert reply_of(outcome).rule == "citation"


CONDITIONS = [
    # keywords are whole folded words: "affiches" ≠ "affiche"
    (Conditions(keywords=("affiche",)), False),
    (Conditions(keywords=("AFFICHES",)), True),
    (Conditions(keywords=("payer des gens",)), True),
    # a veto
    (Conditions(keywords=("affiches",), not_keywords=("moyens",)), False),
    (Conditions(regex=(r"payer\s+des",)), True),
    # regexes see the plain text as written, case included
    (Conditions(regex=(r"NOUS",)), False),
    (Conditions(thread_keywords=("spectacle",)), True),
    (Conditions(thread_regex=(r"^Un fil",)), True),
    (Conditions(languages=("fr",)), True),
    (Conditions(languages=("en",)), False),
    (Conditions(essays=("ia-probleme",)), True),
    (Conditions(essays=("autre",)), False),
    (Conditions(visibilities=("direct",)), False),
    (Conditions(min_depth=1), True),
    (Conditions(min_depth=2), False),
    (Conditions(max_depth=0), False),
    (Conditions(max_heat=0.5), True),
    (Conditions(min_heat=0.5), False),
]


@pytest.mark.parametrize(("conditions", "matches"), CONDITIONS)
def test_conditions(conditions: Conditions, matches: bool) -> None:
    ancestor = Post("1", Account("7", "alice", "alice"), PlainText("Un fil sur le spectacle"), NOW)
    only = rule("only", Action.QUOTE, T_QUOTE, when=conditions)
    outcome = decide(make(thread=Thread((ancestor,)), cfg=config((only,))))
    assert isinstance(outcome.decision, Reply) is matches, outcome.trace.to_text()


def test_mode_off_is_skipped_and_traced() -> None:
    off = dataclasses.replace(RULES[4], mode=Mode.OFF)
    outcome = decide(make("@filrouge source", cfg=config((*RULES[:4], off, *RULES[5:]))))
    assert reply_of(outcome).rule == "citation"
    step = next(s for s in outcome.trace if s.name == "source")
    assert step.ok is False and "off" in step.detail and "would match" in step.detail
    # the only matching rule is off
    outcome = decide(make("@filrouge source", cfg=config((off,))))
    assert skip_of(outcome) == Skip(SkipReason.RULE_OFF, "rule 'source' is off", "source")


def test_no_rule() -> None:
    only = rule("only", Action.QUOTE, T_QUOTE, when=Conditions(keywords=("zzz",)))
    assert skip_of(decide(make(cfg=config((only,))))).reason == SkipReason.NO_RULE


def test_observe_mode_passes_through() -> None:
    observed = dataclasses.replace(RULES[-1], mode=Mode.OBSERVE)
    reply = reply_of(decide(make(cfg=config((*RULES[:-1], observed)))))
    assert reply.mode == Mode.OBSERVE


# -- candidates: no repeat, tie-break -------------------------------------------


def test_no_repeat_in_thread() -> None:
    first = reply_of(decide(make())).quote_id
    second = reply_of(decide(make(history=History(thread_quote_ids=frozenset({"voix"})))))
    assert first == "voix" and second.quote_id not in (None, "voix")
    every = frozenset(q.id for q in ESSAY.quotes)
    outcome = decide(make(history=History(thread_quote_ids=every)))
    assert skip_of(outcome).reason == SkipReason.NO_CANDIDATE


def test_a_rule_with_nothing_left_falls_through_to_the_next() -> None:
    every = frozenset(q.id for q in ESSAY.quotes)
    fallback = rule("question-par-defaut", Action.PROMPT, {"fr": "{requester} {prompt}"})
    outcome = decide(make(history=History(thread_quote_ids=every), cfg=config((*RULES, fallback))))
    reply = reply_of(outcome)
    assert (reply.rule, reply.action) == ("question-par-defaut", Action.PROMPT)
    assert "question-par-defaut" in outcome.trace.summary()
    assert "citation" not in outcome.trace.summary()


LRU = [
    # never used comes first
    ({"emplois": NOW - timedelta(days=1)}, "ressources"),
    ({"ressources": NOW - timedelta(days=1)}, "emplois"),
    # both used: the older one
    ({"emplois": NOW - timedelta(days=1), "ressources": NOW - timedelta(days=2)}, "ressources"),
    ({"emplois": NOW - timedelta(days=3), "ressources": NOW - timedelta(days=2)}, "emplois"),
    # neither used: by id
    ({}, "emplois"),
]


@pytest.mark.parametrize(("last_used", "expected"), LRU)
def test_ties_go_to_least_recently_used(last_used: dict[str, datetime], expected: str) -> None:
    two = dataclasses.replace(RULES[-1], quotes=("emplois", "ressources"))
    inputs = make("@filrouge bonjour", cfg=config((two,)), history=History(last_used=last_used))
    outcome = decide(inputs)
    scores = next(s for s in outcome.trace if s.kind == "candidates").data["candidates"]
    assert scores[0]["score"] == scores[1]["score"] == 0
    assert reply_of(outcome).quote_id == expected


# -- fitting --------------------------------------------------------------------


def test_a_shorter_quote_is_chosen_before_cutting() -> None:
    two = dataclasses.replace(RULES[-1], quotes=("voix", "emplois"))
    budget = status_length(f"@lecteur « {EMPLOIS} » — Pauline Harmange, {URL}")
    policy = dataclasses.replace(POLICY, max_characters=budget)
    reply = reply_of(decide(make(cfg=config((two,)), policy=policy)))
    assert reply.quote_id == "emplois"
    assert ELLIPSIS not in reply.text


@pytest.mark.parametrize("max_characters", range(40, 420, 9))
def test_fitting_never_exceeds_and_never_cuts_mid_word(max_characters: int) -> None:
    only = dataclasses.replace(RULES[-1], quotes=("mentir", "ressources"))
    policy = dataclasses.replace(POLICY, max_characters=max_characters)
    outcome = decide(make(cfg=config((only,)), policy=policy, cw="cw"))
    if isinstance(outcome.decision, Skip):
        assert outcome.decision.reason == SkipReason.DOES_NOT_FIT
        return
    reply = outcome.decision
    assert status_length(reply.text, reply.spoiler_text) <= max_characters
    quoted = reply.text.split("« ", 1)[1].rsplit(" » — ", 1)[0]
    full = MENTIR if reply.quote_id == "mentir" else RESSOURCES
    if quoted != full:
        assert quoted.endswith("…")
        kept = quoted.removesuffix(ELLIPSIS)
        assert full.startswith(kept)
        assert kept[-1] in ".!?…»"  # a sentence end, never mid-word


def test_tiny_limit_shortens_at_a_sentence_end() -> None:
    only = dataclasses.replace(RULES[-1], quotes=("mentir",))
    policy = dataclasses.replace(POLICY, max_characters=250)
    reply = reply_of(decide(make(cfg=config((only,)), policy=policy)))
    assert "à peine ? ». …" in reply.text
    assert "C’était" not in reply.text


def test_nothing_fits() -> None:
    policy = dataclasses.replace(POLICY, max_characters=30)
    assert skip_of(decide(make(policy=policy))).reason == SkipReason.DOES_NOT_FIT


# -- actions --------------------------------------------------------------------


def test_actions() -> None:
    cases = {
        "@filrouge source": Action.LINK,
        "@filrouge question": Action.PROMPT,
        "@filrouge aide": Action.HELP,
        "@filrouge help": Action.HELP,
        "@filrouge stop": Action.STOP,
        "@filrouge start": Action.START,
        "@filrouge pourquoi ?": Action.WHY,
    }
    for text, action in cases.items():
        assert reply_of(decide(make(text))).action == action, text


def test_why_explains_the_bots_post() -> None:
    # A reply recorded with a prose summary: explained from the recorded ids,
    # in the asker's language; the prose itself is not posted.
    inputs = make(
        "@filrouge pourquoi ?", in_reply_to_id="800", history=History(explained=EXPLAINED)
    )
    reply = reply_of(decide(inputs))
    assert reply.action == Action.WHY
    assert "J’ai suivi la règle «\u00a0citation\u00a0»" in reply.text
    assert "la citation «\u00a0voix\u00a0»" in reply.text
    assert "keyword" not in reply.text
    assert "petites voix" in reply.text


def _explained(outcome: Outcome) -> Explained:
    """What the record keeps of a reply (see ``Store.mark_replied``)."""
    reply = reply_of(outcome)
    return Explained(
        "800",
        reply.rule,
        reply.action.value,
        reply.essay_id,
        reply.quote_id,
        reply.prompt_id,
        outcome.trace.to_json()["summary"],
    )


def _ask_why(explained: Explained, text: str, language: str) -> str:
    inputs = make(
        text, language=language, in_reply_to_id="800", history=History(explained=explained)
    )
    return reply_of(decide(inputs)).text


WHY_CASES = [
    # a quote chosen by the catch-all rule, for the words it shares
    (
        make(),
        "fr",
        [
            "J’ai suivi la règle «\u00a0citation\u00a0»",
            "qui répond à toute mention",
            "J’ai choisi la citation «\u00a0voix\u00a0»",
            "partage avec le fil\u00a0: affiches",
        ],
    ),
    (
        make(),
        "en",
        [
            "I followed the rule “citation”",
            "which answers any mention",
            "I chose the quote “voix”",
            "shares with the thread: affiches",
        ],
    ),
    # a command
    (
        make("@filrouge question"),
        "fr",
        [
            "règle «\u00a0question\u00a0»",
            "car la mention commence par «\u00a0question\u00a0»",
            "la question «\u00a0q-voix\u00a0»",
        ],
    ),
    (
        make("@filrouge question"),
        "en",
        ["because the mention starts with “question”", "I chose the question “q-voix”"],
    ),
    # heat, with a decimal comma in French
    (make(HEATED), "fr", ["car le ton monte (chaleur ", " ≥ 0,60)"]),
    (make(HEATED), "en", ["because things are heating up (heat ", " ≥ 0.60)"]),
]


@pytest.mark.parametrize(("first", "language", "expected"), WHY_CASES)
def test_why_speaks_the_askers_language(first: Inputs, language: str, expected: list[str]) -> None:
    explained = _explained(decide(first))
    text = _ask_why(
        explained, "@filrouge why" if language == "en" else "@filrouge pourquoi", language
    )
    for part in expected:
        assert part in text, text
    # nothing of the other language's wording
    other = ["J’ai", "règle", "car "] if language == "en" else ["I followed", "rule", "because"]
    assert not any(word in text for word in other), text


def test_the_recorded_summary_is_data() -> None:
    outcome = decide(make(HEATED))
    data = json.loads(outcome.trace.to_json()["summary"])
    assert data == outcome.trace.why()
    assert data["rule"] == "calme"
    assert data["conditions"][0][0] == "min_heat"
    assert (data["kind"], data["id"]) == ("prompt", "q-calme")


def test_why_with_nothing_to_explain() -> None:
    reply = reply_of(decide(make("@filrouge why", language="en")))
    assert reply.action == Action.WHY
    assert "nothing to explain" in reply.text


def test_deescalation_when_heated() -> None:
    outcome = decide(make(HEATED))
    reply = reply_of(outcome)
    assert (reply.action, reply.prompt_id, reply.notify_moderators) == (
        Action.DEESCALATE,
        "q-calme",
        True,
    )
    assert "https://example.org/rules" in reply.text
    assert outcome.heat is not None and outcome.heat.score >= POLICY.heat_threshold
    # a calm mention is not de-escalated
    assert reply_of(decide(make())).action == Action.QUOTE


def test_the_rules_line_is_left_out_without_a_rules_url() -> None:
    with_url = reply_of(decide(make(HEATED)))
    assert with_url.text.endswith("\nLes règles : https://example.org/rules")
    without = reply_of(decide(make(HEATED, policy=dataclasses.replace(POLICY, rules_url=""))))
    assert without.action == Action.DEESCALATE
    assert "Les règles" not in without.text
    assert without.text == with_url.text.rsplit("\n", 1)[0]


def test_a_rules_url_sharing_its_line_stays_with_its_line() -> None:
    # Only a line whose one placeholder is {rules_url} is optional: here the
    # line also carries the prompt, so it stays (and the text is trimmed).
    one_line = rule(
        "calme",
        Action.DEESCALATE,
        {"fr": "{requester} On respire. {prompt} Les règles : {rules_url}"},
        tags=("calme",),
    )
    policy = dataclasses.replace(POLICY, rules_url="")
    reply = reply_of(decide(make(HEATED, cfg=config((one_line,)), policy=policy)))
    assert "On respire." in reply.text and reply.text.endswith("Les règles :")


def test_bundled_deescalation_without_a_rules_url() -> None:
    from bot.catalog.load import load_config
    from bot.settings import Settings

    bundled = load_config(Settings(_env_file=None))  # type: ignore[call-arg]
    essay = bundled.catalog.essays[0]
    for url in ("", "https://example.org/about/rules"):
        policy = dataclasses.replace(POLICY, rules_url=url)
        reply = reply_of(decide(make(HEATED, cfg=bundled, essay=essay, policy=policy)))
        assert reply.rule == "apaisement"
        assert reply.text == reply.text.strip()
        assert ("Pensez aux règles" in reply.text) is bool(url)
        if url:
            assert reply.text.endswith(url)


@pytest.mark.parametrize(
    "template",
    [
        "{requester} Bonjour.   \n\n\n",
        "{requester} Bonjour.\n   \n",
        "  {requester} Bonjour.",
    ],
)
def test_the_reply_text_is_trimmed(template: str) -> None:
    link = rule("source", Action.LINK, {"fr": template}, when=Conditions(commands=("source",)))
    reply = reply_of(decide(make("@filrouge source", cfg=config((link,)))))
    assert reply.text == "@lecteur@example.org Bonjour."


def test_blank_lines_left_by_an_optional_line_collapse() -> None:
    link = rule(
        "source",
        Action.LINK,
        {"fr": "{requester} Le texte :\n\n{rules_url}\n\n{essay_url}  "},
        when=Conditions(commands=("source",)),
    )
    policy = dataclasses.replace(POLICY, rules_url="")
    reply = reply_of(decide(make("@filrouge source", cfg=config((link,)), policy=policy)))
    assert reply.text == f"@lecteur@example.org Le texte :\n\n{URL}"


def test_unknown_essay_lists_the_known_ones_or_skips() -> None:
    cfg = config(essays=(ESSAY, OTHER))
    reply = reply_of(decide(make(essay=None, cfg=cfg)))
    assert URL in reply.text and "https://example.org/autre" in reply.text
    assert reply.action == Action.HELP
    policy = dataclasses.replace(POLICY, unknown_essay="skip")
    assert skip_of(decide(make(essay=None, cfg=cfg, policy=policy))).reason == SkipReason.NO_ESSAY
    # help needs no essay
    assert reply_of(decide(make("@filrouge aide", essay=None, cfg=cfg))).action == Action.HELP


@pytest.mark.parametrize(
    ("language", "opening", "closing"),
    [("fr", "«\u00a0", "\u00a0»"), ("en", "“", "”")],
)
def test_unknown_essay_list_quotes_titles_in_the_reply_language(
    language: str, opening: str, closing: str
) -> None:
    cfg = config(essays=(ESSAY, OTHER))
    reply = reply_of(decide(make(essay=None, cfg=cfg, language=language)))
    assert reply.language == language
    assert f"{opening}Un autre texte{closing} https://example.org/autre" in reply.text
    other = "“" if language == "fr" else "«"
    assert other not in reply.text


# -- purity and the trace -------------------------------------------------------


def test_same_inputs_same_outcome_and_json_trace() -> None:
    inputs = make()
    first, second = decide(inputs), decide(inputs)
    assert first == second
    assert isinstance(first.trace, Trace)
    data = json.loads(json.dumps(first.trace.to_json()))
    assert {s["kind"] for s in data["steps"]} >= {"guard", "heat", "rule", "candidates", "fit"}
    text = first.trace.to_text()
    assert "citation" in text and "voix" in text and "/500" in text
    assert "voix" in data["summary"]


# -- policy ---------------------------------------------------------------------


def test_policy_from_settings() -> None:
    from bot.settings import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        default_visibility="private",
        language="en",
        bot_allowlist=("@Helper@Example.org", "123"),
        blocked=("spam.example", "@troll@bad.example"),
        nobot_tags=("#NoBot",),
        thread_reply_limit=5,
    )
    policy = policy_from_settings(settings, self_id="9", max_characters=1000)
    assert policy.self_id == "9"
    assert (policy.default_visibility, policy.default_language) == ("private", "en")
    # the instance's limit wins; the URL length falls back to the setting
    assert (policy.max_characters, policy.url_length) == (1000, 23)
    assert policy.bot_allowlist == frozenset({"helper@example.org", "123"})
    assert policy.blocked == frozenset({"spam.example", "troll@bad.example"})
    assert policy.nobot_tags == ("nobot",)
    assert policy.thread_reply_limit == 5


LOCAL = Account(id="77", acct="voisine", username="voisine")
HOME = dataclasses.replace(POLICY, instance_domain="social.example")

# (row id, the account, the policy, expected: skipped as blocked?)
HANDLES: list[tuple[str, Account, Policy, bool]] = [
    # a local account (acct without domain), the admin wrote user@ourinstance
    (
        "local, full handle",
        LOCAL,
        dataclasses.replace(HOME, blocked=frozenset({"voisine@social.example"})),
        True,
    ),
    # ...with the leading @ and capitals, as written in FILROUGE_BLOCKED
    (
        "local, @Full",
        LOCAL,
        dataclasses.replace(HOME, blocked=frozenset({"@Voisine@Social.Example"})),
        True,
    ),
    # the admin wrote the bare username
    ("local, bare", LOCAL, dataclasses.replace(HOME, blocked=frozenset({"voisine"})), True),
    # the server gave the full handle, the admin the bare one
    (
        "full acct, bare",
        dataclasses.replace(LOCAL, acct="voisine@social.example"),
        dataclasses.replace(HOME, blocked=frozenset({"voisine"})),
        True,
    ),
    # the instance's own domain is a domain like any other
    (
        "local, domain",
        LOCAL,
        dataclasses.replace(HOME, blocked=frozenset({"social.example"})),
        True,
    ),
    # same username on another server: not the same person
    (
        "remote namesake",
        dataclasses.replace(LOCAL, acct="voisine@other.example"),
        dataclasses.replace(HOME, blocked=frozenset({"voisine@social.example"})),
        False,
    ),
    (
        "remote namesake, bare",
        dataclasses.replace(LOCAL, acct="voisine@other.example"),
        dataclasses.replace(HOME, blocked=frozenset({"voisine"})),
        False,
    ),
    # ids are compared as they are
    ("by id", LOCAL, dataclasses.replace(HOME, blocked=frozenset({"77"})), True),
    ("other id", LOCAL, dataclasses.replace(HOME, blocked=frozenset({"78"})), False),
    # without a known domain, handles compare as given
    (
        "no domain",
        LOCAL,
        dataclasses.replace(POLICY, blocked=frozenset({"voisine@social.example"})),
        False,
    ),
]


@pytest.mark.parametrize(
    ("account", "policy", "blocked"), [h[1:] for h in HANDLES], ids=[h[0] for h in HANDLES]
)
def test_block_list_knows_local_handles(account: Account, policy: Policy, blocked: bool) -> None:
    outcome = decide(make(account=account, policy=policy))
    if blocked:
        assert skip_of(outcome).reason == SkipReason.BLOCKED
    else:
        assert reply_of(outcome).action == Action.QUOTE


@pytest.mark.parametrize(
    "allowed", ["helper@social.example", "@Helper@social.example", "helper", "88"]
)
def test_bot_allowlist_knows_local_handles(allowed: str) -> None:
    helper = Account(id="88", acct="helper", username="helper", bot=True)
    policy = dataclasses.replace(HOME, bot_allowlist=frozenset({allowed}))
    assert reply_of(decide(make(account=helper, policy=policy))).action == Action.QUOTE
    # a bot of the same name elsewhere is still a bot
    remote = dataclasses.replace(helper, id="99", acct="helper@bots.example")
    assert skip_of(decide(make(account=remote, policy=policy))).reason == SkipReason.BOT_ACCOUNT


@pytest.mark.parametrize(
    ("instance_url", "domain"),
    [
        ("https://Social.Example", "social.example"),
        ("https://social.example:8443/", "social.example"),
        ("social.example", "social.example"),
        ("", ""),
    ],
)
def test_policy_knows_the_instance_domain(instance_url: str, domain: str) -> None:
    from bot.settings import Settings

    settings = Settings(_env_file=None, instance_url=instance_url)  # type: ignore[call-arg]
    assert policy_from_settings(settings, self_id="9").instance_domain == domain


def test_quote_url_is_the_anchor_when_there_is_one() -> None:
    anchored = dataclasses.replace(ESSAY.quotes[0], anchor_url=URL + "#:~:text=petites%20voix")
    essay = dataclasses.replace(ESSAY, quotes=(anchored, *ESSAY.quotes[1:]))
    reply = reply_of(decide(make(cfg=config(essays=(essay,)), essay=essay)))
    assert reply.quote_id == "voix"
    assert reply.text.endswith(URL + "#:~:text=petites%20voix")
    plain = reply_of(decide(make()))
    assert plain.text.endswith(URL)


def test_heat_placeholder_and_trace() -> None:
    calm = rule(
        "calme",
        Action.DEESCALATE,
        {"fr": "{requester} chaleur {heat}"},
        when=Conditions(min_heat=0.5),
    )
    outcome = decide(
        make(
            "@filrouge T'ES VRAIMENT UN ABRUTI SI TU CROIS QUE CES AFFICHES SONT DE L'ART !!!",
            cfg=config((calm,)),
        )
    )
    reply = reply_of(outcome)
    assert outcome.heat is not None
    assert reply.text == f"@lecteur@example.org chaleur {outcome.heat.score:.2f}"
    assert "signals:" in outcome.trace.to_text()


# -- pause and mutes, set by the admins: guards of the decision ------------------------

PAUSED = Moderation(paused=Paused(by="mod-id", since=datetime(2026, 3, 1, 9, 30, tzinfo=UTC)))
MUTED = Moderation(muted="thread-root")


@pytest.mark.parametrize(
    ("text", "moderation", "reason", "consent"),
    [
        # A request the bot would answer is held, with what it would have done.
        ("@filrouge Nos affiches, on les fait comment ?", PAUSED, SkipReason.PAUSED, None),
        ("@filrouge Nos affiches, on les fait comment ?", MUTED, SkipReason.MUTED, None),
        # Consent holds while paused or muted: unconfirmed, but it takes effect.
        ("@filrouge stop", PAUSED, SkipReason.PAUSED, Action.STOP),
        ("@filrouge start", MUTED, SkipReason.MUTED, Action.START),
    ],
)
def test_a_pause_or_a_mute_holds_the_reply_and_says_why(
    text: str, moderation: Moderation, reason: SkipReason, consent: Action | None
) -> None:
    free = decide(make(text))
    held = decide(dataclasses.replace(make(text), moderation=moderation))
    would = reply_of(free)
    skip = skip_of(held)
    assert skip.reason is reason
    assert skip.consent is consent
    assert skip.rule == would.rule
    assert f"would have replied by rule {would.rule!r}" in skip.detail
    guard = [s for s in held.trace if s.kind == "guard" and s.ok is False]
    assert [s.name for s in guard] == [reason.value]
    assert held.trace.why()["skip"] == reason.value


def test_a_pause_names_its_date_and_outranks_a_mute() -> None:
    both = Moderation(paused=PAUSED.paused, muted="thread-root")
    skip = skip_of(decide(dataclasses.replace(make(), moderation=both)))
    assert skip.reason is SkipReason.PAUSED
    assert "since 2026-03-01 09:30 UTC" in skip.detail


def test_a_skip_stays_the_same_skip_when_paused() -> None:
    """A mention the bot would not answer anyway keeps its own reason."""
    old = make(created_at=NOW - timedelta(days=3))
    assert skip_of(decide(old)).reason is SkipReason.TOO_OLD
    assert skip_of(decide(dataclasses.replace(old, moderation=PAUSED))).reason is (
        SkipReason.TOO_OLD
    )


# -- evidence before a passage ------------------------------------------------------------

EVIDENCE = dataclasses.replace(POLICY, min_evidence=4.0)
FALLBACKS = (
    rule("citation", Action.QUOTE, when=Conditions(commands=("citation", "quote"))),
    rule("quote-default", Action.QUOTE),
    rule("prompt-default", Action.PROMPT),
    rule("help-empty", Action.HELP, when=Conditions(empty=True)),
    rule(
        "link-default",
        Action.LINK,
        {"fr": "{requester} {essay_url}", "en": "{requester} {essay_url}"},
    ),
)


@pytest.mark.parametrize(
    ("text", "how", "rule_name", "reason"),
    [
        # words of the passage: the quote
        (
            "@filrouge nous n'avons ni les compétences ni les moyens de payer des visuels",
            "default",
            "quote-default",
            None,
        ),
        # asked for by name: a quote on no evidence at all
        ("@filrouge citation", "default", "citation", None),
        # says nothing: help, not a quote
        ("@filrouge ?!", "default", "help-empty", None),
        # no word in common, but the thread links the essay: its link
        ("@filrouge bon bah voilà quoi", "link", "link-default", None),
        # no word in common and no sign of the essay: off topic, nothing posted
        ("@filrouge à quelle heure ferme la piscine", "default", None, SkipReason.OFF_TOPIC),
    ],
)
def test_a_passage_needs_evidence_else_the_bot_says_less(
    text: str, how: str, rule_name: str | None, reason: SkipReason | None
) -> None:
    inputs = dataclasses.replace(
        make(text, policy=EVIDENCE, cfg=config(FALLBACKS)), essay=EssayMatch(ESSAY, how=how)
    )
    outcome = decide(inputs)
    if reason is not None:
        assert skip_of(outcome).reason is reason
        assert any(s.kind == "evidence" and s.ok is False for s in outcome.trace)
        return
    assert reply_of(outcome).rule == rule_name


def test_the_trace_shows_the_evidence_and_the_threshold() -> None:
    inputs = dataclasses.replace(
        make("@filrouge bon bah", policy=EVIDENCE, cfg=config(FALLBACKS)),
        essay=EssayMatch(ESSAY, how="default"),
    )
    text = decide(inputs).trace.to_text()
    assert "- evidence quote: 0.00 not enough against 4.00 (no shared words)" in text
    assert "trying the next rule" in text


def test_a_rule_can_set_its_own_evidence() -> None:
    lenient = dataclasses.replace(FALLBACKS[1], min_evidence=0.0)
    inputs = dataclasses.replace(
        make("@filrouge bon bah", policy=EVIDENCE, cfg=config((lenient,))),
        essay=EssayMatch(ESSAY, how="default"),
    )
    assert reply_of(decide(inputs)).rule == "quote-default"


#: A quote whose only words for making things are those of a concept.
HOBBIES = Concept("loisirs", {"fr": ("piano", "guitare"), "en": ("piano", "learn")})
MAKING = dataclasses.replace(
    ESSAY,
    quotes=(
        *ESSAY.quotes,
        Quote("precieux", "ia-probleme", "Des choses très précieuses.", concepts=("loisirs",)),
    ),
)


def _making_config() -> Config:
    base = config(FALLBACKS, essays=(MAKING,))
    return dataclasses.replace(base, index=Index.build((MAKING,), concepts={"loisirs": HOBBIES}))


@pytest.mark.parametrize(
    ("text", "how", "quote_id"),
    [
        # the thread names the essay (its link, a hashtag, its words): a
        # concept's terms are evidence
        ("@filrouge my kid wants to learn piano", "link", "precieux"),
        ("@filrouge my kid wants to learn piano", "hashtag", "precieux"),
        ("@filrouge my kid wants to learn piano", "text", "precieux"),
        # nothing names it: the same words are someone's week, not the essay
        ("@filrouge my kid wants to learn piano", "default", None),
        # a word of the quote's own is evidence either way
        ("@filrouge learn piano, des choses précieuses", "default", "precieux"),
    ],
)
def test_a_concepts_words_count_only_when_something_names_the_essay(
    text: str, how: str, quote_id: str | None
) -> None:
    inputs = dataclasses.replace(
        make(text, language="en", policy=EVIDENCE, cfg=_making_config()),
        essay=EssayMatch(MAKING, how=how),
    )
    outcome = decide(inputs)
    if quote_id is not None:
        assert reply_of(outcome).quote_id == quote_id
        return
    assert skip_of(outcome).reason is SkipReason.OFF_TOPIC
    (line,) = [line for line in outcome.trace.to_text().splitlines() if "evidence quote" in line]
    assert line.endswith(
        "but only a concept's words or synonyms (learn, piano) and nothing names the essay"
    )


#: A quote that sets posters and disinformation side by side (``joins``).
SIDE = dataclasses.replace(
    ESSAY,
    quotes=(
        Quote(
            "amalgame",
            "ia-probleme",
            "Ce n'est pas la même chose.",
            concepts=("desinformation",),
            joins=("visuels", "desinformation"),
        ),
        *ESSAY.quotes,
    ),
)
SIDE_CONCEPTS = {
    "visuels": Concept("visuels", {"fr": ("affiche", "flyer"), "en": ("poster",)}),
    "desinformation": Concept("desinformation", {"fr": ("désinfo",), "en": ("hoax",)}),
}


@pytest.mark.parametrize(
    ("text", "how", "quote_id"),
    [
        # one word in common, under the bar, but both joined concepts named
        ("@filrouge une affiche de kermesse c'est pas de la désinfo", "link", "amalgame"),
        ("@filrouge a poster is not a hoax", "link", "amalgame"),
        # a concept's words only, and nothing names the essay: the join still counts
        ("@filrouge une affiche de kermesse c'est pas de la désinfo", "default", "amalgame"),
        # one of the two named: one word, under the bar, no quote
        ("@filrouge c'est de la désinfo", "link", None),
    ],
)
def test_a_thread_naming_what_a_quote_joins_is_evidence(
    text: str, how: str, quote_id: str | None
) -> None:
    base = config(FALLBACKS, essays=(SIDE,))
    cfg = dataclasses.replace(base, index=Index.build((SIDE,), concepts=SIDE_CONCEPTS))
    strict = dataclasses.replace(EVIDENCE, min_evidence=50.0)
    inputs = dataclasses.replace(
        make(text, policy=strict, cfg=cfg), essay=EssayMatch(SIDE, how=how)
    )
    outcome = decide(inputs)
    if quote_id is None:
        assert not isinstance(outcome.decision, Reply) or outcome.decision.quote_id is None
        return
    assert reply_of(outcome).quote_id == quote_id
    (line,) = [line for line in outcome.trace.to_text().splitlines() if "evidence quote" in line]
    assert line.endswith(
        "but the thread names visuels and desinformation, which it sets side by side"
    )


def _people_essay(keywords: tuple[str, ...] = ()) -> Essay:
    """One quote whose text says « gens », a word French uses everywhere."""
    quote = Quote("gens", "ia-probleme", "Engager des gens pour un visuel.", keywords=keywords)
    return dataclasses.replace(ESSAY, quotes=(quote,), prompts=())


@pytest.mark.parametrize(
    ("keywords", "text", "quoted"),
    [
        # « gens » only in the quote's text: a common word of French, no
        # evidence; « visuel » alone is one word, under the bar
        ((), "@filrouge les gens qui font un visuel pour leur loto", False),
        # two words of its own that French does not use everywhere
        ((), "@filrouge engager pour un visuel", True),
        # « gens » as a keyword: the curator's choice, a word of evidence
        (("gens",), "@filrouge les gens qui font un visuel pour leur loto", True),
    ],
)
def test_a_word_the_language_uses_everywhere_is_no_evidence_from_a_quotes_text(
    keywords: tuple[str, ...], text: str, quoted: bool
) -> None:
    essay = _people_essay(keywords)
    base = config(FALLBACKS, essays=(essay,))
    cfg = dataclasses.replace(base, index=Index.build((essay,)))
    strict = dataclasses.replace(EVIDENCE, min_evidence=50.0)
    outcome = decide(
        dataclasses.replace(make(text, policy=strict, cfg=cfg), essay=EssayMatch(essay, how="link"))
    )
    decision = outcome.decision
    assert (isinstance(decision, Reply) and decision.quote_id == "gens") is quoted
    if not quoted:
        (line,) = [s for s in outcome.trace.to_text().splitlines() if "evidence quote" in s]
        assert "gens (common), visuel" in line


def test_another_language_gets_one_line_of_help_when_asked() -> None:
    policy = dataclasses.replace(POLICY, other_language="help")
    reply = reply_of(decide(make("@filrouge Was sagt der Text?", language="de", policy=policy)))
    assert (reply.action, reply.language) == (Action.HELP, "en")
    assert "only answer in French and English" in reply.text


def test_a_passage_shown_to_the_same_person_recently_gives_way() -> None:
    """Across threads: the requester was shown the best quote last week; another
    with evidence enough comes first; with no other, the same one again."""
    text = "@filrouge nous n'avons ni les compétences ni les moyens de payer des visuels"
    first = reply_of(decide(make(text))).quote_id
    assert first is not None
    again = decide(make(text, history=History(shown_to_account=frozenset({first}))))
    assert reply_of(again).quote_id != first
    assert "was shown to this account recently" in again.trace.to_text()
    only = tuple(q for q in ESSAY.quotes if q.id == first)
    essay = dataclasses.replace(ESSAY, quotes=only)
    shown = History(shown_to_account=frozenset({first}))
    same = decide(make(text, cfg=config(RULES, essays=(essay,)), essay=essay, history=shown))
    assert reply_of(same).quote_id == first
