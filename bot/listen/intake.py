"""Taking mentions in: every notification the stream or a poll delivers is
recorded as ``pending`` (a duplicate is recorded once), and the catch-up
pages everything after the stored cursor, then moves the cursor on.

Both paths end here, in the worker thread: the stream thread only enqueues.

The catch-up goes one page at a time, and the page is fetched beside the
worker (``fetcher``: its own client, in its own thread): the worker records
a page once it has come, and answers the due mentions meanwhile, so a safety
poll never holds a reply behind its requests. It starts a few mentions
behind the cursor (``WINDOW``) and drops what is already recorded, so a
notification a server commits out of order is not lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.mastodon.client import Client
from bot.model.ids import id_text, is_newer, newest
from bot.ops.metrics import Health, Metrics
from bot.record.mentions import Mentions

#: How many recorded mentions each catch-up re-reads behind the cursor.
WINDOW = 20

#: How many streamed statuses are kept in memory to save a fetch when processing.
PAYLOAD_CACHE = 1000


class _Fetch:
    """One page of notifications, fetched in a thread of its own."""

    def __init__(self, fetch: Callable[[], Sequence[Mapping[str, Any]]], done: Callable[[], None]):
        self.page: Sequence[Mapping[str, Any]] | None = None
        self.error: BaseException | None = None
        self.finished = threading.Event()

        def run() -> None:
            try:
                self.page = fetch()
            except BaseException as error:  # handed to the worker, which handles it
                self.error = error
            finally:
                self.finished.set()
                done()

        threading.Thread(target=run, name="filrouge-catch-up", daemon=True).start()

    def result(self) -> Sequence[Mapping[str, Any]]:
        if self.error is not None:
            raise self.error
        assert self.page is not None
        return self.page


class Intake:
    """Records mentions as they arrive and catches up after any gap."""

    def __init__(
        self,
        *,
        mentions: Mentions,
        client: Client,
        metrics: Metrics,
        health: Health,
        clock: Callable[[], datetime],
        max_mention_age: timedelta,
        fetcher: Client | None = None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.mentions = mentions
        self.client = client
        #: Fetches the catch-up's pages (a client of its own: one per thread).
        #: None: the pages are fetched in the caller's thread (tests, the demo).
        self.fetcher = fetcher
        #: Called when a page has come (wakes the worker).
        self.wake = wake
        self._fetch: _Fetch | None = None
        self.metrics = metrics
        self.health = health
        self.clock = clock
        self.max_mention_age = max_mention_age
        self._payloads: dict[str, Mapping[str, Any]] = {}
        #: Where the catch-up in progress reads next, and the cursor it started past.
        self._position: str | None = None
        self._cursor: str | None = None

    def take(self, notification: Mapping[str, Any]) -> None:
        """Record a mention notification as pending (duplicates are ignored)."""
        notification = self.client.normalise(notification)
        status = notification.get("status")
        account = notification.get("account") or (status or {}).get("account") or {}
        if not status or notification.get("id") is None:
            return
        notification_id = id_text(notification["id"])
        new = self.mentions.enqueue(
            notification_id, id_text(status["id"]), str(account.get("id", "")), self.clock()
        )
        if new:
            self.metrics.mentions.inc()
            if len(self._payloads) >= PAYLOAD_CACHE:
                self._payloads.pop(next(iter(self._payloads)))
            self._payloads[notification_id] = status

    def payload(self, notification_id: str) -> Mapping[str, Any] | None:
        """The status a stream delivered with this notification, once (None: fetch it)."""
        return self._payloads.pop(notification_id, None)

    @property
    def catching_up(self) -> bool:
        """A catch-up has pages left (the worker takes one per cycle)."""
        return self._position is not None

    @property
    def page_ready(self) -> bool:
        """The next step has something to do now (a page came, or one is to ask for)."""
        return self.catching_up and (self._fetch is None or self._fetch.finished.is_set())

    def start_catch_up(self) -> None:
        """Begin a catch-up from the cursor. On a first start (no cursor) the
        walk back to the maximum age is done at once: until it ends there is
        no cursor to resume from."""
        cursor = self.mentions.cursor()
        if cursor is None:
            not_before = self.clock() - self.max_mention_age
            notifications = self.client.notifications_since(None, not_before=not_before)
            for notification in notifications:
                self.take(notification)
            if notifications:
                last = newest(notifications, lambda n: n["id"])
                self.mentions.advance_cursor(id_text(last["id"]))
            self._done()
            return
        self._cursor = cursor
        self._position = self.mentions.window_start(cursor, WINDOW) or cursor

    def catch_up_step(self) -> None:
        """One page after the position; the cursor moves past what it recorded."""
        position, cursor = self._position, self._cursor
        if position is None or cursor is None:
            return
        if self.fetcher is None:
            fetched: Sequence[Mapping[str, Any]] = self.client.notifications_after(position)
        else:
            if self._fetch is None:
                fetcher = self.fetcher
                self._fetch = _Fetch(lambda: fetcher.notifications_after(position), self.wake)
                return
            if not self._fetch.finished.is_set():
                return
            fetch, self._fetch = self._fetch, None
            fetched = fetch.result()  # a failure: the worker's; the same page is asked again
        page = [n for n in fetched if is_newer(n["id"], position)]
        not_before = self.clock() - self.max_mention_age
        for notification in page:
            if is_newer(notification["id"], cursor) or _recent(notification, not_before):
                self.take(notification)
        if not page:
            self._done()
            return
        last = id_text(newest(page, lambda n: n["id"])["id"])
        if is_newer(last, cursor):
            self.mentions.advance_cursor(last)
            self._cursor = last
        # Still inside the window (a page smaller than the window) or past the
        # cursor: read on until a page comes back empty.
        self._position = last

    def _done(self) -> None:
        self._position = self._cursor = None
        self.health.update(last_event_at=time.time())


def _recent(notification: Mapping[str, Any], not_before: datetime) -> bool:
    """A notification behind the cursor is taken only while it is young enough
    to answer (older ones predate the record, or were purged from it)."""
    created = notification.get("created_at")
    if isinstance(created, datetime):
        return created >= not_before
    return False
