"""Shared fixtures: a mastodon-mock server on loopback with the bot's cast, and
settings pointing at it.

The server is real (uvicorn on 127.0.0.1, a free port, an in-memory database);
tests talk to it over HTTP exactly as the bot does in production.
"""

from __future__ import annotations

import time
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
        server.stop()


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
