"""Taking back: the bot deletes a reply of its own and records who asked.

Two ways a reply is taken back:

- **on request** — someone with a say (``bot.decide.take_back``) answers the
  reply with ``supprime`` / ``delete``: the actor deletes it here, then posts
  the confirmation;
- **when the mention is deleted** — the reply answered a post that is gone,
  so it answers nothing. The stream's ``delete`` event says so when one
  arrives (the server sends it only to those who see the post in a
  timeline); otherwise :meth:`TakeBack.sweep` looks the mentions up, within a
  budget: the last hour's replies every minute, the last day's every fifteen
  minutes, at most ``budget`` look-ups a minute — far inside Mastodon's 300
  calls in five minutes.

Deleting is idempotent: a post already gone counts as deleted, and the record
notes each reply once, so a retry after a crash deletes and records nothing
twice.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.errors import FilRougeError, Gone, PermanentError, TransientError
from bot.mastodon.port import MastodonPort
from bot.ops.metrics import Metrics
from bot.record.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When the mentions of recent replies are looked up."""

    #: Seconds between two sweeps.
    every: float = 60.0
    #: ``(age, every)``: a reply younger than ``age`` has its mention looked up
    #: every ``every`` (the first tier that holds); older ones never.
    tiers: tuple[tuple[timedelta, timedelta], ...] = (
        (timedelta(hours=1), timedelta(minutes=1)),
        (timedelta(days=1), timedelta(minutes=15)),
    )


class TakeBack:
    """Deletes the bot's replies and records it (worker thread only)."""

    def __init__(
        self,
        *,
        client: MastodonPort,
        store: Store,
        metrics: Metrics,
        clock: Callable[[], datetime],
        budget: int,
        dry_run: bool = False,
        schedule: Schedule = Schedule(),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.store = store
        self.metrics = metrics
        self.clock = clock
        #: Mention look-ups a sweep may make (0: no sweeps).
        self.budget = budget
        self.dry_run = dry_run
        self.schedule = schedule
        self._monotonic = monotonic
        self._next_sweep = 0.0

    def take_back(
        self, reply_id: str, *, by: str, how: str, notification_id: str | None = None
    ) -> bool:
        """Delete the bot's post ``reply_id`` and record it; True if this call
        recorded it. Raises ``FilRougeError`` when the server cannot be asked
        now (the caller retries)."""
        if self.dry_run:
            log.info("would take back %s (%s; dry run)", reply_id, how)
            return False
        # Gone: deleted already, by an earlier attempt or by a moderator.
        with contextlib.suppress(Gone):
            self.client.delete_status(reply_id)
        recorded = self.store.replies.take_back(
            reply_id, by=by, how=how, now=self.clock(), notification_id=notification_id
        )
        if recorded:
            self.metrics.taken_back.labels(how=how).inc()
            log.info(
                "took back %s (%s, asked by %s)",
                reply_id,
                how,
                by,
                extra={"event": "taken_back", "reply_id": reply_id, "how": how, "by": by},
            )
        return recorded

    def mention_gone(self, status_id: str) -> int:
        """The mention ``status_id`` was deleted: take back what answered it,
        and forget its words."""
        self.store.texts.forget_status(status_id)
        count = 0
        for reply_id, account_id in self.store.replies.answering(status_id):
            count += self.take_back(reply_id, by=account_id, how="mention_deleted")
        return count

    def sweep(self) -> int:
        """Look up the mentions of recent replies that are due a check, within
        the budget, as often as the schedule says; the replies taken back."""
        now_mono = self._monotonic()
        if self.budget <= 0 or now_mono < self._next_sweep:
            return 0
        self._next_sweep = now_mono + self.schedule.every
        now = self.clock()
        due = self.store.replies.to_check(now, tiers=self.schedule.tiers, limit=self.budget)
        seen: list[str] = []
        taken = 0
        for reply_id, mention_id, account_id in due:
            self.metrics.deletion_checks.inc()
            try:
                self.client.status(mention_id)
            except Gone:
                self.store.texts.forget_status(mention_id)
                try:
                    taken += self.take_back(reply_id, by=account_id, how="mention_deleted")
                except TransientError as error:
                    log.info("could not take back %s now: %s", reply_id, error)
                    break
                except PermanentError as error:
                    # Looked at again on its schedule, not at every sweep.
                    log.warning("could not take back %s: %s", reply_id, error)
                    seen.append(reply_id)
                continue
            except FilRougeError as error:
                # Not now (a timeout, a rate limit): the next sweep asks again.
                log.info("could not look up mention %s: %s", mention_id, error)
                break
            seen.append(reply_id)
        self.store.replies.checked(seen, now)
        return taken
