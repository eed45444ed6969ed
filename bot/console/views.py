"""What the console shows, read from the record: a read-only connection
(``mode=ro``), opened per request, so the console can never write to the
record and never holds the worker's lock.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from bot.record.audit import Audit
from bot.record.db import Database
from bot.record.db import ts as _ts

PER_PAGE: Final = 50
#: What the outcome filter offers; ``pending`` covers the not-yet-final states.
OUTCOMES: Final = ("replied", "skipped", "failed", "pending")
#: Skips that are the bot choosing to say nothing, for the share of abstentions.
ABSTAINED: Final = frozenset({"off_topic", "hostile", "spam", "other_language"})
#: Answer latency buckets, in seconds (upper bounds).
LATENCY: Final = ((1.0, "< 1 s"), (5.0, "1–5 s"), (30.0, "5–30 s"), (120.0, "30 s–2 min"))
#: Decide time buckets, in ms (upper bounds).
DECIDE_MS: Final = ((1.0, "< 1 ms"), (5.0, "1–5 ms"), (20.0, "5–20 ms"), (50.0, "20–50 ms"))


@contextmanager
def read_only(path: Path | str) -> Iterator[sqlite3.Connection]:
    """The record at ``path``, for reading only (``FileNotFoundError``: none yet)."""
    if not Path(path).is_file():
        raise FileNotFoundError(path)
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=5.0)) as db:
        db.row_factory = sqlite3.Row
        yield db


@dataclass(frozen=True)
class Filters:
    outcome: str = ""
    rule: str = ""
    reason: str = ""
    essay: str = ""
    #: Only outcomes since this long ago (None: any time).
    since: timedelta | None = None
    page: int = 1

    def where(self, now: datetime) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if self.outcome == "pending":
            clauses.append("m.state IN ('pending', 'claimed', 'posting')")
        elif self.outcome in OUTCOMES:
            clauses.append("m.state = :outcome")
            params["outcome"] = self.outcome
        for name, column in (("rule", "m.rule"), ("reason", "m.reason"), ("essay", "r.essay_id")):
            value = getattr(self, name)
            if value:
                clauses.append(f"{column} = :{name}")
                params[name] = value
        if self.since is not None:
            clauses.append("m.updated_at >= :since")
            params["since"] = _ts(now - self.since)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_ROW = """
    m.notification_id, m.status_id, m.state, m.updated_at, m.received_at, m.reason,
    m.detail, m.rule, m.reply_id, m.visibility, m.edited_at, m.error_kind,
    r.essay_id, r.quote_id, r.prompt_id, r.action, r.taken_back_how, r.posted_at,
    t.acct, t.text, t.url
