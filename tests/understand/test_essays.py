"""Many essays: a mention reaches the right one of three.

The catalog is tests/data/catalogs/three_essays.toml (the seed essay, a French
blog post, an English letter) loaded with the bundled rules through
``load_config``, as ``run`` does. Threads are Mastodon status entities with
the HTML the server sends, read by ``bot.understand``; the essay is found by
``find_essay`` and, where it matters, the whole decision is made by
``bot.decide.decide``. Aggregator links are resolved by ``bot.web.links.Resolver``
against a real HTTP server on 127.0.0.1 (its address policy widened to
loopback for the test only).
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.app.wiring import policy_from_settings
from bot.catalog.config import Config
from bot.catalog.load import load_config
from bot.decide.decision import decide
from bot.decide.trace import Inputs
from bot.model.catalog import EssayMatch
from bot.model.decision import History, Reply, Skip, SkipReason
from bot.model.post import Mention, Thread
from bot.settings import Settings
from bot.understand.thread import find_essay, post_from_status, thread_from_context
from bot.web.links import Resolver

THREE = Path(__file__).parents[1] / "data" / "catalogs" / "three_essays.toml"

SEED = "https://mail.paulineharmange.fr/archive/ia-probleme/"
SOBRIETY = "https://carnets.example.org/2025/03/sobriete-numerique-petit-geste/"
LIBRARY = "https://letters.example.net/p/the-library-is-not-a-warehouse"
BOT_ID = "110000000000000001"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings from the defaults and the arguments only: no .env, no FILROUGE_*."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("FILROUGE_"):
            monkeypatch.delenv(name)


def settings(**overrides: Any) -> Settings:
    return Settings(catalog_path=THREE, **overrides)


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(Settings(catalog_path=THREE, _env_file=None))  # type: ignore[call-arg]


# -- Mastodon entities, as the server sends them ------------------------------------------

_ACCOUNTS = {
    "maiwann": "109276812240090611",
    "alice@piaille.example": "109300000000000002",
    "bob": "109300000000000003",
    "filrouge": BOT_ID,
}


def _account(acct: str) -> dict[str, Any]:
    username, _, domain = acct.partition("@")
    host = domain or "social.example"
    return {
        "id": _ACCOUNTS[acct],
        "username": username,
        "acct": acct,
        "display_name": username.capitalize(),
        "bot": acct == "filrouge",
        "note": "<p>Je lis, je discute.</p>",
        "url": f"https://{host}/@{username}",
        "fields": [],
    }


def mention_html(acct: str = "filrouge") -> str:
    username, _, domain = acct.partition("@")
    host = domain or "social.example"
    return (
        f'<span class="h-card" translate="no"><a href="https://{host}/@{username}"'
        f' class="u-url mention">@<span>{username}</span></a></span>'
    )


def link_html(url: str) -> str:
    """A link as Mastodon formats it: scheme hidden, long paths elided."""
    scheme, _, rest = url.partition("://")
    shown, hidden = rest[:30], rest[30:]
    return (
        f'<a href="{url}" target="_blank" rel="nofollow noopener noreferrer" translate="no">'
        f'<span class="invisible">{scheme}://</span>'
        f'<span class="{"ellipsis" if hidden else ""}">{shown}</span>'
        f'<span class="invisible">{hidden}</span></a>'
    )


def hashtag_html(tag: str) -> str:
    return (
        f'<a href="https://social.example/tags/{tag.lower()}" class="mention hashtag"'
        f' rel="tag">#<span>{tag}</span></a>'
    )


_counter = iter(range(114160098772031488, 114160098772099999))


def status(
    acct: str,
    html: str,
    *,
    minute: int = 0,
    language: str | None = "fr",
    card: str | None = None,
    tags: Sequence[str] = (),
    mentions: Sequence[str] = (),
) -> dict[str, Any]:
    status_id = str(next(_counter))
    return {
        "id": status_id,
        "created_at": f"2025-03-14T09:{minute:02d}:00.000Z",
        "in_reply_to_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": language,
        "uri": f"https://social.example/users/{acct}/statuses/{status_id}",
        "url": f"https://social.example/@{acct}/{status_id}",
        "content": html,
        "account": _account(acct),
        "mentions": [
            {
                "id": _ACCOUNTS[m],
                "username": m.split("@")[0],
                "acct": m,
                "url": f"https://social.example/@{m}",
            }
            for m in mentions
        ],
        "tags": [
            {"name": t.lower(), "url": f"https://social.example/tags/{t.lower()}"} for t in tags
        ],
        "emojis": [],
        "media_attachments": [],
        "card": None
        if card is None
        else {
            "url": card,
            "title": "Un article",
            "description": "",
            "type": "link",
            "provider_name": "",
        },
    }


def thread_of(*statuses: dict[str, Any]) -> tuple[Mention, Thread]:
    """Chain the statuses as replies (oldest first); the last is the mention."""
    for parent, child in itertools.pairwise(statuses):
        child["in_reply_to_id"] = parent["id"]
    post = post_from_status(statuses[-1])
    return (
        Mention(notification_id="n-" + post.id, post=post),
        thread_from_context({"ancestors": list(statuses[:-1])}),
    )


def ask(
    text: str, *, minute: int = 30, language: str | None = "fr", **extra: Any
) -> dict[str, Any]:
    """Bob's mention of the bot."""
    mentions = ("filrouge", *extra.pop("mentions", ()))
    return status(
        "bob",
        f"<p>{mention_html()} {text}</p>",
        minute=minute,
        language=language,
        mentions=mentions,
        **extra,
    )


