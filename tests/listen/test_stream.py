"""bot.listen against mastodon-mock, over WebSocket and over SSE: the stream
feeds the inbox, a drop or a missing streaming endpoint turns polling on, every
(re)connect asks for a catch-up."""

from __future__ import annotations

import base64
import hashlib
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mastodon_mock.testing import MockServer

from bot.listen.stream import Inbox, Listener
from bot.listen.transport import reader_for
from bot.mastodon.backoff import Backoff
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

    def make(
        server: MockServer,
        *,
        streaming: bool = True,
        protocol: str = "sse",
        unsupported_retry: float = 3600.0,
        **overrides: Any,
    ) -> Any:
        settings = settings_for(server, **overrides)
        reader = reader_for(
            protocol,
            server.base_url,
            settings.access_token.get_secret_value(),
            stall_timeout=settings.stream_stall_timeout,
            connect_timeout=2.0,
            user_agent="filrouge-test",
        )

        inbox, health, metrics = Inbox(), Health(), Metrics()
        listener = Listener(
            inbox=inbox,
            reader=reader if streaming else None,
            unsupported_retry=unsupported_retry,
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


PROTOCOLS = pytest.mark.parametrize("protocol", ["websocket", "sse"])


@PROTOCOLS
def test_stream_delivers_mentions_and_asks_for_a_catch_up(
    server: MockServer, make_listener: Callable[..., Any], protocol: str
) -> None:
    listener, inbox, health, _ = make_listener(server, protocol=protocol)
    eventually(lambda: listener.stream_connected)
    assert inbox.take_catch_up()  # start-up and connect
    server.client("alice").status_post("@filrouge coucou")
    item = eventually(lambda: inbox.get(timeout=0.05))
    assert item["type"] == "mention"
    assert item["status"]["content"]
    snapshot = health.snapshot()
    assert snapshot["stream_connected"] is True
    assert snapshot["polling"] is False
    assert snapshot["streaming"] == "up"
    assert listener.attempts == 1


@PROTOCOLS
def test_no_streaming_endpoint_means_polling_said_once_and_not_hammered(
    start_server: Callable[..., MockServer],
    make_listener: Callable[..., Any],
    protocol: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Servers differ: Takahē has no streaming endpoint (404; the mock's
    WebSocket refuses with 403). Polling carries the bot; the stream is not
    retried with backoff for ever, and the admin reads one INFO line."""
    server = start_server(streaming=False)
    caplog.set_level("INFO", logger="bot.listen.stream")
    listener, inbox, health, _ = make_listener(server, protocol=protocol)
    polls = 0

    def polled_thrice() -> bool:
        nonlocal polls
        inbox.get(timeout=0.05)
        polls += inbox.take_catch_up()
        return polls >= 3

    eventually(lambda: health.snapshot()["streaming"] == "unsupported", timeout=5)
    eventually(polled_thrice, timeout=5)
    snapshot = health.snapshot()
    assert snapshot["polling"] is True
    assert not listener.stream_connected
    assert listener.attempts == 1
    said = [r for r in caplog.records if "does not stream" in r.getMessage()]
    assert len(said) == 1 and said[0].levelname == "INFO"
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_a_server_that_does_not_stream_is_asked_again_later(
    start_server: Callable[..., MockServer], make_listener: Callable[..., Any]
) -> None:
    server = start_server(streaming=False)
    listener, _, health, _ = make_listener(server, unsupported_retry=0.3)
    eventually(lambda: listener.attempts >= 3, timeout=5)
    assert health.snapshot()["streaming"] == "unsupported"


def test_a_404_fault_on_the_sse_path_means_polling(
    server: MockServer, make_listener: Callable[..., Any]
) -> None:
    server.fault(path_regex=r"^/api/v1/streaming/user", status=404)
    listener, _, health, _ = make_listener(server)
    eventually(lambda: health.snapshot()["streaming"] == "unsupported")
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


def test_a_dropped_websocket_reconnects_and_asks_for_a_catch_up(
    server: MockServer, make_listener: Callable[..., Any]
) -> None:
    listener, inbox, _, metrics = make_listener(server, protocol="websocket")
    eventually(lambda: listener.connections >= 1 and listener.stream_connected)
    drain(inbox)
    listener._close_stream()
    eventually(lambda: listener.connections >= 2, timeout=10)
    assert metrics.reconnects._value.get() >= 1
    assert inbox.take_catch_up()
    server.client("alice").status_post("@filrouge après la coupure")
    item = eventually(lambda: inbox.get(timeout=0.05))
    assert "coupure" in item["status"]["content"]


def test_a_quiet_websocket_stays_up_on_its_pongs(
    server: MockServer, make_listener: Callable[..., Any]
) -> None:
    """mastodon-mock sends no text heartbeat on a WebSocket (nor does Mastodon):
    the reader's pings keep the watchdog fed, so a quiet stream is not dropped."""
    listener, _, _, _ = make_listener(server, protocol="websocket", stream_stall_timeout=0.4)
    eventually(lambda: listener.stream_connected)
    time.sleep(1.5)
    assert listener.stream_connected
    assert listener.connections == 1


def test_a_half_open_websocket_is_dropped_by_the_watchdog(
    silent_websocket: str, make_listener: Callable[..., Any], server: MockServer
) -> None:
    """A server that took the upgrade and then went silent (no frames, no
    pongs): after the stall timeout the stream counts as down and a catch-up
    is asked for."""
    listener, inbox, health, _ = make_listener(
        server, protocol="websocket", stream_stall_timeout=0.4
    )
    listener.reader = reader_for(
        "websocket",
        silent_websocket,
        "token",
        stall_timeout=0.4,
        connect_timeout=2.0,
        user_agent="t",
    )
    listener._close_stream()
    eventually(lambda: listener.connections >= 1, timeout=5)
    drain(inbox)
    eventually(lambda: health.snapshot()["last_error"] is not None, timeout=5)
    assert "no event or heartbeat" in str(health.snapshot()["last_error"])
    assert inbox.take_catch_up()


def test_no_connection_attempt_during_a_rate_limit_pause(
    server: MockServer, make_listener: Callable[..., Any]
) -> None:
    listener, _, health, _ = make_listener(server, streaming=True, protocol="websocket")
    eventually(lambda: listener.stream_connected)
    health.update(rate_limited_until=time.time() + 60.0)
    # Counted from here: on a loaded machine the first connection may have
    # needed a second attempt before the pause began.
    before = listener.attempts
    listener._close_stream()
    time.sleep(0.8)
    assert listener.attempts == before
    health.update(rate_limited_until=None)
    eventually(lambda: listener.attempts == before + 1)


def test_the_connection_never_raises_on_what_the_server_sends() -> None:
    from bot.listen.stream import _Connection

    inbox = Inbox()
    connection = _Connection(inbox, clock=lambda: 0.0)
    for payload in ("not json", "[1, 2]", "null", '{"type": "favourite"}', ""):
        connection.event("notification", payload)
    connection.event("update", '{"type": "mention"}')
    connection.alive()
    assert inbox.get(timeout=0) is None
    connection.event("notification", '{"type": "mention", "id": "1", "status": {"id": "2"}}')
    assert inbox.get(timeout=0) == {"type": "mention", "id": "1", "status": {"id": "2"}}


@pytest.fixture
def silent_websocket() -> Iterator[str]:
    """A loopback server that accepts a WebSocket upgrade, then never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            key = next(
                line.split(b":", 1)[1].strip()
                for line in request.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            accept = base64.b64encode(
                hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
            )
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            held.append(conn)  # and never read nor write again

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()
