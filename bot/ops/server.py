"""``/healthz`` and ``/metrics`` over HTTP, for a supervisor and for Prometheus,
and the pages of the moderators' console (``bot.console``) when it is on.

A stdlib ``ThreadingHTTPServer`` in a daemon thread: two read-only endpoints do
not justify a web framework. It listens on ``FILROUGE_HTTP_HOST:FILROUGE_HTTP_PORT``
(loopback by default) and is off unless a port is set.

The health verdict is a pure function of a ``Health`` snapshot, the database
check's answer and the time (``assess``), so tests set each input directly.
"""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

if TYPE_CHECKING:
    from bot.ops.metrics import Health, Metrics
    from bot.settings import Settings

log = logging.getLogger(__name__)

#: Health check of the database: True when a write succeeds. May raise.
DbCheck = Callable[[], bool]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Request:
    """One HTTP request as a page handler sees it (``/console``)."""

    method: str
    #: The path without the query string, and the query, parsed.
    path: str
    query: Mapping[str, Sequence[str]]
    #: Header names in lower case.
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


#: Answers the requests under a path prefix (the console); never raises.
Pages = Callable[[Request], Response]

#: The most a request body may carry (a preview form, a login).
MAX_BODY = 64 * 1024


def sqlite_write_check(path: Path | str, *, timeout: float = 2.0) -> DbCheck:
    """A ``DbCheck`` that takes SQLite's write lock on ``path`` and releases it.

    ``BEGIN IMMEDIATE`` fails when the file cannot be written (read-only mount,
    full disk refusing the journal, a lock held past ``timeout``) without
    changing anything. ``mode=rw`` keeps it from creating a missing database.
    """
    uri = f"{Path(path).resolve().as_uri()}?mode=rw"

    def check() -> bool:
        with closing(sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
        return True

    return check


def staleness_bound(settings: Settings) -> float:
    """Seconds without a stream event, heartbeat or poll after which the bot is unhealthy.

    Three missed polls or stream stalls: one late poll is normal, three mean the
    loop is stuck.
    """
    return 3 * max(settings.poll_interval, settings.stream_stall_timeout)


@dataclass(frozen=True)
class Verdict:
    healthy: bool
    body: dict[str, Any]


def assess(
    snapshot: dict[str, object], *, database_ok: bool, now: float, max_age: float
) -> Verdict:
    """Judge health from a ``Health.snapshot()``; pure.

    Unhealthy when neither the stream is connected nor polling is active, when
    the last event (or, before the first one, the start) is older than
    ``max_age``, or when the database is not writable. Being paused by an admin
    is reported but is not a fault: the bot still listens and records.
    """
    problems: list[str] = []
    if snapshot.get("stream_connected"):
        stream = "connected"
    elif snapshot.get("polling"):
        stream = "polling"
    else:
        stream = "down"
        problems.append("neither the stream nor polling is active")

    last_event_at = _number(snapshot.get("last_event_at"))
    started_at = _number(snapshot.get("started_at"))
    age = None if last_event_at is None else max(0.0, now - last_event_at)
    # Before the first event the clock runs from the start, so a bot that never
    # hears anything becomes unhealthy too, after the same grace.
    since = age if age is not None else (None if started_at is None else now - started_at)
    if since is not None and since > max_age:
        problems.append(f"no event or poll for {since:.0f}s (bound {max_age:.0f}s)")

    if not database_ok:
        problems.append("database is not writable")

    body: dict[str, Any] = {
        "status": "ok" if not problems else "unhealthy",
        "stream": stream,
        "streaming": snapshot.get("streaming"),
        "last_event_age_seconds": None if age is None else round(age, 3),
        "database": "ok" if database_ok else "error",
        "paused": bool(snapshot.get("paused")),
        "uptime_seconds": None if started_at is None else round(max(0.0, now - started_at), 3),
        "last_error": snapshot.get("last_error"),
        "problems": problems,
    }
    return Verdict(healthy=not problems, body=body)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


class OpsServer:
    """The ``/healthz`` and ``/metrics`` endpoints; ``start()`` then ``stop()``.

    ``port=0`` binds a free port (tests); ``port`` then tells which.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        health: Health,
        metrics: Metrics,
        db_check: DbCheck,
        max_age: float,
        clock: Clock = time.time,
        pages: Mapping[str, Pages] | None = None,
    ) -> None:
        self._address = (host, port)
        #: Handlers by path prefix (``/console``), besides the two endpoints.
        self.pages = dict(pages or {})
        self.health = health
        self.metrics = metrics
        self.db_check = db_check
        self.max_age = max_age
        self.clock = clock
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        health: Health,
        metrics: Metrics,
        db_check: DbCheck,
        clock: Clock = time.time,
        pages: Mapping[str, Pages] | None = None,
    ) -> OpsServer | None:
        """The server the settings ask for, or None when ``http_port`` is unset."""
        if settings.http_port is None:
            return None
        return cls(
            host=settings.http_host,
            port=settings.http_port,
            health=health,
            metrics=metrics,
            db_check=db_check,
            max_age=staleness_bound(settings),
            clock=clock,
            pages=pages,
        )

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the ops server is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self._address[0]
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    def verdict(self) -> Verdict:
        try:
            database_ok = bool(self.db_check())
        except Exception:
            log.warning("database health check failed", exc_info=True, extra={"event": "health"})
            database_ok = False
        return assess(
            self.health.snapshot(), database_ok=database_ok, now=self.clock(), max_age=self.max_age
        )

    def start(self) -> OpsServer:
        if self._server is not None:
            return self
        ops = self

        class Handler(_Handler):
            server_ops = ops

        server_class = _IPv6Server if ":" in self._address[0] else ThreadingHTTPServer
        server = server_class(self._address, Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.1,), name="filrouge-ops", daemon=True
        )
        self._thread.start()
        log.info(
            "health and metrics on %s", self.url, extra={"event": "ops_started", "port": self.port}
        )
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> OpsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _IPv6Server(ThreadingHTTPServer):
    # http.server binds IPv4 only; FILROUGE_HTTP_HOST may be "::1" or "::".
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server_ops: OpsServer
    server_version = "filrouge"
    sys_version = ""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if self._paged(path):
            return
        if path == "/healthz":
            verdict = self.server_ops.verdict()
            status = HTTPStatus.OK if verdict.healthy else HTTPStatus.SERVICE_UNAVAILABLE
            self._send(status, "application/json", json.dumps(verdict.body).encode())
        elif path == "/metrics":
            self._send(
                HTTPStatus.OK,
                CONTENT_TYPE_LATEST,
                generate_latest(self.server_ops.metrics.registry),
            )
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n")

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        if not self._paged(self.path.split("?", 1)[0]):
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", b"no\n")

    def _paged(self, path: str) -> bool:
        """Hand the request to the pages of its prefix, if any: True if handled."""
        pages = next(
            (
                handler
                for prefix, handler in self.server_ops.pages.items()
                if path == prefix or path.startswith(prefix + "/")
            ),
            None,
        )
        if pages is None:
            return False
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "text/plain; charset=utf-8", b"")
            return True
        query = parse_qs(self.path.partition("?")[2], keep_blank_values=True)
        request = Request(
            method=self.command,
            path=path,
            query=query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length > 0 else b"",
        )
        try:
            response = pages(request)
        except Exception:
            log.exception("page %s failed", path, extra={"event": "console"})
            response = Response(500, "text/plain; charset=utf-8", b"internal error\n")
        self._send(
            HTTPStatus(response.status), response.content_type, response.body, response.headers
        )
        return True

    def _send(
        self,
        status: HTTPStatus,
        content_type: str,
        body: bytes,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # A scrape every few seconds would flood the log at INFO.
        log.debug("%s " + format, self.address_string(), *args)
