"""The record: what the bot has seen, claimed, posted and skipped, in SQLite.

listen ──▶ understand ──▶ decide ──▶ act ──▶ **record**

One connection (``db``), one schema (``schema``), and a repository per kind
of fact, each a small class over the connection: ``mentions`` (the cursor
and each mention's lifecycle), ``replies`` (history), ``consent``,
``moderation``, ``links``, ``audit`` and ``texts`` (people's words, kept
only as long as the admins allow). One row per mention notification
moves through

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

import errno
import sqlite3
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import TracebackType

from bot.errors import RecordUnavailable
from bot.model.decision import Moderation
from bot.record.audit import Audit
from bot.record.consent import Consent
from bot.record.corrections import Corrections
from bot.record.db import Database
from bot.record.links import LinkCache
from bot.record.mentions import Mentions
from bot.record.moderation import ModerationState
from bot.record.replies import Replies
from bot.record.schema import migrate
from bot.record.texts import Texts


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
        database = Database(self._db)
        self._lock = database.lock
        self.mentions = Mentions(database)
        self.replies = Replies(database)
        self.consent = Consent(database)
        self.moderation = ModerationState(database)
        self.links = LinkCache(database)
        self.audit = Audit(database)
        self.texts = Texts(database)
        self.corrections = Corrections(database)

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


def peek_moderation(path: Path, ids: Sequence[str]) -> Moderation:
    """The pause and the mutes on ``ids`` in the record at ``path``, read without
    writing anything (no record there yet: none). For the offline commands
    (``preview``, ``explain``, ``replay``), which may run beside the bot."""
    if not Path(path).is_file():
        return Moderation()
    connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        return ModerationState(Database(connection)).state(ids)
    except sqlite3.OperationalError:
        return Moderation()  # a record older than the pause: nothing was set
    finally:
        connection.close()


def open_record(path: Path) -> Store:
    """The record at ``path``, opened and migrated; ``RecordUnavailable`` with
    one plain sentence (what, where, what to do) when it cannot be used."""
    try:
        return Store(path)
    except sqlite3.Error as error:
        raise record_unavailable(path, error) from None
    except OSError as error:
        raise record_unavailable(path, error) from None


def record_unavailable(path: Path, error: BaseException) -> RecordUnavailable:
    """What an error opening or writing the record means for an admin."""
    text = str(error).lower()
    where = Path(path)
    if "locked" in text or "busy" in text:
        return RecordUnavailable(
            f"the record {where} is locked by another program: stop it, or point"
            " FILROUGE_DB_PATH at another file",
            kind="locked",
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return RecordUnavailable(
            f"the record {where} is not a SQLite database or is damaged: move it aside"
            " (the bot then starts a new record) or restore a backup",
            kind="corrupt",
        )
    if "full" in text or getattr(error, "errno", None) == errno.ENOSPC:
        return RecordUnavailable(
            f"the disk holding the record {where} is full: free some space", kind="full"
        )
    return RecordUnavailable(
        f"cannot open the record {where}: {where.parent} is missing or not writable by"
        " this user; create it or point FILROUGE_DB_PATH at a writable place",
        kind="unwritable",
    )
