"""Reading the record back: a mention's trace, the recent outcomes and the
counts that ``log``, ``stats`` and the admins' ``status`` show.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Literal, cast

from bot.record.db import Repository
from bot.record.db import ts as _ts

#: What ``log --outcome`` filters on: the not-yet-final states count as ``pending``.
Outcome = Literal["replied", "skipped", "failed", "pending"]


OUTCOMES: Final[tuple[Outcome, ...]] = ("replied", "skipped", "failed", "pending")


OPEN_STATES = ("pending", "claimed", "posting")

#: The kept texts a coverage report reads words from: the latest ones, so the
#: report costs the same on a record of any size.
COVERAGE_TEXTS: Final = 2000


ROW_COLUMNS = """
    m.notification_id, m.status_id, m.account_id, m.state, m.attempts,
    m.received_at, m.updated_at, m.retry_at, m.posting_at, m.reason, m.detail,
    m.rule, m.error_kind, m.error_message, m.reply_id,
    r.thread_id, r.in_reply_to_id, r.action, r.mode, r.essay_id, r.quote_id,
    r.prompt_id, r.visibility, r.language, r.spoiler_text, r.text,
    r.taken_back_at, r.taken_back_by, r.taken_back_how, m.edited_at
"""


def weak_words_of(steps: Any) -> list[str]:
    """The words of a trace's evidence steps that fell short, each once."""
    words: dict[str, None] = {}
    for step in steps if isinstance(steps, list) else ():
        if isinstance(step, Mapping) and step.get("kind") == "evidence" and not step.get("ok"):
            data = step.get("data")
            found = data.get("words", []) if isinstance(data, Mapping) else []
            words.update(dict.fromkeys(str(word) for word in found))
    return list(words)


def matched_words_of(steps: Any) -> list[str]:
    """The words the posted quote or prompt matched: the ones its candidates
    step lists for the passage the fit step chose (none for a post without
    one)."""
    listed = [s for s in steps if isinstance(s, Mapping)] if isinstance(steps, list) else []
    chosen = next(
        (
            step["data"].get("chosen")
            for step in reversed(listed)
            if step.get("kind") == "fit"
            and step.get("ok")
            and isinstance(step.get("data"), Mapping)
        ),
        None,
    )
    if not chosen:
        return []
    for step in listed:
        data = step.get("data")
        if step.get("kind") != "candidates" or not isinstance(data, Mapping):
            continue
        for candidate in data.get("candidates") or ():
            if isinstance(candidate, Mapping) and candidate.get("id") == chosen:
                return [str(word) for word in candidate.get("matched") or ()]
    return []


def trace_facts(trace: Mapping[str, Any]) -> dict[str, Any]:
    """What the record keeps of a trace beside it (``weak``, ``matched``, ``took``)."""
    took = trace.get("decide_ms")
    steps = trace.get("steps")
    return {
        "weak": json.dumps(weak_words_of(steps), ensure_ascii=False),
        "matched": json.dumps(matched_words_of(steps), ensure_ascii=False),
        "took": float(took) if isinstance(took, int | float) else None,
    }


def outcome_of(state: str) -> Outcome:
    return "pending" if state in OPEN_STATES else cast(Outcome, state)


