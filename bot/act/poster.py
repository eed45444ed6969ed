"""Posting once: the one way the bot writes an outcome and posts for a mention.

Every answer to a mention — a reply chosen by ``decide``, an admin's answer,
a confirmation — goes through :meth:`Poster.answer`:

1. the record says ``posting`` (with the first status's key) before any POST,
   so a crash from there on makes the next claim look for the reply in the
   thread before posting anything (``Actor``'s recovery);
2. each status carries an ``Idempotency-Key`` derived from the bot and a
   stable name — the notification id, then ``<id>:<n>`` for the statuses that
   continue a long answer — so a retry after a timeout gets the first status
   back from a server that honours the key;
3. the record says ``replied`` with the first status's id.

A dry run records the answer without posting it. Direct messages that answer
no mention (to the admins, to the moderators) go through :meth:`Poster.direct`:
keyed the same way, with nothing to record. Skips are recorded here too, so
the record, the metrics and the logs name an outcome one way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from bot.mastodon.client import idempotency_key
from bot.mastodon.port import MastodonPort
from bot.model.decision import Reply, SkipReason
from bot.model.ids import id_text
from bot.ops.metrics import Metrics
from bot.record.store import Store

log = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one mention."""

    notification_id: str
    #: ``replied``, ``skipped``, ``failed`` (final) or ``retry``.
    outcome: str
    detail: str = ""
    reply_id: str | None = None
    #: When set, the server asked the whole bot to wait until then (POSIX time).
    pause_until: float | None = None


def log_extra(outcome: str, notification_id: str, **fields: Any) -> dict[str, Any]:
    """The structured fields of an outcome's log line."""
    return {"event": "outcome", "outcome": outcome, "notification_id": notification_id, **fields}


class Poster:
    """Records and posts for one running bot (worker thread only)."""

    def __init__(
        self,
        *,
        client: MastodonPort,
        store: Store,
        metrics: Metrics,
        clock: Callable[[], datetime],
        self_id: str,
        dry_run: bool,
    ) -> None:
        self.client = client
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.self_id = self_id
        self.dry_run = dry_run

    def key(self, name: str) -> str:
        """The ``Idempotency-Key`` of the status named ``name``."""
        return idempotency_key(self.self_id, name)

    # -- answering a mention ------------------------------------------------------------

    def answer(
        self,
        notification_id: str,
        statuses: Sequence[Reply],
        *,
        whole: Reply,
        thread_id: str,
        account_id: str,
        trace: Mapping[str, Any],
    ) -> str | None:
        """Post ``statuses`` as the answer to one mention, each after the first
        continuing the one before, and record ``whole`` (what they say together)
        as its outcome. The first status's id; None in a dry run (recorded, not
        posted). Raises ``FilRougeError`` when a POST fails: the record then
        says ``posting`` and the next attempt recovers."""
        if self.dry_run:
            self.record(notification_id, whole, None, thread_id, account_id, trace)
            return None
        names = [notification_id, *(f"{notification_id}:{n}" for n in range(1, len(statuses)))]
        self.store.mentions.mark_posting(notification_id, self.key(names[0]), self.clock())

        def post(reply: Reply, parent: str | None, key: str) -> Mapping[str, Any]:
            if parent is not None:
                reply = replace(reply, in_reply_to_id=parent)
            return self.client.post_reply(reply, idempotency_key=key)

        first = self._chain(statuses, names, post)[0]
        self.record(notification_id, whole, first, thread_id, account_id, trace)
        return first

    def record(
        self,
        notification_id: str,
        reply: Reply,
        reply_id: str | None,
        thread_id: str,
        account_id: str,
        trace: Mapping[str, Any],
    ) -> None:
        """Record a reply as the mention's outcome (``reply_id`` None: decided, not
        posted — observe mode, a dry run)."""
        self.store.mentions.mark_replied(
            notification_id,
            reply_id=reply_id,
            reply=reply,
            thread_id=thread_id,
            account_id=account_id,
            trace=trace,
            now=self.clock(),
        )

    def skip(
        self,
        notification_id: str,
        reason: SkipReason,
        detail: str,
        rule: str | None,
        trace: Mapping[str, Any],
    ) -> Result:
        """Record a skip, count it and log it."""
        code = SkipReason(reason).value
        self.store.mentions.mark_skipped(
            notification_id, reason=reason, detail=detail, rule=rule, trace=trace, now=self.clock()
        )
        self.metrics.skips.labels(reason=code).inc()
        log.info(
            "mention %s: skipped (%s) %s",
            notification_id,
            code,
            detail,
            extra=log_extra("skipped", notification_id, reason=code),
        )
        return Result(notification_id, "skipped", code)

    # -- direct messages that answer no mention -------------------------------------------

    def direct(self, texts: Sequence[str], *, name: str) -> str | None:
        """Send ``texts`` by direct message, each after the first continuing the
        one before, keyed ``<name>:<n>``: a retry sends nothing twice. The first
        status's id; None in a dry run (nothing sent)."""
        if self.dry_run or not texts:
            return None

        def post(text: str, parent: str | None, key: str) -> Mapping[str, Any]:
            return self.client.post_direct(text, in_reply_to_id=parent, idempotency_key=key)

        return self._chain(texts, [f"{name}:{n}" for n in range(len(texts))], post)[0]

    def _chain(
        self,
        items: Sequence[_T],
        names: Sequence[str],
        post: Callable[[_T, str | None, str], Mapping[str, Any]],
    ) -> list[str]:
        ids: list[str] = []
        for item, name in zip(items, names, strict=True):
            status = post(item, ids[-1] if ids else None, self.key(name))
            ids.append(id_text(status["id"]))
        return ids
