"""The error tree, in one place.

    FilRougeError
    ├── ConfigError          admin data or settings are wrong; carries every Problem found
    ├── TransientError       worth retrying with backoff (network, 5xx, 429, timeouts)
    │   └── RateLimited      the server said when to come back (``retry_at``)
    └── PermanentError       retrying cannot help (4xx other than 429, bad token, gone)
        ├── Gone             the status replied to no longer exists or is not visible
        └── RecordUnavailable  the SQLite record cannot be used (unwritable, locked,
                             corrupt, disk full): says where and what to do

An expected "no" (a guard, a cooldown) is never an exception: it is a
``bot.model.Skip``. Mastodon.py's exceptions are translated to this tree in
``bot.mastodon.client`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in an admin file, located precisely enough to fix it."""

    path: Path | str
    line: int | None
    #: What the problem is about: ``rule "source"``, ``quote "visuels"``, ``settings``…
    where: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        location = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        text = f"{location}: {self.where}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class FilRougeError(Exception):
    """Base of every error fil-rouge raises on purpose."""


class ConfigError(FilRougeError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in problems))


class TransientError(FilRougeError):
    """The call may succeed if tried again later."""

    #: A short machine-readable kind for the record and metrics (``network``, ``server``…).
    kind: str = "transient"

    def __init__(self, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind


class RateLimited(TransientError):
    kind = "ratelimit"

    def __init__(self, message: str, *, retry_at: float | None) -> None:
        super().__init__(message)
        #: POSIX time after which the server accepts calls again, when it said so.
        self.retry_at = retry_at


class PermanentError(FilRougeError):
    kind: str = "permanent"

    def __init__(self, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind


class Gone(PermanentError):
    kind = "gone"


class RecordUnavailable(PermanentError):
    """The record cannot be opened or written; the message says where and what
    to do, ``kind`` is ``unwritable``, ``locked``, ``corrupt`` or ``full``."""

    kind = "record"
