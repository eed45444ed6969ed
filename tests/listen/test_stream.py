"""bot.listen against mastodon-mock: the stream feeds the inbox, a drop or a
missing streaming endpoint turns polling on, every (re)connect asks for a catch-up."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mastodon_mock.testing import MockServer

from bot.listen.stream import Inbox, Listener
from bot.mastodon.backoff import Backoff
from bot.mastodon.client import Client
from bot.ops.metrics import Health, Metrics
from bot.settings import Settings
from tests.conftest import eventually


def fast_backoff() -> Backoff:
    return Backoff(base=0.05, cap=0.2, rng=random.Random(3))


@pytest.fixture
def make_listener(
    settings_for: Callable[..., Settings],
) -> Iterator[Callable[..., tuple[Listener, Inbox, Health, Metrics]]]:
    listeners: list[Listener] = []

    def make(server: MockServer, *, streaming: bool = True, **overrides: Any) -> Any:
        settings = settings_for(server, **overrides)
        client = Client(settings)
        inbox, health, metrics = Inbox(), Health(), Metrics()
        listener = Listener(
            inbox=inbox,
            api_factory=client.new_api if streaming else None,
            health=health,
            metrics=metrics,
            poll_interval=settings.poll_interval,
            stall_timeout=settings.stream_stall_timeout,
            backoff=fast_backoff(),
        )
        listeners.append(listener)
        listener.start()
        return listener, inbox, health, metrics

    yield make
    for listener in listeners:
        listener.stop()


def drain(inbox: Inbox) -> tuple[list[Any], int]:
    items, catch_ups = [], 0
    while True:
        if inbox.take_catch_up():
            catch_ups += 1
        item = inbox.get(timeout=0)
        if item is None and not inbox.take_catch_up():
            return items, catch_ups
        if item is not None:
            items.append(item)


def test_stream_delivers_mentions_and_asks_for_a_catch_up(
    server: MockServer, make_listener: Callable[..., Any]
) -> None:
    listener, inbox, health, _ = make_listener(server)
    eventually(lambda: listener.stream_connected)
    assert inbox.take_catch_up()  # start-up and connect
    server.client("alice").status_post("@filrouge coucou")
    item = eventually(lambda: inbox.get(timeout=0.05))
    assert item["type"] == "mention"
    snapshot = health.snapshot()
    assert snapshot["stream_connected"] is True
    assert snapshot["polling"] is False


def test_no_streaming_endpoint_means_polling(
    start_server: Callable[..., MockServer], make_listener: Callable[..., Any]
) -> None:
    """Servers differ: streaming switched off answers 404; polling carries the bot."""
    server = start_server(streaming=False)
    listener, inbox, health, _ = make_listener(server)
    polls = 0

    def polled_twice() -> bool:
        nonlocal polls
        inbox.get(timeout=0.05)
        polls += inbox.take_catch_up()
        return polls >= 3

    eventually(polled_twice, timeout=5)
    assert health.snapshot()["polling"] is True
    assert not listener.stream_connected


def test_a_404_fault_on_the_stream_path_means_polling(
    server: MockServer, make_listener: Callable[..., Any]
) -> None:
    server.fault(path_regex=r"^/api/v1/streaming/user", status=404)
    listener, _, health, _ = make_listener(server)
    eventually(lambda: health.snapshot()["last_error"] is not None)
    assert health.snapshot()["polling"] is True
    assert not listener.stream_connected


def test_a_dropped_stream_reconnects_and_asks_for_a_catch_up(
    server: MockServer, make_listener: Callable[..., Any]
) -> None:
    # Stream reads time out after 0.5 s of silence; the mock's heartbeat is
    # 0.2 s, so only the fault below (a 2 s pause on reconnect) makes it stall.
    listener, inbox, health, metrics = make_listener(server, stream_stall_timeout=0.5)
    eventually(lambda: listener.connections >= 1 and listener.stream_connected)
    drain(inbox)
    connections = listener.connections
    # Drop it: the next connection attempt fails twice, then the stream comes back.
    server.fault(path_regex=r"^/api/v1/streaming/user", status=502, count=2)
    listener._close_stream()
    eventually(lambda: listener.connections > connections, timeout=10)
    eventually(lambda: metrics.reconnects._value.get() >= 1)
    assert inbox.take_catch_up()
    assert health.snapshot()["stream_connected"] is True


def test_handlers_never_raise(server: MockServer, make_listener: Callable[..., Any]) -> None:
    from bot.listen.stream import _StreamListener

    listener = _StreamListener(Inbox(), clock=lambda: 0.0)
    listener.on_notification(object())  # not a mapping: logged, not raised
    listener.on_any_event("update", None)
    listener.handle_heartbeat()
