"""Listen: mention notifications from the stream, with REST polling as fallback.

The stream is a trigger, the ``min_id`` catch-up is the source of truth
(``shared/reference/mastodon.md`` §13): the stream does not replay what was
sent while it was down, so every (re)connect asks the worker for a catch-up
from the stored cursor, and while the stream is down the same catch-up runs
every ``poll_interval``. Both paths feed one ``Inbox``; duplicates are harmless
because the record claims each mention once.

Threads:

- the *stream thread* runs one reader of ``bot.listen.transport`` (WebSocket
  or SSE, a setting) for one connection. It only puts things in the inbox.
- the *supervisor* (``Listener``'s own thread) starts the stream, watches its
  signs of life (a stall counts as a drop: a half-open connection can stay
  silent), reconnects with backoff, and polls while the stream is down.

What it costs the server: one request per connection attempt, none during a
rate-limit pause (the worker's, read from ``Health``). A server that answers
the stream with "not here" (404 on Takahē, a proxy's 403) is not retried with
backoff for ever: the bot polls, says so once at INFO, and tries the stream
again after ``unsupported_retry`` (an hour).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from bot.listen.transport import StreamRefused
from bot.mastodon.backoff import Backoff
from bot.mastodon.errors import translate
from bot.ops.metrics import Health, Metrics

log = logging.getLogger(__name__)


class Inbox:
    """What the listener hands the worker: streamed notifications and catch-up requests."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Mapping[str, Any] | None] = queue.Queue()
        self._catch_up = threading.Event()
        #: Status ids the stream said were deleted, and edited (``status.update``).
        self._deleted: deque[str] = deque(maxlen=10_000)
        self._edited: deque[str] = deque(maxlen=10_000)

    def put(self, notification: Mapping[str, Any]) -> None:
        self._queue.put(notification)

    def deleted(self, status_id: str) -> None:
        self._deleted.append(status_id)
        self._queue.put(None)

    def edited(self, status_id: str) -> None:
        self._edited.append(status_id)
        self._queue.put(None)

    def take_deleted(self) -> list[str]:
        """The status ids deleted since the last call, oldest first."""
        return _take_all(self._deleted)

    def requeue_deleted(self, status_ids: list[str]) -> None:
        """Put back, in front, deletions that could not be handled now."""
        self._deleted.extendleft(reversed(status_ids))

    def take_edited(self) -> list[str]:
        """The status ids edited since the last call, oldest first."""
        return _take_all(self._edited)

    def request_catch_up(self) -> None:
        """Ask for a REST catch-up; many requests before the worker gets to it make one."""
        self._catch_up.set()
        self._queue.put(None)  # wake the worker

    def take_catch_up(self) -> bool:
        """True (once) if a catch-up was requested since the last call."""
        if self._catch_up.is_set():
            self._catch_up.clear()
            return True
        return False

    def get(self, timeout: float) -> Mapping[str, Any] | None:
        """The next streamed notification, or None on a wake-up or after ``timeout``."""
        try:
            return self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None

    def wake(self) -> None:
        self._queue.put(None)


def _take_all(items: deque[str]) -> list[str]:
    taken: list[str] = []
    while True:
        try:
            taken.append(items.popleft())
        except IndexError:
            return taken


class _Connection:
    """One stream connection as its reader thread reports it; never raises."""

    def __init__(self, inbox: Inbox, clock: Callable[[], float]) -> None:
        self.inbox = inbox
        self.clock = clock
        self.connected = threading.Event()
        self.ended = threading.Event()
        #: Set by the supervisor: the reader ends at the next thing it receives.
        self.closed = threading.Event()
        self.error: str | None = None
        #: The HTTP status that refused the stream, if one did.
        self.refused: int | None = None
        self.started = clock()
        self.last_activity = self.started
        self._close: Callable[[], None] | None = None
        #: Whether the supervisor has seen this connection up (and asked for a catch-up).
        self.announced = False

    # -- the Sink the readers report to ---------------------------------------------

    def opened(self, close: Callable[[], None]) -> None:
        self._close = close
        if self.closed.is_set():
            self.close()
            return
        self.last_activity = self.clock()
        self.connected.set()

    def alive(self) -> None:
        self.last_activity = self.clock()

    def event(self, name: str, payload: str) -> None:
        if name == "delete":
            # The payload is the bare id (Mastodon sends it as a JSON number on
            # some versions, a string on others).
            status_id = payload.strip().strip('"')
            if status_id:
                self.inbox.deleted(status_id)
            return
        if name in ("status.update", "status_update"):  # Mastodon's name, and a variant
            try:
                status = json.loads(payload)
                if isinstance(status, dict) and status.get("id") is not None:
                    self.inbox.edited(str(status["id"]))
            except Exception:
                log.warning("could not read a streamed edit", exc_info=True)
            return
        if name != "notification":
            return
        try:
            notification = json.loads(payload)
            if isinstance(notification, dict) and notification.get("type") == "mention":
                self.inbox.put(notification)
        except Exception:
            log.warning("could not take a streamed notification", exc_info=True)

    # -- the supervisor's side ------------------------------------------------------

    def close(self) -> None:
        self.closed.set()
        self.ended.set()
        close = self._close
        if close is not None:
            # Best effort: the reader thread may stay blocked until its read
            # timeout; it is a daemon and its late events are harmless duplicates.
            try:
                close()
            except Exception:
                log.debug("closing the stream failed", exc_info=True)


