"""The live bot end to end: the real ``Bot`` (stream + REST + SQLite record)
against mastodon-mock over loopback HTTP. Nothing of the project is mocked.

Each test names the guarantee it protects (DESIGN.md invariants, issue 3
"Tests" and "Servers differ", issue 6 faults).
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mastodon.errors import MastodonInternalServerError
from mastodon_mock.testing import MockServer

from bot.app.runner import Bot
from bot.errors import PermanentError
from bot.mastodon.backoff import Backoff
from bot.mastodon.client import idempotency_key
from bot.record.db import Database
from bot.record.mentions import Mentions
from bot.record.store import Store
from bot.settings import Settings
from bot.text.html import html_to_text
from tests.conftest import eventually

pytestmark = pytest.mark.e2e

SHARED_LINK = "https://app.flus.fr/links/1853382202557961738"
ESSAY_HOST = "paulineharmange.fr"
AFFICHES = (
    "Pour les spectacles par exemple. Je trouve ça nul de faire des affiches générées par IA "
    "quand on peut juste ré-utiliser des photos de spectacles précédents c'est tellement plus "
    "parlant ^^."
)


class Live:
    """A running bot on a mock server, with helpers to post and to look."""

    def __init__(self, server: MockServer, settings: Settings, **bot_options: Any) -> None:
        self.server = server
        self.settings = settings
        self.bot_options = bot_options
        self.bot: Bot | None = None
        self._clients: dict[str, Any] = {}
        self._notifications: dict[str, str] = {}
        self.me = self.client("filrouge").account_verify_credentials()

    def client(self, who: str) -> Any:
        if who not in self._clients:
            self._clients[who] = self.server.client(who)
        return self._clients[who]

    def start(self, **options: Any) -> Bot:
        fast = Backoff(base=0.05, cap=0.5, rng=random.Random(5))
        self.bot = Bot(
            self.settings,
            backoff=fast,
            stream_backoff=fast,
            **{**self.bot_options, **options},
        ).start()
        return self.bot

    def stop(self) -> None:
        if self.bot is not None:
            self.bot.stop()
            self.bot = None

    def wait_streaming(self) -> None:
        assert self.bot is not None and self.bot.listener is not None
        listener = self.bot.listener
        eventually(lambda: listener.connections >= 1 and listener.stream_connected)

    # -- the server side --------------------------------------------------------------

    def post(self, who: str, text: str, **options: Any) -> Any:
        """Post as ``who``. A person whose post the server refused with a 500
        tries again: mastodon-mock's own SQLite now and then answers "database
        is locked" under concurrent writes, and its INSERT then made nothing."""
        try:
            return self.client(who).status_post(text, **options)
        except MastodonInternalServerError:
            time.sleep(0.5)
            return self.client(who).status_post(text, **options)

    def thread(self, *lines: tuple[str, str], **options: Any) -> Any:
        """Post a chain of replies; returns the last status."""
        parent = None
        for who, text in lines:
            parent = self.post(
                who, text, in_reply_to_id=parent["id"] if parent else None, **options
            )
        return parent

    def notification_id(self, status: Any) -> str:
        """The bot's notification id for a mention status (looked up once: tests
        that fault the notifications endpoint look it up before the fault)."""
        key = str(status["id"])

        def find() -> str | None:
            for n in self.client("filrouge").notifications(types=["mention"], limit=80):
                self._notifications[str(n["status"]["id"])] = str(n["id"])
            return self._notifications.get(key)

        found: str = self._notifications.get(key) or eventually(find)
        return found

    def replies_to(self, status: Any) -> list[Any]:
        """The bot's statuses replying to ``status`` (as the bot sees the thread)."""
        context = self.client("filrouge").status_context(status["id"])
        return [
            s
            for s in context["descendants"]
            if str(s["account"]["id"]) == str(self.me["id"])
            and str(s["in_reply_to_id"]) == str(status["id"])
        ]

    # -- the record side --------------------------------------------------------------

    def outcome(self, status: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The recorded final outcome of the mention ``status`` (waits for it)."""
        notification_id = self.notification_id(status)

        def final() -> dict[str, Any] | None:
            row = read_outcome(self.settings.db_path, notification_id)
            if row is None:
                return None
            final = row["state"] in ("replied", "skipped")
            gave_up = row["state"] == "failed" and not row.get("retry_at")
            return row if final or gave_up else None

        found: dict[str, Any] = eventually(final, timeout=timeout)
        return found


def read_outcome(path: Path, notification_id: str) -> dict[str, Any] | None:
    """A mention's row, read without writing: polled many times a second, a
    ``Store`` (which checkpoints the WAL as it closes) would compete with the
    bot for its record."""
    if not path.exists():
        return None
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            db.row_factory = sqlite3.Row
            return Mentions(Database(db)).outcome(notification_id)
    except sqlite3.OperationalError:
        return None  # the bot is still creating the record


@pytest.fixture
def live(
    start_server: Callable[..., MockServer], settings_for: Callable[..., Settings]
) -> Iterator[Callable[..., Live]]:
    made: list[Live] = []

    def make(server_options: dict[str, Any] | None = None, **overrides: Any) -> Live:
        bot_options = overrides.pop("bot_options", {})
        server = start_server(**(server_options or {}))
        harness = Live(server, settings_for(server, **overrides), **bot_options)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.stop()


def text_of(status: Any) -> str:
    return html_to_text(str(status["content"])).text


def mentioned(status: Any) -> set[str]:
    return {m["acct"] for m in status["mentions"]}


# -- replies ---------------------------------------------------------------------------------


POSTERS_EN = (
    "@filrouge For shows for instance. I think it's lame to make AI-generated posters"
    " when you can just reuse photos of previous shows."
)


@pytest.mark.parametrize(("detect", "expected"), [(True, "en"), (False, "fr")])
def test_the_reply_speaks_the_texts_language_unless_detection_is_off(
    live: Callable[..., Live], detect: bool, expected: str
) -> None:
    """An English mention tagged French by the client's default: answered in
    English, unless ``FILROUGE_DETECT_LANGUAGE`` is off and the tag is trusted."""
    harness = live(detect_language=detect)
    harness.start()
    harness.wait_streaming()
    mention = harness.post("alice", POSTERS_EN, language="fr")
    outcome = harness.outcome(mention)
    assert outcome["state"] == "replied", outcome
    [reply] = harness.replies_to(mention)
    assert reply["language"] == expected


def test_public_mention_gets_a_reply_with_the_link_and_a_quote(live: Callable[..., Live]) -> None:
    """Issue 3: public mention → reply at the default visibility, link + relevant quote.
    Also: ``language`` null on the mention (servers differ) → the reply still says its own."""
    harness = live()
    bot = harness.start()
    harness.wait_streaming()
    mention = harness.thread(
        ("carol", f"Un texte à lire avant de continuer : {SHARED_LINK}"),
        ("alice", f"@carol @filrouge {AFFICHES}"),
    )
    assert mention["language"] is None
    outcome = harness.outcome(mention)
    assert outcome["state"] == "replied", outcome
    [reply] = harness.replies_to(mention)
    assert str(reply["id"]) == outcome["reply_id"]
    assert reply["visibility"] == "unlisted"  # the default, narrower than public
    assert reply["language"] == "fr"
    assert ESSAY_HOST in str(reply["content"])
    assert "«" in text_of(reply) or "“" in text_of(reply) or outcome["rule"]
    # Only the requester is mentioned (invariant 4), never carol.
    assert mentioned(reply) == {"alice"}
    sample = bot.metrics.registry.get_sample_value
    assert sample("filrouge_mentions_total") == 1
    assert sample("filrouge_replies_total", {"rule": outcome["rule"], "mode": "live"}) == 1
    assert sample("filrouge_reply_latency_seconds_count") == 1
    assert sample("filrouge_stream_connected") == 1


def test_direct_mention_gets_a_direct_reply_to_the_sender_only(live: Callable[..., Live]) -> None:
    """Invariant 3 and 4: a DM is answered by DM, mentioning only its sender."""
    harness = live()
    harness.start()
    root = harness.post("carol", f"À lire : {SHARED_LINK}")
    mention = harness.post(
        "alice",
        f"@filrouge @bob {AFFICHES}",
        visibility="direct",
        in_reply_to_id=root["id"],
    )
    assert harness.outcome(mention)["state"] == "replied"
    [reply] = harness.replies_to(mention)
    assert reply["visibility"] == "direct"
    assert mentioned(reply) == {"alice"}


def test_followers_only_mention_is_never_answered_wider_than_private(
    live: Callable[..., Live],
) -> None:
    """Invariant 3: visibility never widens."""
    harness = live(default_visibility="public")
    harness.start()
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}", visibility="private")
    assert harness.outcome(mention)["state"] == "replied"
    [reply] = harness.replies_to(mention)
    assert reply["visibility"] in ("private", "direct")


def test_a_content_warning_is_kept(live: Callable[..., Live]) -> None:
    """Invariant 5."""
    harness = live()
    harness.start()
    mention = harness.post(
        "alice", f"@filrouge {SHARED_LINK} {AFFICHES}", spoiler_text="IA, débat houleux"
    )
    assert harness.outcome(mention)["state"] == "replied"
    [reply] = harness.replies_to(mention)
    assert reply["spoiler_text"] == "IA, débat houleux"


# -- guards ----------------------------------------------------------------------------------


def test_guards_skip_bots_nobot_bios_and_opted_out_accounts(live: Callable[..., Live]) -> None:
    """Invariant 6: no reply to a bot, a #nobot bio, an opted-out account; reason recorded."""
    harness = live()
    harness.start()
    from_bot = harness.post("beepboop", f"@filrouge {SHARED_LINK} {AFFICHES}")
    from_quiet = harness.post("quiet", f"@filrouge {SHARED_LINK} {AFFICHES}")
    stop = harness.post("bob", "@filrouge stop")
    assert harness.outcome(from_bot)["reason"] == "bot_account"
    assert harness.outcome(from_quiet)["reason"] == "nobot"
    harness.outcome(stop)
    after_stop = harness.post("bob", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(after_stop)["reason"] == "opted_out"
    for status in (from_bot, from_quiet, after_stop):
        assert harness.replies_to(status) == []


@pytest.mark.parametrize("acct", ["filrouge", "filrouge@mock.local"])
def test_the_bots_own_post_is_never_answered(live: Callable[..., Live], acct: str) -> None:
    """Invariant 6 (self). Mastodon never notifies an account of its own post, so
    the notification is handed to the bot the way the stream would. Servers
    differ: a local account may be reported as ``user@domain``; ids decide."""
    harness = live()
    bot = harness.start()
    own = dict(harness.post("filrouge", f"@filrouge {SHARED_LINK} {AFFICHES}"))
    own["account"] = {**own["account"], "acct": acct}
    bot.inbox.put(
        {"id": "999999999999", "type": "mention", "status": own, "account": own["account"]}
    )
    eventually(lambda: any(r.notification_id == "999999999999" for r in bot.outcomes()))
    result = next(r for r in bot.outcomes() if r.notification_id == "999999999999")
    assert (result.outcome, result.detail) == ("skipped", "self")
    assert harness.replies_to(own) == []


def test_a_mention_older_than_the_maximum_age_is_skipped(live: Callable[..., Live]) -> None:
    """Invariant 6 (age): a bot back from downtime does not answer old mentions."""
    harness = live(max_mention_age="1h")
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    harness.start(clock=lambda: datetime.now(UTC) + timedelta(hours=2))
    assert harness.outcome(mention)["reason"] == "too_old"
    assert harness.replies_to(mention) == []


def test_a_burst_in_one_thread_respects_the_thread_limit(live: Callable[..., Live]) -> None:
    """Invariant 7: 20 mentions at once in one thread → at most the limit answered."""
    harness = live(thread_reply_limit=3)
    harness.start()
    root = harness.post("carol", f"À lire : {SHARED_LINK}")
    people = ["alice", "bob", "maiwann", "carol"]
    mentions = [
        harness.post(people[i % 4], f"@filrouge {AFFICHES} ({i})", in_reply_to_id=root["id"])
        for i in range(20)
    ]
    outcomes = [harness.outcome(m) for m in mentions]
    replied = [o for o in outcomes if o["state"] == "replied"]
    assert len(replied) == 3
    assert {o["reason"] for o in outcomes if o["state"] == "skipped"} <= {
        "thread_limit",
        "cooldown",
        "account_cooldown",
    }
    assert sum(len(harness.replies_to(m)) for m in mentions) == 3


def test_a_burst_with_the_default_cooldown_gets_one_reply(live: Callable[..., Live]) -> None:
    harness = live(thread_cooldown="10m")
    harness.start()
    root = harness.post("carol", f"À lire : {SHARED_LINK}")
    mentions = [
        harness.post("alice", f"@filrouge {AFFICHES} ({i})", in_reply_to_id=root["id"])
        for i in range(20)
    ]
    outcomes = [harness.outcome(m) for m in mentions]
    assert sum(o["state"] == "replied" for o in outcomes) == 1
    assert {o["reason"] for o in outcomes if o["state"] == "skipped"} <= {
        "thread_limit",
        "cooldown",
    }


# -- listening --------------------------------------------------------------------------------


def test_with_streaming_switched_off_polling_answers(live: Callable[..., Live]) -> None:
    """Servers differ: no streaming endpoint at all (404); polling carries the bot."""
    harness = live({"streaming": False})
    bot = harness.start()
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(mention)["state"] == "replied"
    assert bot.health.snapshot()["polling"] is True
    assert len(harness.replies_to(mention)) == 1


def test_with_streaming_disabled_in_the_settings_polling_answers(
    live: Callable[..., Live],
) -> None:
    harness = live(streaming=False)
    harness.start()
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(mention)["state"] == "replied"


@pytest.mark.parametrize("protocol", ["websocket", "sse"])
def test_mentions_during_a_stream_drop_are_answered_once_after_reconnect(
    live: Callable[..., Live], protocol: str
) -> None:
    """The stream does not replay: the catch-up after the reconnect must find them.
    Polling is slowed right down so only the reconnect's catch-up can. (The
    fault only reaches SSE: a WebSocket comes straight back, and the
    catch-up of that reconnect must find them just the same.)"""
    harness = live(poll_interval=60.0, stream_protocol=protocol)
    bot = harness.start()
    harness.wait_streaming()
    assert bot.listener is not None
    connections = bot.listener.connections
    outage = harness.server.fault(path_regex=r"^/api/v1/streaming", status=503)
    bot.listener._close_stream()  # the connection drops
    eventually(lambda: not bot.listener.stream_connected)  # type: ignore[union-attr]
    mentions = [harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES} {i}") for i in range(3)]
    outage.delete()
    eventually(lambda: bot.listener.connections > connections)  # type: ignore[union-attr]
    for mention in mentions:
        assert harness.outcome(mention)["state"] == "replied"
        assert len(harness.replies_to(mention)) == 1


# -- restarts and crashes ------------------------------------------------------------------------


def test_a_restart_in_the_middle_of_a_backlog_loses_and_doubles_nothing(
    live: Callable[..., Live],
) -> None:
    """Invariants 1 and 2 across a restart (SIGTERM-style stop mid-backlog)."""
    harness = live()
    mentions = [
        harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES} ({i})") for i in range(12)
    ]
    bot = harness.start()
    eventually(lambda: len(bot.outcomes()) >= 3)
    harness.stop()
    harness.start()
    for mention in mentions:
        assert harness.outcome(mention)["state"] in ("replied", "skipped")
    assert all(len(harness.replies_to(m)) <= 1 for m in mentions)
    assert sum(len(harness.replies_to(m)) for m in mentions) >= 1


def test_a_crash_between_post_and_record_does_not_post_twice(live: Callable[..., Live]) -> None:
    """Servers differ: ``Idempotency-Key`` ignored. A previous process posted the reply
    (the server kept no key) and died before recording it; the restarted bot finds
    the reply in the thread and records it instead of posting again."""
    harness = live()
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    notification_id = harness.notification_id(mention)
    now = datetime.now(UTC)
    with Store(harness.settings.db_path) as store:
        store.mentions.enqueue(
            notification_id, str(mention["id"]), str(mention["account"]["id"]), now
        )
        assert store.mentions.claim(notification_id, now, stale_after=timedelta(0)) is not None
        store.mentions.mark_posting(
            notification_id, idempotency_key(str(harness.me["id"]), "x"), now
        )
        store.mentions.advance_cursor(notification_id)
    # The crashed process's reply, posted with no idempotency key the server kept.
    earlier = harness.client("filrouge").status_post(
        "@alice (réponse envoyée avant la panne)",
        in_reply_to_id=mention["id"],
        visibility="unlisted",
    )
    harness.start()
    outcome = harness.outcome(mention)
    assert outcome["state"] == "replied"
    assert outcome["reply_id"] == str(earlier["id"])
    assert [str(r["id"]) for r in harness.replies_to(mention)] == [str(earlier["id"])]


# -- server faults ------------------------------------------------------------------------------


def test_a_rate_limited_post_is_retried_after_the_reset(live: Callable[..., Live]) -> None:
    """Issue 6: 429 on posting with a reset time → waits for it, then answers once."""
    harness = live()
    harness.start()
    reset = str(int(time.time()) + 2)
    harness.server.fault(
        path="/api/v1/statuses",
        methods=["POST"],
        type="ratelimit",
        headers={"X-RateLimit-Reset": reset},
        count=1,
    )
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(mention, timeout=15)["state"] == "replied"
    assert len(harness.replies_to(mention)) == 1


def test_server_errors_on_the_thread_are_retried(live: Callable[..., Live]) -> None:
    """Issue 6: 5xx on status_context → retried with backoff, answered once."""
    harness = live()
    harness.start()
    harness.server.fault(path_regex=r"/context$", status=502, count=4)
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    outcome = harness.outcome(mention)
    assert outcome["state"] == "replied"
    assert len(harness.replies_to(mention)) == 1


def test_a_mention_deleted_before_it_is_processed_is_skipped_as_gone(
    live: Callable[..., Live],
) -> None:
    """Recorded (invariant 2) even though there is nothing left to answer: the
    mention was recorded as pending by an earlier run, then its author deleted it
    (Mastodon deletes the notification with it, so only the record remembers)."""
    harness = live()
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    notification_id = harness.notification_id(mention)
    with Store(harness.settings.db_path) as store:
        store.mentions.enqueue(
            notification_id, str(mention["id"]), str(mention["account"]["id"]), datetime.now(UTC)
        )
    harness.client("alice").status_delete(mention["id"])
    harness.start()

    def recorded() -> dict[str, Any] | None:
        with Store(harness.settings.db_path) as store:
            row = store.mentions.outcome(notification_id)
        return row if row and row["state"] == "skipped" else None

    assert eventually(recorded)["reason"] == "gone"


def test_a_bad_token_answered_with_400_stops_the_start(live: Callable[..., Live]) -> None:
    """Servers differ: 400 instead of 401 for a bad token."""
    harness = live()
    harness.server.fault(
        path="/api/v1/accounts/verify_credentials", status=400, body={"error": "invalid_token"}
    )
    with pytest.raises(PermanentError) as caught:
        harness.start()
    assert caught.value.kind == "auth"


def test_an_unparsable_version_string_changes_nothing(live: Callable[..., Live]) -> None:
    """Servers differ: versions Mastodon.py cannot parse (``version_check_mode="none"``)."""
    harness = live({"version": "0.16.0+git-b3f4 (compatible; GoToSocial 0.16.0)"})
    harness.start()
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(mention)["state"] == "replied"


def test_dry_run_records_and_never_posts(live: Callable[..., Live]) -> None:
    harness = live(dry_run=True)
    harness.start()
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    outcome = harness.outcome(mention)
    assert outcome["state"] == "replied"
    assert outcome["reply_id"] is None
    assert harness.replies_to(mention) == []


# Each row: the endpoint a fault hits, and the fault. Every mention must still end
# with exactly one outcome and at most one reply once the fault clears (issue 6).
FAULTS = [
    # the catch-up (streaming off, so only polling finds mentions)
    ("^/api/v1/notifications$", {"status": 500, "count": 3}),
    ("^/api/v1/notifications$", {"status": 503, "count": 3}),
    ("^/api/v1/notifications$", {"type": "malformed", "count": 3}),
    # a hung connection, cut by the request timeout
    ("^/api/v1/notifications$", {"type": "timeout", "delay_ms": 2000, "count": 1}),
    ("^/api/v1/notifications$", {"type": "ratelimit", "count": 1, "reset_in": 1}),
    # the thread
    (r"/context$", {"status": 500, "count": 5}),
    (r"/context$", {"type": "malformed", "count": 5}),
    # the mention itself (fetched when not streamed)
    (r"^/api/v1/statuses/\d+$", {"status": 502, "count": 5, "methods": ["GET"]}),
    # posting: refused, garbled, or slower than the timeout (the server still
    # creates the status: the retry must find it, not post a second one)
    ("^/api/v1/statuses$", {"status": 503, "count": 3, "methods": ["POST"]}),
    ("^/api/v1/statuses$", {"type": "malformed", "count": 2, "methods": ["POST"]}),
    ("^/api/v1/statuses$", {"type": "latency", "delay_ms": 1500, "count": 2, "methods": ["POST"]}),
]


@pytest.mark.parametrize(("path", "fault"), FAULTS, ids=[f"{p}-{f}" for p, f in FAULTS])
def test_server_faults_end_in_one_outcome_and_one_reply(
    live: Callable[..., Live], path: str, fault: dict[str, Any]
) -> None:
    harness = live(streaming=False, request_timeout=0.8, max_attempts=8)
    mentions = [
        harness.post(who, f"@filrouge {SHARED_LINK} {AFFICHES}") for who in ("alice", "bob")
    ]
    for mention in mentions:
        harness.notification_id(mention)
    options = dict(fault)
    if "reset_in" in options:
        reset_in = options.pop("reset_in")
        options["headers"] = {"X-RateLimit-Reset": str(int(time.time()) + reset_in)}
    harness.server.fault(path_regex=path, **options)
    harness.start()
    for mention in mentions:
        assert harness.outcome(mention, timeout=20)["state"] == "replied"
    # Let any late duplicate land before counting.
    time.sleep(0.3)
    for mention in mentions:
        assert len(harness.replies_to(mention)) == 1


def test_a_stream_that_keeps_dropping_loses_and_doubles_nothing(
    live: Callable[..., Live],
) -> None:
    """Issue 6: the stream dropping every second or so (the server's heartbeat is
    slower than the stall timeout), polling slowed right down: mentions posted
    around the drops are all answered, once."""
    harness = live(
        {"heartbeat": 3.0}, stream_stall_timeout=0.6, poll_interval=30.0, stream_protocol="sse"
    )
    bot = harness.start()
    listener = bot.listener
    assert listener is not None
    mentions = []
    for i in range(3):
        seen = listener.connections
        eventually(lambda seen=seen: listener.connections > seen, timeout=15)
        mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES} {i}")
        mentions.append(mention)
        assert harness.outcome(mention, timeout=20)["state"] == "replied"
    for mention in mentions:
        assert len(harness.replies_to(mention)) == 1
    assert listener.connections >= 3


