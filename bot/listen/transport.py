"""The two ways a server streams notifications: WebSocket and server-sent events.

Each reader blocks in its own thread, hands every event and every sign of
life to a ``Sink``, and returns (or raises) when the stream ends. Neither
reads the instance document: the streaming URL is found once per start
(``bot.mastodon.compat.read_instance``), so a reconnect costs exactly one
request, the stream's own.

- **WebSocket** (``/api/v1/streaming?stream=user``): Mastodon's streaming
  server speaks it, and GoToSocial and Pleroma speak nothing else. The
  server's pings are answered by the library; when nothing arrives for a
  third of the stall timeout the reader pings the server itself, and a pong
  counts as a sign of life — so the watchdog tells a quiet stream from a
  half-open one, as SSE's ``:thump`` comments do.
- **SSE** (``/api/v1/streaming/user/notification``): for proxies that do not
  pass WebSocket upgrades. Every line, heartbeat comments included, is a sign
  of life.

The token goes in the ``Authorization`` header for SSE, and in the query
string for WebSocket, the one place every server reads it from there
(GoToSocial and Mastodon also read ``Sec-WebSocket-Protocol``, mastodon-mock
and Pleroma do not). It never appears in a message or a log line.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

#: The library's own logger for our connections. It would log the request line,
#: token included, and every frame at DEBUG: never below INFO.
_WS_LOG = logging.getLogger("bot.listen.websocket")
_WS_LOG.setLevel(logging.INFO)

#: The largest frame accepted: a notification with a long status and its
#: account is a few kilobytes; a megabyte is a server gone wrong.
MAX_FRAME = 1 << 20


class StreamRefused(Exception):
    """The server answered the stream's request with an HTTP status other than 101/200."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the server refused the stream (HTTP {status})")
        self.status = status


class Sink(Protocol):
    """What a reader reports to (``bot.listen.stream``'s connection)."""

    closed: threading.Event

    def opened(self, close: Callable[[], None]) -> None:
        """The stream is up; ``close`` ends it from another thread."""

    def alive(self) -> None:
        """Something arrived: an event, a heartbeat, a pong."""

    def event(self, name: str, payload: str) -> None:
        """One event, its payload as the server sent it (JSON text, or an id)."""


def websocket_url(streaming_base: str, token: str) -> str:
    parts = urlsplit(streaming_base)
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    query = urlencode({"stream": "user", "access_token": token})
    return urlunsplit((scheme, parts.netloc, parts.path + "/api/v1/streaming", query, ""))


def read_websocket(
    streaming_base: str,
    token: str,
    sink: Sink,
    *,
    stall_timeout: float,
    connect_timeout: float,
    user_agent: str,
) -> str:
    """Read the stream until it ends; the reason it ended. Raises ``StreamRefused``
    when the handshake is answered with an HTTP error, ``OSError`` and the
    library's errors when it cannot connect."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    try:
        connection = connect(
            websocket_url(streaming_base, token),
            open_timeout=connect_timeout,
            close_timeout=1.0,
            # The reader pings when the stream is quiet (below), not on a timer.
            ping_interval=None,
            max_size=MAX_FRAME,
            user_agent_header=user_agent,
            logger=_WS_LOG,
        )
    except InvalidStatus as refused:
        raise StreamRefused(refused.response.status_code) from None
    quiet = max(stall_timeout / 3, 0.05)

    def close() -> None:
        # close() waits for the server's answer (at most close_timeout): never
        # on the supervisor's thread.
        threading.Thread(target=connection.close, name="filrouge-ws-close", daemon=True).start()

    with connection:
        sink.opened(close)
        while not sink.closed.is_set():
            try:
                frame = connection.recv(timeout=quiet)
            except TimeoutError:
                try:
                    pong = connection.ping()
                except ConnectionClosed:
                    break
                if pong.wait(quiet):
                    sink.alive()
                continue
            except ConnectionClosed:
                break
            sink.alive()
            name, payload = _frame(frame)
            if name:
                sink.event(name, payload)
    return "closed" if sink.closed.is_set() else "the server closed the stream"


def _frame(frame: str | bytes) -> tuple[str, str]:
    """(event, payload) of a WebSocket frame ``{"stream": […], "event": …, "payload": "…"}``."""
    try:
        data = json.loads(frame)
    except ValueError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    payload = data.get("payload")
    if not isinstance(payload, str):
        # Some servers send the payload as an object rather than JSON text.
        payload = "" if payload is None else json.dumps(payload)
    name = data.get("event")
    return (name if isinstance(name, str) else ""), payload


def read_sse(
    streaming_base: str,
    token: str,
    sink: Sink,
    *,
    stall_timeout: float,
    connect_timeout: float,
    user_agent: str,
) -> str:
    """Read the SSE stream until it ends; the same contract as ``read_websocket``."""
    url = streaming_base.rstrip("/") + "/api/v1/streaming/user/notification"
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "text/event-stream",
        "User-Agent": user_agent,
    }
    timeout = httpx.Timeout(connect=connect_timeout, read=stall_timeout, write=10.0, pool=10.0)
    with (
        httpx.Client(timeout=timeout, follow_redirects=True) as http,
        http.stream("GET", url, headers=headers) as response,
    ):
        if response.status_code != 200 or not response.headers.get("content-type", "").startswith(
            "text/event-stream"
        ):
            raise StreamRefused(response.status_code)
        sink.opened(response.close)
        name, data = "", list[str]()
        try:
            for line in response.iter_lines():
                sink.alive()
                if sink.closed.is_set():
                    break
                if not line:
                    if name or data:
                        sink.event(name or "message", "\n".join(data))
                    name, data = "", []
                elif line.startswith(":"):
                    continue  # a heartbeat comment
                else:
                    field, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if field == "event":
                        name = value
                    elif field == "data":
                        data.append(value)
        except (httpx.StreamClosed, httpx.ReadError):
            if not sink.closed.is_set():
                raise
    return "closed" if sink.closed.is_set() else "the server closed the stream"


READERS: dict[str, Callable[..., str]] = {"websocket": read_websocket, "sse": read_sse}


def reader_for(
    protocol: str,
    streaming_base: str,
    token: str,
    *,
    stall_timeout: float,
    connect_timeout: float,
    user_agent: str,
) -> Callable[[Sink], str]:
    """The reader of one connection with ``protocol``, bound to its server."""
    read = READERS[protocol]

    def reader(sink: Sink) -> str:
        return read(
            streaming_base,
            token,
            sink,
            stall_timeout=stall_timeout,
            connect_timeout=connect_timeout,
            user_agent=user_agent,
        )

    return reader
