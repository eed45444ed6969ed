"""Moderators' corrections of the bot's choices (``mieux <id>`` / ``aucune``
by direct message, in reply to one of its posts), for ``filrouge catalog
learned``.

A correction names the bot's reply and what would have fitted (or that
nothing did); the words it teaches come from the mention's text, read from
``bot.record.texts`` when the report is made — so a correction keeps
people's words no longer than the record keeps the text itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.record.db import Repository
from bot.record.db import ts as _ts


class Corrections(Repository):
    def add(self, *, reply_id: str, item_id: str | None, by: str, now: datetime) -> None:
        """Record one correction; a moderator's later one on the same reply wins."""
        with self._write() as db:
            db.execute(
                "INSERT INTO corrections (reply_id, item_id, by_account, at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (reply_id, by_account) DO UPDATE SET item_id = excluded.item_id,"
                " at = excluded.at",
                (reply_id, item_id, by, _ts(now)),
            )

    def all(self) -> list[dict[str, Any]]:
        """Every correction with what the bot had chosen and the mention's kept
        text (None once forgotten), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT c.reply_id, c.item_id, c.by_account, c.at, r.quote_id, r.prompt_id,"
                " r.notification_id, t.text FROM corrections c"
                " JOIN replies r ON r.reply_id = c.reply_id"
                " LEFT JOIN mention_texts t ON t.notification_id = r.notification_id"
                " ORDER BY c.at"
            ).fetchall()
        return [dict(row) for row in rows]