def found(config: Config, mention: Mention, thread: Thread, **options: Any) -> EssayMatch:
    options.setdefault("threshold", Settings().essay_threshold)
    return find_essay(mention, thread, config, **options)


# -- by link ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "essay"),
    [
        # the canonical URLs as the catalog spells them
        (SEED, "ia-probleme"),
        (SOBRIETY, "petit-geste"),
        (LIBRARY, "slow-library"),
        # http, www., no trailing slash, tracking parameters
        (
            "http://www.carnets.example.org/2025/03/sobriete-numerique-petit-geste"
            "?utm_source=mastodon&utm_medium=social",
            "petit-geste",
        ),
        # a fragment and a trailing slash the catalog does not have
        (LIBRARY + "/#the-quiet-room", "slow-library"),
        # upper-case host, explicit default port, a mailing-list parameter
        (
            "https://LETTERS.example.net:443/p/the-library-is-not-a-warehouse?mc_cid=8a1b2",
            "slow-library",
        ),
    ],
)
def test_a_link_in_the_root_post_names_the_essay(config: Config, url: str, essay: str) -> None:
    mention, thread = thread_of(
        status("maiwann", f"<p>À lire avant d’en débattre : {link_html(url)}</p>"),
        status("alice@piaille.example", "<p>Pas d’accord du tout avec ce texte.</p>", minute=5),
        ask("qu’en dit le texte ?"),
    )
    match = found(config, mention, thread)
    assert match.essay is not None and match.essay.id == essay
    assert match.how == "link"
    assert match.evidence == url


def test_a_link_in_the_mention_beats_the_thread(config: Config) -> None:
    mention, thread = thread_of(
        status("maiwann", f"<p>{link_html(SEED)}</p>"),
        ask(f"ce fil parle plutôt de ceci : {link_html(LIBRARY)}"),
    )
    match = found(config, mention, thread)
    assert match.essay is not None and (match.essay.id, match.how) == ("slow-library", "link")


