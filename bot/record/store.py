"""The record: what the bot has seen, claimed, posted and skipped, in SQLite.

listen ──▶ understand ──▶ decide ──▶ act ──▶ **record**

One row per mention notification moves through

    pending ──▶ claimed ──▶ posting ──▶ replied
                  │            │
                  ├────────────┴──▶ skipped | failed

A ``failed`` row with a ``retry_at`` becomes claimable again at that time; one
without is final. A ``claimed`` or ``posting`` row that stays so for longer than
``stale_after`` was left behind by a crash and becomes claimable again; the
``Claim`` then says whether an earlier attempt had reached ``posting`` (the reply
may already be on the server).

Claims run in ``BEGIN IMMEDIATE`` transactions, so two ``Store`` objects on the
same file — two processes after a bad restart — never both claim one mention.
The store never reads the clock: every method that needs the time takes ``now``.
Times are stored as fixed-width ISO 8601 UTC text, so they sort as text.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, cast

from bot.errors import ConfigError, FilRougeError, Problem
from bot.model.decision import Explained, History, Reply, SkipReason
from bot.model.ids import is_newer

State = Literal["pending", "claimed", "posting", "replied", "skipped", "failed"]
#: What ``log --outcome`` filters on: the not-yet-final states count as ``pending``.
Outcome = Literal["replied", "skipped", "failed", "pending"]
OUTCOMES: Final[tuple[Outcome, ...]] = ("replied", "skipped", "failed", "pending")

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


@dataclass(frozen=True, slots=True)
class LinkEntry:
    """A cached link resolution; ``resolved`` None means it could not be resolved."""

    url: str
    resolved: str | None
    resolved_at: datetime


@dataclass(frozen=True, slots=True)
class Paused:
    """An admin's ``pause``: who asked (account id) and when."""

    by: str
    since: datetime


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str


#: Applied in order, each in its own transaction, and recorded by name in the
#: ``migrations`` table. Never edit a migration that has shipped: append one.
MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        "0001_initial",
        """
        CREATE TABLE state (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE mentions (
            notification_id TEXT PRIMARY KEY,
            status_id       TEXT NOT NULL,
            account_id      TEXT NOT NULL,
            state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
                ('pending', 'claimed', 'posting', 'replied', 'skipped', 'failed')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            received_at     TEXT NOT NULL,
            -- Time of the last state change: staleness of claims, and the log's clock.
            updated_at      TEXT NOT NULL,
            retry_at        TEXT,
            -- Set by mark_posting and never cleared: some attempt may have posted.
            posting_at      TEXT,
            idempotency_key TEXT,
            reason          TEXT,
            detail          TEXT,
            rule            TEXT,
            error_kind      TEXT,
            error_message   TEXT,
            reply_id        TEXT,
            -- The decision trace (JSON) that explain and why read back.
            trace           TEXT
        );
        -- One row per replied mention; reply_id is NULL when nothing was posted
        -- (observe mode, dry run), and such rows never count as history.
        CREATE TABLE replies (
            notification_id TEXT PRIMARY KEY REFERENCES mentions (notification_id),
            reply_id        TEXT UNIQUE,
            thread_id       TEXT NOT NULL,
            account_id      TEXT NOT NULL,
            in_reply_to_id  TEXT NOT NULL,
            rule            TEXT NOT NULL,
            action          TEXT NOT NULL,
            mode            TEXT NOT NULL,
            essay_id        TEXT,
            quote_id        TEXT,
            prompt_id       TEXT,
            visibility      TEXT NOT NULL,
            language        TEXT NOT NULL,
            spoiler_text    TEXT NOT NULL,
            text            TEXT NOT NULL,
            summary         TEXT NOT NULL,
            posted_at       TEXT NOT NULL
        );
        CREATE INDEX replies_thread ON replies (thread_id, posted_at)
            WHERE reply_id IS NOT NULL;
        CREATE INDEX replies_account ON replies (account_id, posted_at)
            WHERE reply_id IS NOT NULL;
        CREATE TABLE opt_outs (
            account_id TEXT PRIMARY KEY,
            since      TEXT NOT NULL
        );
        CREATE TABLE links (
            url         TEXT PRIMARY KEY,
            resolved    TEXT,
            resolved_at TEXT NOT NULL
        );
        """,
    ),
    Migration(
        "0002_mention_indexes",
        """
        -- due() scans the not-yet-final rows; log reads the newest first;
        -- history() takes the last use of every quote and prompt.
        CREATE INDEX mentions_open ON mentions (state, updated_at)
            WHERE state IN ('pending', 'claimed', 'posting', 'failed');
        CREATE INDEX mentions_updated ON mentions (updated_at);
        CREATE INDEX replies_quote ON replies (quote_id, posted_at)
            WHERE reply_id IS NOT NULL AND quote_id IS NOT NULL;
        CREATE INDEX replies_prompt ON replies (prompt_id, posted_at)
            WHERE reply_id IS NOT NULL AND prompt_id IS NOT NULL;
        """,
    ),
    Migration(
        "0003_admin",
        """
        -- Threads an admin muted (``mute``): the status named and the root of
        -- its thread when muted, so a mention anywhere below either is skipped
        -- even when the server knows only part of a remote thread.
        CREATE TABLE muted_threads (
            status_id  TEXT PRIMARY KEY,
            thread_id  TEXT NOT NULL,
            url        TEXT NOT NULL DEFAULT '',
            by_account TEXT NOT NULL,
            since      TEXT NOT NULL
        );
        CREATE INDEX muted_threads_thread ON muted_threads (thread_id);
        -- One moderator notification per thread, ever (see bot.notify).
        CREATE TABLE moderator_notices (
            thread_id       TEXT PRIMARY KEY,
            notification_id TEXT NOT NULL,
            rule            TEXT NOT NULL,
            how             TEXT NOT NULL,
            at              TEXT NOT NULL
        );
        """,
    ),
)

