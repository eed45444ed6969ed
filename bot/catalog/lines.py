"""Line numbers for the admin files. ``tomllib`` reports none for values, so
:class:`Lines` recovers them by scanning the source for table headers
(``[[essays.quotes]]``, ``[rules.when]``…) and keys (``id = …``).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


# -- line numbers ---------------------------------------------------------------

# A table path: each level is a name and, for arrays of tables, the index of
# the element (None for a plain table). ``[[essays.quotes]]`` under the second
# essay, third quote → (("essays", 1), ("quotes", 2)).
TablePath = tuple[tuple[str, int | None], ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*(\]\]?)\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*=")


class Lines:
    """Where each table and key of a TOML source starts.

    A line scanner, not a parser: it follows table headers and bare keys and
    skips multi-line strings. That covers the files the docs show; anything
    it cannot place (inline tables, quoted keys) falls back to the nearest
    enclosing table, which is still the right neighbourhood.

    Headers are placed as the file is read: every essay, quote, prompt and
    rule keeps the line it starts on. Keys are only ever needed to report a
    problem, so they are placed the first time one is asked for, by reading
    the source again: a catalog of ten thousand quotes loads without a table
    of its fifty thousand key lines.

    Given the ``file`` the source was read from, the index does not keep the
    source either (a large catalog's text is megabytes the load can do
    without): it reads the file again when a key is first asked for, and
    uses what it reads only if it is the very text it scanned. A file edited
    in between leaves keys unplaced, and each problem on the header line of
    its table, which is still right.
    """

    def __init__(self, text: str, file: Path | None = None) -> None:
        #: The source, kept only when there is no file to read it again from.
        self._text = text if file is None else None
        self._file = file
        self._fingerprint = _fingerprint(text) if file is not None else None
        #: Plain tables, and the top of the file: path → line of the header.
        self._tables: dict[TablePath, int] = {(): 1}
        #: Arrays of tables: (path of the parent, name) → the header line of
        #: each element, by index: one array for all the quotes of an essay.
        self._arrays: dict[tuple[TablePath, str], array[int]] = {}
        #: Path of a table → line of each key (dotted keys also under each
        #: prefix), once a key has been asked for.
        self._keys: dict[TablePath, dict[str, int]] | None = None
        for number, path, _ in _scan(text, keys=False):
            self._place(path, number)

    def _place(self, path: TablePath, number: int) -> None:
        """Record that the table at ``path`` starts on line ``number``; a
        table defined twice keeps its first line."""
        if self._header(path) is not None:
            return
        name, index = path[-1]
        if index is not None:
            group = self._arrays.setdefault((path[:-1], name), array("I"))
            if index == len(group):
                group.append(number)
                return
        self._tables[path] = number

    def _header(self, path: TablePath) -> int | None:
        """The line of the header of the table at ``path``, if it has one."""
        if path and (index := path[-1][1]) is not None:
            group = self._arrays.get((path[:-1], path[-1][0]))
            if group is not None and 0 <= index < len(group):
                return group[index]
        return self._tables.get(path)

    def _keys_in(self, path: TablePath) -> dict[str, int]:
        """The lines of the keys written under the header of ``path``."""
        if self._keys is None:
            found: dict[TablePath, dict[str, int]] = {}
            text = self._source()
            scanned = _scan(text, keys=True) if text is not None else iter(())
            for number, table, parts in scanned:
                if parts is None:
                    continue
                keys = found.setdefault(table, {})
                for depth in range(1, len(parts) + 1):
                    keys.setdefault(".".join(parts[:depth]), number)
            self._keys = found
        return self._keys.get(path, {})

    def _source(self) -> str | None:
        """The text that was scanned, or None if the file no longer holds it."""
        if self._file is None:
            return self._text
        try:
            text = self._file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return text if _fingerprint(text) == self._fingerprint else None

    def line(self, path: TablePath, key: str | None = None) -> int:
        """The line of ``key`` in the table at ``path``, else of the nearest
        enclosing table or key that can be placed."""
        relative = [key] if key else []
        if key and (sub := self._header((*path, (key, None)))) is not None:
            return sub
        while True:
            header = self._header(path)
            if header is not None:
                keys = self._keys_in(path) if relative else {}
                for depth in range(len(relative), 0, -1):
                    dotted = ".".join(relative[:depth])
                    if dotted in keys:
                        return keys[dotted]
                return header
            if not path:
                return 1
            relative.insert(0, path[-1][0])
            path = path[:-1]


def _scan(text: str, *, keys: bool) -> Iterator[tuple[int, TablePath, list[str] | None]]:
    """Each table header of a TOML source, as (line, path of the table, None),
    and with ``keys`` each bare key too, as (line, path of the table it is
    in, the parts of the key)."""
    counters: dict[tuple[str, ...], int] = {}
    current: TablePath = ()
    in_string: str | None = None
    for number, line in enumerate(_split_lines(text), start=1):
        starts_inside = in_string is not None
        in_string = _track_strings(line, in_string)
        if starts_inside:
            continue
        if header := _HEADER.match(line):
            names = tuple(_split_dotted(header.group(2)))
            is_array = header.group(1) == "[["
            if is_array:
                counters[names] = counters.get(names, -1) + 1
                # A new element starts fresh counts for the arrays nested in it.
                for nested in [k for k in counters if k[: len(names)] == names and k != names]:
                    del counters[nested]
            current = tuple(
                (name, counters.get(names[: depth + 1]))
                if depth < len(names) - 1 or is_array
                else (name, None)
                for depth, name in enumerate(names)
            )
            yield number, current, None
        elif keys and (key := _KEY.match(line)):
            yield number, current, _split_dotted(key.group(1))


def _fingerprint(text: str) -> tuple[int, int]:
    """The length and the hash of ``text``: enough to tell the text a line
    index scanned from an edited one.

    They are only ever compared within the process that computed them, where
    ``hash`` of a string is a keyed hash of its characters; unlike a digest
    of its bytes, it needs no encoded copy of a large catalog.
    """
    return len(text), hash(text)


def _split_lines(text: str, piece: int = 1 << 16) -> Iterator[str]:
    """``text.splitlines()``, a piece at a time: the list of every line of a
    large catalog takes more memory than its text.

    A piece ends just after a newline, where a line ends whichever of the
    other line boundaries ``splitlines`` knows come before it.
    """
    start = 0
    while start < len(text):
        end = text.find("\n", start + piece)
        end = len(text) if end == -1 else end + 1
        yield from text[start:end].splitlines()
        start = end


def _track_strings(line: str, open_delimiter: str | None) -> str | None:
    """Follow ``\"\"\"`` and ``'''`` through a line; return the delimiter still open."""
    if open_delimiter is None and '"""' not in line and "'''" not in line:
        return None  # nearly every line: no need to walk it
    position = 0
    while True:
        if open_delimiter is not None:
            found = line.find(open_delimiter, position)
            if found == -1:
                return open_delimiter
            open_delimiter, position = None, found + 3
        else:
            starts = [(line.find(d, position), d) for d in ('"""', "'''")]
            starts = [(at, d) for at, d in starts if at != -1]
            comment = line.find("#", position)
            if not starts or (comment != -1 and comment < min(starts)[0]):
                return None
            position, open_delimiter = min(starts)[0] + 3, min(starts)[1]


def _split_dotted(name: str) -> list[str]:
    return [part.strip().strip("\"'") for part in name.split(".")]


TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
