"""What the bot posted, as each decision needs it: the thread's and the
account's replies (limits, cooldowns, no repeat) and what a post of its
own said (``why``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.model.decision import Explained, History
from bot.record.consent import opted_out
from bot.record.db import Repository
from bot.record.db import dt as _dt
from bot.record.db import ts as _ts
from bot.record.schema import ADMIN_RULE_PREFIX


class Replies(Repository):
    """Per-thread and per-account history of the replies posted."""

    def history(
        self,
        *,
        thread_id: str,
        account_id: str,
        parent_status_id: str | None,
        shown_since: datetime | None = None,
    ) -> History:
        """What bears on one decision. Only replies actually posted count;
        ``shown_since`` bounds what the account counts as shown recently."""
        with self._read() as db:
            thread_rows = db.execute(
                "SELECT posted_at, quote_id, prompt_id FROM replies"
                " WHERE thread_id = ? AND reply_id IS NOT NULL AND rule NOT LIKE ?"
                " ORDER BY posted_at",
                (thread_id, ADMIN_RULE_PREFIX + "%"),
            ).fetchall()
            account_rows = db.execute(
                "SELECT posted_at, quote_id, prompt_id FROM replies"
                " WHERE account_id = ? AND reply_id IS NOT NULL AND rule NOT LIKE ?"
                " ORDER BY posted_at",
                (account_id, ADMIN_RULE_PREFIX + "%"),
            ).fetchall()
            used_rows = db.execute(
                "SELECT id, max(posted_at) FROM ("
                " SELECT quote_id AS id, posted_at FROM replies"
                "  WHERE quote_id IS NOT NULL AND reply_id IS NOT NULL"
                " UNION ALL"
                " SELECT prompt_id AS id, posted_at FROM replies"
                "  WHERE prompt_id IS NOT NULL AND reply_id IS NOT NULL"
                ") GROUP BY id"
            ).fetchall()
            opted_out_ = opted_out(db, account_id)
            since = None if shown_since is None else _ts(shown_since)
            explained = None if parent_status_id is None else self._explained(db, parent_status_id)
        return History(
            thread_replies=tuple(_dt(row["posted_at"]) for row in thread_rows),
            account_replies=tuple(_dt(row["posted_at"]) for row in account_rows),
            shown_to_account=frozenset(
                item
                for row in account_rows
                if since is not None and row["posted_at"] >= since
                for item in (row["quote_id"], row["prompt_id"])
                if item
            ),
            thread_quote_ids=frozenset(row["quote_id"] for row in thread_rows if row["quote_id"]),
            thread_prompt_ids=frozenset(
                row["prompt_id"] for row in thread_rows if row["prompt_id"]
            ),
            last_used={row[0]: _dt(row[1]) for row in used_rows},
            opted_out=opted_out_,
            explained=explained,
        )

    def explained(self, status_id: str) -> Explained | None:
        """What the bot did in its post ``status_id``, if it is one of its replies."""
        with self._lock:
            return self._explained(self._db, status_id)

    @staticmethod
    def _explained(db: sqlite3.Connection, status_id: str) -> Explained | None:
        row = db.execute(
            "SELECT reply_id, rule, action, essay_id, quote_id, prompt_id, summary,"
            " account_id, in_reply_to_id, taken_back_at, taken_back_notification"
            " FROM replies WHERE reply_id = ?",
            (status_id,),
        ).fetchone()
        if row is None:
            return None
        return Explained(
            status_id=row["reply_id"],
            rule=row["rule"],
            action=row["action"],
            essay_id=row["essay_id"],
            quote_id=row["quote_id"],
            prompt_id=row["prompt_id"],
            summary=row["summary"],
            account_id=row["account_id"],
            in_reply_to_id=row["in_reply_to_id"],
            taken_back_at=_dt(row["taken_back_at"]) if row["taken_back_at"] else None,
            taken_back_notification=row["taken_back_notification"],
        )

    # -- taking back ------------------------------------------------------------------

    def take_back(
        self,
        reply_id: str,
        *,
        by: str,
        how: str,
        now: datetime,
        notification_id: str | None = None,
    ) -> bool:
        """Record that the bot deleted its post ``reply_id``; True the first time
        (a retry after a crash records nothing twice)."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE replies SET taken_back_at = ?, taken_back_by = ?, taken_back_how = ?,"
                " taken_back_notification = ? WHERE reply_id = ? AND taken_back_at IS NULL",
                (_ts(now), by, how, notification_id, reply_id),
            )
            return cursor.rowcount == 1

    def answering(self, status_id: str) -> list[tuple[str, str]]:
        """The bot's posts still up that answer the mention ``status_id``, with
        the account that asked: ``(reply_id, account_id)``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT reply_id, account_id FROM replies WHERE in_reply_to_id = ?"
                " AND reply_id IS NOT NULL AND taken_back_at IS NULL",
                (status_id,),
            ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def to_check(
        self, now: datetime, *, tiers: Sequence[tuple[timedelta, timedelta]], limit: int
    ) -> list[tuple[str, str, str]]:
        """Replies still up whose mention is due a check that it still exists,
        ``(reply_id, mention status id, account_id)``, never checked first, then
        the longest unchecked. ``tiers`` are ``(age, every)``: a reply younger
        than ``age`` is checked every ``every`` (the first tier that holds)."""
        if limit <= 0 or not tiers:
            return []
        tiers = sorted(tiers)  # the youngest tier first: CASE takes the first that holds
        oldest = tiers[-1][0]
        cases = " ".join(f"WHEN posted_at >= :since{n} THEN :due{n}" for n in range(len(tiers)))
        params: dict[str, object] = {"oldest": _ts(now - oldest), "limit": limit}
        for n, (age, every) in enumerate(tiers):
            params[f"since{n}"] = _ts(now - age)
            params[f"due{n}"] = _ts(now - every)
        with self._lock:
            rows = self._db.execute(
                "SELECT reply_id, in_reply_to_id, account_id FROM replies"  # noqa: S608 - constant
                " WHERE reply_id IS NOT NULL AND taken_back_at IS NULL"
                " AND posted_at >= :oldest"
                f" AND (checked_at IS NULL OR checked_at < (CASE {cases} END))"
                " ORDER BY checked_at IS NOT NULL, checked_at, posted_at DESC LIMIT :limit",
                params,
            ).fetchall()
        return [(row[0], row[1], row[2]) for row in rows]

    def checked(self, reply_ids: Sequence[str], now: datetime) -> None:
        """The mentions of ``reply_ids`` were found still there at ``now``."""
        if not reply_ids:
            return
        with self._write() as db:
            db.executemany(
                "UPDATE replies SET checked_at = ? WHERE reply_id = ?",
                [(_ts(now), reply_id) for reply_id in reply_ids],
            )