def row_dict(row: sqlite3.Row) -> dict[str, Any]:
    data = {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite3.Row has no items()
    data["outcome"] = outcome_of(row["state"])
    data["final"] = row["state"] in ("replied", "skipped") or (
        row["state"] == "failed" and row["retry_at"] is None
    )
    data["posted"] = row["reply_id"] is not None
    return data


class Audit(Repository):
    """Traces, recent outcomes and counts."""

    def entry(self, notification_id: str) -> dict[str, Any] | None:
        """The decision trace stored with the mention's outcome, as it was given."""
        with self._lock:
            row = self._db.execute(
                "SELECT trace FROM mentions WHERE notification_id = ?", (notification_id,)
            ).fetchone()
        if row is None or row[0] is None:
            return None
        trace: dict[str, Any] = json.loads(row[0])
        return trace

    def recent(
        self, *, since: datetime | None, outcome: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Mentions whose state changed at or after ``since``, newest first, as
        ``outcome`` dicts. ``outcome`` is one of ``OUTCOMES`` (``pending``
        covers pending, claimed and posting) or None for all."""
        clauses: list[str] = []
        params: list[Any] = []
        if since is not None:
            clauses.append("m.updated_at >= ?")
            params.append(_ts(since))
        if outcome is not None:
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}, expected one of {OUTCOMES}")
            states = OPEN_STATES if outcome == "pending" else (outcome,)
            clauses.append(f"m.state IN ({', '.join('?' * len(states))})")
            params.extend(states)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            rows = self._db.execute(
                # Only placeholders are interpolated; values go as parameters.
                f"SELECT {ROW_COLUMNS} FROM mentions m"  # noqa: S608
                f" LEFT JOIN replies r USING (notification_id) {where}"
                " ORDER BY m.updated_at DESC, length(m.notification_id) DESC,"
                " m.notification_id DESC LIMIT ?",
                (*params, max(limit, 0)),
            ).fetchall()
        return [row_dict(row) for row in rows]

    def coverage_since(self, since: datetime | None) -> dict[str, Any]:
        """What ``bot.catalog.coverage`` reports on, for the final outcomes
        (replied or skipped) whose state changed at or after ``since``, counted
        by SQLite: ``mentions``; ``outcomes``, one row per kind of outcome
        (state, reason, quote, prompt, how it was taken back) with its count;
        ``weak``, each word on which some evidence step fell short, with the
        number of mentions it fell short in; ``matched``, per quote or prompt
        posted, each word it matched with the number of mentions; ``texts``,
        the texts the record keeps of the latest ``COVERAGE_TEXTS`` mentions
        that got no quote."""
        window = "" if since is None else " AND m.updated_at >= :since"
        params = {} if since is None else {"since": _ts(since)}
        final = f"m.state IN ('replied', 'skipped'){window}"
        with self._read() as db:
            # ``final`` is built of constants; values go as parameters.
            outcomes = db.execute(
                "SELECT m.state, m.reason, r.quote_id, r.prompt_id, r.taken_back_how,"  # noqa: S608
                " count(*) FROM mentions m LEFT JOIN replies r USING (notification_id)"
                f" WHERE {final} GROUP BY 1, 2, 3, 4, 5",
                params,
            ).fetchall()
            texts = [
                str(row[0])
                for row in db.execute(
                    "SELECT t.text FROM mentions m"  # noqa: S608 - constant
                    " JOIN mention_texts t USING (notification_id)"
                    " LEFT JOIN replies r USING (notification_id)"
                    f" WHERE {final} AND r.quote_id IS NULL"
                    " ORDER BY m.updated_at DESC LIMIT :texts",
                    {**params, "texts": COVERAGE_TEXTS},
                )
            ]
            weak = self._weak_words(db, final, params)
            matched = self._matched_words(db, final, params)
        return {
            "mentions": sum(row[5] for row in outcomes),
            "outcomes": [
                {
                    "state": state,
                    "reason": reason,
                    "quote": quote_id,
                    "prompt": prompt_id,
                    "taken_back": taken_back,
                    "count": count,
                }
                for state, reason, quote_id, prompt_id, taken_back, count in outcomes
            ],
            "weak": weak,
            "matched": matched,
            "texts": texts,
        }

    @staticmethod
    def _weak_words(db: sqlite3.Connection, final: str, params: dict[str, str]) -> dict[str, int]:
        """Each word on which some evidence step fell short, with how many
        mentions it fell short in: from the ``weak_words`` the record keeps
        beside each outcome, and, for outcomes recorded before it did, from
        their traces."""
        counts: Counter[str] = Counter()
        for weak, trace in db.execute(
            "SELECT m.weak_words, CASE WHEN m.weak_words IS NULL THEN m.trace END"  # noqa: S608
            f" FROM mentions m WHERE {final}"
            " AND (m.weak_words IS NULL OR m.weak_words != '[]')",
            params,
        ):
            try:
                if weak is not None:
                    words = json.loads(weak)
                else:
                    words = weak_words_of(json.loads(trace).get("steps")) if trace else []
            except (ValueError, AttributeError, TypeError):
                continue
            counts.update({str(word) for word in words} if isinstance(words, list) else ())
        return dict(counts)

    @staticmethod
    def _matched_words(
        db: sqlite3.Connection, final: str, params: dict[str, str]
    ) -> list[dict[str, Any]]:
        """Per quote or prompt posted and word it matched, in how many
        mentions: from the ``matched_words`` beside each outcome, and, for
        outcomes recorded before the record kept them, from their traces."""
        counts: Counter[tuple[str, str]] = Counter()
        passage = "coalesce(r.quote_id, r.prompt_id)"
        joined = " FROM mentions m JOIN replies r USING (notification_id)"
        where = f" WHERE {final} AND {passage} IS NOT NULL"
        # Counted by SQLite where the record kept the words (each word once
        # per mention); parsed from the trace for the outcomes before it did.
        for item, word, count in db.execute(
            f"SELECT {passage}, j.value, count(DISTINCT m.notification_id){joined},"
            " json_each(CASE WHEN json_valid(m.matched_words) THEN m.matched_words"
            f" ELSE '[]' END) j{where} AND m.matched_words IS NOT NULL GROUP BY 1, 2",
            params,
        ):
            counts[(str(item), str(word))] += int(count)
        for item, trace in db.execute(
            f"SELECT {passage}, m.trace{joined}{where} AND m.matched_words IS NULL",
            params,
        ):
            try:
                words = matched_words_of(json.loads(trace).get("steps")) if trace else []
            except (ValueError, AttributeError, TypeError):
                continue
            counts.update((str(item), str(word)) for word in dict.fromkeys(words))
        return [
            {"item": item, "word": word, "count": count}
            for (item, word), count in sorted(counts.items())
        ]

    def counts(self, since: datetime | None = None) -> dict[str, dict[str, int]]:
        """Counts by ``outcome``, replies by ``rule``, skips by ``reason`` and
        failures by ``error`` kind; with ``since``, of the mentions whose state
        changed at or after it."""
        window = "" if since is None else " AND updated_at >= :since"
        params = {} if since is None else {"since": _ts(since)}
        with self._read() as db:
            by_outcome: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
            rows = db.execute(
                f"SELECT state, count(*) FROM mentions WHERE 1 = 1{window} GROUP BY state",  # noqa: S608 - constant
                params,
            )
            for state, count in rows:
                by_outcome[outcome_of(state)] += count

            def grouped(column: str, state: str) -> dict[str, int]:
                # Both names come from the literals below, never from input.
                sql = (
                    f"SELECT {column}, count(*) FROM mentions"  # noqa: S608 - constants
                    f" WHERE state = '{state}'{window}"
                    f" GROUP BY {column} ORDER BY count(*) DESC, {column}"
                )
                return {str(key): count for key, count in db.execute(sql, params)}

            return {
                "outcome": by_outcome,
                "rule": grouped("rule", "replied"),
                "reason": grouped("reason", "skipped"),
                "error": grouped("error_kind", "failed"),
            }
