"""Servers that are not Mastodon, replayed from ``tests/data/servers/``: what
the bot learns at start, how it spells their accounts, how it takes a server
that does not stream, and a notification committed out of order."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.listen.intake import Intake
from bot.listen.stream import Inbox, Listener
from bot.listen.transport import reader_for
from bot.mastodon.backoff import Backoff
from bot.mastodon.client import Client
from bot.mastodon.compat import software_of, streaming_base
from bot.ops.metrics import Health, Metrics
from bot.record.store import open_record
from tests.conftest import BOT_TOKEN, bot_settings, eventually
from tests.replay_server import SERVERS, ReplayServer

NAMES = sorted(path.stem for path in SERVERS.glob("*.json"))


@pytest.fixture
def replay() -> Iterator[Callable[[str], ReplayServer]]:
    servers: list[ReplayServer] = []

    def start(name: str) -> ReplayServer:
        server = ReplayServer(name).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def client_for(server: ReplayServer, tmp_path: Path) -> Client:
    backoff = Backoff(base=0.01, cap=0.05, attempts=2, rng=random.Random(1), sleep=lambda _: None)
    return Client(bot_settings(server, tmp_path / "r.sqlite3"), backoff=backoff)  # type: ignore[arg-type]


def test_every_server_on_file_is_replayed() -> None:
    assert {"mastodon-4.3", "gotosocial-0.17", "takahe-0.11", "akkoma-3.13"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_what_the_bot_learns_at_start(
    name: str, replay: Callable[[str], ReplayServer], tmp_path: Path
) -> None:
    server = replay(name)
    expect = server.data["expect"]
    me, instance = client_for(server, tmp_path).connect()
    assert me.acct == "filrouge"
    assert instance.software == expect["software"]
    assert instance.document == expect["document"]
    assert instance.max_characters == expect["max_characters"]
    assert instance.url_length == expect["url_length"]
    assert instance.streaming_url == expect["streaming_url"]
    assert instance.domain == expect["domain"]
    # Read without the trailing slash Takahē answers 404 to, v2 before v1.
    instance_reads = [r for r in server.requests if "/instance" in r]
    assert all(not r.split("?")[0].endswith("/") for r in instance_reads)
    assert instance_reads[0].startswith("GET /api/v2/instance")


@pytest.mark.parametrize("name", NAMES)
def test_local_accounts_are_spelt_one_way(
    name: str, replay: Callable[[str], ReplayServer], tmp_path: Path
) -> None:
    server = replay(name)
    client = client_for(server, tmp_path)
    client.connect()
    notification = client.normalise(server.notifications[0])
    assert notification["account"]["acct"] == server.data["expect"]["acct"]
    assert notification["status"]["account"]["acct"] == server.data["expect"]["acct"]
    assert notification["status"]["mentions"][0]["acct"] == "filrouge"


@pytest.mark.parametrize(
    ("advertised", "api", "expected"),
    [
        ("wss://gts.example", "http://gts.example", "http://gts.example"),
        ("wss://gts.example", "https://gts.example", "https://gts.example"),
        ("ws://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("wss://streaming.example/", "https://example", "https://streaming.example"),
        ("https://streaming.example", "http://example", "http://streaming.example"),
        ("", "https://example", None),
        (None, "https://example", None),
        ("gopher://x", "https://example", None),
    ],
)
def test_the_streaming_url_follows_the_api_scheme(
    advertised: str | None, api: str, expected: str | None
) -> None:
    assert streaming_base(advertised, api) == expected


@pytest.mark.parametrize(
    ("version", "software"),
    [
        ("4.3.2", "mastodon"),
        ("4.2.10+glitch", "mastodon"),
        ("0.17.3+git-8c2d4e1", "mastodon"),  # a bare GoToSocial version reads as Mastodon's
        ("0.17.3+git-8c2d4e1 https://github.com/superseriousbusiness/gotosocial", "gotosocial"),
        ("takahe/0.11.0", "takahe"),
        ("2.7.2 (compatible; Akkoma 3.13.2)", "akkoma"),
        ("2.7.2 (compatible; Pleroma 2.7.0)", "pleroma"),
        ("", "mastodon"),
        ("something else", "unknown"),
    ],
)
def test_software_from_its_version(version: str, software: str) -> None:
    assert software_of(version) == software


def polled(server: ReplayServer, protocol: str) -> tuple[Listener, dict[str, object]]:
    """A listener on ``server``, stopped once it has found that it does not
    stream; with its health as it was then."""
    reader = reader_for(
        protocol, server.base_url, BOT_TOKEN, stall_timeout=1.0, connect_timeout=2.0, user_agent="t"
    )
    health = Health()
    listener = Listener(
        inbox=Inbox(), reader=reader, health=health, metrics=Metrics(), poll_interval=0.1,
        stall_timeout=1.0,
    )  # fmt: skip
    listener.start()
    try:
        eventually(lambda: health.snapshot()["streaming"] == "unsupported")
        snapshot = health.snapshot()
    finally:
        listener.stop()
    return listener, snapshot


@pytest.mark.parametrize("name", ["takahe-0.11", "gotosocial-0.17", "akkoma-3.13"])
@pytest.mark.parametrize("protocol", ["websocket", "sse"])
def test_a_server_that_refuses_a_stream_is_polled(
    name: str, protocol: str, replay: Callable[[str], ReplayServer]
) -> None:
    """Takahē has no stream at all; GoToSocial and Akkoma have no SSE (and here
    no WebSocket either: the replay server speaks plain HTTP)."""
    listener, health = polled(replay(name), protocol)
    assert health["polling"] is True
    assert listener.attempts == 1


@pytest.mark.parametrize("protocol", ["websocket", "sse"])
def test_a_stream_answered_with_a_plain_page_is_polled_and_explained(
    protocol: str, replay: Callable[[str], ReplayServer], caplog: pytest.LogCaptureFixture
) -> None:
    """A proxy that passes the WebSocket request on as plain HTTP, or a page
    where the SSE stream should be: polling, and a hint at the other protocol."""
    server = replay("mastodon-4.3")
    server.routes["GET /api/v1/streaming"] = {"status": 200, "body": {"not": "a stream"}}
    server.routes["GET /api/v1/streaming/user/notification"] = {"status": 200, "body": {}}
    caplog.set_level("INFO", logger="bot.listen.stream")
    listener, _ = polled(server, protocol)
    assert listener.attempts == 1
    assert any("FILROUGE_STREAM_PROTOCOL" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("page_limit", [80, 2])
def test_a_notification_committed_out_of_order_is_not_lost(
    replay: Callable[[str], ReplayServer], tmp_path: Path, page_limit: int
) -> None:
    """Takahē creates notifications in a background worker: 13 may be listed
    before 12. The catch-up re-reads a window behind the cursor: 12 is taken
    when it appears, and nothing already recorded is taken twice — also when
    the window is longer than a page (a server that caps pages low)."""
    server = replay("takahe-0.11")
    template = server.notifications[0]
    now = datetime.now(UTC)

    def notification(number: int) -> dict[str, Any]:
        created = (now - timedelta(minutes=30 - number)).isoformat()
        return {
            **template,
            "id": str(number),
            "created_at": created,
            "status": {**template["status"], "id": str(100 + number), "created_at": created},
        }

    server.notifications[:] = [notification(n) for n in (10, 11, 13)]
    client = client_for(server, tmp_path)
    client.connect()
    client.page_limit = page_limit
    store = open_record(tmp_path / "r.sqlite3")
    metrics = Metrics()
    intake = Intake(
        mentions=store.mentions,
        client=client,
        metrics=metrics,
        health=Health(),
        clock=lambda: datetime.now(UTC),
        max_mention_age=timedelta(hours=24),
    )

    def catch_up() -> None:
        intake.start_catch_up()
        while intake.catching_up:
            intake.catch_up_step()

    catch_up()
    assert store.mentions.cursor() == "13"
    server.notifications.append(notification(12))  # committed late, below the cursor
    server.notifications.append(notification(14))
    catch_up()
    assert store.mentions.cursor() == "14"
    recorded = {str(n) for n in range(9, 16) if store.mentions.outcome(str(n)) is not None}
    assert recorded == {"10", "11", "12", "13", "14"}
    assert metrics.mentions._value.get() == 5  # each one taken once
    store.close()


def test_a_catch_up_goes_one_page_at_a_time(
    replay: Callable[[str], ReplayServer], tmp_path: Path
) -> None:
    """The worker takes one page per cycle, with the due replies between two:
    a long backlog never holds a reply behind all of its pages."""
    server = replay("mastodon-4.3")
    template = server.notifications[0]
    created = datetime.now(UTC).isoformat()
    server.notifications[:] = [
        {
            **template,
            "id": str(n),
            "created_at": created,
            "status": {**template["status"], "id": str(n)},
        }
        for n in range(1000, 1012)
    ]
    client = client_for(server, tmp_path)
    client.connect()
    client.page_limit = 5
    store = open_record(tmp_path / "r.sqlite3")
    store.mentions.advance_cursor("999")
    intake = Intake(
        mentions=store.mentions,
        client=client,
        metrics=Metrics(),
        health=Health(),
        clock=lambda: datetime.now(UTC),
        max_mention_age=timedelta(hours=24),
    )
    intake.start_catch_up()
    steps = 0
    while intake.catching_up:
        before = len(server.requests)
        intake.catch_up_step()
        assert len(server.requests) == before + 1  # one request per step
        steps += 1
    assert steps == 4  # 5 + 5 + 2, then an empty page
    assert store.mentions.cursor() == "1011"
    store.close()
