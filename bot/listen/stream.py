"""Listen: mention notifications from the stream, with REST polling as fallback.

The stream is a trigger, the ``min_id`` catch-up is the source of truth
(``shared/reference/mastodon.md`` §13): the stream does not replay what was
sent while it was down, so every (re)connect asks the worker for a catch-up
from the stored cursor, and while the stream is down the same catch-up runs
every ``poll_interval``. Both paths feed one ``Inbox``; duplicates are harmless
because the record claims each mention once.

Threads:

- the *stream thread* runs Mastodon.py's blocking SSE reader with a read
  timeout. Its handlers only put things in the inbox and never raise: any
  exception other than a network one would kill Mastodon.py's reader thread
  without reconnecting (halcy/Mastodon.py, reproducible with 2.3.3).
- the *supervisor* (``Listener``'s own thread) starts the stream, watches its
  heartbeat (a stall counts as a drop: a half-open connection can stay silent),
  reconnects with backoff, and polls while the stream is down.

Mastodon.py's ``run_async=True`` handle is not used: when its first connection
fails (404 on a server without streaming, 401) it retries forever in silence,
so the bot could not tell "streaming unavailable" from "connecting". Running
the blocking reader in a thread we own surfaces every failure at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from mastodon.streaming import StreamListener

from bot.mastodon.backoff import Backoff
from bot.mastodon.errors import translate
from bot.ops.metrics import Health, Metrics

log = logging.getLogger(__name__)


class Inbox:
    """What the listener hands the worker: streamed notifications and catch-up requests."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Mapping[str, Any] | None] = queue.Queue()
        self._catch_up = threading.Event()

    def put(self, notification: Mapping[str, Any]) -> None:
        self._queue.put(notification)

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


class _Closed(Exception):
    """Raised inside the reader thread to end a stream the supervisor gave up on."""


class _StreamListener(StreamListener):
    """Handlers that only record activity and enqueue, and never raise."""

    def __init__(self, inbox: Inbox, clock: Callable[[], float]) -> None:
        super().__init__()
        self.inbox = inbox
        self.clock = clock
        self.connected = threading.Event()
        self.ended = threading.Event()
        self.error: str | None = None
        self.started = clock()
        self.last_activity = self.started
        self.response: Any = None
        #: Whether the supervisor has seen this connection up (and asked for a catch-up).
        self.announced = False
        #: Set by the supervisor: the reader ends at the next byte it receives.
        self.closed = threading.Event()

    def handle_stream(self, response: Any) -> None:
        # Called once the server answered 200: the stream is live from here on.
        self.response = response
        if self.closed.is_set():
            response.close()
            return
        self.last_activity = self.clock()
        self.connected.set()
        try:
            super().handle_stream(response)  # type: ignore[no-untyped-call]
            self.error = "the server closed the stream"
        except _Closed:
            self.error = "closed"
        except Exception as exc:
            self.error = str(translate(exc))

    def _alive(self) -> None:
        # The only exception a handler lets out, on purpose, and only to
        # handle_stream above: it ends a stream nobody listens to any more.
        if self.closed.is_set():
            raise _Closed
        self.last_activity = self.clock()

    def handle_heartbeat(self) -> None:
        self._alive()

    def on_any_event(self, name: str, data: Any = None, for_stream: Any = None) -> None:
        self._alive()

    def on_notification(self, notification: Any) -> None:
        try:
            if notification.get("type") == "mention":
                self.inbox.put(notification)
        except Exception:
            log.warning("could not take a streamed notification", exc_info=True)

    def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
        pass

    def on_abort(self, err: Any) -> None:
        pass


class Listener:
    """Keeps mentions flowing into the inbox: stream when it can, polling when not.

    ``api_factory`` returns a fresh Mastodon.py object for each stream (the
    stream's requests session is then never shared with the worker's).
    """

    def __init__(
        self,
        *,
        inbox: Inbox,
        api_factory: Callable[[], Any] | None,
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
    ) -> None:
        self.inbox = inbox
        self.api_factory = api_factory
        self.health = health
        self.metrics = metrics
        self.poll_interval = poll_interval
        self.stall_timeout = stall_timeout
        self.connect_timeout = connect_timeout or 2 * stall_timeout
        self.backoff = backoff or Backoff(base=2.0, cap=300.0)
        self.clock = clock
        self.wall_clock = wall_clock
        self.safety_poll_interval = safety_poll_interval or max(poll_interval * 10, 300.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream: _StreamListener | None = None
        self._ever_connected = False
        self.connections = 0

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
                now = self.clock()
                stream = self._stream
                if self.api_factory is not None and stream is None and now >= next_attempt:
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
                        failures += 1
                        delay = self.backoff.delay(failures)
                        next_attempt = now + delay
                        log.warning(
                            "stream down (%s); polling, next stream attempt in %.1fs",
                            failed,
                            delay,
                            extra={"event": "stream", "state": "down"},
                        )
                        self.health.update(stream_connected=False, last_error=failed)
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
        assert self.api_factory is not None
        listener = _StreamListener(self.inbox, self.clock)
        self._stream = listener
        api_factory = self.api_factory
        # Mastodon.py's read timeout is the first line against a silent connection;
        # the watchdog in _check_stream is the second.
        read_timeout = self.stall_timeout

        def run() -> None:
            try:
                api = api_factory()
                api.stream_user_notifications(listener, run_async=False, timeout=read_timeout)
            except Exception as exc:
                if listener.error is None:
                    listener.error = str(translate(exc))
            finally:
                listener.ended.set()

        threading.Thread(target=run, name="filrouge-stream", daemon=True).start()

    def _check_stream(self, stream: _StreamListener, now: float) -> str | None:
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
        log.info("stream connected", extra={"event": "stream", "state": "up"})
        self.health.update(stream_connected=True, polling=False, last_event_at=self.wall_clock())
        self.metrics.stream_connected.set(1)
        # The stream does not replay what was sent while it was down.
        self.inbox.request_catch_up()

    def _note_disconnected(self) -> None:
        self.health.update(stream_connected=False)
        self.metrics.stream_connected.set(0)

    def _close_stream(self) -> None:
        stream = self._stream
        self._stream = None
        if stream is None:
            return
        stream.closed.set()
        stream.ended.set()
        response = stream.response
        if response is not None:
            # Best effort: the reader thread may stay blocked until its read
            # timeout; it is a daemon and its late events are harmless duplicates.
            try:
                response.close()
            except Exception:
                log.debug("closing the stream failed", exc_info=True)
