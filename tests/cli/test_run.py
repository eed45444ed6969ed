"""``filrouge run`` as a process: exit codes, signals, a server that is down at start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from mastodon_mock.testing import MockServer

from bot.record.store import Store
from tests.conftest import BOT_TOKEN, eventually

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def run_bot(
    workdir: Path, environment: dict[str, str] | None = None, **settings: str
) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FILROUGE_")}
    env.update(environment or {})
    env.update({f"FILROUGE_{key.upper()}": value for key, value in settings.items()})
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=workdir,  # no .env here
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "bot.log").open("wb"),
    )


def common(server_url: str, workdir: Path) -> dict[str, str]:
    return {
        "instance_url": server_url,
        "access_token": BOT_TOKEN,
        "db_path": str(workdir / "filrouge.sqlite3"),
        "poll_interval": "0.3",
        "resolve_hosts": "",
    }


def test_without_an_instance_it_says_what_to_set(tmp_path: Path) -> None:
    bot = run_bot(tmp_path)
    assert bot.wait(30) == 2
    assert "FILROUGE_INSTANCE_URL" in (tmp_path / "bot.log").read_text()


def test_a_bad_token_exits_with_an_auth_error(server: MockServer, tmp_path: Path) -> None:
    bot = run_bot(tmp_path, **{**common(server.base_url, tmp_path), "access_token": "nope"})
    assert bot.wait(30) == 3
    log = (tmp_path / "bot.log").read_text()
    assert "auth" in log
    assert "nope" not in log


def test_it_waits_for_a_server_that_is_down_then_answers_and_stops_on_sigterm(
    start_server: Callable[..., MockServer], tmp_path: Path
) -> None:
    # Reserve a port, start the bot against it while nothing listens there.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = run_bot(tmp_path, **common(f"http://127.0.0.1:{port}", tmp_path))
    try:
        eventually(lambda: "trying again" in (tmp_path / "bot.log").read_text(), timeout=30)
        assert bot.poll() is None
        bot.send_signal(signal.SIGHUP)  # a reload request is harmless before start
        assert bot.poll() is None
    finally:
        bot.send_signal(signal.SIGTERM)
    assert bot.wait(30) == 0

    server = start_server()
    mention = server.client("alice").status_post(
        "@filrouge https://app.flus.fr/links/1853382202557961738 des photos de spectacles"
    )
    bot = run_bot(tmp_path, **common(server.base_url, tmp_path))
    try:

        def replied() -> bool:
            if not (tmp_path / "filrouge.sqlite3").exists():
                return False
            with Store(tmp_path / "filrouge.sqlite3") as store:
                rows = store.audit.recent(since=None, outcome="replied", limit=5)
            return any(row["status_id"] == str(mention["id"]) for row in rows)

        eventually(replied, timeout=30, message=lambda: (tmp_path / "bot.log").read_text())
        bot.send_signal(signal.SIGHUP)
        eventually(lambda: "reloaded" in (tmp_path / "bot.log").read_text(), timeout=30)
        assert bot.poll() is None
    finally:
        bot.send_signal(signal.SIGTERM)
    assert bot.wait(30) == 0


# -- clean starts: the record before the network -----------------------------------------


def _refused_port() -> str:
    """A loopback URL nothing listens on: a start that touched the network
    first would retry it instead of stopping on the record."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _one_line(workdir: Path) -> str:
    lines = [line for line in (workdir / "bot.log").read_text().splitlines() if line.strip()]
    assert "Traceback" not in "\n".join(lines)
    errors = [line for line in lines if "ERROR" in line or "CRITICAL" in line]
    assert len(errors) == 1, lines
    return errors[0]


def _corrupt(db: Path) -> None:
    db.write_bytes(b"this is not a SQLite database, just some bytes" * 100)


def _locked(db: Path) -> None:
    import sqlite3

    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    _LOCKS.append(holder)


_LOCKS: list[object] = []


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (lambda db: db.parent.chmod(0o500), "not writable"),
        (_corrupt, "not a SQLite database or is damaged"),
        (_locked, "locked by another program"),
    ],
    ids=["unwritable", "corrupt", "locked"],
)
def test_a_record_it_cannot_use_stops_the_start_with_one_line(
    tmp_path: Path, spoil: Callable[[Path], None], says: str
) -> None:
    if os.geteuid() == 0 and says == "not writable":
        pytest.skip("root writes anywhere: the directory's mode does not stop it")
    data = tmp_path / "data"
    data.mkdir()
    db = data / "filrouge.sqlite3"
    spoil(db)
    try:
        bot = run_bot(tmp_path, **{**common(_refused_port(), tmp_path), "db_path": str(db)})
        assert bot.wait(60) == 4
    finally:
        data.chmod(0o700)
        for holder in _LOCKS:
            holder.close()  # type: ignore[attr-defined]
        _LOCKS.clear()
    line = _one_line(tmp_path)
    assert says in line and str(db) in line


def test_a_missing_directory_for_the_record_says_so(tmp_path: Path) -> None:
    db = tmp_path / "nowhere" / "filrouge.sqlite3"
    bot = run_bot(tmp_path, **{**common(_refused_port(), tmp_path), "db_path": str(db)})
    assert bot.wait(60) == 4
    assert "missing or not writable" in _one_line(tmp_path)


def test_under_systemd_it_says_ready_feeds_the_watchdog_and_says_stopping(
    server: MockServer, tmp_path: Path
) -> None:
    """Type=notify: READY=1 once it listens, WATCHDOG=1 within WatchdogSec while
    it runs, STOPPING=1 on SIGTERM, on the socket systemd passes (abstract here)."""
    name = f"filrouge-test-{os.getpid()}-{tmp_path.name}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(30)
        bot = run_bot(
            tmp_path,
            {"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "1000000"},
            **common(server.base_url, tmp_path),
        )
        messages: list[str] = []
        try:
            while not any(m.startswith("READY=1") for m in messages):
                messages.append(sock.recv(4096).decode())
            watchdog = 0
            while watchdog < 2:
                if sock.recv(4096).decode() == "WATCHDOG=1":
                    watchdog += 1
            bot.send_signal(signal.SIGTERM)
            while "STOPPING=1" not in messages:
                messages.append(sock.recv(4096).decode())
        finally:
            if bot.poll() is None:
                bot.send_signal(signal.SIGTERM)
        assert bot.wait(30) == 0
    ready = next(m for m in messages if m.startswith("READY=1"))
    assert "STATUS=answering mentions of @filrouge" in ready


def test_the_notify_protocol_is_silent_outside_systemd() -> None:
    from bot.ops.notify import Notifier

    notifier = Notifier({})
    assert not notifier.enabled and notifier.watchdog_interval == 0
    assert notifier.send("READY=1") is False
    notifier.watchdog()  # no socket: nothing, no error
    assert Notifier({"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "5000000"}).watchdog_interval == 5
    # WATCHDOG_PID names another process: the watchdog is not ours to feed.
    assert Notifier({"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "1"}).watchdog_interval == 0