# -- by alias and by card -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "essay"),
    [
        ("https://lettres.example.com/carnets/p/sobriete-numerique", "petit-geste"),
        ("https://letters.example.net/p/library-warehouse?ref=mastodon", "slow-library"),
        # the seed essay's aggregator link, listed in the catalog: no resolving needed
        ("https://app.flus.fr/links/1853382202557961738", "ia-probleme"),
    ],
)
def test_an_alias_names_the_essay(config: Config, url: str, essay: str) -> None:
    mention, thread = thread_of(
        status("maiwann", f"<p>Le texte dont tout le monde parle {link_html(url)}</p>"),
        ask("source ?"),
    )
    match = found(config, mention, thread)
    assert match.essay is not None and (match.essay.id, match.how) == (essay, "alias")


def test_a_link_preview_card_names_the_essay(config: Config) -> None:
    # A shortened link the catalog does not know; the server's preview card
    # carries the page's own URL.
    mention, thread = thread_of(
        status(
            "maiwann",
            f"<p>Très juste, sur les bibliothèques {link_html('https://sho.example/x7Kp')}</p>",
            language="fr",
            card=LIBRARY + "?utm_source=rss",
        ),
        ask("une citation ?"),
    )
    match = found(config, mention, thread)
    assert match.essay is not None and (match.essay.id, match.how) == ("slow-library", "card")


# -- by a link that must be resolved ---------------------------------------------------------


@dataclass
class Route:
    status: int = 200
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


