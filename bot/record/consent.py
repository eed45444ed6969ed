"""Opt-outs: who said ``stop`` (or was opted out by an admin)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.record.db import Repository
from bot.record.db import ts as _ts


def opted_out(db: sqlite3.Connection, account_id: str) -> bool:
    row = db.execute("SELECT 1 FROM opt_outs WHERE account_id = ?", (account_id,)).fetchone()
    return row is not None


class Consent(Repository):
    """Opt-outs, kept until the account says ``start``."""

    def opt_out(self, account_id: str, now: datetime) -> None:
        """Persist an opt-out; opting out again keeps the first date."""
        with self._write() as db:
            db.execute(
                "INSERT INTO opt_outs (account_id, since) VALUES (?, ?)"
                " ON CONFLICT (account_id) DO NOTHING",
                (account_id, _ts(now)),
            )

    def opt_in(self, account_id: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM opt_outs WHERE account_id = ?", (account_id,))

    def is_opted_out(self, account_id: str) -> bool:
        with self._lock:
            return opted_out(self._db, account_id)
