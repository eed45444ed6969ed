"""The bot on a server whose ids are ULIDs (GoToSocial's), end to end.

mastodon-mock runs behind ``ulid_proxy`` on 127.0.0.1, so the bot reads,
pages, records and replies with nothing but 26-character ULIDs. Each test
would fail if any part of the bot parsed ids as numbers: the paging would
stop after the first mention, mentions would collapse into one, and any post
of the bot in a thread would pass for the reply to a new mention there.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mastodon_mock.testing import MockServer

from bot.app.runner import Bot
from bot.mastodon.backoff import Backoff
from bot.mastodon.client import Client
from bot.record.store import Store
from bot.settings import Settings
from tests.conftest import BOT_TOKEN, eventually
from tests.ulid_proxy import PREFIX, UlidProxy, from_ulid

pytestmark = pytest.mark.e2e

MENTION = "@filrouge Des affiches générées par IA pour les spectacles ? ({})"


class UlidServer:
    """A mock server seen through the ULID proxy, the bot on it, and people."""

    def __init__(self, server: MockServer, settings: Settings) -> None:
        self.server = server
        self.proxy = UlidProxy(server.base_url).start()
        # The proxy rewrites the SSE stream's ids (it passes no WebSocket upgrade).
        self.settings = settings.model_copy(
            update={"instance_url": self.proxy.base_url, "stream_protocol": "sse"}
        )
        self.bot: Bot | None = None
        self._clients: dict[str, Any] = {}
        self.me = self.client("filrouge").account_verify_credentials()

    def client(self, who: str) -> Any:
        if who not in self._clients:
            token = BOT_TOKEN if who == "filrouge" else f"{who}-token"
            self._clients[who] = self.proxy.client(token)
        return self._clients[who]

    def start(self) -> Bot:
        fast = Backoff(base=0.05, cap=0.5, rng=random.Random(7))
        self.bot = Bot(self.settings, backoff=fast, stream_backoff=fast).start()
        return self.bot

    def stop(self) -> None:
        if self.bot is not None:
            self.bot.stop()
            self.bot = None

    def close(self) -> None:
        self.stop()
        self.proxy.stop()

    def mention(self, who: str, number: int, **options: Any) -> Any:
        return self.client(who).status_post(MENTION.format(number), **options)

    def replies_to(self, status: Any) -> list[Any]:
        context = self.client("filrouge").status_context(status["id"])
        return [
            s
            for s in context["descendants"]
            if s["account"]["id"] == self.me["id"] and s["in_reply_to_id"] == status["id"]
        ]

    def answered(self, status: Any) -> Any:
        """Wait for the bot's one reply to ``status`` and return it."""
        found = eventually(lambda: self.replies_to(status), timeout=15, message=self._dump)
        assert len(found) == 1, f"{len(found)} replies to one mention"
        return found[0]

    def _dump(self) -> str:
        with Store(self.settings.db_path) as store:
            rows = store.audit.recent(since=None, outcome=None, limit=1000)
        return "\n".join(f"{r['notification_id']} {r['state']} {r.get('reason')}" for r in rows)

    def outcomes(self, count: int) -> dict[str, str]:
        """The recorded outcome of each mention, once ``count`` are final."""

        def final() -> dict[str, str] | None:
            with Store(self.settings.db_path) as store:
                rows = store.audit.recent(since=None, outcome=None, limit=1000)
            done = {str(row["notification_id"]): row["state"] for row in rows if row["final"]}
            return done if len(done) >= count else None

        found: dict[str, str] = eventually(final)
        return found


@pytest.fixture
def ulid_server(
    start_server: Callable[..., MockServer], settings_for: Callable[..., Settings]
) -> Iterator[Callable[..., UlidServer]]:
    made: list[UlidServer] = []

    def make(**server_options: Any) -> UlidServer:
        server = start_server(**server_options)
        harness = UlidServer(server, settings_for(server))
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()


def _is_ulid(value: object) -> bool:
    return isinstance(value, str) and len(value) == 26 and value.startswith(PREFIX)


