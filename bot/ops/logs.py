"""Logging: one line per event, as text or JSON, with the access token redacted.

``setup_logging(settings)`` installs one handler on the root logger. Structured
fields travel in ``extra=`` (``event``, ``notification_id``, ``outcome``,
``reason``, ``rule``…): the JSON format writes them as keys, the text format
appends them as ``key=value``.

Redaction happens in a filter on that handler, so it covers every logger that
propagates to the root (Mastodon.py, requests, urllib3 included), and it covers
the message, its arguments, ``extra`` values, exception text and tracebacks
(DESIGN invariant 9: the token never appears in logs).
"""

from __future__ import annotations

import json
import logging
import re
import stat
import sys
import threading
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from bot.errors import ConfigError, Problem

if TYPE_CHECKING:
    from bot.settings import Settings

REDACTED = "[REDACTED]"

#: A literal token shorter than this is not redacted by value: replacing every
#: "abc" in every line would mangle the logs and hide nothing worth hiding.
_MIN_SECRET_LENGTH = 8

# Tokens as they appear in HTTP traffic and URLs, whatever their value:
# ``Authorization: Bearer …``, ``?access_token=…`` (the streaming API accepts the
# token as a query parameter), ``"access_token": "…"`` in an OAuth response.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(\bBearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{REDACTED}"),
    (
        re.compile(r"""(?i)((?:access_token|client_secret)["']?\s*[:=]\s*["']?)[^\s"'&,;}]+"""),
        rf"\1{REDACTED}",
    ),
)

#: Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_FIELDS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)

log = logging.getLogger(__name__)


class Redactor:
    """Replaces secrets in text: known values, and token-shaped patterns."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = tuple(
            sorted({s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True)
        )

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class RedactingFilter(logging.Filter):
    """Rewrites each record so that nothing in it carries a secret.

    The message is formatted here (``msg % args``) and the result redacted,
    because a token can hide in an argument's ``str()``; the exception is
    formatted here too and stored redacted in ``exc_text``, which formatters use
    instead of formatting the traceback again.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _RECORD_FIELDS:
                record.__dict__[key] = self._redact_value(value)
        return True

    def _redact_value(self, value: object) -> object:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, int | float | bool) or value is None:
            return value
        # Anything else is logged through its text form; redact that form.
        return self.redact(str(value))


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a call passed with ``extra=``."""
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_FIELDS}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value …`` for people reading a terminal or journal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = extra_fields(record)
        if fields:
            line += " " + " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())
        return line


def _text_value(value: object) -> str:
    text = str(value)
    # Quote values with spaces so ``key=value`` pairs stay splittable.
    return (
        json.dumps(text, ensure_ascii=False) if not text or any(c.isspace() for c in text) else text
    )


_HANDLER_MARK = "_filrouge_handler"


def setup_logging(settings: Settings, *, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) in the configured format, redacted.

    Raises ``ConfigError`` for an unknown ``FILROUGE_LOG_LEVEL``.

    Calling it again (tests, a reload) replaces the handler it installed before
    rather than adding a second one.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(RedactingFilter(Redactor([settings.access_token.get_secret_value()])))
    setattr(handler, _HANDLER_MARK, True)

    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        raise ConfigError(
            [
                Problem(
                    "FILROUGE_LOG_LEVEL",
                    None,
                    "settings",
                    f"unknown log level {settings.log_level!r}",
                    hint="DEBUG, INFO, WARNING or ERROR",
                )
            ]
        )

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # urllib3 logs every request line at DEBUG; at INFO it only adds noise.
    logging.getLogger("urllib3").setLevel(max(root.level, logging.INFO))
    # A crash must not print a raw traceback past the redaction: route it here.
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    return handler


_crash_log = logging.getLogger("bot.crash")


def _log_uncaught(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    _crash_log.critical(
        "uncaught exception", exc_info=(exc_type, exc, tb), extra={"event": "crash"}
    )


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    _crash_log.critical(
        "uncaught exception in thread %s",
        args.thread.name if args.thread else "?",
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        extra={"event": "crash"},
    )


def warn_if_env_readable(path: Path | str) -> bool:
    """Warn when the env file holding the token can be read by other users.

    Returns True when it warned. A missing file is fine (the settings may come
    from the process environment, as under systemd's ``EnvironmentFile=``).
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "%s is accessible to other users (mode %s); it holds the access token: chmod 600 %s",
            path,
            stat.filemode(mode),
            path,
            extra={"event": "insecure_env_file", "path": str(path)},
        )
        return True
    return False
