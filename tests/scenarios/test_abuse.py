"""Abuse (issue 6, item 4): floods, bots answering bots, a mention of fifty
accounts, text crafted to escape templates, a thread as long as a server sends.
End to end with the real ``Bot`` against mastodon-mock where it matters; the
harness is ``tests/test_live.py``'s.

Covered elsewhere and not repeated here:

- links to ``127.0.0.1``, ``169.254.169.254``, ``[::1]``, private ranges, a name
  that resolves to one, a redirect to one: ``tests/test_links.py`` asserts zero
  connections on a recording loopback listener (the ``Resolver`` tests);
- a burst of 20 mentions from 4 accounts in one thread, and the default cooldown:
  ``tests/test_live.py::test_a_burst_in_one_thread_respects_the_thread_limit``
  and ``::test_a_burst_with_the_default_cooldown_gets_one_reply``;
- templates that try attribute access, indexing, conversions and format specs
  are refused at load: ``tests/test_render.py::test_parse_rejects``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mastodon_mock.config import SeedAccount

from bot.app.wiring import policy_from_settings
from bot.catalog.load import load_config
from bot.decide.decision import decide
from bot.decide.trace import Inputs
from bot.model.decision import History, Reply
from bot.model.post import Mention
from bot.settings import Settings
from bot.understand.thread import find_essay, post_from_status, thread_from_context
from tests.conftest import BOT_TOKEN, CAST
from tests.scenarios.test_live import AFFICHES, SHARED_LINK, Live, live, mentioned, text_of
from tests.understand.test_thread import load

pytestmark = pytest.mark.e2e

__all__ = ["live"]  # the harness fixture, shared with test_live

#: Strings that would leak something if a template or a value were ever formatted
#: with ``str.format`` or evaluated: field names, attribute access, conversions, specs.
ESCAPES = "{token} {settings} {access_token} {0.__class__} {requester!r} {quote:>999} {{quote}}"
#: What must never appear in a post, whatever the input.
LEAKS = (BOT_TOKEN, BOT_TOKEN[:12], "SecretStr", "<class", "__class__'", "Settings(", " " * 50)


def many(prefix: str, count: int) -> tuple[SeedAccount, ...]:
    return tuple(
        SeedAccount(username=f"{prefix}{n:02d}", access_token=f"{prefix}{n:02d}-token")
        for n in range(1, count + 1)
    )


def everyone_replied_or_skipped(harness: Live, statuses: list[Any]) -> list[dict[str, Any]]:
    return [harness.outcome(status, timeout=30) for status in statuses]


# -- floods -------------------------------------------------------------------------------


def test_one_account_flooding_thirty_threads_gets_one_reply(live: Callable[..., Live]) -> None:
    """Invariant 7, account cooldown: 30 mentions from one account, each starting
    its own thread, posted at once → exactly one reply, 29 ``account_cooldown``.
    Guard: ``account_cooldown`` in ``decide._guards`` with the record's
    ``account_replies`` read inside the claim (without it, every thread is new
    and all 30 are answered)."""
    harness = live(account_cooldown="10m")
    harness.start()
    with ThreadPoolExecutor(max_workers=6) as pool:
        mentions = list(
            pool.map(
                lambda i: harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES} ({i})"),
                range(30),
            )
        )
    outcomes = everyone_replied_or_skipped(harness, mentions)
    assert sum(o["state"] == "replied" for o in outcomes) == 1
    assert {o["reason"] for o in outcomes if o["state"] != "replied"} == {"account_cooldown"}
    assert sum(len(harness.replies_to(m)) for m in mentions) == 1


def test_thirty_accounts_flooding_one_thread_get_the_thread_limit(
    live: Callable[..., Live],
) -> None:
    """Invariant 7, thread limit: 30 different accounts mention the bot in one
    thread at once → at most ``thread_reply_limit`` (3) replies. Guard: the
    ``thread_limit`` check against ``History.thread_replies``, counted by thread
    root (without it, 30 people get 30 replies; no account cooldown applies)."""
    crowd = many("reader", 30)
    harness = live({"accounts": (*CAST, *crowd)}, thread_reply_limit=3)
    harness.start()
    root = harness.post("carol", f"À lire : {SHARED_LINK}")

    def mention(account: SeedAccount) -> Any:
        return harness.post(account.username, f"@filrouge {AFFICHES}", in_reply_to_id=root["id"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        mentions = list(pool.map(mention, crowd))
    outcomes = everyone_replied_or_skipped(harness, mentions)
    assert sum(o["state"] == "replied" for o in outcomes) == 3
    assert {o["reason"] for o in outcomes if o["state"] != "replied"} == {"thread_limit"}
    assert sum(len(harness.replies_to(m)) for m in mentions) == 3


# -- two bots -----------------------------------------------------------------------------


@contextmanager
def auto_replier(harness: Live, who: str, text: str, limit: int) -> Iterator[list[Any]]:
    """Another bot on the same server: it answers every post of filrouge's that
    mentions it, mentioning filrouge back (``limit`` posts at most, so a broken
    guard shows as a count, not a hang)."""
    client = harness.server.client(who)  # its own connection: this runs in a thread
    posted: list[Any] = []
    stop = threading.Event()

    def loop() -> None:
        seen: set[str] = set()
        while not stop.is_set() and len(posted) < limit:
            for notification in client.notifications(types=["mention"], limit=40):
                status = notification["status"]
                if notification["account"]["acct"] != "filrouge" or str(status["id"]) in seen:
                    continue
                seen.add(str(status["id"]))
                posted.append(client.status_post(f"@filrouge {text}", in_reply_to_id=status["id"]))
            stop.wait(0.05)

    worker = threading.Thread(target=loop, name=f"{who}-bot", daemon=True)
    worker.start()
    try:
        yield posted
    finally:
        stop.set()
        worker.join(10)


def settle(harness: Live, posted: list[Any], first: Any) -> list[dict[str, Any]]:
    """Wait until the exchange stops: every post of the other bot has an outcome
    and nothing new came for a while."""
    last = -1
    while last != len(posted):
        last = len(posted)
        for status in [first, *posted]:
            harness.outcome(status, timeout=30)
        time.sleep(1.0)
    return [harness.outcome(status) for status in [first, *posted]]


@pytest.mark.parametrize(
    ("text", "replies", "stopped_by"),
    [
        # a bot that just answers: each answer replies to filrouge's post without a
        # command, which is conversation, not a request (composers pre-fill mentions)
        (f"Merci ! {AFFICHES}", 1, "not_addressed"),
        # a bot that asks again with a command word each time: the thread limit ends it
        (f"citation {AFFICHES}", 3, "thread_limit"),
    ],
    ids=["answers", "asks-again"],
)
def test_two_bots_mentioning_each_other_stop_within_the_thread_limit(
    live: Callable[..., Live], text: str, replies: int, stopped_by: str
) -> None:
    """DESIGN invariant 6/7, issue 6 "two bots that mention each other": a bot
    allowlisted (so the bot-flag guard lets it through) that answers every reply
    of filrouge's with a mention of filrouge. Guards: the ``addressed`` check (a
    reply to the bot's own post needs a command) and ``thread_limit``. Without
    them the exchange runs until the other bot's own cap (30 posts)."""
    harness = live(bot_allowlist="beepboop", thread_reply_limit=3)
    harness.start()
    with auto_replier(harness, "beepboop", text, limit=30) as posted:
        first = harness.post("beepboop", f"@filrouge {SHARED_LINK} {AFFICHES}")
        outcomes = settle(harness, posted, first)
    assert len(posted) < 30
    assert sum(o["state"] == "replied" for o in outcomes) == replies
    assert outcomes[-1]["state"] == "skipped"
    assert outcomes[-1]["reason"] == stopped_by
    thread = harness.client("filrouge").status_context(first["id"])["descendants"]
    ours = [s for s in thread if s["account"]["acct"] == "filrouge"]
    assert len(ours) == replies <= 3
    assert len(posted) == replies


