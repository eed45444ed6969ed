"""The act stage on an in-memory server (``fake_server``) and a real record."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.act.actor import Actor
from bot.act.poster import Poster
from bot.app.wiring import policy_from_settings
from bot.catalog.load import load_config
from bot.mastodon.backoff import Backoff
from bot.ops.metrics import Metrics
from bot.record.store import Store
from bot.settings import Settings
from tests.act.fake_server import SELF_ID, FakeServer


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "record.sqlite3") as opened:
        yield opened


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "instance_url": "https://social.example",
        "access_token": "fake-port-token",
        "db_path": tmp_path / "record.sqlite3",
        "thread_cooldown": "0s",
        "account_cooldown": "0s",
        "resolve_hosts": (),
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def make_poster(server: FakeServer, store: Store, clock: Clock) -> Callable[..., Poster]:
    def make(*, dry_run: bool = False) -> Poster:
        return Poster(
            client=server,
            store=store,
            metrics=Metrics(),
            clock=clock,
            self_id=SELF_ID,
            dry_run=dry_run,
        )

    return make


@pytest.fixture
def make_actor(
    tmp_path: Path, server: FakeServer, store: Store, clock: Clock
) -> Callable[..., Actor]:
    def make(**overrides: Any) -> Actor:
        config = settings(tmp_path, **overrides)
        metrics = Metrics()
        poster = Poster(
            client=server,
            store=store,
            metrics=metrics,
            clock=clock,
            self_id=SELF_ID,
            dry_run=config.dry_run,
        )
        return Actor(
            client=server,
            store=store,
            poster=poster,
            config=load_config(config),
            policy=policy_from_settings(config, self_id=SELF_ID),
            settings=config,
            metrics=metrics,
            backoff=Backoff(base=0.0, cap=0.0, rng=random.Random(1), sleep=lambda _: None),
            clock=clock,
        )

    return make