def test_the_proxy_hands_out_ulids_only(ulid_server: Callable[..., UlidServer]) -> None:
    """The premise of the tests below: the bot sees no numeric id."""
    harness = ulid_server()
    status = harness.mention("alice", 0)
    assert _is_ulid(status["id"]) and _is_ulid(status["account"]["id"])
    notifications = harness.client("filrouge").notifications(types=["mention"])
    assert [_is_ulid(n["id"]) for n in notifications] == [True]
    assert harness.client("filrouge").status(status["id"])["id"] == status["id"]


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "polling"])
def test_mentions_one_after_another_are_each_answered_once(
    ulid_server: Callable[..., UlidServer], streaming: bool
) -> None:
    harness = ulid_server(streaming=streaming)
    bot = harness.start()
    if streaming:
        assert bot.run_until(lambda: bot.listener is not None and bot.listener.stream_connected, 10)
    mentions = []
    for number in range(4):
        mention = harness.mention("alice" if number % 2 else "bob", number)
        harness.answered(mention)
        mentions.append(mention)
    outcomes = harness.outcomes(4)
    assert list(outcomes.values()) == ["replied"] * len(outcomes)
    assert all(_is_ulid(key) for key in outcomes)
    for mention in mentions:
        assert len(harness.replies_to(mention)) == 1


def test_a_bot_post_below_a_mention_is_not_taken_for_its_reply(
    ulid_server: Callable[..., UlidServer],
) -> None:
    """Before posting, the bot looks for its own reply among the thread's
    descendants (recovery after a crash). A mention whose thread could not be
    read at first is answered after a later mention below it; the bot's reply to
    that one is a descendant of the first mention, but not its reply."""
    harness = ulid_server()
    harness.start()
    first = harness.mention("alice", 1)
    mock_id = from_ulid(first["id"])
    with harness.server.fault(path_regex=rf"/statuses/{mock_id}/context$", status=503):
        below = harness.client("bob").status_post(
            MENTION.format(2), in_reply_to_id=first["id"], visibility="public"
        )
        harness.answered(below)
    reply = harness.answered(first)
    assert reply["in_reply_to_id"] == first["id"]
    assert len(harness.replies_to(below)) == 1


@pytest.mark.parametrize("written", ["id", "handle"])
def test_an_admin_written_as_a_ulid_or_a_handle_is_obeyed(
    ulid_server: Callable[..., UlidServer], written: str
) -> None:
    """``FILROUGE_ADMINS`` holds GoToSocial account ids as they are, ULIDs: the
    moderator's direct message is an admin command, answered to them alone."""
    harness = ulid_server()
    mod = harness.client("mod").account_verify_credentials()
    assert _is_ulid(mod["id"])
    entry = mod["id"] if written == "id" else "mod"
    harness.settings = harness.settings.model_copy(update={"admins": (entry,)})
    harness.start()
    ask = harness.client("mod").status_post("@filrouge status", visibility="direct")
    answer = harness.answered(ask)
    assert answer["visibility"] == "direct"
    assert [m["acct"] for m in answer["mentions"]] == ["mod"]

    def recorded() -> list[Any] | None:
        # The reply is posted before its outcome is recorded: wait for the record.
        with Store(harness.settings.db_path) as store:
            rows = store.audit.recent(since=None, outcome=None, limit=10)
        return [r for r in rows if r["final"]] or None

    [row] = eventually(recorded)
    assert (row["state"], row["rule"]) == ("replied", "admin:status")


def test_a_backlog_after_a_restart_is_answered_once_each(
    ulid_server: Callable[..., UlidServer],
) -> None:
    """Mentions that arrive while the bot is down are paged forward from the
    recorded cursor (a ULID) after the restart: none skipped, none twice."""
    harness = ulid_server()
    harness.start()
    first = harness.mention("alice", 0)
    harness.answered(first)
    harness.stop()
    backlog = [harness.mention("bob" if n % 2 else "carol", n) for n in range(1, 8)]
    harness.start()
    for mention in backlog:
        harness.answered(mention)
    outcomes = harness.outcomes(8)
    assert list(outcomes.values()) == ["replied"] * len(outcomes)
    assert len(harness.replies_to(first)) == 1


def test_paging_ulid_notifications_is_gap_free_and_oldest_first(
    ulid_server: Callable[..., UlidServer],
) -> None:
    """The client pages forward from a ULID cursor over several pages."""
    harness = ulid_server(streaming=False)
    client = Client(harness.settings, backoff=Backoff(base=0, cap=0, sleep=lambda _: None))
    client.connect()
    client.page_limit = 3
    cursor = harness.mention("alice", 0)
    first = client.notifications_since(None)
    assert len(first) == 1 and _is_ulid(first[0]["id"])
    posted = [harness.mention("bob", n)["id"] for n in range(1, 8)]
    found = client.notifications_since(str(first[0]["id"]))
    assert [n["status"]["id"] for n in found] == posted
    assert cursor["id"] not in [n["status"]["id"] for n in found]
    assert client.notifications_since(str(found[-1]["id"])) == []
