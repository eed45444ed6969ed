"""Tests for bot.understand: entities → model, and which essay a thread is about.

The entities under ``tests/data/entities/`` have the shapes servers send:
Mastodon 4.x (notification, context, a direct post with a CW), GoToSocial
(ULID ids, ``language`` null, local ``acct`` without domain) and Akkoma
(flake ids, ``local`` visibility, no ``<p>``, ``pleroma`` extensions). Each is
read both as raw JSON and as Mastodon.py builds it (``AttribAccessDict``
with ``datetime`` values), and the two must agree.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mastodon.return_types import Context, Notification, Status, try_cast_recurse

from bot.catalog.config import Catalog, Config, RuleSet
from bot.catalog.essays import load_catalog
from bot.model.catalog import Essay, EssayMatch, Quote
from bot.model.post import VISIBILITY_ORDER, Account, Mention, PlainText, Post, Thread
from bot.rank.index import Index
from bot.understand.thread import (
    find_essay,
    mention_from_notification,
    parse_time,
    post_from_status,
    thread_from_context,
    visibility_of,
)

ENTITIES = Path(__file__).parents[1] / "data" / "entities"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ENTITIES / name).read_text(encoding="utf-8"))
    return data


def as_mastodon_py(kind: type, data: Mapping[str, Any]) -> Any:
    """The entity as Mastodon.py hands it over (same cast as its API calls)."""
    return try_cast_recurse(kind, copy.deepcopy(dict(data)))


# -- Mastodon 4.x --------------------------------------------------------------------


def test_mastodon_mention_notification() -> None:
    mention = mention_from_notification(load("mastodon_notification_mention.json"))
    assert mention.notification_id == "34975861"
    post = mention.post
    assert post.id == "114160201356044120"
    assert post.in_reply_to_id == "114160174200718244"
    assert post.created_at == datetime(2025, 3, 14, 9, 12, 40, tzinfo=UTC)
    assert post.visibility == "public"
    assert post.language == "fr"
    assert post.spoiler_text == ""
    assert post.card_url is None
    assert post.url == "https://piaille.example/@lea/114160201231000017"
    assert post.text.startswith("@maiwann @filrouge Pour les spectacles par exemple.")
    assert "c'est tellement plus parlant ^^.\n\nCertes" in post.text

    account = post.account
    assert (account.id, account.acct, account.username) == (
        "109283341245632100",
        "lea@piaille.example",
        "lea",
    )
    assert account.domain == "piaille.example"
    assert not account.bot
    # Bio and profile fields, HTML turned to text, one per line.
    assert account.profile_text == (
        "Régisseuse de théâtre, militante. Pas d'affiches générées, merci.\n"
        "Site: https://lea-regie.example\n"
        "Pronoms: elle"
    )

    # Mentions in the text's order, with the ids the server gave.
    assert [(m.acct, m.account_id) for m in post.content.mentions] == [
        ("maiwann", "109276812240090611"),
        ("filrouge", "111502339811204009"),
    ]


def test_mastodon_context_ancestors_oldest_first() -> None:
    thread = thread_from_context(load("mastodon_context.json"))
    assert [post.id for post in thread.ancestors] == [
        "114160098772031488",
        "114160174200718244",
    ]
    assert thread.depth == 2
    root, reply = thread.ancestors
    assert root.in_reply_to_id is None
    assert root.content.links == ("https://app.flus.fr/links/1853382202557961738",)
    assert root.card_url == "https://app.flus.fr/links/1853382202557961738"
    # The text's hashtags, plus none twice for the server's lowercased list.
    assert root.content.hashtags == ("IA", "graphisme")
    assert "https://app.flus.fr/links/1853382202557961738" in root.text
    assert reply.visibility == "unlisted"
    assert reply.account.acct == "bastien@toot.example"
    assert reply.account.profile_text == ""
    assert reply.content.mentions[0].account_id == "109276812240090611"


def test_mastodon_direct_post_with_content_warning() -> None:
    post = post_from_status(load("mastodon_status_direct_cw.json"))
    assert post.visibility == "direct"
    assert post.spoiler_text == "IA, boulot"
    assert post.language == "en"
    assert post.account.acct == "sam"
    assert post.account.domain is None
    # The full href, not the ellipsised text Mastodon shows.
    assert post.content.links == (
        "https://www.mail.paulineharmange.fr/archive/ia-probleme/"
        "?utm_source=mastodon&utm_medium=social#emplois",
    )
    assert post.card_url == "https://mail.paulineharmange.fr/archive/ia-probleme/"
    assert "#NoBot" in post.account.profile_text
    assert "Bots: only if I mention them" in post.account.profile_text


# -- other servers -------------------------------------------------------------------


def test_gotosocial_mention_with_null_language_and_local_acct() -> None:
    mention = mention_from_notification(load("gotosocial_notification_mention.json"))
    assert mention.notification_id == "01JPAZ3W8X5T1N2Q7BKM4C9D6E"
    post = mention.post
    assert post.id == "01JPAZ3W6VQ0H8S2FJ9RYE4K1B"
    assert post.language is None
    assert post.visibility == "unlisted"
    assert post.account.acct == "noor"
    assert post.account.domain is None
    assert post.account.id == "01HF2K7QWJ4Y8R5N3M6P0T1V2X"
    assert post.content.hashtags == ("IAprobleme",)
    assert [(m.acct, m.account_id) for m in post.content.mentions] == [
        ("filrouge", "01HF2J9B0C3D4E5F6G7H8J9K0M")
    ]
    assert post.text == (
        "@filrouge what does the essay say about the data centres and the water? #IAprobleme"
    )


def test_akkoma_local_only_post_is_read_as_direct() -> None:
    post = post_from_status(load("akkoma_status_local.json"))
    assert post.id == "AruSkhRSaTZBnM8Z4y"
    # Local-only: any reply the bot can post would reach further.
    assert post.visibility == "direct"
    assert post.language is None
    assert post.text == "@filrouge citation sur les patrons et les profits ?\nça chauffe ici"
    assert post.account.profile_text.startswith("no bots please. #nobot\nshe/her")
    assert "bots: #nobot really" in post.account.profile_text
    # Akkoma links /users/<name>; the mention still gets its id.
    assert [(m.acct, m.account_id) for m in post.content.mentions] == [
        ("filrouge", "AqPcXlIeF3m4vO7V8W")
    ]
    assert post.url == "https://akko.example/notice/AruSkhRSaTZBnM8Z4y"


# -- Mastodon.py entities agree with raw JSON ------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "mastodon_notification_mention.json",
        "gotosocial_notification_mention.json",
    ],
)
def test_mastodon_py_notification_reads_like_raw_json(name: str) -> None:
    raw = load(name)
    entity = as_mastodon_py(Notification, raw)
    assert isinstance(entity.status.created_at, datetime)  # what the library hands over
    assert mention_from_notification(entity) == mention_from_notification(raw)


@pytest.mark.parametrize("name", ["mastodon_status_direct_cw.json", "akkoma_status_local.json"])
def test_mastodon_py_status_reads_like_raw_json(name: str) -> None:
    raw = load(name)
    assert post_from_status(as_mastodon_py(Status, raw)) == post_from_status(raw)


def test_mastodon_py_context_reads_like_raw_json() -> None:
    raw = load("mastodon_context.json")
    assert thread_from_context(as_mastodon_py(Context, raw)) == thread_from_context(raw)


# -- visibility -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("public", "public"),
        ("unlisted", "unlisted"),
        ("private", "private"),
        ("direct", "direct"),
        ("PUBLIC ", "public"),
        ("home", "unlisted"),
        ("followers", "private"),
        ("followers_only", "private"),
        ("limited", "direct"),
        ("local", "direct"),
        ("list", "direct"),
        ("mutuals_only", "direct"),
        ("specified", "direct"),
        ("something-new", "direct"),
        ("", "direct"),
        (None, "direct"),
        (3, "direct"),
    ],
)
def test_visibility_of(value: object, expected: str) -> None:
    assert visibility_of(value) == expected


@pytest.mark.parametrize("value", ["limited", "local", "list", "mutuals_only", "weird", None])
def test_visibility_never_widens(value: object) -> None:
    """Guard: invariant 3 starts here. A value with an audience narrower than
    followers, or unknown, must not read as anything wider than direct."""
    status = load("mastodon_status_direct_cw.json")
    status["visibility"] = value
    post = post_from_status(status)
    assert VISIBILITY_ORDER.index(post.visibility) == 0


# -- times -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-14T09:12:40.000Z", datetime(2025, 3, 14, 9, 12, 40, tzinfo=UTC)),
        ("2025-03-14T09:12:40Z", datetime(2025, 3, 14, 9, 12, 40, tzinfo=UTC)),
        ("2025-03-14T11:12:40+02:00", datetime(2025, 3, 14, 9, 12, 40, tzinfo=UTC)),
        (
            "2025-03-14T09:12:40.123456789Z",  # nanoseconds (some servers)
            datetime(2025, 3, 14, 9, 12, 40, 123456, tzinfo=UTC),
        ),
        ("2025-03-14T09:12:40", datetime(2025, 3, 14, 9, 12, 40, tzinfo=UTC)),  # naive: UTC
        (datetime(2025, 3, 14, 9, 12, 40), datetime(2025, 3, 14, 9, 12, 40, tzinfo=UTC)),
        (
            datetime(2025, 3, 14, 10, 12, 40, tzinfo=timezone(timedelta(hours=1))),
            datetime(2025, 3, 14, 9, 12, 40, tzinfo=UTC),
        ),
    ],
)
def test_parse_time(value: object, expected: datetime) -> None:
    parsed = parse_time(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("value", [None, "", "yesterday", 1741943560, "14/03/2025"])
def test_parse_time_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="created_at"):
        parse_time(value)


# -- optional fields, odd values ------------------------------------------------------


def status_with(**changes: Any) -> dict[str, Any]:
    status = load("mastodon_notification_mention.json")["status"]
    for key, value in changes.items():
        if value is _DELETE:
            status.pop(key, None)
        else:
            status[key] = value
    return status


_DELETE = object()


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "fr"), ("fr-FR", "fr"), ("en_US", "en"), ("EN", "en"), ("", None), (None, None)],
)
def test_language(language: object, expected: str | None) -> None:
    assert post_from_status(status_with(language=language)).language == expected


def test_optional_fields_may_be_missing_or_null() -> None:
    post = post_from_status(
        status_with(
            language=_DELETE,
            card=_DELETE,
            spoiler_text=None,
            in_reply_to_id=_DELETE,
            mentions=None,
            tags=_DELETE,
            url=None,
        )
    )
    assert post.language is None
    assert post.card_url is None
    assert post.spoiler_text == ""
    assert post.in_reply_to_id is None
    # Without the server's list, the mentions the text carries.
    assert [m.acct for m in post.content.mentions] == [
        "maiwann@social.example",
        "filrouge@social.example",
    ]
    assert post.url == "https://piaille.example/users/lea/statuses/114160201231000017"


def test_account_without_fields_or_note() -> None:
    status = status_with()
    del status["account"]["fields"]
    status["account"]["note"] = None
    status["account"]["bot"] = None
    account = post_from_status(status).account
    assert account.profile_text == ""
    assert account.bot is False


def test_bot_flag() -> None:
    status = status_with()
    status["account"]["bot"] = True
    assert post_from_status(status).account.bot


def test_numeric_ids_are_strings() -> None:
    status = status_with(id=114160201356044120, in_reply_to_id=7)
    status["account"]["id"] = 42
    post = post_from_status(status)
    assert (post.id, post.in_reply_to_id, post.account.id) == ("114160201356044120", "7", "42")


def test_card_without_url() -> None:
    assert post_from_status(status_with(card={"title": "x"})).card_url is None
    assert post_from_status(status_with(card={"url": ESSAY_URL})).card_url == ESSAY_URL


def test_listed_mention_missing_from_text_is_kept() -> None:
    """A server may list an account the HTML does not show (a hidden mention)."""
    status = status_with()
    status["mentions"].append(
        {
            "id": "9",
            "username": "carol",
            "acct": "carol@else.example",
            "url": "https://else.example/@carol",
        }
    )
    mentions = post_from_status(status).content.mentions
    assert [(m.acct, m.account_id) for m in mentions][-1] == ("carol@else.example", "9")
    assert len(mentions) == 3


# -- unusable entities ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": _DELETE}, r"status has no 'id'"),
        ({"id": ""}, r"status has an empty 'id'"),
        ({"id": True}, r"status has no 'id'"),
        ({"account": _DELETE}, r"status 114160201356044120: account is not an object"),
        ({"account": "lea"}, r"account is not an object"),
        ({"created_at": _DELETE}, r"status 114160201356044120: created_at is missing"),
        ({"created_at": "soon"}, r"created_at 'soon' is not an ISO 8601 time"),
        ({"content": _DELETE}, r"status 114160201356044120 has no 'content'"),
    ],
)
def test_unusable_status_raises_a_clear_value_error(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        post_from_status(status_with(**changes))


def test_unusable_account_raises() -> None:
    status = status_with()
    del status["account"]["id"]
    with pytest.raises(ValueError, match="account has no 'id'"):
        post_from_status(status)
    status = status_with()
    status["account"]["acct"] = ""
    status["account"]["username"] = None
    with pytest.raises(ValueError, match="neither 'acct' nor 'username'"):
        post_from_status(status)


def test_account_with_only_acct_or_username() -> None:
    status = status_with()
    del status["account"]["username"]
    assert post_from_status(status).account.username == "lea"
    status = status_with()
    del status["account"]["acct"]
    assert post_from_status(status).account.acct == "lea"


def test_not_a_mapping() -> None:
    with pytest.raises(ValueError, match="status is not an object"):
        post_from_status([])  # type: ignore[arg-type]


def test_notification_must_be_a_mention_with_a_status() -> None:
    notification = load("mastodon_notification_mention.json")
    favourite = {**notification, "type": "favourite"}
    with pytest.raises(ValueError, match="is a 'favourite', not a mention"):
        mention_from_notification(favourite)
    with pytest.raises(ValueError, match="notification 34975861 has no 'status'"):
        mention_from_notification({**notification, "status": None})
    with pytest.raises(ValueError, match="notification has no 'id'"):
        mention_from_notification({k: v for k, v in notification.items() if k != "id"})


def test_thread_leaves_out_unreadable_ancestors_and_duplicates() -> None:
    context = load("mastodon_context.json")
    root, reply = context["ancestors"]
    broken = {k: v for k, v in reply.items() if k != "account"}
    context["ancestors"] = [root, broken, root, reply]
    thread = thread_from_context(context)
    assert [post.id for post in thread.ancestors] == [root["id"], reply["id"]]


@pytest.mark.parametrize("context", [{}, {"ancestors": None}, {"ancestors": "x"}])
def test_context_without_ancestors_raises(context: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="context has no 'ancestors' list"):
        thread_from_context(context)


def test_empty_context_is_an_empty_thread() -> None:
    assert thread_from_context({"ancestors": [], "descendants": []}) == Thread()


ESSAY_URL = "https://mail.paulineharmange.fr/archive/ia-probleme/"


# -- the same, from a Mastodon API over HTTP ----------------------------------------------


@pytest.mark.e2e
def test_entities_from_a_live_api(server: Any) -> None:
    """What Mastodon.py returns from a server (mastodon-mock over loopback)
    reads as the recorded entities do."""
    root = server.client("maiwann").status_post(
        "Un texte à lire https://app.flus.fr/links/1853382202557961738 #IAprobleme",
        language="fr",
    )
    server.client("alice").status_post(
        "@maiwann @filrouge Pour les spectacles par exemple.",
        in_reply_to_id=root["id"],
        visibility="unlisted",
    )
    bot = server.client("filrouge")
    (notification,) = bot.notifications(types=["mention"])
    mention = mention_from_notification(notification)
    post = mention.post
    assert post.account.acct == "alice"
    assert post.visibility == "unlisted"
    assert post.in_reply_to_id == str(root["id"])
    assert post.created_at.tzinfo is UTC
    assert post.text.startswith("@maiwann @filrouge Pour les spectacles")
    assert {m.acct for m in post.content.mentions} >= {"maiwann", "filrouge"}
    assert all(m.account_id for m in post.content.mentions)

    thread = thread_from_context(bot.status_context(post.id))
    (ancestor,) = thread.ancestors
    assert ancestor.id == str(root["id"])
    assert ancestor.content.links == ("https://app.flus.fr/links/1853382202557961738",)
    assert [tag.casefold() for tag in ancestor.content.hashtags] == ["iaprobleme"]


# -- find_essay -----------------------------------------------------------------------------

NO_ESSAY = EssayMatch(essay=None, how="none")
SOBRIETE = "https://blog.example/2024/sobriete-numerique/"
COMMUNS = "https://communs.example/essai"


def _essay(
    id: str,
    url: str,
    *,
    aliases: tuple[str, ...] = (),
    hashtags: tuple[str, ...] = (),
    quotes: tuple[str, ...] = (),
    language: str = "fr",
) -> Essay:
    return Essay(
        id=id,
        title=id.replace("-", " ").title(),
        author="Autrice",
        url=url,
        language=language,
        aliases=aliases,
        hashtags=hashtags,
        quotes=tuple(
            Quote(id=f"{id}-{n}", essay_id=id, text=text) for n, text in enumerate(quotes)
        ),
    )


THREE = (
    _essay(
        "ia-probleme",
        ESSAY_URL,
        aliases=("https://app.flus.fr/links/1853382202557961738",),
        hashtags=("iaprobleme",),
        quotes=(
            "Les patrons disent que l’IA augmente la productivité, mais les employés "
            "témoignent que ça alourdit leur charge de travail.",
            "Plus d’électricité, plus de cartes graphiques, plus d’eau pour refroidir "
            "les data centers.",
        ),
    ),
    _essay(
        "sobriete",
        SOBRIETE,
        aliases=("https://t.example/s0br",),
        hashtags=("sobriété",),
        quotes=(
            "La sobriété numérique commence par garder ses appareils plus longtemps.",
            "Réparer un téléphone plutôt que le remplacer divise son empreinte.",
        ),
    ),
    _essay(
        "communs",
        COMMUNS,
        hashtags=("communs",),
        quotes=(
            "Wikipédia est un commun : une ressource partagée, gouvernée par sa communauté.",
            "Les licences libres protègent les communs de l’enclosure.",
        ),
        language="en",
    ),
)


def config_of(essays: tuple[Essay, ...]) -> Config:
    return Config(
        catalog=Catalog(essays=essays, path=Path("catalog.toml")),
        rules=RuleSet(rules=(), path=Path("rules.toml"), templates={}),
        index=Index.build(essays),
    )


def post(
    id: str,
    text: str = "",
    *,
    links: tuple[str, ...] = (),
    hashtags: tuple[str, ...] = (),
    card_url: str | None = None,
    language: str | None = "fr",
) -> Post:
    return Post(
        id=id,
        account=Account(id=f"a{id}", acct=f"user{id}", username=f"user{id}"),
        content=PlainText(text=text, links=links, hashtags=hashtags),
        created_at=datetime(2025, 3, 14, 9, 0, tzinfo=UTC),
        card_url=card_url,
        language=language,
    )


def ask(
    mention: Post,
    *ancestors: Post,
    essays: tuple[Essay, ...] = THREE,
    resolved: Mapping[str, str] | None = None,
    threshold: float = 0.5,
) -> Any:
    return find_essay(
        Mention(notification_id="n1", post=mention),
        Thread(ancestors=ancestors),
        config_of(essays),
        resolved=resolved or {},
        threshold=threshold,
    )


def test_canonical_link_in_the_mention() -> None:
    link = "http://www.blog.example/2024/sobriete-numerique?utm_source=masto#intro"
    match = ask(post("m", links=(link,)))
    assert (match.essay.id, match.how, match.evidence) == ("sobriete", "link", link)


def test_alias_link_in_the_mention() -> None:
    match = ask(post("m", links=("https://t.example/s0br/",)))
    assert (match.essay.id, match.how) == ("sobriete", "alias")


def test_unknown_links_are_ignored() -> None:
    match = ask(post("m", links=("https://elsewhere.example/", COMMUNS)))
    assert (match.essay.id, match.how, match.evidence) == ("communs", "link", COMMUNS)


def test_mention_link_beats_ancestor_links_and_newest_ancestor_wins() -> None:
    root = post("1", links=(ESSAY_URL,))
    newer = post("2", links=(COMMUNS,))
    assert ask(post("m"), root, newer).essay.id == "communs"
    assert ask(post("m", links=(SOBRIETE,)), root, newer).essay.id == "sobriete"


def test_a_link_anywhere_beats_a_card() -> None:
    match = ask(post("m", card_url=SOBRIETE), post("1", links=(COMMUNS,)))
    assert (match.essay.id, match.how) == ("communs", "link")


def test_card_url() -> None:
    match = ask(
        post("m"), post("1", links=("https://short.example/x",), card_url=SOBRIETE + "?ref=x")
    )
    assert (match.essay.id, match.how, match.evidence) == ("sobriete", "card", SOBRIETE + "?ref=x")


def test_resolved_aggregator_link() -> None:
    link = "https://agg.example/l/42?utm_source=m"
    resolved = {"https://agg.example/l/42": "https://communs.example/essai/"}
    match = ask(post("m"), post("1", links=(link,)), resolved=resolved)
    assert (match.essay.id, match.how) == ("communs", "resolved")
    assert match.evidence == f"{link} → https://communs.example/essai/"
    # Unresolved, the same thread falls through to the next kinds of evidence.
    assert ask(post("m"), post("1", links=(link,))).how != "resolved"


def test_resolved_card_url() -> None:
    card = "https://agg.example/l/7"
    match = ask(post("m", card_url=card), resolved={card: SOBRIETE})
    assert (match.essay.id, match.how) == ("sobriete", "resolved")


def test_card_beats_resolved_and_resolved_beats_hashtag() -> None:
    link = "https://agg.example/l/1"
    resolved = {link: COMMUNS}
    assert ask(post("m", links=(link,), card_url=SOBRIETE), resolved=resolved).how == "card"
    match = ask(post("m", links=(link,), hashtags=("iaprobleme",)), resolved=resolved)
    assert (match.essay.id, match.how) == ("communs", "resolved")


def test_configured_hashtag_folded() -> None:
    match = ask(post("m", hashtags=("Sobriete",)))
    assert (match.essay.id, match.how, match.evidence) == ("sobriete", "hashtag", "#Sobriete")
    match = ask(post("m"), post("1", hashtags=("IAProblème",)))
    assert (match.essay.id, match.how) == ("ia-probleme", "hashtag")


def test_text_relevance_above_threshold() -> None:
    mention = post(
        "m",
        "@filrouge et l'eau pour refroidir les data centers, l'électricité ?",
    )
    match = ask(mention)
    assert (match.essay.id, match.how) == ("ia-probleme", "text")
    assert match.score > 0.5
    assert match.evidence


def test_text_relevance_below_threshold_is_no_essay() -> None:
    mention = post("m", "@filrouge et l'eau pour refroidir les data centers ?")
    assert ask(mention, threshold=1e9) == NO_ESSAY


def test_text_cannot_tell_two_equal_essays_apart() -> None:
    quote = "Réparer un téléphone plutôt que le remplacer divise son empreinte."
    tied = (
        _essay("jumeau-a", "https://a.example/", quotes=(quote,)),
        _essay("jumeau-b", "https://b.example/", quotes=(quote,)),
    )
    assert ask(post("m", "réparer son téléphone, le remplacer"), essays=tied) == NO_ESSAY


def test_single_essay_catalog_defaults_to_it() -> None:
    only = (THREE[0],)
    match = ask(post("m", "@filrouge bonjour"), essays=only)
    assert (match.essay.id, match.how) == ("ia-probleme", "default")


def test_no_evidence_in_a_larger_catalog_is_no_essay() -> None:
    assert ask(post("m", "@filrouge bonjour")) == NO_ESSAY


def test_seed_thread_is_found_by_the_alias_in_the_root_post() -> None:
    """The bundled catalog and the recorded thread: the root shares the
    aggregator link, which the catalog lists as an alias."""
    catalog = load_catalog(Path(__file__).parents[2] / "bot" / "data" / "catalog.toml")
    config = Config(
        catalog=catalog,
        rules=RuleSet(rules=(), path=Path("rules.toml"), templates={}),
        index=Index.build(catalog.essays),
    )
    mention = mention_from_notification(load("mastodon_notification_mention.json"))
    thread = thread_from_context(load("mastodon_context.json"))
    match = find_essay(mention, thread, config, threshold=1.0)
    assert (match.essay.id, match.how) == ("ia-probleme", "alias")
    assert match.evidence == "https://app.flus.fr/links/1853382202557961738"

    direct = Mention("n2", post_from_status(load("mastodon_status_direct_cw.json")))
    match = find_essay(direct, Thread(), config, threshold=1.0)
    assert (match.essay.id, match.how) == ("ia-probleme", "link")


# -- whatever a server sends: a Post or a ValueError ------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
_STATUS_KEYS = sorted(load("mastodon_notification_mention.json")["status"])
_ACCOUNT_KEYS = ["id", "acct", "username", "bot", "note", "fields"]


@settings(max_examples=300)
@given(
    st.dictionaries(st.sampled_from(_STATUS_KEYS), _JSON | st.just(_DELETE), max_size=6),
    st.dictionaries(st.sampled_from(_ACCOUNT_KEYS), _JSON | st.just(_DELETE), max_size=3),
)
def test_malformed_status_gives_a_post_or_a_value_error(
    changes: dict[str, Any], account_changes: dict[str, Any]
) -> None:
    """Guard: the caller records an unreadable mention on ValueError; any other
    exception would be a crash on what a remote server chose to send."""
    status = status_with(**changes)
    if isinstance(status.get("account"), dict):
        for key, value in account_changes.items():
            if value is _DELETE:
                status["account"].pop(key, None)
            else:
                status["account"][key] = value
    try:
        result = post_from_status(status)
    except ValueError:
        return
    assert isinstance(result, Post)
    assert result.visibility in VISIBILITY_ORDER
    assert result.created_at.tzinfo is UTC


@settings(max_examples=100)
@given(st.lists(_JSON | st.just(load("mastodon_context.json")["ancestors"][0]), max_size=5))
def test_malformed_context_gives_a_thread(ancestors: list[Any]) -> None:
    thread = thread_from_context({"ancestors": ancestors})
    assert all(isinstance(post, Post) for post in thread.ancestors)


def test_a_thread_of_4096_ancestors() -> None:
    """The most a server returns with a token (contexts_controller.rb)."""
    root = load("mastodon_context.json")["ancestors"][0]
    ancestors = [{**root, "id": str(n)} for n in range(4096)]
    thread = thread_from_context({"ancestors": ancestors, "descendants": []})
    assert thread.depth == 4096
    assert [post.id for post in thread.ancestors[:3]] == ["0", "1", "2"]
