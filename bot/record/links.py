"""The resolved-link cache: where an aggregator's link led, or that it led
nowhere the bot may follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.record.db import Repository
from bot.record.db import dt as _dt
from bot.record.db import ts as _ts


@dataclass(frozen=True, slots=True)
class LinkEntry:
    """A cached link resolution; ``resolved`` None means it could not be resolved."""

    url: str
    resolved: str | None
    resolved_at: datetime


class LinkCache(Repository):
    """Links resolved before, by URL."""

    def link_entry(self, url: str) -> LinkEntry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT url, resolved, resolved_at FROM links WHERE url = ?", (url,)
            ).fetchone()
        if row is None:
            return None
        return LinkEntry(url=row[0], resolved=row[1], resolved_at=_dt(row[2]))

    def cache_link(self, url: str, resolved: str | None, now: datetime) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO links (url, resolved, resolved_at) VALUES (?, ?, ?)"
                " ON CONFLICT (url) DO UPDATE SET"
                " resolved = excluded.resolved, resolved_at = excluded.resolved_at",
                (url, resolved, _ts(now)),
            )
