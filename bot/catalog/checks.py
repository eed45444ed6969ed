"""Reading a TOML file and checking its values: every problem is collected
with its file, line, the id it belongs to and a hint, never raised alone.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.catalog.lines import TOML_POSITION, Lines, TablePath
from bot.errors import Problem

if TYPE_CHECKING:
    pass


# -- checking values ---------------------------------------------------------------

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
LANGUAGE = re.compile(r"[a-z]{2,3}\Z")
URL_PATTERN = re.compile(r"https?://[^\s/?#]+\.[^\s]*\Z", re.IGNORECASE)
WORD = re.compile(r"[^\W_][\w'’-]*\Z")
HASHTAG = re.compile(r"#?\w+\Z")

ID_HINT = "use a short slug of letters, digits, '-', '_' or '.', e.g. \"petites-voix\""


class Checker:
    """Reads raw TOML values, recording a Problem for each one that is wrong.

    Accessors return None (or an empty tuple) for a bad value so checking
    can go on and find the next problem.
    """

    def __init__(self, path: Path, lines: Lines) -> None:
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def sorted_problems(self) -> list[Problem]:
        """In file order, which is how an admin fixes them (the sort is stable,
        so problems on one line keep the order they were found in)."""
        return sorted(self.problems, key=lambda problem: problem.line or 0)

    def add(self, at: TablePath, key: str | None, where: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.path, self.lines.line(at, key), where, message, hint))

    def table(
        self, raw: Mapping[str, Any], at: TablePath, where: str, known: Iterable[str]
    ) -> None:
        """Report keys the loader does not know: a typo would otherwise be ignored."""
        known = sorted(known)
        for key in raw:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                self.add(
                    at,
                    key,
                    where,
                    f"unknown key {key!r}",
                    f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}",
                )

    def string(
        self,
        raw: Mapping[str, Any],
        key: str,
        at: TablePath,
        where: str,
        *,
        required: bool = True,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> str | None:
        if key not in raw:
            if required:
                self.add(at, None, where, f"missing required key {key!r}", hint)
            return None
        value = raw[key]
        if not isinstance(value, str):
            self.add(at, key, where, f"{key!r} must be a string, not {kind_of(value)}", hint)
            return None
        value = value.strip()
        if not value:
            self.add(at, key, where, f"{key!r} is empty", hint)
            return None
        if pattern is not None and not pattern.match(value):
            self.add(at, key, where, f"{key!r} has an invalid value {value!r}", hint)
            return None
        return value

    def strings(
        self,
        raw: Mapping[str, Any],
        key: str,
        at: TablePath,
        where: str,
        *,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> tuple[str, ...]:
        if key not in raw:
            return ()
        value = raw[key]
        if not isinstance(value, list):
            self.add(
                at,
                key,
                where,
                f"{key!r} must be a list of strings, not {kind_of(value)}",
                hint or f'write {key} = ["…", "…"]',
            )
            return ()
        wrong = [(n, item) for n, item in enumerate(value, 1) if not isinstance(item, str)]
        if wrong:
            number, item = wrong[0]
            self.add(
                at,
                key,
                where,
                f"{key!r} must be a list of strings; item {number} is {kind_of(item)}",
                "put every item in quotes",
            )
            return ()
        items: list[str] = []
        for item in value:
            item = item.strip()
            if not item:
                self.add(at, key, where, f"{key!r} contains an empty string")
            elif pattern is not None and not pattern.match(item):
                self.add(at, key, where, f"{key!r} has an invalid item {item!r}", hint)
            elif item in items:
                self.add(at, key, where, f"{key!r} lists {item!r} twice")
            else:
                items.append(item)
        return tuple(items)

    def tables(self, raw: Mapping[str, Any], key: str, at: TablePath, where: str) -> list[Any]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.add(
                at,
                key,
                where,
                f"{key!r} must be an array of tables, not {kind_of(value)}",
                f"write each one under its own [[{_dotted(at, key)}]] header",
            )
            return []
        return value

    def number(
        self,
        raw: Mapping[str, Any],
        key: str,
        at: TablePath,
        where: str,
        *,
        integer: bool,
    ) -> float | None:
        if key not in raw:
            return None
        value = raw[key]
        # bool is an int subclass; ``min_depth = true`` is a mistake, not 1.
        allowed: tuple[type, ...] = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, allowed):
            expected = "an integer" if integer else "a number"
            self.add(at, key, where, f"{key!r} must be {expected}, not {kind_of(value)}")
            return None
        if not math.isfinite(value) or value < 0:
            self.add(at, key, where, f"{key!r} must be a finite number, not negative")
            return None
        return float(value) if not integer else int(value)

    def boolean(self, raw: Mapping[str, Any], key: str, at: TablePath, where: str) -> bool:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            self.add(at, key, where, f"{key!r} must be true or false, not {kind_of(value)}")
            return False
        return value


def kind_of(value: object) -> str:
    names = {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


def _dotted(at: TablePath, key: str) -> str:
    return ".".join([name for name, _ in at] + [key])


def _read(path: Path, what: str, setting: str) -> tuple[str | None, list[Problem]]:
    try:
        return path.read_text(encoding="utf-8"), []
    except FileNotFoundError:
        message = "file not found"
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text ({error.reason} at byte {error.start})"
    except OSError as error:
        message = f"cannot read: {error.strerror or error}"
    return None, [Problem(path, None, what, message, f"check {setting}")]


def read_toml(
    path: Path, what: str, setting: str
) -> tuple[tuple[dict[str, Any], Lines] | None, list[Problem]]:
    """The parsed file and its line index, or the problems that stop there.

    The text itself is gone once this returns: the checks read the parsed
    values, and the line index reads the file again should a problem need
    the line of a key. The index is made first, while the text is all there
    is, rather than next to the parsed values, which take twice its memory.
    """
    text, problems = _read(path, what, setting)
    if text is None:
        return None, problems
    lines = Lines(text, path)
    data, problems = _parse_toml(path, text, what)
    if data is None:
        return None, problems
    return (data, lines), []


def _parse_toml(path: Path, text: str, what: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        if match := TOML_POSITION.search(message):
            line: int | None = int(match.group(1))
            message = TOML_POSITION.sub(f"(column {match.group(2)})", message)
        else:
            # "at end of document": the mistake is somewhere above the end,
            # often an unclosed string or bracket.
            line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
        hint = "TOML syntax error"
        if "overwrite" in message:
            hint = "a key or table is defined twice"
        elif "Unterminated" in message:
            hint = "a string is never closed"
        return None, [Problem(path, line, what, message, hint)]


def suggest(value: str, known: Sequence[str], what: str) -> str:
    close = difflib.get_close_matches(value, known, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"known {what}: {', '.join(known)}" if known else f"the catalog has no {what}"
