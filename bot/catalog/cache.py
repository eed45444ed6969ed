"""The loaded configuration kept on disk, so that a large catalog loads in a
fraction of a second after the first time.

Loading a 10,000-quote catalog parses TOML, checks every quote against every
template it may fill and builds the ranking index: seconds, each start and
each ``check-config``. What comes out depends on nothing but the files' bytes,
the settings ``load_config`` reads and the code, so it is kept, pickled, in
``filrouge-cache/`` beside the database, under a key made of all of these.

- Used only where a record lives: the database ``FILROUGE_DB_PATH`` must
  exist (``preview`` in some other directory writes nothing; the bot's first
  start loads from the files, the next ones from the cache). Off with
  ``FILROUGE_CONFIG_CACHE=false``.
- Never trusted when in doubt: a pickle runs code when read, so a file that
  is not the bot's own or is writable by others is ignored, and so is one
  that does not start with its format mark or whose digest does not match
  its content; the configuration is then loaded from the files. A cache
  that cannot be written (a read-only root) costs nothing but the time it
  would have saved.
- Written to a temporary file and renamed, mode 0600, in a 0700 directory;
  entries of other keys are removed, so it holds one configuration.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.catalog.config import Config
from bot.catalog.lexicon import DATA as LEXICON

if TYPE_CHECKING:
    from collections.abc import Iterator

    from bot.settings import Settings

log = logging.getLogger(__name__)

#: Bumped when what is pickled changes shape in a way the version does not say.
FORMAT = b"filrouge-config-4\n"
DIGEST = hashlib.sha256().digest_size
#: The code that shapes what is pickled and what loading makes of the files
#: (the catalog's values, the index, the analysis and the folding of text):
#: a checkout updated without a new version number must not read an older
#: shape back.
CODE = tuple(
    Path(__file__).resolve().parents[1] / name for name in ("catalog", "model", "rank", "text")
)


def cache_dir(settings: Settings) -> Path | None:
    """Where the cache lives for these settings, or None when it is not used."""
    if not settings.config_cache:
        return None
    record = settings.db_path.resolve()
    if not record.is_file():
        return None
    return record.parent / "filrouge-cache"


def cache_key(settings: Settings) -> str | None:
    """The key of what ``load_config`` would make of these files; None if one
    cannot be read (the loader then reports it)."""
    digest = hashlib.sha256(FORMAT)
    for part in (__version__, sys.version, sys.implementation.cache_tag or ""):
        digest.update(part.encode() + b"\0")
    values = (settings.max_characters, settings.characters_per_url, settings.language)
    for value in (*values, settings.lexicon):
        digest.update(repr(value).encode() + b"\0")
    # The code and the lexicon ship with the package; their sizes and times
    # tell an edited copy (a checkout) from the one the cache was made of.
    for directory in CODE:
        _stamp(digest, directory, ".py")
    if settings.lexicon:
        _stamp(digest, LEXICON, "")
    overlay = () if settings.catalog_overlay is None else (settings.catalog_overlay,)
    for path in (settings.catalog_path, settings.rules_path, *overlay):
        try:
            data = Path(path).read_bytes()
        except OSError:
            return None
        digest.update(str(Path(path).resolve()).encode() + b"\0")
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def _stamp(digest: hashlib._Hash, directory: Path, suffix: str) -> None:
    """Add the name, size and time of each file of ``directory`` ending in ``suffix``."""
    with os.scandir(directory) as entries:
        files = sorted((e for e in entries if e.is_file() and e.name.endswith(suffix)), key=_name)
    for entry in files:
        status = entry.stat()
        digest.update(f"{entry.name}:{status.st_size}:{status.st_mtime_ns}".encode() + b"\0")


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def read_cached(directory: Path, key: str) -> Config | None:
    """The configuration stored under ``key``, or None (absent, foreign or damaged)."""
    path = directory / f"config-{key}.pickle"
    try:
        with path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            if status.st_uid != os.getuid() or status.st_mode & 0o022:
                log.warning("ignoring %s: not the bot's own, or writable by others", path)
                return None
            blob = handle.read()
    except OSError:
        return None
    head = len(FORMAT)
    if blob[:head] != FORMAT or len(blob) < head + DIGEST:
        log.warning("ignoring %s: not a configuration cache", path)
        return None
    digest, payload = blob[head : head + DIGEST], blob[head + DIGEST :]
    if hashlib.sha256(payload).digest() != digest:
        log.warning("ignoring %s: damaged (its digest does not match)", path)
        return None
    try:
        # Only the bot's own file in its own 0700 directory gets here (owner and
        # mode checked above): whoever can write it already runs as the bot.
        with _collector_paused():
            config = pickle.loads(payload)  # noqa: S301
    except Exception:
        log.warning("ignoring %s: cannot be read back", path, exc_info=True)
        return None
    return config if isinstance(config, Config) else None


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic collection while the hundreds of thousands of objects of a
    large catalog are read back: each pass would walk all of them again, for
    nothing (they are kept), a fifth of the reading time. Left as it was
    found: off stays off."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def write_cached(directory: Path, key: str, config: Config) -> None:
    """Keep ``config`` under ``key``; any failure is silent but for a debug line."""
    try:
        payload = pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL)
        directory.mkdir(mode=0o700, exist_ok=True)
        path = directory / f"config-{key}.pickle"
        tmp = directory / f".config-{key}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(FORMAT + hashlib.sha256(payload).digest() + payload)
        tmp.replace(path)
        for other in directory.glob("config-*.pickle"):
            if other != path:
                with contextlib.suppress(OSError):
                    other.unlink()
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        log.debug("could not write the configuration cache in %s", directory, exc_info=True)
