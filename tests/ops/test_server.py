"""``/healthz`` and ``/metrics`` over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import platform
import socket
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import __version__
from bot.ops.metrics import Health, Metrics
from bot.ops.server import OpsServer, assess, sqlite_write_check, staleness_bound
from bot.settings import Settings

START = 1_800_000_000.0
MAX_AGE = 180.0


@dataclass
class Clock:
    now: float = START

    def __call__(self) -> float:
        return self.now


@dataclass
class Db:
    """A database check whose answer the test sets."""

    ok: bool = True
    error: Exception | None = None

    def __call__(self) -> bool:
        if self.error is not None:
            raise self.error
        return self.ok


@dataclass
class Ops:
    server: OpsServer
    health: Health
    metrics: Metrics
    clock: Clock
    db: Db

    def get(self, path: str) -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(self.server.url + path, timeout=5) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read()

    def health_json(self) -> tuple[int, dict[str, object]]:
        status, content_type, body = self.get("/healthz")
        assert content_type == "application/json"
        return status, json.loads(body)


@pytest.fixture
def ops() -> Iterator[Ops]:
    health, metrics, clock, db = Health(started_at=START), Metrics(), Clock(), Db()
    server = OpsServer(
        host="127.0.0.1",
        port=0,
        health=health,
        metrics=metrics,
        db_check=db,
        max_age=MAX_AGE,
        clock=clock,
    )
    with server:
        yield Ops(server, health, metrics, clock, db)


def test_healthy_when_stream_connected_and_recent_event(ops: Ops) -> None:
    ops.health.update(stream_connected=True, streaming="up", last_event_at=START + 10)
    ops.clock.now = START + 25
    status, body = ops.health_json()
    assert status == 200
    assert body == {
        "status": "ok",
        "stream": "connected",
        "streaming": "up",
        "last_event_age_seconds": 15.0,
        "database": "ok",
        "paused": False,
        "uptime_seconds": 25.0,
        "last_error": None,
        "problems": [],
    }


def test_polling_alone_is_healthy(ops: Ops) -> None:
    ops.health.update(polling=True, last_event_at=START)
    status, body = ops.health_json()
    assert (status, body["stream"]) == (200, "polling")


def test_a_server_that_does_not_stream_is_healthy_and_says_so(ops: Ops) -> None:
    ops.health.update(polling=True, streaming="unsupported", last_event_at=START)
    status, body = ops.health_json()
    assert (status, body["stream"], body["streaming"]) == (200, "polling", "unsupported")


def test_unhealthy_when_stream_is_down_and_not_polling(ops: Ops) -> None:
    ops.health.update(stream_connected=True, last_event_at=START)
    assert ops.health_json()[0] == 200
    ops.health.update(stream_connected=False, last_error="stream closed")
    status, body = ops.health_json()
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["stream"] == "down"
    assert body["last_error"] == "stream closed"


def test_unhealthy_when_last_event_is_too_old(ops: Ops) -> None:
    ops.health.update(stream_connected=True, last_event_at=START)
    ops.clock.now = START + MAX_AGE
    assert ops.health_json()[0] == 200
    ops.clock.now = START + MAX_AGE + 1
    status, body = ops.health_json()
    assert status == 503
    assert body["last_event_age_seconds"] == MAX_AGE + 1
    assert any("no event" in str(p) for p in body["problems"])  # type: ignore[attr-defined]


def test_no_event_ever_is_unhealthy_after_the_same_grace(ops: Ops) -> None:
    ops.health.update(polling=True)
    ops.clock.now = START + 5
    status, body = ops.health_json()
    assert (status, body["last_event_age_seconds"]) == (200, None)
    ops.clock.now = START + MAX_AGE + 5
    assert ops.health_json()[0] == 503


@pytest.mark.parametrize(
    "db", [Db(ok=False), Db(error=sqlite3.OperationalError("attempt to write a readonly database"))]
)
def test_unhealthy_when_database_is_not_writable(ops: Ops, db: Db) -> None:
    ops.health.update(stream_connected=True, last_event_at=START)
    ops.db.ok, ops.db.error = db.ok, db.error
    status, body = ops.health_json()
    assert status == 503
    assert body["database"] == "error"


def test_paused_is_reported_but_healthy(ops: Ops) -> None:
    ops.health.update(stream_connected=True, last_event_at=START, paused=True)
    status, body = ops.health_json()
    assert (status, body["paused"]) == (200, True)


def test_metrics_expose_what_was_counted(ops: Ops) -> None:
    ops.metrics.mentions.inc(3)
    ops.metrics.replies.labels(rule="source", mode="live").inc()
    ops.metrics.skips.labels(reason="cooldown").inc(2)
    ops.metrics.latency.observe(0.4)
    status, content_type, body = ops.get("/metrics")
    text = body.decode()
    assert status == 200
    assert content_type.startswith("text/plain; version=")
    assert "filrouge_mentions_total 3.0" in text
    assert 'filrouge_replies_total{mode="live",rule="source"} 1.0' in text
    assert 'filrouge_skips_total{reason="cooldown"} 2.0' in text
    assert "filrouge_reply_latency_seconds_count 1.0" in text
    assert (
        f'filrouge_build_info{{python="{platform.python_version()}",version="{__version__}"}} 1.0'
        in text
    )
    assert "_created" not in text
    # its own registry: no process or platform collectors leak in
    assert "process_" not in text


def test_unknown_path_is_404(ops: Ops) -> None:
    assert ops.get("/admin")[0] == 404


def test_stop_closes_the_port(ops: Ops) -> None:
    url = ops.server.url
    ops.server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/healthz", timeout=2)
    ops.server.stop()  # idempotent


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine")
def test_ipv6_loopback() -> None:
    health = Health(started_at=START, polling=True, last_event_at=START)
    try:
        server = OpsServer(
            host="::1", port=0, health=health, metrics=Metrics(), db_check=Db(),
            max_age=MAX_AGE, clock=Clock(),
        ).start()  # fmt: skip
    except OSError as error:
        pytest.skip(f"cannot bind ::1 here: {error}")
    try:
        assert server.url.startswith("http://[::1]:")
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
            assert response.status == 200
    finally:
        server.stop()


def test_off_unless_a_port_is_set() -> None:
    kwargs = {"health": Health(), "metrics": Metrics(), "db_check": Db()}
    assert OpsServer.from_settings(Settings(_env_file=None), **kwargs) is None  # type: ignore[call-arg, arg-type]
    server = OpsServer.from_settings(
        Settings(_env_file=None, http_port=0, poll_interval=30, stream_stall_timeout=60),  # type: ignore[call-arg]
        **kwargs,  # type: ignore[arg-type]
    )
    assert server is not None
    assert server.max_age == 180.0


def test_staleness_bound_follows_the_slower_loop() -> None:
    settings = Settings(_env_file=None, poll_interval=120, stream_stall_timeout=60)  # type: ignore[call-arg]
    assert staleness_bound(settings) == 360.0


def test_assess_is_pure_and_reports_every_problem() -> None:
    verdict = assess({"started_at": 0.0}, database_ok=False, now=1000.0, max_age=10.0)
    assert not verdict.healthy
    assert len(verdict.body["problems"]) == 3


def test_sqlite_write_check(tmp_path: Path) -> None:
    path = tmp_path / "filrouge.sqlite3"
    sqlite3.connect(path).close()
    assert sqlite_write_check(path)() is True
    # a missing database is not created, and is an error
    with pytest.raises(sqlite3.OperationalError):
        sqlite_write_check(tmp_path / "missing.sqlite3")()
    assert not (tmp_path / "missing.sqlite3").exists()
    # a write lock held elsewhere makes the check fail within its timeout
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError):
            sqlite_write_check(path, timeout=0.05)()
    finally:
        holder.close()