#: Rule names of the answers to admin commands (``bot.admin``). They are
#: recorded like replies, for the audit, but are not part of any discussion:
#: they never count towards a thread's or an account's limits and cooldowns.
ADMIN_RULE_PREFIX: Final = "admin:"


# -- helpers --------------------------------------------------------------------


def _ts(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the record takes timezone-aware datetimes, got {moment!r}")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _split_statements(sql: str) -> Iterator[str]:
    """Split a script into statements, so a migration can run inside one
    transaction (``executescript`` would commit first)."""
    statement = ""
    for part in sql.split(";"):
        statement += part + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n\t;"):
                yield statement.strip()
            statement = ""
    if statement.strip(" \n\t;"):
        raise ValueError(f"incomplete SQL statement in migration: {statement.strip()!r}")


def migrate(
    connection: sqlite3.Connection,
    migrations: Sequence[Migration] = MIGRATIONS,
    *,
    path: Path | str = "",
) -> list[str]:
    """Apply the migrations the database lacks; return their names.

    Each migration runs in a ``BEGIN IMMEDIATE`` transaction that first re-reads
    the applied list, so two processes starting together apply each one once.
    The connection must be in autocommit mode (``isolation_level=None``).
    """
    connection.execute(
        "CREATE TABLE IF NOT EXISTS migrations ("
        " position INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"
    )
    known = [migration.name for migration in migrations]
    applied: list[str] = []
    for position, migration in enumerate(migrations, start=1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the transaction: another process may have just applied it.
            done = applied_migrations(connection)
            if done != known[: len(done)]:
                raise ConfigError(
                    [
                        Problem(
                            path,
                            None,
                            "database",
                            f"its migrations {done} are not a prefix of this version's {known}",
                            hint="use the fil-rouge version that created this database",
                        )
                    ]
                )
            if migration.name not in done:
                for statement in _split_statements(migration.sql):
                    connection.execute(statement)
                connection.execute(
                    "INSERT INTO migrations (position, name) VALUES (?, ?)",
                    (position, migration.name),
                )
                applied.append(migration.name)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    return applied


def applied_migrations(connection: sqlite3.Connection) -> list[str]:
    return [row[0] for row in connection.execute("SELECT name FROM migrations ORDER BY position")]


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

_OPEN_STATES = ("pending", "claimed", "posting")

_ROW_COLUMNS = """
    m.notification_id, m.status_id, m.account_id, m.state, m.attempts,
    m.received_at, m.updated_at, m.retry_at, m.posting_at, m.reason, m.detail,
    m.rule, m.error_kind, m.error_message, m.reply_id,
    r.thread_id, r.in_reply_to_id, r.action, r.mode, r.essay_id, r.quote_id,
    r.prompt_id, r.visibility, r.language, r.spoiler_text, r.text
"""


def _outcome_of(state: str) -> Outcome:
    return "pending" if state in _OPEN_STATES else cast(Outcome, state)


def _row_dict(row: sqlite3.Row) -> dict[str, Any]:
    data = {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite3.Row has no items()
    data["outcome"] = _outcome_of(row["state"])
    data["final"] = row["state"] in ("replied", "skipped") or (
        row["state"] == "failed" and row["retry_at"] is None
    )
    data["posted"] = row["reply_id"] is not None
    return data


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


# -- the store --------------------------------------------------------------------


class Store:
    """The bot's SQLite record. Thread-safe: one connection behind a lock."""

    def __init__(
        self, path: Path | str, *, busy_timeout: timedelta = timedelta(seconds=10)
    ) -> None:
        self.path = path
        # Autocommit mode: every transaction below is explicit, so a claim is
        # exactly one BEGIN IMMEDIATE ... COMMIT and migrations stay transactional.
        self._db = sqlite3.connect(
            path,
            isolation_level=None,
            check_same_thread=False,
            timeout=busy_timeout.total_seconds(),
        )
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout.total_seconds() * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            # FULL rather than NORMAL: in WAL mode NORMAL is safe against a process
            # crash but may lose the last commits on power loss, and the commit we
            # most need is mark_posting — on a server that ignores Idempotency-Key
            # it is what prevents a second post. A few commits per mention make
            # the extra fsync free.
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA foreign_keys = ON")
            migrate(self._db, path=path)
        except BaseException:
            self._db.close()
            raise

    # -- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close. Idempotent."""
        with self._lock:
            try:
                self._db.execute("PRAGMA optimize")
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.ProgrammingError:
                return  # already closed
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction. IMMEDIATE takes the write lock at BEGIN, so a
        read-then-write (a claim) cannot interleave with another connection's."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several SELECTs see one snapshot."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

    # -- notification cursor -------------------------------------------------------

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

    # -- mention lifecycle ---------------------------------------------------------

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
                # bot.ids.id_key in SQL: length, then text.
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
                " retry_at = NULL, trace = :trace",
                {
                    "now": at,
                    "reply_id": reply_id,
                    "rule": reply.rule,
                    # default=str: an odd value in a trace must not cost the outcome.
                    "trace": json.dumps(trace, ensure_ascii=False, default=str),
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
                "reason = :reason, detail = :detail, rule = :rule, retry_at = NULL, trace = :trace",
                {
                    "now": _ts(now),
                    "reason": SkipReason(reason).value,
                    "detail": detail,
                    "rule": rule,
                    "trace": json.dumps(trace, ensure_ascii=False, default=str),
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
                f"SELECT {_ROW_COLUMNS} FROM mentions m"  # noqa: S608 - constant
                " LEFT JOIN replies r USING (notification_id) WHERE m.notification_id = ?",
                (notification_id,),
            ).fetchone()
        return None if row is None else _row_dict(row)

    # -- history ---------------------------------------------------------------------

    def history(self, *, thread_id: str, account_id: str, parent_status_id: str | None) -> History:
        """What bears on one decision. Only replies actually posted count."""
        with self._read() as db:
            thread_rows = db.execute(
                "SELECT posted_at, quote_id, prompt_id FROM replies"
                " WHERE thread_id = ? AND reply_id IS NOT NULL AND rule NOT LIKE ?"
                " ORDER BY posted_at",
                (thread_id, ADMIN_RULE_PREFIX + "%"),
            ).fetchall()
            account_rows = db.execute(
                "SELECT posted_at FROM replies"
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
            opted_out = self._opted_out(db, account_id)
            explained = None if parent_status_id is None else self._explained(db, parent_status_id)
        return History(
            thread_replies=tuple(_dt(row["posted_at"]) for row in thread_rows),
            account_replies=tuple(_dt(row["posted_at"]) for row in account_rows),
            thread_quote_ids=frozenset(row["quote_id"] for row in thread_rows if row["quote_id"]),
            thread_prompt_ids=frozenset(
                row["prompt_id"] for row in thread_rows if row["prompt_id"]
            ),
            last_used={row[0]: _dt(row[1]) for row in used_rows},
            opted_out=opted_out,
            explained=explained,
        )

    def explained(self, status_id: str) -> Explained | None:
        """What the bot did in its post ``status_id``, if it is one of its replies."""
        with self._lock:
            return self._explained(self._db, status_id)

    @staticmethod
    def _explained(db: sqlite3.Connection, status_id: str) -> Explained | None:
        row = db.execute(
            "SELECT reply_id, rule, action, essay_id, quote_id, prompt_id, summary"
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
        )

    # -- opt-outs ----------------------------------------------------------------------

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
            return self._opted_out(self._db, account_id)

    @staticmethod
    def _opted_out(db: sqlite3.Connection, account_id: str) -> bool:
        row = db.execute("SELECT 1 FROM opt_outs WHERE account_id = ?", (account_id,)).fetchone()
        return row is not None

    # -- admin state: pause, muted threads, moderator notices --------------------------------

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

    # -- resolved-link cache -------------------------------------------------------------

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

    # -- audit and reporting --------------------------------------------------------------

    def audit(self, notification_id: str) -> dict[str, Any] | None:
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
            states = _OPEN_STATES if outcome == "pending" else (outcome,)
            clauses.append(f"m.state IN ({', '.join('?' * len(states))})")
            params.extend(states)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            rows = self._db.execute(
                # Only placeholders are interpolated; values go as parameters.
                f"SELECT {_ROW_COLUMNS} FROM mentions m"  # noqa: S608
                f" LEFT JOIN replies r USING (notification_id) {where}"
                " ORDER BY m.updated_at DESC, length(m.notification_id) DESC,"
                " m.notification_id DESC LIMIT ?",
                (*params, max(limit, 0)),
            ).fetchall()
        return [_row_dict(row) for row in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        """Counts by ``outcome``, replies by ``rule``, skips by ``reason`` and
        failures by ``error`` kind."""
        with self._read() as db:
            by_outcome: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
            for state, count in db.execute("SELECT state, count(*) FROM mentions GROUP BY state"):
                by_outcome[_outcome_of(state)] += count

            def grouped(sql: str) -> dict[str, int]:
                return {str(key): count for key, count in db.execute(sql)}

            return {
                "outcome": by_outcome,
                "rule": grouped(
                    "SELECT rule, count(*) FROM mentions WHERE state = 'replied'"
                    " GROUP BY rule ORDER BY count(*) DESC, rule"
                ),
                "reason": grouped(
                    "SELECT reason, count(*) FROM mentions WHERE state = 'skipped'"
                    " GROUP BY reason ORDER BY count(*) DESC, reason"
                ),
                "error": grouped(
                    "SELECT error_kind, count(*) FROM mentions WHERE state = 'failed'"
                    " GROUP BY error_kind ORDER BY count(*) DESC, error_kind"
                ),
            }
