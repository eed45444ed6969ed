"""People's words, kept only as long as the admins allow.

The record keeps no mention's text by default beyond what a decision needs.
With ``FILROUGE_RECORD_TEXT_DAYS`` above 0 it keeps a mention's text, its
author's handle and its address for that many days, so moderators can read
what the bot answered (the console) and curators can see the words it missed.
The text goes:

- after ``FILROUGE_RECORD_TEXT_DAYS`` (:meth:`Texts.purge`, run by the worker);
- at once when its author says ``stop`` (every text of theirs);
- at once when the mention is deleted.

A direct message's text is never kept unless ``FILROUGE_CONSOLE_SHOW_DIRECT``
says moderators may read direct messages. Every place that keeps people's
words reads and writes them here, so one rule covers them all.
"""

from __future__ import annotations

from datetime import datetime

from bot.record.db import Repository
from bot.record.db import ts as _ts


class Texts(Repository):
    """The kept texts of mentions, by notification."""

    def keep(
        self,
        notification_id: str,
        *,
        status_id: str,
        account_id: str,
        acct: str,
        text: str,
        url: str,
        visibility: str,
        now: datetime,
        words: bool = True,
    ) -> None:
        """Record the mention's visibility and, with ``words``, keep its text,
        handle and address: one transaction."""
        with self._write() as db:
            db.execute(
                "UPDATE mentions SET visibility = ? WHERE notification_id = ?",
                (visibility, notification_id),
            )
            if not words:
                return
            db.execute(
                "INSERT INTO mention_texts (notification_id, status_id, account_id, acct,"
                " text, url, visibility, kept_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (notification_id) DO UPDATE SET text = excluded.text,"
                " acct = excluded.acct, url = excluded.url, visibility = excluded.visibility",
                (notification_id, status_id, account_id, acct, text, url, visibility, _ts(now)),
            )

    def purge(self, before: datetime) -> int:
        """Forget the texts kept before ``before``; how many."""
        with self._write() as db:
            return db.execute(
                "DELETE FROM mention_texts WHERE kept_at < ?", (_ts(before),)
            ).rowcount

    def forget_account(self, account_id: str) -> int:
        """Forget every text of ``account_id`` (they said ``stop``)."""
        with self._write() as db:
            return db.execute(
                "DELETE FROM mention_texts WHERE account_id = ?", (account_id,)
            ).rowcount

    def forget_status(self, status_id: str) -> int:
        """Forget the text of the mention ``status_id`` (it was deleted)."""
        with self._write() as db:
            return db.execute(
                "DELETE FROM mention_texts WHERE status_id = ?", (status_id,)
            ).rowcount

    def of(self, notification_id: str) -> dict[str, str] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT acct, text, url, visibility FROM mention_texts WHERE notification_id = ?",
                (notification_id,),
            ).fetchone()
        return None if row is None else dict(row)
