"""bot.catalog.cache: the loaded configuration kept beside the database, read
back while the files are the same, never trusted when in doubt."""

from __future__ import annotations

import gc
import hashlib
import inspect
import os
import shutil
from pathlib import Path

import pytest

from bot.catalog import cache
from bot.catalog.cache import CODE, FORMAT, cache_dir, cache_key, read_cached
from bot.catalog.config import Config
from bot.catalog.essays import read_catalog
from bot.catalog.load import load_config
from bot.decide import decide
from bot.model.catalog import Quote
from bot.rank.analysis import analyze_cached
from bot.rank.index import Index
from bot.rank.phrases import Phrases
from bot.rank.space import Space
from bot.settings import DATA_DIR, Settings
from bot.text.fold import fold
from tests.scenarios.chatter import inputs_for

MENTIONS = (
    "@filrouge des affiches générées par IA, vraiment ?",
    "@filrouge source",
    "@filrouge et les petites voix dans tout ça",
    "@filrouge the posters made with AI, seriously?",
)


@pytest.fixture
def site(tmp_path: Path) -> Settings:
    """A bot's working directory: its own catalog and rules, and a record."""
    shutil.copy(DATA_DIR / "catalog.toml", tmp_path / "catalog.toml")
    shutil.copy(DATA_DIR / "rules.toml", tmp_path / "rules.toml")
    (tmp_path / "filrouge.sqlite3").write_bytes(b"")
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        catalog_path=tmp_path / "catalog.toml",
        rules_path=tmp_path / "rules.toml",
        db_path=tmp_path / "filrouge.sqlite3",
    )


def entries(settings: Settings) -> list[Path]:
    directory = cache_dir(settings)
    assert directory is not None
    return sorted(directory.glob("config-*.pickle"))


def answers(settings: Settings) -> list[str]:
    config = load_config(settings)
    return [
        repr(decide(inputs_for(text, (), "", config, settings)).decision)
        for n, text in enumerate(MENTIONS)
    ]


def test_the_second_load_is_read_back_and_decides_the_same(site: Settings) -> None:
    first = answers(site)
    [entry] = entries(site)
    assert entry.stat().st_mode & 0o777 == 0o600
    assert entry.parent.stat().st_mode & 0o777 == 0o700
    stamp = entry.stat().st_mtime_ns
    assert answers(site) == first
    assert entry.stat().st_mtime_ns == stamp  # read, not written again


def test_a_changed_file_is_loaded_again_and_replaces_the_entry(site: Settings) -> None:
    answers(site)
    [old] = entries(site)
    rules = Path(site.rules_path)
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    answers(site)
    [new] = entries(site)
    assert new != old and not old.exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-10],  # cut short
        lambda blob: blob[:40] + bytes([blob[40] ^ 1]) + blob[41:],  # one bit flipped
        lambda blob: b"something else entirely",
    ],
    ids=["truncated", "flipped", "foreign"],
)
def test_a_damaged_entry_is_never_trusted(site: Settings, damage: object) -> None:
    first = answers(site)
    [entry] = entries(site)
    entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    assert answers(site) == first  # loaded from the files
    assert entries(site) == [entry] and entry.read_bytes()[:8] == b"filrouge"


@pytest.mark.parametrize("collector_on", [True, False], ids=["collector-on", "collector-off"])
@pytest.mark.parametrize("readable", [True, False], ids=["read-back", "unreadable"])
def test_reading_back_leaves_the_collector_as_it_was(
    site: Settings, collector_on: bool, readable: bool
) -> None:
    answers(site)
    [entry] = entries(site)
    if not readable:  # a true digest over bytes that are no pickle
        payload = b"no pickle at all"
        entry.write_bytes(FORMAT + hashlib.sha256(payload).digest() + payload)
    key = entry.stem.removeprefix("config-")
    was_on = gc.isenabled()
    try:
        (gc.enable if collector_on else gc.disable)()
        config = read_cached(entry.parent, key)
        assert gc.isenabled() is collector_on
    finally:
        (gc.enable if was_on else gc.disable)()
    assert (config is not None) is readable


def test_an_entry_writable_by_others_is_ignored(
    site: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    answers(site)
    [entry] = entries(site)
    os.chmod(entry, 0o666)
    with caplog.at_level("WARNING", logger="bot.catalog.cache"):
        load_config(site)
    assert any("writable by others" in r.getMessage() for r in caplog.records)


def test_no_record_no_cache(site: Settings, tmp_path: Path) -> None:
    Path(site.db_path).unlink()
    assert cache_dir(site) is None
    load_config(site)
    assert not (tmp_path / "filrouge-cache").exists()
    off = site.model_copy(update={"config_cache": False})
    Path(site.db_path).write_bytes(b"")
    assert cache_dir(off) is None


def test_a_cache_that_cannot_be_written_costs_nothing(site: Settings, tmp_path: Path) -> None:
    (tmp_path / "filrouge-cache").write_text("a file where the directory would be")
    assert answers(site)  # loads, says nothing


def test_the_key_covers_what_loading_reads(site: Settings) -> None:
    key = cache_key(site)
    assert key == cache_key(site)
    for change in ({"max_characters": 400}, {"characters_per_url": 30}, {"language": "en"}):
        assert cache_key(site.model_copy(update=change)) != key, change
    missing = site.model_copy(update={"catalog_path": Path(site.db_path).parent / "nope.toml"})
    assert cache_key(missing) is None


def test_the_key_covers_the_code_that_shapes_the_configuration(
    site: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkout updated without a new version number (``git pull``) must
    not read back objects of an older shape: a changed module is a new key."""
    shaping = (Quote, Config, Index, Space, Phrases, read_catalog, analyze_cached, fold)
    for thing in shaping:
        assert Path(inspect.getfile(thing)).parent in CODE, thing
    code = tmp_path / "code"
    code.mkdir()
    module = code / "space.py"
    module.write_text("VALUE = 1\n", encoding="utf-8")
    monkeypatch.setattr(cache, "CODE", (code,))
    key = cache_key(site)
    module.write_text("VALUE = 22\n", encoding="utf-8")
    assert cache_key(site) != key