# -- a mention of fifty accounts ---------------------------------------------------------------


@pytest.mark.parametrize("visibility", ["public", "direct"])
def test_a_mention_of_fifty_accounts_is_answered_to_its_author_only(
    live: Callable[..., Live], visibility: str
) -> None:
    """Invariant 4: alice mentions the bot and 50 others; the reply mentions alice
    and nobody else, so none of the 50 is notified (in a direct post, none of them
    could even read it). Guard: the reply text is built from ``{requester}`` and
    neutralised values only, and posted with ``status_post``, never
    ``status_reply`` (which prefixes every participant)."""
    crowd = many("g", 50)  # short names: 50 handles must fit 500 characters
    harness = live({"accounts": (*CAST, *crowd)})
    harness.start()
    handles = " ".join(f"@{account.username}" for account in crowd)
    mention = harness.post(
        "alice", f"@filrouge {handles} {SHARED_LINK} affiches IA", visibility=visibility
    )
    assert len(mention["mentions"]) == 51
    assert harness.outcome(mention)["state"] == "replied"
    [reply] = harness.replies_to(mention)
    assert mentioned(reply) == {"alice"}
    assert reply["visibility"] == ("direct" if visibility == "direct" else "unlisted")
    for account in crowd:
        told = harness.client(account.username).notifications(types=["mention"])
        assert [n for n in told if n["account"]["acct"] == "filrouge"] == [], account.username