def test_a_filtering_notification_policy_is_reported_at_start(
    live: Callable[..., Live], caplog: pytest.LogCaptureFixture
) -> None:
    """Mastodon 4.3+: filtered mentions are never listed nor streamed; the admin is told."""
    harness = live()
    harness.client("filrouge").update_notifications_policy(for_private_mentions="filter")
    with caplog.at_level("WARNING", logger="bot.app.runner"):
        harness.start()
    assert any("for_private_mentions" in record.getMessage() for record in caplog.records)


def test_the_token_never_reaches_logs_or_reprs(
    live: Callable[..., Live], caplog: pytest.LogCaptureFixture
) -> None:
    """Invariant 9, over a whole run with a failure in it."""
    from tests.conftest import BOT_TOKEN

    harness = live()
    with caplog.at_level("DEBUG"):
        bot = harness.start()
        harness.server.fault(path_regex=r"/context$", status=500, count=2)
        mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
        assert harness.outcome(mention)["state"] == "replied"
        texts = [caplog.text, repr(bot), repr(bot.client), repr(harness.settings)]
        texts += [str(r) for r in bot.outcomes()]
    assert all(BOT_TOKEN not in text for text in texts)


def test_reload_swaps_good_admin_data_and_keeps_the_old_on_errors(
    live: Callable[..., Live], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """SIGHUP: new rules are used from the next mention; broken ones never replace good ones."""
    from bot.settings import DATA_DIR

    data = tmp_path_factory.mktemp("admin")
    rules = data / "rules.toml"
    rules.write_text((DATA_DIR / "rules.toml").read_text(encoding="utf-8"), encoding="utf-8")
    catalog = data / "catalog.toml"
    catalog.write_text((DATA_DIR / "catalog.toml").read_text(encoding="utf-8"), encoding="utf-8")
    harness = live(rules_path=rules, catalog_path=catalog)
    bot = harness.start()
    assert bot.actor is not None
    before = bot.actor.config
    rules.write_text('[[rules]]\nname = "broken"\naction = "nope"\n', encoding="utf-8")
    assert bot.reload() is False
    assert bot.actor.config is before
    rules.write_text((DATA_DIR / "rules.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert bot.reload() is True
    assert bot.actor.config is not before
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(mention)["state"] == "replied"


@pytest.mark.parametrize("how", ["report", "dm"])
def test_a_heated_thread_is_handed_to_the_moderators(
    live: Callable[..., Live], tmp_path_factory: pytest.TempPathFactory, how: str
) -> None:
    """``notify_moderators`` on a rule: a report, or a DM to the admins, besides the reply.
    (The de-escalation rule is made to apply at any heat, so that the test is about
    handing over, not about measuring heat.)"""
    from bot.settings import DATA_DIR

    rules = tmp_path_factory.mktemp("admin") / "rules.toml"
    source = (DATA_DIR / "rules.toml").read_text(encoding="utf-8")
    assert "min_heat = 0.6" in source
    rules.write_text(source.replace("min_heat = 0.6", "min_heat = 0.0"), encoding="utf-8")
    harness = live(rules_path=rules, notify_moderators=how, admins="mod")
    harness.start()
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    outcome = harness.outcome(mention)
    assert (outcome["state"], outcome["rule"]) == ("replied", "apaisement")
    mod = harness.client("mod")
    if how == "report":
        [report] = eventually(lambda: mod.admin_reports())
        assert [str(status["id"]) for status in report["statuses"]] == [str(mention["id"])]
        assert report["target_account"]["username"] == "alice"
    else:
        told = eventually(lambda: mod.notifications(types=["mention"]))
        assert told[0]["status"]["visibility"] == "direct"
        assert told[0]["account"]["acct"] == "filrouge"


def test_a_second_bot_on_the_same_record_refuses_to_start(live: Callable[..., Live]) -> None:
    """Invariant 1: two workers on one record could answer a mention twice."""
    harness = live()
    harness.start()
    second = Bot(harness.settings)
    with pytest.raises(PermanentError) as caught:
        second.start()
    assert caught.value.kind == "locked"
    second.stop()
    harness.stop()
    harness.start()  # the lock went with the first bot
