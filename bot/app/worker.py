"""The worker: the one thread that talks to the server once the bot runs.

Each cycle records what the stream enqueued, catches up when asked, then
takes every due mention to its outcome (``Actor.process``), recording newly
streamed mentions between two of them. A rate limit pauses the whole
worker until the server's reset; any other failure is logged, counted and
followed by a backoff and a catch-up: the worker never dies of one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.act.actor import Actor
from bot.act.poster import Result
from bot.errors import FilRougeError, PermanentError, RateLimited, TransientError
from bot.listen.intake import Intake
from bot.listen.stream import Inbox
from bot.mastodon.backoff import Backoff
from bot.ops.metrics import Health, Metrics

log = logging.getLogger(__name__)


class Worker:
    """Runs until ``stopping`` is set; see the module docstring."""

    def __init__(
        self,
        *,
        inbox: Inbox,
        intake: Intake,
        actor: Actor,
        backoff: Backoff,
        health: Health,
        metrics: Metrics,
        clock: Callable[[], datetime],
        stopping: threading.Event,
        poll_interval: float,
        on_result: Callable[[Result], None],
        chores: Callable[[], None],
    ) -> None:
        self.inbox = inbox
        self.intake = intake
        self.actor = actor
        self.backoff = backoff
        self.health = health
        self.metrics = metrics
        self.clock = clock
        self.stopping = stopping
        self.idle = max(0.01, min(1.0, poll_interval))
        self.on_result = on_result
        #: Work that waits for the worker between two cycles (a refused reload
        #: to tell the admins): it may raise like any cycle.
        self.chores = chores
        self.started_at = clock()
        self._pause_until = 0.0
        self._failures = 0
        self._next_purge = 0.0

    def stale_after(self) -> timedelta:
        # One worker per record: a row claimed before this process started
        # belongs to a process that died; one claimed since is our own.
        return max(self.clock() - self.started_at, timedelta(0))

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                wait = self._pause_until - time.time()
                if wait > 0:
                    self.stopping.wait(min(wait, self.idle))
                    continue
                if self._pause_until:
                    self._pause_until = 0.0
                    self.health.update(rate_limited_until=None)
                self._cycle()
                self._failures = 0
            except RateLimited as error:
                self._pause(error.retry_at, error)
            except PermanentError as error:
                # A bad token or a refused request outside any one mention:
                # nothing to do but wait, loudly, and try again later.
                self._failures += 1
                log.error(
                    "%s (%s)", error, error.kind, extra={"event": "error", "kind": error.kind}
                )
                self._after_failure(error)
            except (TransientError, FilRougeError) as error:
                self._failures += 1
                log.warning(
                    "%s", error, extra={"event": "error", "kind": getattr(error, "kind", "")}
                )
                self._after_failure(error)
            except Exception as error:
                self._failures += 1
                log.exception("worker error", extra={"event": "error", "kind": "internal"})
                self._after_failure(error)

    def _after_failure(self, error: BaseException) -> None:
        self.health.update(last_error=str(error))
        self.metrics.errors.labels(kind=getattr(error, "kind", "internal")).inc()
        # Whatever failed (usually the catch-up) is asked for again after a pause.
        self.inbox.request_catch_up()
        self.stopping.wait(self.backoff.delay(self._failures))

    def _pause(self, retry_at: float | None, error: BaseException) -> None:
        self._failures += 1
        until = (
            retry_at if retry_at is not None else time.time() + self.backoff.delay(self._failures)
        )
        self._pause_until = max(until, time.time() + self.backoff.delay(1))
        # The listener reads it too: no stream (re)connect while the server says wait.
        self.health.update(rate_limited_until=self._pause_until)
        log.warning(
            "rate limited; pausing for %.0fs",
            self._pause_until - time.time(),
            extra={"event": "ratelimit"},
        )
        self.health.update(last_error=str(error))
        self.inbox.request_catch_up()

    def _forget_old_texts(self) -> None:
        """Once an hour (and at start), forget the mentions' texts older than
        ``FILROUGE_RECORD_TEXT_DAYS`` (all of them when it is 0)."""
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + 3600
        now = self.clock()
        purged = self.actor.store.texts.purge(
            now - timedelta(days=self.actor.settings.record_text_days)
        )
        if purged:
            log.info("forgot the text of %d mentions past their keeping time", purged)

    def _deletions(self) -> None:
        """Take back the replies to mentions their authors deleted (streamed, or
        found by the budgeted sweep), and record streamed edits."""
        taking_back = self.actor.taking_back
        for status_id in self.inbox.take_edited():
            if self.actor.store.mentions.edited(status_id, self.clock()):
                log.info("mention %s was edited (recorded, not answered again)", status_id)
        deleted = self.inbox.take_deleted()
        for position, status_id in enumerate(deleted):
            try:
                taking_back.mention_gone(status_id)
            except TransientError as error:
                # The server cannot be asked now: they wait for the next cycle,
                # and the mentions due meanwhile are not held up.
                log.info("could not take back the replies to %s now: %s", status_id, error)
                self.inbox.requeue_deleted(deleted[position:])
                break
            except PermanentError as error:
                log.warning(
                    "could not take back the replies to %s: %s",
                    status_id,
                    error,
                    extra={"event": "taken_back", "kind": error.kind},
                )
        taking_back.sweep()

    def _drain(self, timeout: float) -> None:
        item = self.inbox.get(timeout=timeout)
        while item is not None:
            self.intake.take(item)
            item = self.inbox.get(timeout=0)

    def _cycle(self) -> None:
        self._drain(0 if self.intake.page_ready else self.idle)
        # After the streamed mentions are recorded: a failure here loses none of them.
        self.chores()
        self._deletions()
        self._forget_old_texts()
        if self.inbox.take_catch_up() and not self.intake.catching_up:
            self.intake.start_catch_up()
        if self.intake.catching_up:
            # One page, then the due replies: a backlog of pages never holds them up.
            self.intake.catch_up_step()
        for notification_id in self.actor.store.mentions.due(
            self.clock(), stale_after=self.stale_after()
        ):
            if self.stopping.is_set():
                return
            result = self.actor.process(
                notification_id,
                stale_after=self.stale_after(),
                status=self.intake.payload(notification_id),
            )
            if result is None:
                continue
            self.on_result(result)
            if result.pause_until is not None:
                self._pause(result.pause_until, RateLimited("rate limited", retry_at=None))
                return
            # Streamed mentions that arrived meanwhile go to the record first.
            self._drain(0)