# -- text crafted to escape templates ------------------------------------------------------------


def test_text_crafted_to_escape_templates_is_never_formatted(live: Callable[..., Live]) -> None:
    """Invariant 11 (templates are data) and 9 (no secret in a post): field names,
    attribute access, conversions and format specs in the mention, the display
    name and the thread reach no template engine. Guard: ``render`` substitutes
    values into a template parsed by its own scanner and never calls
    ``str.format`` on anything (a ``str.format`` on the mention or on a template
    with user values would raise or print ``<class 'str'>`` / 999 spaces), and
    ``why`` summaries are neutralised values too."""
    harness = live()
    harness.client("alice").account_update_credentials(display_name=f"Alice {ESCAPES}")
    harness.client("carol").account_update_credentials(display_name=ESCAPES)
    mention = harness.thread(
        ("carol", f"{ESCAPES} À lire : {SHARED_LINK}"),
        ("bob", f"@carol {ESCAPES} affiches"),
        ("alice", f"@carol @bob @filrouge {ESCAPES} {AFFICHES}"),
    )
    harness.start()
    assert harness.outcome(mention)["state"] == "replied"
    [reply] = harness.replies_to(mention)
    # Ask why, with the same text again: the explanation quotes the trace.
    why = harness.post("alice", f"@filrouge pourquoi {ESCAPES}", in_reply_to_id=reply["id"])
    assert harness.outcome(why)["state"] == "replied"
    [explanation] = harness.replies_to(why)
    for status in (reply, explanation):
        text = text_of(status)
        assert text.startswith("@alice "), text
        assert mentioned(status) == {"alice"}
        assert not [leak for leak in LEAKS if leak in text], text
        assert "{" not in text.replace(ESCAPES, ""), text


# -- a thread as long as a server sends ------------------------------------------------------


def test_a_thread_of_4096_ancestors_is_understood_and_decided() -> None:
    """The most ancestors Mastodon returns with a token (contexts_controller.rb),
    through understand → find_essay → decide with the bundled rules; the essay is
    found by the link in the root post, 4,095 posts up. (Reading the entities is
    ``test_understand.py::test_a_thread_of_4096_ancestors``; posting 4,096 statuses
    to the mock over HTTP takes about 90 s, so the bot's HTTP side is exercised
    with shorter threads in ``test_live.py``.) Guards: no recursion over the
    thread, folding of thread texts only when a rule asks (``Facts.thread_folded``)."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    config = load_config(settings)
    essay_url = config.catalog.essays[0].url
    root = load("mastodon_context.json")["ancestors"][0]
    statuses = [
        {
            **root,
            "id": str(n),
            "in_reply_to_id": str(n - 1) if n else None,
            "content": f'<p><a href="{essay_url}">{essay_url}</a></p>'
            if n == 0
            else f"<p>{AFFICHES} {n}</p>",
            "card": None,
        }
        for n in range(4096)
    ]
    thread = thread_from_context({"ancestors": statuses, "descendants": []})
    assert thread.depth == 4096
    now = datetime.now(UTC)
    post = post_from_status(
        {
            **root,
            "id": "5000",
            "in_reply_to_id": "4095",
            "content": f"<p>{AFFICHES}</p>",
            "card": None,
            "created_at": now.isoformat(),
        }
    )
    mention = Mention("n5000", post)
    essay = find_essay(mention, thread, config, resolved={}, threshold=settings.essay_threshold)
    assert (essay.how, essay.evidence) == ("link", essay_url)
    outcome = decide(
        Inputs(
            mention=mention,
            thread=thread,
            essay=essay,
            config=config,
            history=History(),
            policy=policy_from_settings(settings, self_id="1"),
            now=now + timedelta(seconds=1),
        )
    )
    assert isinstance(outcome.decision, Reply), outcome.trace.to_text()
