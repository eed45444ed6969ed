"""Shared fixtures: a mastodon-mock server on loopback with the bot's cast, and
settings pointing at it.

The server is real (uvicorn on 127.0.0.1, a free port, an in-memory database);
tests talk to it over HTTP exactly as the bot does in production.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mastodon_mock.config import (
    DatabaseConfig,
    MastodonMockConfig,
    SeedAccount,
    SeedConfig,
    StreamingConfig,
)
from mastodon_mock.testing import MockServer

from bot.app.demo import stop_mock
from bot.catalog.config import Config
from bot.catalog.load import load_config
from bot.settings import Settings

# Tokens of a mock server on loopback, not credentials.
BOT_TOKEN = "filrouge-token-7f3a"

CAST = (
    SeedAccount(username="filrouge", display_name="fil rouge", bot=True, access_token=BOT_TOKEN),
    SeedAccount(username="maiwann", display_name="Maiwann", access_token="maiwann-token"),
    SeedAccount(username="alice", display_name="Alice", access_token="alice-token"),
    SeedAccount(username="bob", display_name="Bob", access_token="bob-token"),
    SeedAccount(username="carol", display_name="Carol", access_token="carol-token"),
    SeedAccount(
        username="beepboop", display_name="Another bot", bot=True, access_token="beepboop-token"
    ),
    SeedAccount(username="mod", display_name="Modération", role="admin", access_token="mod-token"),
    SeedAccount(
        username="quiet",
        display_name="Quiet",
        note="<p>Ici pour lire, pas pour parler aux robots. #nobot</p>",
        access_token="quiet-token",
    ),
)


def mock_config(
    *,
    streaming: bool = True,
    heartbeat: float = 0.2,
    version: str | None = None,
    accounts: tuple[SeedAccount, ...] = CAST,
) -> MastodonMockConfig:
    extra: dict[str, Any] = {}
    if version is not None:
        extra["mocked_version"] = version
    return MastodonMockConfig(
        database=DatabaseConfig(path=":memory:"),
        seed=SeedConfig(accounts=list(accounts)),
        streaming=StreamingConfig(enabled=streaming, heartbeat_seconds=heartbeat),
        url_scheme="http",
        **extra,
    )


@pytest.fixture(scope="session")
def bundled_settings() -> Settings:
    """The defaults, without an env file: the bundled catalog and rules."""
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def bundled_config(bundled_settings: Settings) -> Config:
    """The bundled catalog and rules, loaded once for the tests that only read them."""
    return load_config(bundled_settings)


@pytest.fixture
def start_server() -> Iterator[Callable[..., MockServer]]:
    """Start a mock server with the bot's cast: ``start_server(streaming=False, ...)``."""
    servers: list[MockServer] = []

    def start(**options: Any) -> MockServer:
        # A short join: a fault that hangs a request must not slow every teardown.
        server = MockServer(config=mock_config(**options), shutdown_timeout=1.0).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        stop_mock(server)


@pytest.fixture
def server(start_server: Callable[..., MockServer]) -> MockServer:
    """A mock server with streaming on and a fast heartbeat."""
    return start_server()


