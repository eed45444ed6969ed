"""The mentions: one row per notification, from ``pending`` to its one final
outcome, and the cursor the catch-up resumes from.

The record: what the bot has seen, claimed, posted and skipped, in SQLite.

    pending ──▶ claimed ──▶ posting ──▶ replied
                  │            │
                  ├────────────┴──▶ skipped | failed
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.errors import FilRougeError
from bot.model.decision import Reply, SkipReason
from bot.model.ids import id_key, is_newer
from bot.record.audit import ROW_COLUMNS as ROW_COLUMNS
from bot.record.audit import row_dict as row_dict
from bot.record.audit import trace_facts
from bot.record.db import Repository
from bot.record.db import ts as _ts

State = Literal["pending", "claimed", "posting", "replied", "skipped", "failed"]


#: Error messages are kept for the audit, not as a dump of whatever came back.
_MAX_MESSAGE = 2000


class StateError(FilRougeError):
    """A mention was marked from a state that does not allow it (for example a
    final row, or one that was never claimed): a bug in the caller, never a
    condition to retry."""


@dataclass(frozen=True, slots=True)
class Claim:
    notification_id: str
    status_id: str
    account_id: str
    #: Attempts including this one.
    attempts: int
    #: An earlier attempt reached ``posting``: the reply may already exist.
    was_posting: bool


# A row that claim() accepts; due() lists the same rows. One definition for both.
# The leading IN lets SQLite read the small partial index mentions_open instead
# of scanning every mention ever received.
_CLAIMABLE = """(
    state IN ('pending', 'claimed', 'posting', 'failed') AND (
        state = 'pending'
        OR (state = 'failed' AND retry_at IS NOT NULL AND retry_at <= :now)
        OR (state IN ('claimed', 'posting') AND updated_at < :stale)
    )
)"""


def _summary(reply: Reply, trace: Mapping[str, Any]) -> str:
    """One line saying what was done, for ``why``: the trace's own summary when
    the decision wrote one, else the facts."""
    given = trace.get("summary")
    if isinstance(given, str) and given:
        return given
    parts = [f"rule {reply.rule}", f"action {reply.action.value}"]
    if reply.quote_id:
        parts.append(f"quote {reply.quote_id}")
    if reply.prompt_id:
        parts.append(f"prompt {reply.prompt_id}")
    if reply.essay_id:
        parts.append(f"essay {reply.essay_id}")
    return ", ".join(parts)


class Mentions(Repository):
    """The mention lifecycle and the notification cursor."""

    def cursor(self) -> str | None:
        """The newest notification id seen, where the catch-up poll resumes."""
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = 'cursor'").fetchone()
        return None if row is None else str(row[0])

    def advance_cursor(self, notification_id: str) -> None:
        """Move the cursor to ``notification_id`` if it is further on; never back."""
        with self._write() as db:
            row = db.execute("SELECT value FROM state WHERE key = 'cursor'").fetchone()
            if row is not None and not is_newer(notification_id, row[0]):
                return
            db.execute(
                "INSERT INTO state (key, value) VALUES ('cursor', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (notification_id,),
            )

    def window_start(self, cursor: str, count: int) -> str | None:
        """Where a catch-up starts so that it re-reads the ``count`` mentions
        recorded last before ``cursor``: the oldest of them (None: none recorded).

        A server that commits notifications out of order (Takahē creates them
        in a background worker) can list one below the cursor after the cursor
        moved past it; re-reading this window finds it, and the record drops
        the ones it already has."""
        with self._lock:
            rows = self._db.execute(
                "SELECT notification_id FROM mentions ORDER BY rowid DESC LIMIT ?", (count + 1,)
            ).fetchall()
        older = [str(row[0]) for row in rows if is_newer(cursor, str(row[0]))]
        return min(older, key=id_key) if older else None

    def enqueue(self, notification_id: str, status_id: str, account_id: str, now: datetime) -> bool:
        """Record a mention as ``pending``; True if it was new. The stream and
        the poll both deliver every mention, so duplicates are expected."""
        at = _ts(now)
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO mentions"
                " (notification_id, status_id, account_id, received_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (notification_id) DO NOTHING",
                (notification_id, status_id, account_id, at, at),
            )
            return cursor.rowcount == 1

    def edited(self, status_id: str, now: datetime) -> int:
        """Record that the author edited the mention ``status_id``: how many
        notifications of it the record has (0: not a mention it knows)."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE mentions SET edited_at = ? WHERE status_id = ?", (_ts(now), status_id)
            )
            return cursor.rowcount

    def answered_elsewhere(self, status_id: str, notification_id: str) -> str | None:
        """Another notification of the same post that was answered or is being
        posted (a server that notifies again when a mention is edited): its id."""
        with self._lock:
            row = self._db.execute(
                "SELECT notification_id FROM mentions WHERE status_id = ?"
                " AND notification_id != ? AND state IN ('replied', 'posting')"
                " ORDER BY rowid LIMIT 1",
                (status_id, notification_id),
            ).fetchone()
        return None if row is None else str(row[0])

    def claim(
        self,
        notification_id: str,
        now: datetime,
        *,
        stale_after: timedelta,
        max_attempts: int | None = None,
    ) -> Claim | None:
        """Take a mention to work on, or None if it is final or someone holds it.

        Accepts a ``pending`` row, a ``failed`` row whose ``retry_at`` has come,
        or a ``claimed``/``posting`` row untouched for longer than ``stale_after``
        (a crash). ``stale_after`` zero means "claimed before ``now``": what a
        single worker passes for rows left by a process that died before it.
        With ``max_attempts``, a row that already had that many attempts is
        made a final failure instead — a mention that crashes the bot every
        time must not keep it restarting forever.
        """
        params = {"id": notification_id, "now": _ts(now), "stale": _ts(now - stale_after)}
        with self._write() as db:
            row = db.execute(
                "SELECT status_id, account_id, state, attempts, posting_at FROM mentions"  # noqa: S608 - constant
                f" WHERE notification_id = :id AND {_CLAIMABLE}",
                params,
            ).fetchone()
            if row is None:
                return None
            attempts: int = row["attempts"]
            if max_attempts is not None and attempts >= max_attempts:
                abandoned = row["state"] in ("claimed", "posting")
                db.execute(
                    "UPDATE mentions SET state = 'failed', retry_at = NULL, updated_at = :now,"
                    " error_kind = CASE WHEN :abandoned THEN 'abandoned' ELSE error_kind END,"
                    " error_message = CASE WHEN :abandoned THEN :message ELSE error_message END"
                    " WHERE notification_id = :id",
                    params
                    | {
                        "abandoned": abandoned,
                        "message": f"no outcome after {attempts} attempts",
                    },
                )
                return None
            db.execute(
                "UPDATE mentions SET state = 'claimed', attempts = attempts + 1,"
                " updated_at = :now, retry_at = NULL WHERE notification_id = :id",
                params,
            )
        return Claim(
            notification_id=notification_id,
            status_id=row["status_id"],
            account_id=row["account_id"],
            attempts=attempts + 1,
            was_posting=row["posting_at"] is not None,
        )

    def due(self, now: datetime, *, stale_after: timedelta) -> list[str]:
        """Notification ids ``claim`` would accept now, oldest first."""
        params = {"now": _ts(now), "stale": _ts(now - stale_after)}
        with self._lock:
            rows = self._db.execute(
                f"SELECT notification_id FROM mentions WHERE {_CLAIMABLE}"  # noqa: S608 - constant
                # bot.model.ids.id_key in SQL: length, then text.
                " ORDER BY length(notification_id), notification_id",
                params,
            ).fetchall()
        return [row[0] for row in rows]

    def _transition(
        self,
        db: sqlite3.Connection,
        notification_id: str,
        sets: str,
        params: Mapping[str, Any],
        *,
        allowed: tuple[State, ...],
        to: State,
    ) -> None:
        # ``allowed`` comes from this module's literals, never from input.
        states = ", ".join(f"'{state}'" for state in allowed)
        cursor = db.execute(
            f"UPDATE mentions SET state = :to, updated_at = :now, {sets}"  # noqa: S608 - constants
            f" WHERE notification_id = :id AND state IN ({states})",
            {"id": notification_id, "to": to, **params},
        )
        if cursor.rowcount == 1:
            return
        row = db.execute(
            "SELECT state FROM mentions WHERE notification_id = ?", (notification_id,)
        ).fetchone()
        found = "no such mention" if row is None else f"it is {row[0]}"
        raise StateError(
            f"cannot mark mention {notification_id} {to}: {found} (expected {' or '.join(allowed)})"
        )

    def mark_posting(self, notification_id: str, idempotency_key: str, now: datetime) -> None:
        """Written BEFORE the POST: after a crash, the next claim says ``was_posting``."""
        at = _ts(now)
        with self._write() as db:
            self._transition(
                db,
                notification_id,
                "posting_at = :now, idempotency_key = :key",
                {"now": at, "key": idempotency_key},
                allowed=("claimed", "posting"),
                to="posting",
            )

    def mark_replied(
        self,
        notification_id: str,
        *,
        reply_id: str | None,
        reply: Reply,
        thread_id: str,
        account_id: str,
        trace: Mapping[str, Any],
        now: datetime,
    ) -> None:
        """The final outcome of a reply. ``reply_id`` None means nothing was
        posted (observe mode, dry run): recorded, but never counted as history."""
        at = _ts(now)
        with self._write() as db:
            self._transition(
                db,
                notification_id,
                "reply_id = :reply_id, rule = :rule, reason = NULL, detail = NULL,"
                " retry_at = NULL, trace = :trace, weak_words = :weak, decide_ms = :took,"
                " matched_words = :matched",
                {
                    "now": at,
                    "reply_id": reply_id,
                    "rule": reply.rule,
                    # default=str: an odd value in a trace must not cost the outcome.
                    "trace": json.dumps(trace, ensure_ascii=False, default=str),
                    **trace_facts(trace),
                },
                allowed=("claimed", "posting"),
                to="replied",
            )
            db.execute(
                "INSERT INTO replies (notification_id, reply_id, thread_id, account_id,"
                " in_reply_to_id, rule, action, mode, essay_id, quote_id, prompt_id,"
                " visibility, language, spoiler_text, text, summary, posted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    notification_id,
                    reply_id,
                    thread_id,
                    account_id,
                    reply.in_reply_to_id,
                    reply.rule,
                    reply.action.value,
                    reply.mode.value,
                    reply.essay_id,
                    reply.quote_id,
                    reply.prompt_id,
                    reply.visibility,
                    reply.language,
                    reply.spoiler_text,
                    reply.text,
                    _summary(reply, trace),
                    at,
                ),
            )

    def mark_skipped(
        self,
        notification_id: str,
        *,
        reason: SkipReason,
        detail: str,
        rule: str | None,
        trace: Mapping[str, Any],
        now: datetime,
    ) -> None:
        with self._write() as db:
            self._transition(
                db,
                notification_id,
                "reason = :reason, detail = :detail, rule = :rule, retry_at = NULL, trace = :trace,"
                " weak_words = :weak, decide_ms = :took, matched_words = :matched",
                {
                    "now": _ts(now),
                    "reason": SkipReason(reason).value,
                    "detail": detail,
                    "rule": rule,
                    "trace": json.dumps(trace, ensure_ascii=False, default=str),
                    **trace_facts(trace),
                },
                allowed=("claimed", "posting"),
                to="skipped",
            )

    def mark_failed(
        self,
        notification_id: str,
        *,
        kind: str,
        message: str,
        now: datetime,
        retry_at: datetime | None,
        max_attempts: int | None = None,
    ) -> None:
        """Record a failed attempt. ``retry_at`` None makes it final; so does
        reaching ``max_attempts`` when given."""
        with self._write() as db:
            if max_attempts is not None and retry_at is not None:
                row = db.execute(
                    "SELECT attempts FROM mentions WHERE notification_id = ?", (notification_id,)
                ).fetchone()
                if row is not None and row[0] >= max_attempts:
                    retry_at = None
            self._transition(
                db,
                notification_id,
                "error_kind = :kind, error_message = :message, retry_at = :retry_at",
                {
                    "now": _ts(now),
                    "kind": kind,
                    "message": message[:_MAX_MESSAGE],
                    "retry_at": None if retry_at is None else _ts(retry_at),
                },
                allowed=("claimed", "posting"),
                to="failed",
            )

    def outcome(self, notification_id: str) -> dict[str, Any] | None:
        """Everything recorded about one mention except its trace (see ``audit``):
        state, outcome, attempts, reason, detail, rule, error_kind, error_message,
        reply_id and the reply's details; times as ISO 8601 UTC text."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {ROW_COLUMNS} FROM mentions m"  # noqa: S608 - constant
                " LEFT JOIN replies r USING (notification_id) WHERE m.notification_id = ?",
                (notification_id,),
            ).fetchone()
        return None if row is None else row_dict(row)
