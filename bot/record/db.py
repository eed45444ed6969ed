"""One SQLite connection behind a lock, shared by the record's repositories.

The connection is in autocommit mode: every transaction is explicit, so a
claim is exactly one ``BEGIN IMMEDIATE ... COMMIT`` and migrations stay
transactional. Times are stored as fixed-width ISO 8601 UTC text, so they
sort as text.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime


def ts(moment: datetime) -> str:
    """A timezone-aware datetime as the record stores it."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the record takes timezone-aware datetimes, got {moment!r}")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Database:
    """The connection and its lock; ``write()`` and ``read()`` are transactions."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.lock = threading.RLock()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction. IMMEDIATE takes the write lock at BEGIN, so a
        read-then-write (a claim) cannot interleave with another connection's."""
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several SELECTs see one snapshot."""
        with self.lock:
            self.connection.execute("BEGIN")
            try:
                yield self.connection
            finally:
                self.connection.execute("COMMIT")


class Repository:
    """One kind of fact of the record, over the shared connection."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._db = database.connection
        self._lock = database.lock

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._database.write()

    def _read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._database.read()
