"""What the admins set: the pause, muted threads, and the threads already
handed to the moderators.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.model.decision import Moderation, Paused
from bot.record.db import Repository
from bot.record.db import dt as _dt
from bot.record.db import ts as _ts


class ModerationState(Repository):
    """The pause, the mutes and the moderator notices."""

    def paused(self) -> Paused | None:
        """Whether an admin paused the bot, by whom and since when."""
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = 'paused'").fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return Paused(by=str(data.get("by", "")), since=_dt(str(data["since"])))

    def pause(self, *, by: str, now: datetime) -> bool:
        """Persist a pause; True if the bot was not already paused (the first pause
        keeps its author and date)."""
        value = json.dumps({"by": by, "since": _ts(now)})
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO state (key, value) VALUES ('paused', ?) ON CONFLICT (key) DO NOTHING",
                (value,),
            )
            return cursor.rowcount == 1

    def resume(self) -> bool:
        """Lift a pause; True if the bot was paused."""
        with self._write() as db:
            return db.execute("DELETE FROM state WHERE key = 'paused'").rowcount == 1

    def mute(self, status_id: str, *, thread_id: str, by: str, url: str, now: datetime) -> bool:
        """Mute the thread of ``status_id`` (root ``thread_id``); True if it was not muted."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO muted_threads (status_id, thread_id, url, by_account, since)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (status_id) DO NOTHING",
                (status_id, thread_id, url, by, _ts(now)),
            )
            return cursor.rowcount == 1

    def unmute(self, ids: Sequence[str]) -> int:
        """Lift every mute naming one of ``ids`` as its status or its thread; how many."""
        if not ids:
            return 0
        marks = ", ".join("?" * len(ids))
        with self._write() as db:
            cursor = db.execute(
                f"DELETE FROM muted_threads WHERE status_id IN ({marks})"  # noqa: S608 - placeholders
                f" OR thread_id IN ({marks})",
                (*ids, *ids),
            )
            return cursor.rowcount

    def muted(self, ids: Sequence[str]) -> str | None:
        """The muted status or thread among ``ids`` (a mention and its ancestors), if any."""
        if not ids:
            return None
        marks = ", ".join("?" * len(ids))
        with self._lock:
            row = self._db.execute(
                f"SELECT status_id, thread_id FROM muted_threads"  # noqa: S608 - placeholders
                f" WHERE status_id IN ({marks}) OR thread_id IN ({marks}) LIMIT 1",
                (*ids, *ids),
            ).fetchone()
        if row is None:
            return None
        return str(row["status_id"] if row["status_id"] in ids else row["thread_id"])

    def state(self, ids: Sequence[str]) -> Moderation:
        """The pause, and the mute on any of ``ids`` (a mention and its ancestors)."""
        paused = self.paused()
        return Moderation(paused=paused, muted=None if paused else self.muted(ids))

    def muted_threads(self) -> list[dict[str, Any]]:
        """Every muted thread, oldest mute first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT status_id, thread_id, url, by_account, since FROM muted_threads"
                " ORDER BY since"
            ).fetchall()
        return [{key: row[key] for key in row.keys()} for row in rows]  # noqa: SIM118

    def claim_notice(
        self, thread_id: str, *, notification_id: str, rule: str, how: str, now: datetime
    ) -> bool:
        """Take the one moderator notification a thread may get; False if it had it."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO moderator_notices (thread_id, notification_id, rule, how, at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (thread_id) DO NOTHING",
                (thread_id, notification_id, rule, how, _ts(now)),
            )
            return cursor.rowcount == 1

    def release_notice(self, thread_id: str) -> None:
        """Give a thread its notification back (sending it failed)."""
        with self._write() as db:
            db.execute("DELETE FROM moderator_notices WHERE thread_id = ?", (thread_id,))
