"""Crashes: ``filrouge run`` killed with SIGKILL at random moments while it drains
a backlog, restarted, again and again. In the end every mention has exactly one
recorded outcome and no mention has two replies — on a server that honours
``Idempotency-Key`` and on one that ignores it (issue 6, item 2).

Guards protected: the claim in a transaction before posting (``record``), the
``posting`` mark written before the POST and the search of the thread for an
earlier reply before any repost (``act``), the cursor moved only after what it
covers was recorded (``runner``).

Sizes come from the environment so CI can budget them:
``FILROUGE_CRASH_MENTIONS`` (default 200), ``FILROUGE_CRASH_ROUNDS`` (default 20).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from mastodon_mock.testing import MockServer

from bot.record.store import Store
from tests.conftest import BOT_TOKEN, eventually, mock_config

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MENTIONS = int(os.environ.get("FILROUGE_CRASH_MENTIONS", "200"))
ROUNDS = int(os.environ.get("FILROUGE_CRASH_ROUNDS", "20"))
ROOT = Path(__file__).resolve().parents[2]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def crash_prone(app: ASGIApp, *, honour_keys: bool, delay: float) -> ASGIApp:
    """The mock server, changed the ways this test needs:

    - the answer to ``POST /api/v1/statuses`` leaves ``delay`` seconds after the
      status was created, so kills land between "the server posted" and "the
      bot recorded it" — the window where a naive bot double-posts;
    - with ``honour_keys`` False, ``Idempotency-Key`` is dropped, as servers
      that do not implement it do.
    """

    async def wrapped(scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        if not honour_keys:
            scope = dict(scope)
            scope["headers"] = [
                (name, value)
                for name, value in scope["headers"]
                if name.lower() != b"idempotency-key"
            ]
        posting = scope.get("method") == "POST" and scope.get("path") == "/api/v1/statuses"

        async def slow_send(message: MutableMapping[str, Any]) -> None:
            if posting and message.get("type") == "http.response.start":
                await asyncio.sleep(delay)
            await send(message)

        await app(scope, receive, slow_send)

    return wrapped


def start_bot(server: MockServer, workdir: Path, number: int) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FILROUGE_")}
    env.update(
        {
            "FILROUGE_INSTANCE_URL": server.base_url,
            "FILROUGE_ACCESS_TOKEN": BOT_TOKEN,
            "FILROUGE_DB_PATH": str(workdir / "filrouge.sqlite3"),
            "FILROUGE_POLL_INTERVAL": "0.5",
            "FILROUGE_STREAM_STALL_TIMEOUT": "3",
            "FILROUGE_REQUEST_TIMEOUT": "5",
            "FILROUGE_THREAD_COOLDOWN": "0s",
            "FILROUGE_ACCOUNT_COOLDOWN": "0s",
            "FILROUGE_RESOLVE_HOSTS": "",
            "FILROUGE_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
    )
    # cwd is the test's own directory: no .env is read.
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        # A file, not a pipe: nobody reads a pipe while the bot runs, and a full
        # one would block it.
        stderr=(workdir / f"bot-{number}.log").open("wb"),
    )


def final_count(db: Path) -> int:
    """Mentions with a final outcome, read without writing: polled many times
    a second, a ``Store`` (which checkpoints the WAL as it closes) would
    compete with the bot for the database it is killing."""
    if not db.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as reader:
            row = reader.execute(
                "SELECT count(*) FROM mentions WHERE state IN ('replied', 'skipped')"
            ).fetchone()
    except sqlite3.OperationalError:
        return 0  # no table yet: the first bot is still creating the record
    return int(row[0])


def log_tail(workdir: Path, number: int) -> str:
    path = workdir / f"bot-{number}.log"
    text = path.read_text(errors="replace") if path.exists() else "(no log)"
    return f"bot run {number}, last log lines:\n{text[-3000:]}"


@pytest.mark.parametrize("honours_keys", [True, False], ids=["idempotent", "keys-ignored"])
def test_sigkill_at_random_moments_loses_and_doubles_nothing(
    tmp_path: Path, honours_keys: bool
) -> None:
    server = MockServer(config=mock_config(heartbeat=0.5), shutdown_timeout=1.0).start()
    try:
        # uvicorn hands each new connection ``config.loaded_app``: swapped before
        # the bot's first connection, every request of the bot goes through it.
        uvicorn_config = server._server.config
        uvicorn_config.loaded_app = crash_prone(
            uvicorn_config.loaded_app, honour_keys=honours_keys, delay=0.15
        )
        people = [server.client(name) for name in ("alice", "bob", "carol", "maiwann")]
        me = server.client("filrouge").account_verify_credentials()
        link = "https://app.flus.fr/links/1853382202557961738"
        mentions = [
            people[i % len(people)].status_post(
                f"@filrouge {link} Pour les spectacles, des photos plutôt que l'IA ({i})"
            )
            for i in range(MENTIONS)
        ]
        db = tmp_path / "filrouge.sqlite3"
        rng = random.Random(20261126)
        kills = 0
        for number in range(ROUNDS):
            before = final_count(db)
            bot = start_bot(server, tmp_path, number)
            try:
                # Let it make some progress, then kill it at a random moment.
                progress = eventually(
                    lambda before=before, bot=bot: (
                        final_count(db) > before or bot.poll() is not None
                    ),
                    timeout=30,
                    message=lambda number=number: log_tail(tmp_path, number),
                )
                assert progress
                time.sleep(rng.uniform(0.0, 0.8))
            finally:
                if bot.poll() is None:
                    bot.send_signal(signal.SIGKILL)
                    kills += 1
                bot.wait(10)
            if final_count(db) >= MENTIONS:
                break

        # The last run drains what is left, then stops cleanly on SIGTERM.
        bot = start_bot(server, tmp_path, ROUNDS)
        try:
            eventually(
                lambda: final_count(db) >= MENTIONS,
                timeout=max(60, MENTIONS),
                message=lambda: log_tail(tmp_path, ROUNDS),
            )
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(30)
        assert bot.returncode == 0, log_tail(tmp_path, ROUNDS)
        assert kills >= min(ROUNDS, 3)

        with Store(db) as store:
            rows = store.audit.recent(since=None, outcome=None, limit=MENTIONS * 2)
        assert len(rows) == MENTIONS
        assert {row["state"] for row in rows} <= {"replied", "skipped"}

        # Count the bot's replies on the server, per mention.
        bot_client = server.client("filrouge")
        for mention in mentions:
            context = bot_client.status_context(mention["id"])
            replies = [
                status
                for status in context["descendants"]
                if str(status["account"]["id"]) == str(me["id"])
                and str(status["in_reply_to_id"]) == str(mention["id"])
            ]
            assert len(replies) <= 1, f"mention {mention['id']} answered {len(replies)} times"
    finally:
        server.stop()