class Aggregator:
    """An aggregator on 127.0.0.1: pages about links, with their canonical URL."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append((self.path, self.headers.get("Host", "")))
                route = outer.routes.get(self.path, Route(404, "not found"))
                body = route.body.encode("utf-8")
                self.send_response(route.status)
                for name, value in {
                    "Content-Type": "text/html; charset=utf-8",
                    **route.headers,
                }.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.host = f"flus.example:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def resolver(self) -> Resolver:
        return Resolver(
            [self.host],
            allow_http=True,
            # The production policy refuses loopback; the test server lives there.
            address_allowed=lambda address: address == ipaddress.ip_address("127.0.0.1"),
            resolve_host=lambda host, port: ["127.0.0.1"] if host == "flus.example" else [],
        )


@pytest.fixture
def aggregator() -> Iterator[Aggregator]:
    server = Aggregator()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def _links(mention: Mention, thread: Thread) -> list[str]:
    posts = (mention.post, *thread.ancestors)
    return [link for post in posts for link in (*post.content.links, post.card_url) if link]


def test_an_aggregator_link_is_resolved_through_its_canonical(
    config: Config, aggregator: Aggregator
) -> None:
    aggregator.routes["/links/2046113"] = Route(
        body=(
            "<!DOCTYPE html><html lang='fr'><head><title>Sobriété numérique – Flus</title>"
            f"<link rel='canonical' href='{SOBRIETY}?utm_source=flus'>"
            "<meta property='og:url' content='http://flus.example/links/2046113'></head>"
            "<body><h1>Sobriété numérique : le mythe du petit geste</h1></body></html>"
        )
    )
    link = aggregator.url("/links/2046113")
    mention, thread = thread_of(
        status("maiwann", f"<p>Partagé sur Flus : {link_html(link)}</p>"),
        status("alice@piaille.example", "<p>Encore un texte culpabilisant ?</p>", minute=3),
        ask("ton avis ?"),
    )
    # Without resolving, nothing tells the essays apart.
    assert found(config, mention, thread).essay is None
    with aggregator.resolver() as resolver:
        resolved = resolver.resolve_many(_links(mention, thread))
    assert aggregator.requests == [("/links/2046113", aggregator.host)]
    match = found(config, mention, thread, resolved=resolved)
    assert match.essay is not None and (match.essay.id, match.how) == ("petit-geste", "resolved")
    assert link in match.evidence


def test_an_aggregator_redirect_is_followed_without_fetching_the_essay(
    config: Config, aggregator: Aggregator
) -> None:
    # A shortener answers with a redirect to an alias of the letter; the walk
    # stops there (the essay's host is not on the allowlist, so it is never fetched).
    aggregator.routes["/l/7"] = Route(301, headers={"Location": "/links/7"})
    aggregator.routes["/links/7"] = Route(
        302, headers={"Location": "https://letters.example.net/p/library-warehouse"}
    )
    mention, thread = thread_of(
        status("maiwann", f"<p>{link_html(aggregator.url('/l/7'))}</p>", language="en"),
        ask("quote please", language="en"),
    )
    with aggregator.resolver() as resolver:
        resolved = resolver.resolve_many(_links(mention, thread))
    assert [path for path, _ in aggregator.requests] == ["/l/7", "/links/7"]
    match = found(config, mention, thread, resolved=resolved)
    assert match.essay is not None and (match.essay.id, match.how) == ("slow-library", "resolved")


# -- by hashtag ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "essay"),
    [
        ("PetitGeste", "petit-geste"),
        # accents and case folded: the catalog says "sobriéténumérique"
        ("SobrieteNumerique", "petit-geste"),
        ("slowlibrary", "slow-library"),
        ("IAestUnProbleme", "ia-probleme"),
    ],
)
def test_a_configured_hashtag_names_the_essay(config: Config, tag: str, essay: str) -> None:
    mention, thread = thread_of(
        status("maiwann", f"<p>On en reparle ? {hashtag_html(tag)}</p>", tags=[tag]),
        ask("ton avis ?"),
    )
    match = found(config, mention, thread)
    assert match.essay is not None and (match.essay.id, match.how) == (essay, "hashtag")


def test_a_link_beats_a_hashtag(config: Config) -> None:
    mention, thread = thread_of(
        status("maiwann", f"<p>{link_html(SOBRIETY)}</p>"),
        ask(f"{hashtag_html('SlowLibrary')} rien à voir, mais bon", tags=["SlowLibrary"]),
    )
    match = found(config, mention, thread)
    assert match.essay is not None and (match.essay.id, match.how) == ("petit-geste", "link")


# -- by text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("root", "text", "language", "essay"),
    [
        (
            "Supprimer ses mails pour sauver la planète, vraiment ?",
            "Le problème ce sont les batteries collées et l’obsolescence des téléphones,"
            " pas nos mails.",
            "fr",
            "petit-geste",
        ),
        (
            "Our town wants to close the branch library and put the books in storage.",
            "A librarian helped my kid more than any chatbot ever could.",
            "en",
            "slow-library",
        ),
        (
            "On a fait l’affiche du spectacle avec une IA, on n’avait pas de budget pour"
            " un graphiste.",
            "Et les petites associations sans moyens, elles font comment pour leurs visuels ?",
            "fr",
            "ia-probleme",
        ),
    ],
)
def test_text_relevance_names_the_essay(
    config: Config, root: str, text: str, language: str, essay: str
) -> None:
    mention, thread = thread_of(
        status("maiwann", f"<p>{root}</p>", language=language),
        ask(text, language=language),
    )
    match = found(config, mention, thread)
    assert match.essay is not None and (match.essay.id, match.how) == (essay, "text")
    assert match.score >= Settings().essay_threshold


@pytest.mark.parametrize(
    ("text", "language", "essay"),
    [
        # a command word first, then real evidence
        ("citation : les batteries collées et l’obsolescence", "fr", "petit-geste"),
        # a second mention in the leading block is not a word either
        ("@alice the library and the chatbot", "en", "slow-library"),
        # a clear lead over an essay that shares one word
        ("les visuels IA et les mails", "fr", "ia-probleme"),
    ],
)
def test_text_relevance_needs_two_words_and_a_clear_lead(
    config: Config, text: str, language: str, essay: str
) -> None:
    mention, thread = thread_of(
        status("maiwann", "<p>Bon, on en parle ou pas ?</p>", language=language),
        ask(text, language=language),
    )
    match = found(config, mention, thread)
    assert match.essay is not None and (match.essay.id, match.how) == (essay, "text")
    assert "citation" not in match.evidence.split()


def test_text_below_the_threshold_names_no_essay(config: Config) -> None:
    mention, thread = thread_of(
        status("maiwann", "<p>Je suis d’accord.</p>"),
        ask("et toi ?"),
    )
    assert found(config, mention, thread).essay is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("what do you think of this new post?", "en"),
        ("Merci pour le partage, je lis ça ce soir", "fr"),
        # one word of one essay's vocabulary is not evidence, however rare
        ("c’est un problème", "fr"),
        ("intéressant ce débat", "fr"),
        ("Les mails, vraiment ?", "fr"),
        # one word for each of three essays: nothing stands out
        ("les affiches, les mails, la bibliothèque", "fr"),
        # two words for one essay, two for another, close scores: no clear lead
        ("les mails, les batteries, la bibliothèque et les bibliothécaires", "fr"),
        # the command word is a request, not a word about the essay: "help"
        # appears in the letter, "library" alone is one word
        ("help with the library", "en"),
    ],
)
def test_a_generic_remark_names_no_essay(config: Config, text: str, language: str) -> None:
    mention, thread = thread_of(
        status("maiwann", "<p>Bon, on en parle ou pas ?</p>", language=language),
        ask(text, language=language),
    )
    match = found(config, mention, thread)
    assert match.essay is None, (match.how, match.evidence, match.score)


# -- none can be told apart ---------------------------------------------------------------------


def _decide(config: Config, mention: Mention, thread: Thread, **overrides: Any) -> Reply | Skip:
    chosen = settings(**overrides)
    inputs = Inputs(
        mention=mention,
        thread=thread,
        essay=found(config, mention, thread),
        config=config,
        history=History(),
        policy=policy_from_settings(chosen, self_id=BOT_ID),
        now=mention.post.created_at,
    )
    return decide(inputs).decision


def _no_evidence() -> tuple[Mention, Thread]:
    return thread_of(
        status("maiwann", "<p>Bon, on en parle ou pas ?</p>"),
        ask("source ?"),
    )


def test_no_essay_lists_the_known_ones_politely(config: Config) -> None:
    mention, thread = _no_evidence()
    assert found(config, mention, thread).how == "none"
    decision = _decide(config, mention, thread, unknown_essay="list")
    assert isinstance(decision, Reply), decision
    assert decision.text.startswith("@bob ")
    for url in (SEED, SOBRIETY, LIBRARY):
        assert url in decision.text
    assert "Sobriété numérique : le mythe du petit geste" in decision.text
    assert decision.essay_id is None and decision.quote_id is None
    assert decision.rule == "source"


def test_no_essay_skips_when_told_to(config: Config) -> None:
    mention, thread = _no_evidence()
    decision = _decide(config, mention, thread, unknown_essay="skip")
    assert isinstance(decision, Skip)
    assert decision.reason is SkipReason.NO_ESSAY


# -- and the reply comes from that essay -------------------------------------------------------


@pytest.mark.parametrize(
    ("root", "request_text", "language", "essay", "prefix"),
    [
        (f"<p>{link_html(LIBRARY)}</p>", "quote please?", "en", "slow-library", "sl-"),
        (
            f"<p>{hashtag_html('PetitGeste')} les batteries collées, voilà le vrai scandale</p>",
            "citation",
            "fr",
            "petit-geste",
            "pg-",
        ),
    ],
)
def test_the_quote_comes_from_the_essay_found(
    config: Config, root: str, request_text: str, language: str, essay: str, prefix: str
) -> None:
    mention, thread = thread_of(
        status(
            "maiwann", root, language=language, tags=["PetitGeste"] if "PetitGeste" in root else []
        ),
        ask(request_text, language=language),
    )
    decision = _decide(config, mention, thread)
    assert isinstance(decision, Reply), decision
    assert decision.essay_id == essay
    assert decision.quote_id is not None and decision.quote_id.startswith(prefix)
