"""Taking mentions in: every notification the stream or a poll delivers is
recorded as ``pending`` (a duplicate is recorded once), and the catch-up
pages everything after the stored cursor, then moves the cursor on.

Both paths end here, in the worker thread: the stream thread only enqueues.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.mastodon.client import Client
from bot.model.ids import id_text, newest
from bot.ops.metrics import Health, Metrics
from bot.record.mentions import Mentions

#: How many streamed statuses are kept in memory to save a fetch when processing.
PAYLOAD_CACHE = 1000


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
    ) -> None:
        self.mentions = mentions
        self.client = client
        self.metrics = metrics
        self.health = health
        self.clock = clock
        self.max_mention_age = max_mention_age
        self._payloads: dict[str, Mapping[str, Any]] = {}

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

    def catch_up(self) -> None:
        """Fetch every mention after the cursor, record it, then move the cursor.
        On a first start (no cursor) only back to the maximum age."""
        cursor = self.mentions.cursor()
        not_before = self.clock() - self.max_mention_age if cursor is None else None
        notifications = self.client.notifications_since(cursor, not_before=not_before)
        for notification in notifications:
            self.take(notification)
        if notifications:
            last = newest(notifications, lambda n: n["id"])
            self.mentions.advance_cursor(id_text(last["id"]))
        self.health.update(last_event_at=time.time())