def bot_settings(server: MockServer, db_path: Path, **overrides: Any) -> Settings:
    """Settings for a bot on ``server``: small timeouts, no link fetching, no ``.env``."""
    values: dict[str, Any] = {
        "instance_url": server.base_url,
        "access_token": BOT_TOKEN,
        "db_path": db_path,
        "request_timeout": 5.0,
        "poll_interval": 0.2,
        "stream_stall_timeout": 2.0,
        "resolve_hosts": (),
        "thread_cooldown": "0s",
        "account_cooldown": "0s",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    """``settings_for(server, **overrides)``: settings for a bot on that server."""

    def make(server: MockServer, **overrides: Any) -> Settings:
        return bot_settings(server, tmp_path / "filrouge.sqlite3", **overrides)

    return make


def eventually(
    predicate: Callable[[], Any],
    timeout: float = 10.0,
    interval: float = 0.02,
    message: Callable[[], str] | None = None,
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``
    (with ``message()`` appended, to say what was going on)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"\n{message()}" if message is not None else ""
            raise AssertionError(f"condition not met within {timeout:g}s{detail}")
        time.sleep(interval)


# -- invariant 9, suite-wide: the bot's token never shows -------------------------------

#: What counts as the token showing: the whole value, or a prefix long enough to
#: identify it (a message cut at a width must not leak half a token either).
SECRET_MARKS = (BOT_TOKEN, BOT_TOKEN[:12])
#: Files a test writes the token into on purpose, as an admin would.
_SECRET_HOLDERS = (".env",)


def _leaks(text: str) -> list[str]:
    """Which marks show in ``text``, named rather than quoted (a report that
    quoted them would leak them again)."""
    names = ("the whole token", "its first 12 characters")
    return [name for name, mark in zip(names, SECRET_MARKS, strict=True) if mark in text]


class _Records(logging.Handler):
    """Every log record any logger lets through during one test, kept unformatted."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _record_text(record: logging.LogRecord) -> str:
    try:
        message = record.getMessage()
    except Exception:
        message = f"{record.msg!r} {record.args!r}"
    parts = [message, *(str(value) for value in record.__dict__.values())]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(parts)


def _files_text(root: Path) -> Iterator[tuple[Path, str]]:
    for path in root.rglob("*"):
        holder = path.name.startswith(_SECRET_HOLDERS)
        if path.is_file() and not holder and path.stat().st_size <= 64 * 1024 * 1024:
            yield path, path.read_bytes().decode("utf-8", "replace")


@pytest.fixture(autouse=True)
def _token_never_shows(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Invariant 9 over the whole suite: after each test, fail if the bot's token
    shows in a log record (message, arguments, ``extra`` fields, exception and
    traceback), in output a test read through ``capsys``/``capfd``, or in a file
    the test left in its ``tmp_path`` (bot logs, crash reports, the SQLite record)
    other than a ``.env`` it wrote. Output left in pytest's capture and failure
    reports are scanned by ``pytest_runtest_makereport`` below. Would fail if any
    code path logged, printed, recorded or raised with the token in it.

    Records are seen at the levels the test runs with (WARNING unless it asks
    for more; ``test_secrets`` runs whole e2e scenarios at DEBUG)."""
    handler = _Records()
    root = logging.getLogger()
    root.addHandler(handler)
    read: list[str] = []
    original = pytest.CaptureFixture.readouterr

    def readouterr(self: pytest.CaptureFixture[Any]) -> Any:
        result = original(self)
        read.append(f"{result.out}\n{result.err}")
        return result

    monkeypatch.setattr(pytest.CaptureFixture, "readouterr", readouterr)
    workdir: Path | None = None
    if "tmp_path" in request.fixturenames:
        workdir = request.getfixturevalue("tmp_path")
    try:
        yield
    finally:
        root.removeHandler(handler)
    found = [
        f"log record {r.name}:{r.lineno} {_leaks(_record_text(r))}"
        for r in handler.records
        if _leaks(_record_text(r))
    ]
    found += [f"captured output {_leaks(text)}" for text in read if _leaks(text)]
    if workdir is not None:
        found += [
            f"file {path} {_leaks(text)}" for path, text in _files_text(workdir) if _leaks(text)
        ]
    if found:
        pytest.fail("the access token showed (invariant 9):\n" + "\n".join(found), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """The same check on what pytest itself kept: captured stdout/stderr (fd-level,
    so it includes subprocesses such as ``filrouge run``), captured log, and the
    failure report's text (assertion messages, tracebacks)."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    texts = [content for _, content in report.sections]
    if report.longrepr is not None:
        texts.append(report.longreprtext)
    found = sorted({mark for text in texts for mark in _leaks(text)})
    if found and not report.failed:
        report.outcome = "failed"
        report.longrepr = f"the access token showed in captured output or a report: {found}"