#: Reads one stream connection until it ends (``bot.listen.transport``).
StreamReader = Callable[[_Connection], str]

#: HTTP answers to the stream's request that mean "no streaming here", not an
#: outage: Takahē has no endpoint (404), a proxy may refuse upgrades (400,
#: 403, 405, 426) or pass a WebSocket request on as plain HTTP (200), a
#: server may not implement it (501).
UNSUPPORTED = frozenset({200, 400, 403, 404, 405, 410, 426, 501})


class Listener:
    """Keeps mentions flowing into the inbox: stream when it can, polling when not.

    ``reader`` opens and reads one connection (``None``: streaming is off);
    it is called again for each reconnect and reads no instance document.
    """

    def __init__(
        self,
        *,
        inbox: Inbox,
        reader: StreamReader | None,
        health: Health,
        metrics: Metrics,
        poll_interval: float,
        stall_timeout: float,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        #: While the stream is up, still catch up this often, as a safety net.
        safety_poll_interval: float | None = None,
        #: How long a stream may take to answer before the attempt counts as failed.
        connect_timeout: float | None = None,
        #: After the server said it does not stream, try again this much later.
        unsupported_retry: float = 3600.0,
        #: Called on every turn of the loop (systemd's watchdog is fed from here).
        on_tick: Callable[[], None] | None = None,
    ) -> None:
        self.inbox = inbox
        self.reader = reader
        self.health = health
        self.metrics = metrics
        self.poll_interval = poll_interval
        self.stall_timeout = stall_timeout
        self.connect_timeout = connect_timeout or 2 * stall_timeout
        self.backoff = backoff or Backoff(base=2.0, cap=300.0)
        self.clock = clock
        self.wall_clock = wall_clock
        self.safety_poll_interval = safety_poll_interval or max(poll_interval * 10, 300.0)
        self.unsupported_retry = unsupported_retry
        self.on_tick = on_tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream: _Connection | None = None
        self._ever_connected = False
        self._told_unsupported = False
        self.connections = 0
        #: Connection attempts made (each one is one request to the server).
        self.attempts = 0

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="filrouge-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._close_stream()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def stream_connected(self) -> bool:
        stream = self._stream
        return stream is not None and stream.connected.is_set() and not stream.ended.is_set()

    def _rate_limited(self) -> bool:
        """The worker is waiting out a rate limit: no new request until it ends."""
        until = self.health.snapshot().get("rate_limited_until")
        return isinstance(until, float) and until > self.wall_clock()

    # -- the supervisor loop --------------------------------------------------------

    def _run(self) -> None:
        # Start-up: catch up from the stored cursor whatever happens next.
        self.inbox.request_catch_up()
        last_poll = self.clock()
        failures = 0
        next_attempt = self.clock()
        tick = max(0.01, min(0.5, self.poll_interval / 4, self.stall_timeout / 4))
        while not self._stop.is_set():
            try:
                if self.on_tick is not None:
                    self.on_tick()
                now = self.clock()
                stream = self._stream
                if (
                    self.reader is not None
                    and stream is None
                    and now >= next_attempt
                    and not self._rate_limited()
                ):
                    self._open_stream()
                    stream = self._stream
                if stream is not None:
                    failed = self._check_stream(stream, now)
                    if failed is None and stream.connected.is_set():
                        failures = 0
                        if now - last_poll >= self.safety_poll_interval:
                            self.inbox.request_catch_up()
                            last_poll = now
                    elif failed is not None:
                        if stream.refused in UNSUPPORTED:
                            next_attempt = now + self.unsupported_retry
                            self._note_unsupported(stream.refused)
                        else:
                            failures += 1
                            delay = self.backoff.delay(failures)
                            next_attempt = now + delay
                            log.warning(
                                "stream down (%s); polling, next stream attempt in %.1fs",
                                failed,
                                delay,
                                extra={"event": "stream", "state": "down"},
                            )
                            self.health.update(
                                stream_connected=False, streaming="down", last_error=failed
                            )
                        self.metrics.stream_connected.set(0)
                        # Whatever arrived since the last catch-up may be lost: fetch it.
                        self.inbox.request_catch_up()
                        last_poll = now
                if not self.stream_connected:
                    self.health.update(polling=True)
                    if now - last_poll >= self.poll_interval:
                        self.inbox.request_catch_up()
                        last_poll = now
            except Exception:
                # The supervisor must outlive any surprise; the next tick tries again.
                log.exception("listener loop error", extra={"event": "stream"})
            self._stop.wait(tick)
        self.health.update(stream_connected=False, polling=False)
        self.metrics.stream_connected.set(0)

    def _open_stream(self) -> None:
        assert self.reader is not None
        connection = _Connection(self.inbox, self.clock)
        self._stream = connection
        self.attempts += 1
        reader = self.reader

        def run() -> None:
            try:
                connection.error = reader(connection)
            except StreamRefused as refused:
                connection.refused = refused.status
                connection.error = str(refused)
            except Exception as exc:
                if connection.error is None:
                    connection.error = str(translate(exc))
            finally:
                connection.ended.set()

        threading.Thread(target=run, name="filrouge-stream", daemon=True).start()

    def _check_stream(self, stream: _Connection, now: float) -> str | None:
        """None while the stream is healthy or connecting; the reason once it failed."""
        if stream.connected.is_set() and not stream.announced:
            # Counted even if it already ended: it was up, a catch-up is due.
            stream.announced = True
            self._note_connected()
        if stream.ended.is_set():
            self._stream = None
            if stream.connected.is_set():
                self._note_disconnected()
            return stream.error or "stream ended"
        if stream.connected.is_set():
            idle = now - stream.last_activity
            if idle > self.stall_timeout:
                self._close_stream()
                self._note_disconnected()
                return f"no event or heartbeat for {self.stall_timeout:g}s"
            # Heartbeats keep /healthz fresh while no mention arrives.
            self.health.update(last_event_at=self.wall_clock() - max(idle, 0.0))
        elif now - stream.started > self.connect_timeout:
            # Connecting for too long (a proxy that buffers, a black hole).
            self._close_stream()
            return "could not connect"
        return None

    def _note_connected(self) -> None:
        self.connections += 1
        if self._ever_connected:
            self.metrics.reconnects.inc()
        self._ever_connected = True
        self._told_unsupported = False
        log.info("stream connected", extra={"event": "stream", "state": "up"})
        self.health.update(
            stream_connected=True,
            polling=False,
            streaming="up",
            last_event_at=self.wall_clock(),
        )
        self.metrics.stream_connected.set(1)
        # The stream does not replay what was sent while it was down.
        self.inbox.request_catch_up()

    def _note_unsupported(self, status: int | None) -> None:
        """The server does not stream (or not through this proxy): polling, said once."""
        self.health.update(stream_connected=False, polling=True, streaming="unsupported")
        if self._told_unsupported:
            return
        self._told_unsupported = True
        hint = (
            " (answered with a plain page, not a stream: a proxy in the way? the other"
            " FILROUGE_STREAM_PROTOCOL may pass)"
            if status == 200
            else ""
        )
        log.info(
            "the server does not stream (HTTP %s)%s; polling every %gs, trying the stream "
            "again in %s",
            status,
            hint,
            self.poll_interval,
            _hours(self.unsupported_retry),
            extra={"event": "stream", "state": "unsupported"},
        )

    def _note_disconnected(self) -> None:
        self.health.update(stream_connected=False)
        self.metrics.stream_connected.set(0)

    def _close_stream(self) -> None:
        stream = self._stream
        self._stream = None
        if stream is not None:
            stream.close()


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"
