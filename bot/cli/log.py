"""``filrouge log``: recent mentions and what became of them, read from the record.

One line per mention, newest first: when its outcome was recorded, the
notification id (what ``filrouge explain`` takes), the outcome, the rule, the
reason (skip reason, error kind, or the step a pending mention is at), the
quote or prompt posted, and the id of the reply.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.record.store import Store

OUTCOMES = ("replied", "skipped", "failed", "pending")


def duration(value: str) -> timedelta:
    """``90s``, ``10m``, ``24h``, ``7d`` or ISO 8601 (``PT1H``), as argparse's ``type``."""
    from pydantic import TypeAdapter, ValidationError

    from bot.settings import parse_duration

    parsed = parse_duration(value)
    if not isinstance(parsed, timedelta):
        try:
            parsed = TypeAdapter(timedelta).validate_python(value)
        except ValidationError:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not a duration (try 90m, 24h, 7d)"
            ) from None
    if parsed < timedelta(0):
        raise argparse.ArgumentTypeError(f"{value!r} is negative")
    return parsed


def positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="the record to read (default: FILROUGE_DB_PATH, filrouge.sqlite3)",
    )


def read_record(args: argparse.Namespace) -> Store | None:
    """The store at ``--db`` or the settings' ``db_path``; None (and a message on
    stderr) when there is none, rather than creating an empty one."""
    from bot.errors import ConfigError, RecordUnavailable
    from bot.record.store import open_record

    path: Path
    if args.db is not None:
        path = args.db
    else:
        from bot.settings import Settings

        path = Settings.read(args.env_file).db_path
    if not path.is_file():
        print(
            f"filrouge: no record at {path}; the bot creates it when it first runs"
            " (set FILROUGE_DB_PATH or pass --db)",
            file=sys.stderr,
        )
        return None
    try:
        return open_record(path)
    except (RecordUnavailable, ConfigError) as error:
        print(f"filrouge: cannot read the record at {path}: {error}", file=sys.stderr)
        return None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=duration,
        metavar="DURATION",
        help="only mentions whose outcome was recorded within this long (90m, 24h, 7d)",
    )
    parser.add_argument("--outcome", choices=OUTCOMES, help="only mentions with this outcome")
    parser.add_argument(
        "--limit", type=positive, default=50, metavar="N", help="at most N lines (default 50)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--follow",
        action="store_true",
        help="then print each outcome as it is recorded, until Ctrl-C (like tail -f)",
    )
    add_db_option(parser)


def _reason(row: dict[str, Any]) -> str:
    outcome = row["outcome"]
    if outcome == "skipped":
        return str(row["reason"])
    if outcome == "failed":
        kind = str(row["error_kind"])
        return f"{kind} (retry {row['retry_at'][:19]}Z)" if row["retry_at"] else kind
    if outcome == "pending":
        return str(row["state"])
    if row["posted"]:
        if row.get("taken_back_at"):
            how = str(row["taken_back_how"] or "").replace("_", " ")
            return f"taken back ({how})"
        return ""
    # Decided but deliberately not posted: a rule in observe mode, or a dry run.
    return "observe" if row["mode"] == "observe" else "dry-run"


def _line(row: dict[str, Any]) -> tuple[str, ...]:
    chosen = row["quote_id"] or (f"prompt:{row['prompt_id']}" if row["prompt_id"] else "")
    return (
        f"{row['updated_at'][:19]}Z",
        str(row["notification_id"]),
        str(row["outcome"]),
        row["rule"] or "-",
        _reason(row) or "-",
        chosen or "-",
        row["reply_id"] or "-",
    )


HEADER = ("time (UTC)", "mention", "outcome", "rule", "reason", "quote", "reply")


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    store = read_record(args)
    if store is None:
        return 1
    with store:
        # The command line is an edge: it may read the clock, the store never does.
        since = None if args.since is None else datetime.now(UTC) - args.since
        rows = store.audit.recent(since=since, outcome=args.outcome, limit=args.limit)
        if args.json:
            for row in rows:
                print(json.dumps(row, ensure_ascii=False, sort_keys=True))
            widths: list[int] = []
        else:
            lines = [HEADER, *(_line(row) for row in rows)]
            widths = [max(len(line[column]) for line in lines) for column in range(len(HEADER))]
            for line in lines:
                print(_padded(line, widths))
        if args.follow:
            return _follow(store, args, rows, widths)
    return 0


def _padded(line: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()


#: How often ``--follow`` reads the record again, in seconds.
FOLLOW_INTERVAL = 0.5


def _follow(
    store: Store, args: argparse.Namespace, shown: list[dict[str, Any]], widths: list[int]
) -> int:
    """Print each outcome recorded from now on, oldest first, until interrupted."""
    import signal
    import time
    from datetime import UTC, datetime

    def interrupt(number: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    seen = {(row["notification_id"], row["updated_at"]) for row in shown}
    since = max(
        (datetime.fromisoformat(row["updated_at"]) for row in shown), default=datetime.now(UTC)
    )
    sys.stdout.flush()
    try:
        while True:
            time.sleep(FOLLOW_INTERVAL)
            rows = store.audit.recent(since=since, outcome=args.outcome, limit=1000)
            for row in reversed(rows):
                key = (row["notification_id"], row["updated_at"])
                if key in seen:
                    continue
                seen.add(key)
                since = max(since, datetime.fromisoformat(row["updated_at"]))
                if args.json:
                    print(json.dumps(row, ensure_ascii=False, sort_keys=True))
                else:
                    print(_padded(_line(row), widths))
            sys.stdout.flush()
    except KeyboardInterrupt:
        return 0
