"""The record's schema: named migrations, applied in order, each once, each
in its own transaction; the ``migrations`` table says which a database has.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bot.errors import ConfigError, Problem


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
        -- One moderator notification per thread, ever (see bot.act.notify).
        CREATE TABLE moderator_notices (
            thread_id       TEXT PRIMARY KEY,
            notification_id TEXT NOT NULL,
            rule            TEXT NOT NULL,
            how             TEXT NOT NULL,
            at              TEXT NOT NULL
        );
        """,
    ),
    Migration(
        "0004_take_back",
        """
        -- A reply the bot deleted: when, on whose request (an account id) and
        -- how (``request``: someone with a say asked; ``mention_deleted``: the
        -- mention it answered is gone), and which mention asked.
        ALTER TABLE replies ADD COLUMN taken_back_at TEXT;
        ALTER TABLE replies ADD COLUMN taken_back_by TEXT;
        ALTER TABLE replies ADD COLUMN taken_back_how TEXT;
        ALTER TABLE replies ADD COLUMN taken_back_notification TEXT;
        -- When the mention a reply answered was last found still there.
        ALTER TABLE replies ADD COLUMN checked_at TEXT;
        CREATE INDEX replies_live ON replies (posted_at)
            WHERE reply_id IS NOT NULL AND taken_back_at IS NULL;
        CREATE INDEX replies_answered ON replies (in_reply_to_id);
        -- The last time the author edited a mention (``status.update``).
        ALTER TABLE mentions ADD COLUMN edited_at TEXT;
        CREATE INDEX mentions_status ON mentions (status_id);
        """,
    ),
    Migration(
        "0005_mention_texts",
        """
        -- People's words, kept only under FILROUGE_RECORD_TEXT_DAYS (bot.record.texts).
        CREATE TABLE mention_texts (
            notification_id TEXT PRIMARY KEY REFERENCES mentions (notification_id),
            status_id       TEXT NOT NULL,
            account_id      TEXT NOT NULL,
            acct            TEXT NOT NULL,
            text            TEXT NOT NULL,
            url             TEXT NOT NULL,
            visibility      TEXT NOT NULL,
            kept_at         TEXT NOT NULL
        );
        CREATE INDEX mention_texts_kept ON mention_texts (kept_at);
        CREATE INDEX mention_texts_account ON mention_texts (account_id);
        CREATE INDEX mention_texts_status ON mention_texts (status_id);
        -- The mention's visibility, kept whatever the retention: the console
        -- hides what a direct message said, its trace included.
        ALTER TABLE mentions ADD COLUMN visibility TEXT;
        """,
    ),
    Migration(
        "0006_corrections",
        """
        -- A moderator's correction of one of the bot's replies: the quote or
        -- prompt that would have fitted (NULL: none did). bot.record.corrections
        CREATE TABLE corrections (
            reply_id   TEXT NOT NULL,
            item_id    TEXT,
            by_account TEXT NOT NULL,
            at         TEXT NOT NULL,
            PRIMARY KEY (reply_id, by_account)
        );
        """,
    ),
    Migration(
        "0007_trace_facts",
        """
        -- What the coverage and the console read of a decision, kept beside
        -- its trace so they never parse ten thousand traces: the words on
        -- which its evidence fell short (a JSON array; NULL for outcomes
        -- recorded before this column) and how long the decision took.
        ALTER TABLE mentions ADD COLUMN weak_words TEXT;
        ALTER TABLE mentions ADD COLUMN decide_ms REAL;
        -- Covers what the plots and the coverage read of many outcomes: those
        -- columns sit after the trace in each row, which a scan of the table
        -- would read through.
        CREATE INDEX mentions_facts ON mentions
            (updated_at, state, reason, rule, decide_ms, weak_words, notification_id);
        """,
    ),
    Migration(
        "0008_matched_words",
        """
        -- The words of the mention the posted quote or prompt matched (a JSON
        -- array; NULL for outcomes recorded before this column): which of
        -- the catalog's concepts do the matching, for the coverage report.
        ALTER TABLE mentions ADD COLUMN matched_words TEXT;
        CREATE INDEX mentions_matched ON mentions
            (updated_at, state, notification_id, matched_words);
        """,
    ),
)


#: Rule names of the answers to admin commands (``bot.act.admin``). They are
#: recorded like replies, for the audit, but are not part of any discussion:
#: they never count towards a thread's or an account's limits and cooldowns.
ADMIN_RULE_PREFIX: Final = "admin:"


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
    known = [migration.name for migration in migrations]
    try:
        # Up to date (every open but the first): one read, no write lock. The
        # offline commands and the tests open the record beside a running bot.
        if applied_migrations(connection) == known:
            return []
    except sqlite3.OperationalError:
        pass  # no migrations table yet
    connection.execute(
        "CREATE TABLE IF NOT EXISTS migrations ("
        " position INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"
    )
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