"""
_FROM = """ FROM mentions m LEFT JOIN replies r USING (notification_id)
    LEFT JOIN mention_texts t USING (notification_id)"""


def _shown(row: sqlite3.Row, show_direct: bool) -> dict[str, Any]:
    data = dict(row)
    data["outcome"] = (
        "pending" if data["state"] in ("pending", "claimed", "posting") else (data["state"])
    )
    data["direct"] = data.get("visibility") == "direct"
    if data["direct"] and not show_direct:
        data["text"] = data["acct"] = data["url"] = None
    return data


def mentions(
    db: sqlite3.Connection, filters: Filters, now: datetime, *, show_direct: bool
) -> tuple[list[dict[str, Any]], int]:
    """One page of mentions, newest first, and how many match in all."""
    where, params = filters.where(now)
    total = db.execute(f"SELECT count(*){_FROM}{where}", params).fetchone()[0]
    offset = (max(filters.page, 1) - 1) * PER_PAGE
    rows = db.execute(
        f"SELECT {_ROW}{_FROM}{where}"
        " ORDER BY m.updated_at DESC, m.rowid DESC LIMIT :limit OFFSET :offset",
        {**params, "limit": PER_PAGE, "offset": offset},
    ).fetchall()
    return [_shown(row, show_direct) for row in rows], int(total)


def choices(db: sqlite3.Connection) -> dict[str, list[str]]:
    """The values the filters offer: the rules, reasons and essays recorded."""
    found: dict[str, list[str]] = {}
    for name, sql in (
        ("rule", "SELECT DISTINCT rule FROM mentions WHERE rule IS NOT NULL"),
        ("reason", "SELECT DISTINCT reason FROM mentions WHERE reason IS NOT NULL"),
        ("essay", "SELECT DISTINCT essay_id FROM replies WHERE essay_id IS NOT NULL"),
    ):
        found[name] = sorted(str(row[0]) for row in db.execute(sql))
    return found


def mention(
    db: sqlite3.Connection, notification_id: str, *, show_direct: bool
) -> dict[str, Any] | None:
    """One mention with its decision trace (hidden for a direct message)."""
    row = db.execute(
        f"SELECT {_ROW}, m.trace, r.text AS reply_text{_FROM} WHERE m.notification_id = ?",
        (notification_id,),
    ).fetchone()
    if row is None:
        return None
    data = _shown(row, show_direct)
    steps: list[Any] = []
    if data["trace"] and not (data["direct"] and not show_direct):
        try:
            steps = list(json.loads(data["trace"]).get("steps", []))
        except (ValueError, AttributeError, TypeError):
            steps = []
    data["steps"] = [_step(step) for step in steps if isinstance(step, Mapping)]
    if data["direct"] and not show_direct:
        data["reply_text"] = None
    return data


def _step(step: Mapping[str, Any]) -> dict[str, Any]:
    data = step.get("data")
    return {
        "kind": str(step.get("kind", "")),
        "name": str(step.get("name", "")),
        "ok": step.get("ok"),
        "detail": str(step.get("detail", "")),
        "data": json.dumps(data, ensure_ascii=False, sort_keys=True) if data else "",
    }


def plots(db: sqlite3.Connection, now: datetime, *, days: int = 30) -> dict[str, Any]:
    """The numbers behind the plots, over the last ``days`` days."""
    since = _ts(now - timedelta(days=days))
    by_day: dict[str, Counter[str]] = defaultdict(Counter)
    by_hour: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    quiet: Counter[str] = Counter()
    hour_since = _ts(now - timedelta(hours=48))
    for day, hour, state, reason, rule, count in db.execute(
        "SELECT substr(updated_at, 1, 10), substr(updated_at, 1, 13), state, reason, rule,"
        " count(*) FROM mentions WHERE updated_at >= ? GROUP BY 1, 2, 3, 4, 5",
        (since,),
    ):
        outcome = "pending" if state in ("pending", "claimed", "posting") else state
        by_day[day][outcome] += count
        if hour >= hour_since[:13]:
            by_hour[hour][outcome] += count
        if state == "skipped" and reason:
            reasons[reason] += count
            if reason in ABSTAINED:
                quiet[day] += count
        if state == "replied" and rule:
            rules[rule] += count
    days_list = [(now - timedelta(days=n)).strftime("%Y-%m-%d") for n in range(days - 1, -1, -1)]
    hours_list = [(now - timedelta(hours=n)).strftime("%Y-%m-%dT%H") for n in range(47, -1, -1)]
    abstained = {
        day: quiet[day] / sum(by_day[day].values()) if by_day[day] else None for day in days_list
    }
    latency: Counter[str] = Counter()
    for (seconds,) in db.execute(
        "SELECT (julianday(r.posted_at) - julianday(m.received_at)) * 86400 FROM replies r"
        " JOIN mentions m USING (notification_id) WHERE r.reply_id IS NOT NULL"
        " AND r.posted_at >= ?",
        (since,),
    ):
        latency[_bucket(float(seconds or 0.0))] += 1
    decide: Counter[str] = Counter()
    for (took,) in db.execute(
        "SELECT decide_ms FROM mentions WHERE updated_at >= ? AND decide_ms IS NOT NULL",
        (since,),
    ):
        decide[_ms_bucket(float(took))] += 1
    return {
        "days": days_list,
        "by_day": {o: [by_day[d][o] for d in days_list] for o in OUTCOMES},
        "hours": hours_list,
        "by_hour": {o: [by_hour[h][o] for h in hours_list] for o in OUTCOMES},
        "reasons": dict(reasons),
        "rules": dict(rules),
        "abstained": abstained,
        "latency": {label: latency[label] for _, label in (*LATENCY, (0, "> 2 min"))},
        "decide": {label: decide[label] for _, label in (*DECIDE_MS, (0, "≥ 50 ms"))},
    }


def _ms_bucket(took: float) -> str:
    for bound, label in DECIDE_MS:
        if took < bound:
            return label
    return "≥ 50 ms"


def _bucket(seconds: float) -> str:
    for bound, label in LATENCY:
        if seconds < bound:
            return label
    return "> 2 min"


def coverage_data(db: sqlite3.Connection, since: datetime | None) -> dict[str, Any]:
    """``Audit.coverage_since`` over the read-only connection."""
    return Audit(Database(db)).coverage_since(since)
