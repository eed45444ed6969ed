"""Load the admin data — the catalog of essays and the rules — into frozen objects.

Both files are TOML, read with the standard library's ``tomllib``, and
compiled once at start-up (and on reload): after ``load_config`` returns,
nothing downstream needs to check a type, a reference or a regex again.

A loader never stops at the first mistake. It collects every ``Problem`` it
can find — each naming the file, the line, the essay, quote, prompt or rule,
and a hint — and raises one ``ConfigError`` carrying them all, so an admin
fixes a file in one pass. ``filrouge check-config`` runs exactly this code.

``tomllib`` reports no line numbers for values, so :class:`_Lines` recovers
them by scanning the source for table headers (``[[essays.quotes]]``,
``[rules.when]``…) and keys (``id = …``).

Catalog format (``catalog.toml``), tested by ``tests/test_catalog.py``::

    [[essays]]
    id = "ia-probleme"                 # unique slug
    title = "L'IA est un problème, et pas celui que vous croyez"
    author = "Pauline Harmange"
    url = "https://mail.paulineharmange.fr/archive/ia-probleme/"   # canonical
    language = "fr"
    aliases = ["https://app.flus.fr/links/1853382202557961738"]    # optional
    hashtags = ["iaprobleme"]          # optional, without "#"

    [[essays.quotes]]
    id = "petites-voix"                # unique across quotes AND prompts
    text = "Au milieu, des petites voix demandaient : « On est censé faire quoi ? »"
    tags = ["visuels"]                 # optional: rules can select by tag
    keywords = ["affiche", "poster"]   # optional: weigh more than the text
    anchor_url = "https://mail.paulineharmange.fr/archive/ia-probleme/#:~:text=petites%20voix"

    [[essays.prompts]]
    id = "q-petites-voix"
    tags = ["visuels"]
    keywords = ["affiche"]
    [essays.prompts.text]              # one text per language
    fr = "Que dit l’autrice aux « petites voix » ? Relisez ce passage."
    en = "What does the author say to the “petites voix”? Reread that passage."

Rules format (``rules.toml``), tried in order; the first rule that matches
and has something to post answers::

    [[rules]]
    name = "citation"                  # unique
    action = "quote"                   # quote prompt link help stop start why deescalate
    mode = "live"                      # live (default), observe, off
    quotes = ["petites-voix"]          # optional: only these quotes…
    prompts = []                       # …or prompts
    tags = []                          # optional: only candidates with one of these tags
    notify_moderators = false

    [rules.when]                       # all optional; every condition given must hold
    commands = ["citation", "quote"]   # first word after the mentions, accents/case ignored
    keywords = []                      # words or phrases in the mention
    thread_keywords = []               # … anywhere in the thread
    not_keywords = []                  # … that veto the rule
    regex = []                         # searched in the mention
    thread_regex = []                  # … in the thread
    languages = []                     # the mention's language
    essays = []                        # essay ids
    visibilities = []                  # direct private unlisted public
    min_depth = 0                      # thread depth (ancestors)
    max_depth = 50
    min_heat = 0.0                     # bot.decide.heat score
    max_heat = 1.0

    [rules.templates]                  # one per language; the default one is required
    fr = "{requester} « {quote} » — {author}, {quote_url}"
    en = "{requester} “{quote}” — {author}, {quote_url}"
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.catalog.config import Catalog, Config, RuleSet
from bot.errors import ConfigError, Problem
from bot.model.catalog import Action, Conditions, Essay, Mode, Prompt, Quote, Rule
from bot.model.post import VISIBILITY_ORDER, Visibility
from bot.text.fold import fold
from bot.text.render import (
    Template,
    field_counts,
    neutralise_mentions,
    parse_template,
    render,
    shortest_form,
    status_length,
)

if TYPE_CHECKING:
    from bot.settings import Settings

# -- line numbers ---------------------------------------------------------------

# A table path: each level is a name and, for arrays of tables, the index of
# the element (None for a plain table). ``[[essays.quotes]]`` under the second
# essay, third quote → (("essays", 1), ("quotes", 2)).
_Path = tuple[tuple[str, int | None], ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*(\]\]?)\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*=")


class _Lines:
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
        self._tables: dict[_Path, int] = {(): 1}
        #: Arrays of tables: (path of the parent, name) → the header line of
        #: each element, by index: one array for all the quotes of an essay.
        self._arrays: dict[tuple[_Path, str], array[int]] = {}
        #: Path of a table → line of each key (dotted keys also under each
        #: prefix), once a key has been asked for.
        self._keys: dict[_Path, dict[str, int]] | None = None
        for number, path, _ in _scan(text, keys=False):
            self._place(path, number)

    def _place(self, path: _Path, number: int) -> None:
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

    def _header(self, path: _Path) -> int | None:
        """The line of the header of the table at ``path``, if it has one."""
        if path and (index := path[-1][1]) is not None:
            group = self._arrays.get((path[:-1], path[-1][0]))
            if group is not None and 0 <= index < len(group):
                return group[index]
        return self._tables.get(path)

    def _keys_in(self, path: _Path) -> dict[str, int]:
        """The lines of the keys written under the header of ``path``."""
        if self._keys is None:
            found: dict[_Path, dict[str, int]] = {}
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

    def line(self, path: _Path, key: str | None = None) -> int:
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


def _scan(text: str, *, keys: bool) -> Iterator[tuple[int, _Path, list[str] | None]]:
    """Each table header of a TOML source, as (line, path of the table, None),
    and with ``keys`` each bare key too, as (line, path of the table it is
    in, the parts of the key)."""
    counters: dict[tuple[str, ...], int] = {}
    current: _Path = ()
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


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


# -- checking values ---------------------------------------------------------------

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_LANGUAGE = re.compile(r"[a-z]{2,3}\Z")
_URL = re.compile(r"https?://[^\s/?#]+\.[^\s]*\Z", re.IGNORECASE)
_WORD = re.compile(r"[^\W_][\w'’-]*\Z")
_HASHTAG = re.compile(r"#?\w+\Z")

_ID_HINT = "use a short slug of letters, digits, '-', '_' or '.', e.g. \"petites-voix\""


class _Checker:
    """Reads raw TOML values, recording a Problem for each one that is wrong.

    Accessors return None (or an empty tuple) for a bad value so checking
    can go on and find the next problem.
    """

    def __init__(self, path: Path, lines: _Lines) -> None:
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def sorted_problems(self) -> list[Problem]:
        """In file order, which is how an admin fixes them (the sort is stable,
        so problems on one line keep the order they were found in)."""
        return sorted(self.problems, key=lambda problem: problem.line or 0)

    def add(self, at: _Path, key: str | None, where: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.path, self.lines.line(at, key), where, message, hint))

    def table(self, raw: Mapping[str, Any], at: _Path, where: str, known: Iterable[str]) -> None:
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
        at: _Path,
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
            self.add(at, key, where, f"{key!r} must be a string, not {_kind(value)}", hint)
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
        at: _Path,
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
                f"{key!r} must be a list of strings, not {_kind(value)}",
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
                f"{key!r} must be a list of strings; item {number} is {_kind(item)}",
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

    def tables(self, raw: Mapping[str, Any], key: str, at: _Path, where: str) -> list[Any]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.add(
                at,
                key,
                where,
                f"{key!r} must be an array of tables, not {_kind(value)}",
                f"write each one under its own [[{_dotted(at, key)}]] header",
            )
            return []
        return value

    def number(
        self,
        raw: Mapping[str, Any],
        key: str,
        at: _Path,
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
            self.add(at, key, where, f"{key!r} must be {expected}, not {_kind(value)}")
            return None
        if not math.isfinite(value) or value < 0:
            self.add(at, key, where, f"{key!r} must be a finite number, not negative")
            return None
        return float(value) if not integer else int(value)

    def boolean(self, raw: Mapping[str, Any], key: str, at: _Path, where: str) -> bool:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            self.add(at, key, where, f"{key!r} must be true or false, not {_kind(value)}")
            return False
        return value


def _kind(value: object) -> str:
    names = {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


def _dotted(at: _Path, key: str) -> str:
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


def _read_toml(
    path: Path, what: str, setting: str
) -> tuple[tuple[dict[str, Any], _Lines] | None, list[Problem]]:
    """The parsed file and its line index, or the problems that stop there.

    The text itself is gone once this returns: the checks read the parsed
    values, and the line index reads the file again should a problem need
    the line of a key. The index is made first, while the text is all there
    is, rather than next to the parsed values, which take twice its memory.
    """
    text, problems = _read(path, what, setting)
    if text is None:
        return None, problems
    lines = _Lines(text, path)
    data, problems = _parse_toml(path, text, what)
    if data is None:
        return None, problems
    return (data, lines), []


def _parse_toml(path: Path, text: str, what: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        if match := _TOML_POSITION.search(message):
            line: int | None = int(match.group(1))
            message = _TOML_POSITION.sub(f"(column {match.group(2)})", message)
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


# -- the catalog ----------------------------------------------------------------

_ESSAY_KEYS = (
    "id",
    "title",
    "author",
    "url",
    "language",
    "aliases",
    "hashtags",
    "quotes",
    "prompts",
)
_QUOTE_KEYS = ("id", "text", "tags", "keywords", "anchor_url")
_PROMPT_KEYS = ("id", "text", "tags", "keywords")


class _Shared:
    """One object for each distinct tag, keyword or language code of a
    catalog, and for each distinct tuple of them.

    They repeat from quote to quote (a few dozen tags over thousands of
    quotes) and the loaded catalog lives as long as the process, so keeping
    a single copy of each is megabytes saved on a large catalog. The table
    itself lives only while the catalog loads.
    """

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._tuples: dict[tuple[str, ...], tuple[str, ...]] = {}

    def string(self, value: str) -> str:
        return self._strings.setdefault(value, value)

    def strings(self, values: tuple[str, ...]) -> tuple[str, ...]:
        if not values:
            return ()
        shared = tuple(self.string(value) for value in values)
        return self._tuples.setdefault(shared, shared)


def load_catalog(path: Path) -> Catalog:
    """Load and check a catalog file; raise ``ConfigError`` listing every problem."""
    catalog, problems = _load_catalog(path)
    if problems or catalog is None:
        raise ConfigError(problems)
    return catalog


def _load_catalog(path: Path) -> tuple[Catalog | None, list[Problem]]:
    read, problems = _read_toml(path, "catalog", "FILROUGE_CATALOG_PATH")
    if read is None:
        return None, problems
    data, lines = read
    check = _Checker(path, lines)
    check.table(data, (), "catalog", ("essays",))
    raw_essays = check.tables(data, "essays", (), "catalog")
    if not raw_essays and "essays" not in data:
        check.add((), None, "catalog", "no essays", "add an [[essays]] table")

    essays: list[Essay] = []
    essay_lines: dict[str, int] = {}
    #: Quote and prompt ids share one namespace: id → (kind, line).
    item_lines: dict[str, tuple[str, int]] = {}
    url_owner: dict[str, tuple[str, int]] = {}
    hashtag_owner: dict[str, str] = {}
    shared = _Shared()
    from bot.text.urls import normalize_url as normalise

    for index, raw in _consume(raw_essays):
        at: _Path = (("essays", index),)
        label = raw.get("id") if isinstance(raw.get("id"), str) else f"#{index + 1}"
        where = f'essay "{label}"'
        line = check.lines.line(at)
        check.table(raw, at, where, _ESSAY_KEYS)
        essay_id = check.string(raw, "id", at, where, pattern=_ID, hint=_ID_HINT)
        if essay_id is not None:
            if essay_id in essay_lines:
                check.add(
                    at,
                    "id",
                    where,
                    f'duplicate essay id "{essay_id}"'
                    f" (first defined on line {essay_lines[essay_id]})",
                    "every essay needs its own id",
                )
            else:
                essay_lines[essay_id] = line
        title = check.string(raw, "title", at, where)
        author = check.string(raw, "author", at, where)
        url = check.string(
            raw, "url", at, where, pattern=_URL, hint="the essay's canonical http(s) URL"
        )
        language = check.string(
            raw, "language", at, where, pattern=_LANGUAGE, hint='an ISO 639-1 code such as "fr"'
        )
        aliases = check.strings(
            raw, "aliases", at, where, pattern=_URL, hint="aliases are http(s) URLs"
        )
        hashtags = tuple(
            tag.lstrip("#")
            for tag in check.strings(
                raw,
                "hashtags",
                at,
                where,
                pattern=_HASHTAG,
                hint='a hashtag is one word, e.g. "iaprobleme"',
            )
        )
        for known in (url, *aliases):
            if known is None:
                continue
            key = normalise(known)
            if key in url_owner and url_owner[key][0] != label:
                owner, owner_line = url_owner[key]
                check.add(
                    at,
                    "url" if known == url else "aliases",
                    where,
                    f'URL {known} already belongs to essay "{owner}" (line {owner_line})',
                    "a URL can lead to one essay only",
                )
            url_owner.setdefault(key, (str(label), line))
        for tag in hashtags:
            key = fold(tag)
            if key in hashtag_owner and hashtag_owner[key] != label:
                check.add(
                    at,
                    "hashtags",
                    where,
                    f'hashtag #{tag} already belongs to essay "{hashtag_owner[key]}"',
                    "a hashtag can point to one essay only",
                )
            hashtag_owner.setdefault(key, str(label))

        quotes = _load_quotes(check, raw, at, essay_id or "", item_lines, shared)
        prompts = _load_prompts(check, raw, at, essay_id or "", item_lines, shared)
        if not quotes and not prompts and "quotes" not in raw and "prompts" not in raw:
            check.add(
                at,
                None,
                where,
                "the essay has no quotes and no prompts",
                "add [[essays.quotes]] or [[essays.prompts]] tables;"
                " without them the bot can only link to it",
            )
        if essay_id and title and author and url and language:
            essays.append(
                Essay(
                    id=essay_id,
                    title=title,
                    author=author,
                    url=url,
                    language=shared.string(language),
                    aliases=aliases,
                    hashtags=hashtags,
                    quotes=quotes,
                    prompts=prompts,
                    line=line,
                )
            )
    return Catalog(essays=tuple(essays), path=path), check.sorted_problems()


def _consume(tables: list[Any]) -> Iterator[tuple[int, Any]]:
    """Each table of a parsed array with its index, dropped from the array as
    it is handed out.

    The parsed TOML of a large catalog takes more memory than the catalog it
    becomes: once a quote's table has become a ``Quote`` nothing reads it
    again, so it goes, and the two are never held whole at the same time.
    The array keeps its length (an empty slot in place of each table), so
    whether a key was given at all can still be asked of its parent.
    """
    for index, table in enumerate(tables):
        tables[index] = None
        yield index, table


def _claim_id(
    check: _Checker,
    at: _Path,
    where: str,
    item_id: str,
    kind: str,
    item_lines: dict[str, tuple[str, int]],
) -> None:
    if item_id in item_lines:
        other_kind, other_line = item_lines[item_id]
        check.add(
            at,
            "id",
            where,
            f'duplicate id "{item_id}": already used by a {other_kind} on line {other_line}',
            "quote and prompt ids must be unique across the whole catalog",
        )
    else:
        item_lines[item_id] = (kind, check.lines.line(at))


def _load_quotes(
    check: _Checker,
    raw_essay: Mapping[str, Any],
    essay_at: _Path,
    essay_id: str,
    item_lines: dict[str, tuple[str, int]],
    shared: _Shared,
) -> tuple[Quote, ...]:
    quotes: list[Quote] = []
    raw_quotes = check.tables(raw_essay, "quotes", essay_at, f'essay "{essay_id}"')
    for index, raw in _consume(raw_quotes):
        at: _Path = (*essay_at, ("quotes", index))
        label = raw.get("id") if isinstance(raw.get("id"), str) else f"#{index + 1}"
        where = f'quote "{label}"'
        check.table(raw, at, where, _QUOTE_KEYS)
        quote_id = check.string(raw, "id", at, where, pattern=_ID, hint=_ID_HINT)
        text = check.string(raw, "text", at, where, hint="the passage, verbatim from the essay")
        tags = shared.strings(check.strings(raw, "tags", at, where))
        keywords = shared.strings(check.strings(raw, "keywords", at, where))
        anchor_url = check.string(
            raw,
            "anchor_url",
            at,
            where,
            required=False,
            pattern=_URL,
            hint="a http(s) link to the passage",
        )
        if quote_id is not None:
            _claim_id(check, at, where, quote_id, "quote", item_lines)
        if quote_id and text:
            quotes.append(
                Quote(
                    id=quote_id,
                    essay_id=essay_id,
                    text=text,
                    tags=tags,
                    keywords=keywords,
                    anchor_url=anchor_url,
                    line=check.lines.line(at),
                )
            )
    return tuple(quotes)


def _load_prompts(
    check: _Checker,
    raw_essay: Mapping[str, Any],
    essay_at: _Path,
    essay_id: str,
    item_lines: dict[str, tuple[str, int]],
    shared: _Shared,
) -> tuple[Prompt, ...]:
    prompts: list[Prompt] = []
    raw_prompts = check.tables(raw_essay, "prompts", essay_at, f'essay "{essay_id}"')
    for index, raw in _consume(raw_prompts):
        at: _Path = (*essay_at, ("prompts", index))
        label = raw.get("id") if isinstance(raw.get("id"), str) else f"#{index + 1}"
        where = f'prompt "{label}"'
        check.table(raw, at, where, _PROMPT_KEYS)
        prompt_id = check.string(raw, "id", at, where, pattern=_ID, hint=_ID_HINT)
        texts = _language_table(check, raw, "text", at, where, "essays.prompts.text")
        tags = shared.strings(check.strings(raw, "tags", at, where))
        keywords = shared.strings(check.strings(raw, "keywords", at, where))
        if prompt_id is not None:
            _claim_id(check, at, where, prompt_id, "prompt", item_lines)
        if prompt_id and texts:
            prompts.append(
                Prompt(
                    id=prompt_id,
                    essay_id=essay_id,
                    texts={shared.string(lang): text for lang, text in texts.items()},
                    tags=tags,
                    keywords=keywords,
                    line=check.lines.line(at),
                )
            )
    return tuple(prompts)


def _language_table(
    check: _Checker,
    raw: Mapping[str, Any],
    key: str,
    at: _Path,
    where: str,
    header: str,
) -> dict[str, str]:
    """A ``{language: text}`` table such as a prompt's text or a rule's templates."""
    hint = f'write [{header}] with one line per language: fr = "…", en = "…"'
    if key not in raw:
        check.add(at, None, where, f"missing required key {key!r}", hint)
        return {}
    value = raw[key]
    if not isinstance(value, dict):
        check.add(at, key, where, f"{key!r} must be a table of languages, not {_kind(value)}", hint)
        return {}
    sub: _Path = (*at, (key, None))
    texts: dict[str, str] = {}
    for language in value:
        text = check.string(value, language, sub, where, hint=hint)
        if not _LANGUAGE.match(language):
            check.add(
                sub,
                language,
                where,
                f"{language!r} is not a language code",
                'use an ISO 639-1 code such as "fr" or "en"',
            )
        elif text is not None:
            texts[language] = text
    if not value:
        check.add(at, key, where, f"{key!r} has no language", hint)
    return texts


# -- the rules ------------------------------------------------------------------

_RULE_KEYS = (
    "name",
    "action",
    "mode",
    "when",
    "templates",
    "quotes",
    "prompts",
    "tags",
    "notify_moderators",
)
_LIST_CONDITIONS = (
    "commands",
    "keywords",
    "thread_keywords",
    "regex",
    "thread_regex",
    "not_keywords",
    "languages",
    "essays",
    "visibilities",
)
_BOUND_CONDITIONS = ("min_depth", "max_depth", "min_heat", "max_heat")

#: What the fit check assumes for ``{requester}``: "@" and a 30-character handle.
#: A remote ``@user@domain`` counts as ``@user``, so this covers nearly everyone.
ASSUMED_REQUESTER = "@" + "x" * 30
#: Stands in for the instance's rules page in the fit check: any URL counts the same.
_EXAMPLE_URL = "https://example.org/about"

_E = TypeVar("_E", Action, Mode)

#: What a rule's action needs its templates to say, or the post makes no sense.
_ACTION_NEEDS = {
    Action.QUOTE: "quote",
    Action.PROMPT: "prompt",
    Action.LINK: "essay_url",
}


def load_rules(
    path: Path,
    catalog: Catalog,
    *,
    max_characters: int,
    url_length: int = 23,
    language: str = "fr",
) -> RuleSet:
    """Load and check a rules file against ``catalog``; raise ``ConfigError``
    listing every problem.

    ``language`` is the default reply language: every rule needs a template
    in it. ``max_characters`` and ``url_length`` are the instance's limits: a
    template that cannot fit them even with the shortest candidate is an error.
    """
    rules, problems = _load_rules(
        path, catalog, max_characters=max_characters, url_length=url_length, language=language
    )
    if problems or rules is None:
        raise ConfigError(problems)
    return rules


def load_config(settings: Settings) -> Config:
    """Load catalog and rules as ``run`` uses them and build the ranking index.

    Rules are checked even when the catalog is broken (references to it are
    then skipped), so one run of ``check-config`` shows every problem.
    """
    catalog, problems = _load_catalog(settings.catalog_path)
    rules, rule_problems = _load_rules(
        settings.rules_path,
        catalog if not problems else None,
        max_characters=settings.max_characters,
        url_length=settings.characters_per_url,
        language=settings.language,
    )
    problems += rule_problems
    if problems or catalog is None or rules is None:
        raise ConfigError(problems)
    from bot.rank.index import Index

    return Config(catalog=catalog, rules=rules, index=Index.build(catalog.essays))


def _load_rules(
    path: Path,
    catalog: Catalog | None,
    *,
    max_characters: int,
    url_length: int,
    language: str,
) -> tuple[RuleSet | None, list[Problem]]:
    read, problems = _read_toml(path, "rules", "FILROUGE_RULES_PATH")
    if read is None:
        return None, problems
    data, lines = read
    check = _Checker(path, lines)
    check.table(data, (), "rules", ("rules",))
    raw_rules = check.tables(data, "rules", (), "rules")
    if not raw_rules and "rules" not in data:
        check.add((), None, "rules", "no rules", "add a [[rules]] table")

    rules: list[Rule] = []
    templates: dict[tuple[str, str], Template] = {}
    first_line: dict[str, int] = {}
    lengths = _Lengths(url_length)
    for index, raw in enumerate(raw_rules):
        at: _Path = (("rules", index),)
        label = raw.get("name") if isinstance(raw.get("name"), str) else f"#{index + 1}"
        where = f'rule "{label}"'
        line = check.lines.line(at)
        check.table(raw, at, where, _RULE_KEYS)
        name = check.string(raw, "name", at, where, pattern=_ID, hint=_ID_HINT)
        if name is not None:
            if name in first_line:
                check.add(
                    at,
                    "name",
                    where,
                    f'duplicate rule name "{name}" (first defined on line {first_line[name]})',
                    "every rule needs its own name: the record and explain refer to it",
                )
            else:
                first_line[name] = line
        action = _enum(check, raw, "action", at, where, Action, required=True)
        mode = _enum(check, raw, "mode", at, where, Mode, required=False) or Mode.LIVE
        conditions = _load_conditions(check, raw, at, where, catalog)
        sources = _language_table(check, raw, "templates", at, where, "rules.templates")
        parsed = _parse_templates(check, sources, at, where, language, action)
        quotes = _references(check, raw, "quotes", at, where, catalog, "quote")
        prompts = _references(check, raw, "prompts", at, where, catalog, "prompt")
        tags = check.strings(raw, "tags", at, where)
        notify = check.boolean(raw, "notify_moderators", at, where)
        if name is None or action is None or not parsed:
            continue
        rule = Rule(
            name=name,
            action=action,
            conditions=conditions,
            templates={lang: template.source for lang, template in parsed.items()},
            quotes=quotes,
            prompts=prompts,
            tags=tags,
            mode=mode,
            notify_moderators=notify,
            line=line,
        )
        if catalog is not None:
            _check_candidates(check, rule, parsed, at, where, catalog)
            _check_fit(check, rule, parsed, at, where, catalog, max_characters, lengths)
        rules.append(rule)
        for lang, template in parsed.items():
            templates[(name, lang)] = template
    return RuleSet(rules=tuple(rules), path=path, templates=templates), check.sorted_problems()


def _enum(
    check: _Checker,
    raw: Mapping[str, Any],
    key: str,
    at: _Path,
    where: str,
    kind: type[_E],
    *,
    required: bool,
) -> _E | None:
    choices = ", ".join(member.value for member in kind)
    value = check.string(raw, key, at, where, required=required, hint=f"one of {choices}")
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        close = difflib.get_close_matches(value, [member.value for member in kind], n=1)
        check.add(
            at,
            key,
            where,
            f"unknown {key} {value!r}",
            (f"did you mean {close[0]!r}? " if close else "") + f"one of {choices}",
        )
        return None


def _load_conditions(
    check: _Checker,
    raw: Mapping[str, Any],
    at: _Path,
    where: str,
    catalog: Catalog | None,
) -> Conditions:
    value = raw.get("when", {})
    if not isinstance(value, dict):
        check.add(
            at,
            "when",
            where,
            f"'when' must be a table, not {_kind(value)}",
            "write the conditions under a [rules.when] header",
        )
        return Conditions()
    sub: _Path = (*at, ("when", None))
    check.table(value, sub, where, _LIST_CONDITIONS + _BOUND_CONDITIONS)
    lists: dict[str, tuple[str, ...]] = {}
    for key in _LIST_CONDITIONS:
        lists[key] = check.strings(
            value,
            key,
            sub,
            where,
            pattern={"commands": _WORD, "languages": _LANGUAGE}.get(key),
            hint={
                "commands": 'a command is one word, e.g. "source"; add each language\'s word',
                "languages": 'ISO 639-1 codes such as "fr"',
            }.get(key, ""),
        )
    for key in ("regex", "thread_regex"):
        for pattern in lists[key]:
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as error:
                check.add(
                    sub,
                    key,
                    where,
                    f"regex {pattern!r} does not compile: {error.msg} at position {error.pos}",
                    "escape special characters with a backslash, or write the pattern as a"
                    " TOML literal string '…' so backslashes need no doubling",
                )
    for visibility in lists["visibilities"]:
        if visibility not in VISIBILITY_ORDER:
            check.add(
                sub,
                "visibilities",
                where,
                f"unknown visibility {visibility!r}",
                f"one of {', '.join(VISIBILITY_ORDER)}",
            )
    if catalog is not None:
        for essay_id in lists["essays"]:
            if catalog.essay(essay_id) is None:
                check.add(
                    sub,
                    "essays",
                    where,
                    f'unknown essay id "{essay_id}"',
                    _suggest(essay_id, [essay.id for essay in catalog.essays], "essays"),
                )
    bounds = {
        key: check.number(value, key, sub, where, integer=key.endswith("depth"))
        for key in _BOUND_CONDITIONS
    }
    for low, high in (("min_depth", "max_depth"), ("min_heat", "max_heat")):
        low_value, high_value = bounds[low], bounds[high]
        if low_value is not None and high_value is not None and low_value > high_value:
            check.add(sub, low, where, f"{low} is greater than {high}: the rule can never match")
    visibilities: tuple[Visibility, ...] = tuple(
        v for v in VISIBILITY_ORDER if v in lists["visibilities"]
    )
    min_depth, max_depth = bounds["min_depth"], bounds["max_depth"]
    return Conditions(
        commands=lists["commands"],
        keywords=lists["keywords"],
        thread_keywords=lists["thread_keywords"],
        regex=lists["regex"],
        thread_regex=lists["thread_regex"],
        not_keywords=lists["not_keywords"],
        languages=lists["languages"],
        essays=lists["essays"],
        visibilities=visibilities,
        min_depth=None if min_depth is None else int(min_depth),
        max_depth=None if max_depth is None else int(max_depth),
        min_heat=bounds["min_heat"],
        max_heat=bounds["max_heat"],
    )


def _suggest(value: str, known: Sequence[str], what: str) -> str:
    close = difflib.get_close_matches(value, known, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"known {what}: {', '.join(known)}" if known else f"the catalog has no {what}"


def _references(
    check: _Checker,
    raw: Mapping[str, Any],
    key: str,
    at: _Path,
    where: str,
    catalog: Catalog | None,
    kind: str,
) -> tuple[str, ...]:
    ids = check.strings(raw, key, at, where)
    if catalog is None:
        return ids
    for item_id in ids:
        found = catalog.quote(item_id) if kind == "quote" else catalog.prompt(item_id)
        if found is not None:
            continue
        other = "prompt" if kind == "quote" else "quote"
        other_found = catalog.prompt(item_id) if kind == "quote" else catalog.quote(item_id)
        if other_found is not None:
            hint = f'"{item_id}" is a {other}: list it under {other}s'
        else:
            known = [item.id for item in (catalog.quotes if kind == "quote" else catalog.prompts)]
            hint = _suggest(item_id, known, f"{kind}s")
        check.add(at, key, where, f'unknown {kind} id "{item_id}"', hint)
    return ids


def _parse_templates(
    check: _Checker,
    sources: Mapping[str, str],
    at: _Path,
    where: str,
    default_language: str,
    action: Action | None,
) -> dict[str, Template]:
    sub: _Path = (*at, ("templates", None))
    parsed: dict[str, Template] = {}
    for lang, source in sources.items():
        try:
            template = parse_template(source, lang)
        except ValueError as error:
            check.add(
                sub,
                lang,
                where,
                f"template {lang!r}: {error}",
                "write {{ and }} for literal braces" if "brace" in str(error) else "",
            )
            continue
        if "requester" not in template.fields:
            check.add(
                sub,
                lang,
                where,
                f"template {lang!r} does not mention {{requester}}",
                "start it with {requester} so the person who asked is notified",
            )
        needed = _ACTION_NEEDS.get(action) if action is not None else None
        if needed is not None and needed not in template.fields:
            check.add(
                sub,
                lang,
                where,
                f"template {lang!r} of a {action} rule does not use {{{needed}}}",
                f"add {{{needed}}}, or change the action",
            )
        parsed[lang] = template
    if sources and default_language not in sources:
        check.add(
            at,
            "templates",
            where,
            f"no template for the default language {default_language!r}",
            f'add {default_language} = "…" under [rules.templates]: it is used whenever'
            " the mention's language has no template",
        )
    return parsed


def _uses(parsed: Mapping[str, Template], *names: str) -> bool:
    return any(name in template.fields for template in parsed.values() for name in names)


def _tagged(rule: Rule, item: Quote | Prompt) -> bool:
    """Whether ``item`` passes the rule's tag restriction; tags compare
    folded, as ``bot.decide`` compares them."""
    return not rule.tags or bool({fold(t) for t in rule.tags} & {fold(t) for t in item.tags})


def _candidate_quotes(rule: Rule, essay: Essay) -> list[Quote]:
    return [
        quote
        for quote in essay.quotes
        if (not rule.quotes or quote.id in rule.quotes) and _tagged(rule, quote)
    ]


def _candidate_prompts(rule: Rule, essay: Essay) -> list[Prompt]:
    return [
        prompt
        for prompt in essay.prompts
        if (not rule.prompts or prompt.id in rule.prompts) and _tagged(rule, prompt)
    ]


def _rule_essays(rule: Rule, catalog: Catalog) -> list[Essay]:
    if rule.conditions.essays:
        return [e for e in catalog.essays if e.id in rule.conditions.essays]
    return list(catalog.essays)


def _check_candidates(
    check: _Checker,
    rule: Rule,
    parsed: Mapping[str, Template],
    at: _Path,
    where: str,
    catalog: Catalog,
) -> None:
    """Restrictions that can never matter, or that leave nothing to post, are mistakes."""
    uses_quote = _uses(parsed, "quote", "quote_url")
    uses_prompt = _uses(parsed, "prompt")
    if rule.quotes and not uses_quote:
        check.add(at, "quotes", where, "'quotes' has no effect: no template uses {quote}")
    if rule.prompts and not uses_prompt:
        check.add(at, "prompts", where, "'prompts' has no effect: no template uses {prompt}")
    if rule.tags and not (uses_quote or uses_prompt):
        check.add(at, "tags", where, "'tags' has no effect: no template uses {quote} or {prompt}")
    essays = _rule_essays(rule, catalog)
    if not essays:
        return  # every essay it names is unknown, which is reported already
    # A restriction made only of unknown ids is reported already too; saying
    # that nothing matches it as well would only be noise.
    quotes_known = not rule.quotes or any(catalog.quote(id) for id in rule.quotes)
    prompts_known = not rule.prompts or any(catalog.prompt(id) for id in rule.prompts)
    missing = []
    if uses_quote and quotes_known and not any(_candidate_quotes(rule, essay) for essay in essays):
        missing.append("quote")
    if (
        uses_prompt
        and prompts_known
        and not any(_candidate_prompts(rule, essay) for essay in essays)
    ):
        missing.append("prompt")
    for placeholder in missing:
        check.add(
            at,
            "tags" if rule.tags else None,
            where,
            f"no {placeholder} in the catalog can fill {{{placeholder}}} for this rule",
            "loosen its quotes/prompts/tags/essays restrictions, or add matching entries",
        )
    items: list[Quote | Prompt] = []
    for essay in essays:
        items.extend(essay.quotes)
        items.extend(essay.prompts)
    known_tags = sorted({tag for item in items for tag in item.tags})
    folded_tags = {fold(tag) for tag in known_tags}
    for tag in rule.tags:
        if fold(tag) not in folded_tags:
            check.add(
                at,
                "tags",
                where,
                f'no quote or prompt carries tag "{tag}"',
                _suggest(tag, known_tags, "tags"),
            )


class _Lengths:
    """Server lengths for the fit check, each text counted once per load.

    A catalog of thousands of quotes meets every quote rule's templates; the
    quotes' shortest forms are the same for all of them.
    """

    def __init__(self, url_length: int) -> None:
        self.url_length = url_length
        self._lengths: dict[str, int] = {}
        self._shortest: dict[str, tuple[str, int]] = {}

    def of(self, text: str) -> int:
        length = self._lengths.get(text)
        if length is None:
            length = self._lengths[text] = status_length(text, url_length=self.url_length)
        return length

    def exact(self, text: str) -> int:
        """A rendered status: counted, not kept (no two are alike)."""
        return status_length(text, url_length=self.url_length)

    def shortest(self, quote_text: str) -> tuple[str, int]:
        """The shortest form a quote can be posted in, and its length."""
        found = self._shortest.get(quote_text)
        if found is None:
            form = shortest_form(neutralise_mentions(quote_text), url_length=self.url_length)
            found = self._shortest[quote_text] = (form, self.of(form))
        return found


def _check_fit(
    check: _Checker,
    rule: Rule,
    parsed: Mapping[str, Template],
    at: _Path,
    where: str,
    catalog: Catalog,
    max_characters: int,
    lengths: _Lengths,
) -> None:
    """Report templates that cannot fit ``max_characters`` in any case.

    Each template is rendered with the most favourable values the catalog
    allows: a 30-character handle, each candidate quote in its shortest form
    (its first sentence and "…"), the shortest prompt. If even that is too long
    the rule would always end in a skip, which the admin should know now.

    Counting every rendering exactly is what made a large catalog slow to
    load, so candidates are first ordered by an estimate: the template's
    length with the varying values left empty, plus each value's own length
    once per use. The estimate is near exact — values sit between template
    text — but a URL or a grapheme cluster can join across the seam, so it
    only decides the order: a template passes on the first candidate whose
    rendering, counted exactly, fits (almost always the first one tried), and
    fails only once every candidate has been counted exactly and none fits.
    """
    essays = _rule_essays(rule, catalog)
    if not essays:
        return
    shortest_title = min((essay.title for essay in catalog.essays), key=len)
    for lang, template in parsed.items():
        counts = field_counts(template)
        quote_uses, url_uses, prompt_uses = (
            counts.get(name, 0) for name in ("quote", "quote_url", "prompt")
        )
        # (estimate, order, essay's values, quote, quote URL, prompt, detail):
        # order is the one the candidates were always tried in, so a tie names
        # the same quote as ever.
        candidates: list[tuple[int, int, dict[str, str], str, str, str, str]] = []
        for essay in essays:
            fixed = {
                "requester": ASSUMED_REQUESTER,
                "author": essay.author,
                "essay_title": essay.title,
                "essay_url": essay.url,
                "essays": shortest_title,
                "rules_url": _EXAMPLE_URL,
                "rule": rule.name,
                "why": "",
                "heat": "0",
                "quote": "",
                "quote_url": "",
                "prompt": "",
            }
            overhead = lengths.of(render(template, fixed))
            quotes: list[Quote | None] = [None]
            prompts: list[str | None] = [None]
            if quote_uses or url_uses:
                quotes = list(_candidate_quotes(rule, essay))
            if prompt_uses:
                prompts = [
                    min(
                        (neutralise_mentions(t) for t in _prompt_texts(p, lang, essay)),
                        key=len,
                    )
                    for p in _candidate_prompts(rule, essay)
                ]
            for quote in quotes:
                quote_form, quote_length = (
                    ("", 0) if quote is None else lengths.shortest(quote.text)
                )
                quote_url = (quote.anchor_url if quote is not None else None) or essay.url
                detail = f'essay "{essay.id}"' if quote is None else f'quote "{quote.id}"'
                for prompt in prompts:
                    estimate = (
                        overhead
                        + quote_uses * quote_length
                        + url_uses * lengths.of(quote_url)
                        + prompt_uses * (lengths.of(prompt) if prompt else 0)
                    )
                    candidates.append(
                        (
                            estimate,
                            len(candidates),
                            fixed,
                            quote_form,
                            quote_url,
                            prompt or "",
                            detail,
                        )
                    )
        candidates.sort(key=lambda candidate: candidate[:2])
        best: tuple[int, int, str] | None = None
        for _, order, common, quote_text, url, prompt_text, detail in candidates:
            values = {**common, "quote": quote_text, "quote_url": url, "prompt": prompt_text}
            length = lengths.exact(render(template, values))
            if best is None or (length, order) < best[:2]:
                best = (length, order, detail)
            if length <= max_characters:
                break
        if best is not None and best[0] > max_characters:
            check.add(
                (*at, ("templates", None)),
                lang,
                where,
                f"template {lang!r} needs at least {best[0]} characters (with {best[2]}),"
                f" over the limit of {max_characters}",
                "shorten the template, or restrict the rule to shorter quotes; this assumes a"
                f" 30-character handle and URLs counted as {lengths.url_length}",
            )


def _prompt_texts(prompt: Prompt, language: str, essay: Essay) -> list[str]:
    """The texts a prompt may be posted in for ``language``: its own, else the
    essay's language, else any it has."""
    for lang in (language, essay.language):
        if lang in prompt.texts:
            return [prompt.texts[lang]]
    return list(prompt.texts.values())
