"""Secrets (issue 6, item 5; DESIGN invariant 9): the access token never shows.

Suite-wide, the autouse fixture ``_token_never_shows`` and the report hook in
``tests/conftest.py`` fail any test after which the bot's token (``BOT_TOKEN``,
the token of every e2e bot) shows in a log record, in captured output (fd-level:
subprocesses included), in a failure report, or in a file the test left in its
``tmp_path`` (bot logs, the SQLite record). The canaries at the end prove that
check fails when it should. The tests here put the token where it is most
likely to escape: reprs, errors that echo it, whole runs logged at DEBUG in both
formats, ``explain``, and the start-up warning for a readable ``.env``.

Covered elsewhere and not repeated: redaction of messages, arguments, extra
fields, tracebacks and chained exceptions (``test_logs.py``), uncaught crashes
in the main thread and in a worker thread, text and JSON (``test_logs.py::
test_crash_tracebacks_are_logged_redacted``), a live run at DEBUG through
``caplog`` (``test_live.py::test_the_token_never_reaches_logs_or_reprs``).
"""

from __future__ import annotations

import io
import json
import logging
import os
import random
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from mastodon_mock.testing import MockServer

from bot.cli.main import main
from bot.errors import PermanentError
from bot.mastodon.backoff import Backoff
from bot.mastodon.client import Client
from bot.ops.logs import setup_logging
from bot.settings import Settings
from tests.cli.test_run import ROOT, run_bot
from tests.conftest import BOT_TOKEN, SECRET_MARKS, eventually
from tests.ops.test_logs import restore_root_logger
from tests.scenarios.test_live import AFFICHES, SHARED_LINK, Live, live

__all__ = ["live", "restore_root_logger"]  # fixtures shared with their home modules


def shows(text: str) -> bool:
    return any(mark in text for mark in SECRET_MARKS)


def no_sleep() -> Backoff:
    return Backoff(base=0.01, cap=0.05, attempts=2, rng=random.Random(3), sleep=lambda _: None)


# -- reprs ---------------------------------------------------------------------------------


def test_settings_never_show_the_token() -> None:
    """Guard: ``access_token`` is a ``SecretStr`` in ``Settings``: repr, str,
    format, dumps and validation errors show stars."""
    settings = Settings(_env_file=None, access_token=BOT_TOKEN)  # type: ignore[call-arg]
    texts = [
        repr(settings),
        str(settings),
        f"{settings}",
        str(settings.model_dump()),
        settings.model_dump_json(),
        repr(settings.access_token),
        str(settings.access_token),
    ]
    assert not [text for text in texts if shows(text)]
    assert settings.access_token.get_secret_value() == BOT_TOKEN


def test_a_settings_validation_error_does_not_echo_the_token() -> None:
    """A bad value next to the token: pydantic's error lists the bad input only."""
    with pytest.raises(ValueError) as caught:
        Settings(_env_file=None, access_token=BOT_TOKEN, request_timeout="never")  # type: ignore[call-arg]
    assert not shows(str(caught.value)) and not shows(repr(caught.value))


@pytest.mark.parametrize("status", [401, 400, 403])
def test_a_refused_token_error_does_not_echo_it(
    server: MockServer, settings_for: Callable[..., Settings], status: int
) -> None:
    """The server refuses the token and quotes it back in its error text. Guard:
    ``translate(..., secret=...)`` scrubs the server text, and raises ``from None``
    so the original Mastodon.py exception (args carry the body) is not chained
    into tracebacks; ``Client.__repr__`` names the server and account only."""
    server.fault(
        path="/api/v1/accounts/verify_credentials",
        status=status,
        body={"error": f"The access token {BOT_TOKEN} is invalid"},
    )
    client = Client(settings_for(server), backoff=no_sleep())
    with pytest.raises(PermanentError) as caught:
        client.connect()
    error = caught.value
    assert error.kind == "auth"
    formatted = "".join(traceback.format_exception(error))
    texts = [str(error), repr(error), formatted, repr(client), str(client), str(error.args)]
    assert not [text for text in texts if shows(text)]
    assert "[redacted]" in str(error)


# -- whole runs, logged ------------------------------------------------------------------------


@pytest.mark.usefixtures("restore_root_logger")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_whole_run_with_failures_logs_no_token_at_debug(
    live: Callable[..., Live], fmt: str
) -> None:
    """The real bot with the production log handler at DEBUG (Mastodon.py, requests
    and urllib3 included), through server errors whose bodies echo the token on
    the thread, the notifications and the post. Checked twice: the raw records,
    before any redaction, by the suite-wide fixture, and the formatted output.
    Guard: ``translate(..., secret=...)`` scrubbing server text before it becomes
    an error message that the runner logs (this test fails without it). The
    ``RedactingFilter`` is the second line of defence and is not needed here
    (nothing reaches it with a token); ``test_logs.py`` tests it on its own."""
    harness = live(log_format=fmt, log_level="DEBUG", streaming=False)
    stream = io.StringIO()
    setup_logging(harness.settings, stream=stream)
    echo = {"error": f"upstream said: Bearer {BOT_TOKEN}; access_token={BOT_TOKEN}"}
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    harness.notification_id(mention)
    harness.server.fault(path_regex=r"/context$", status=500, body=echo, count=2)
    harness.server.fault(path_regex=r"^/api/v1/notifications$", status=502, body=echo, count=1)
    harness.server.fault(
        path_regex=r"^/api/v1/statuses$", methods=["POST"], status=503, body=echo, count=1
    )
    bot = harness.start()
    assert harness.outcome(mention, timeout=20)["state"] == "replied"
    harness.stop()
    out = stream.getvalue()
    assert "DEBUG" in out or '"level": "DEBUG"' in out
    assert not shows(out)
    assert not [r for r in bot.outcomes() if shows(str(r))]
    if fmt == "json":
        assert all(json.loads(line) for line in out.splitlines())


ESCAPES = "{token} {settings} {access_token} {0.__class__} {requester!r}"


@pytest.mark.parametrize("command", ["explain", "preview"])
def test_explain_and_preview_never_show_the_token(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: str,
) -> None:
    """``explain``/``preview`` read the same settings as ``run`` (token included)
    and print a trace built from user text that names the token's placeholder.
    Guard: the trace and the reply hold values only, never settings."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FILROUGE_ACCESS_TOKEN", BOT_TOKEN)
    for args in (["--json"], []):
        assert main([command, *args, f"@filrouge citation {ESCAPES} {AFFICHES}"]) == 0
        out = capsys.readouterr()
        assert out.out and not shows(out.out + out.err)


# -- .env readable by others ----------------------------------------------------------------------


def test_filrouge_run_warns_about_a_readable_env_file(server: MockServer, tmp_path: Path) -> None:
    """Issue 6: "``.env`` with group/world read permission gets a warning at
    start". ``filrouge run`` as a process, its token in a 0644 ``.env`` in its
    working directory. Guard: ``run`` calls ``warn_if_env_readable(".env")``
    after setting up logging (the function alone is tested in ``test_logs.py``)."""
    env = tmp_path / ".env"
    env.write_text(
        f"FILROUGE_INSTANCE_URL={server.base_url}\nFILROUGE_ACCESS_TOKEN={BOT_TOKEN}\n",
        encoding="utf-8",
    )
    env.chmod(0o644)
    bot = run_bot(
        tmp_path,
        db_path=str(tmp_path / "filrouge.sqlite3"),
        poll_interval="0.3",
        resolve_hosts="",
    )
    log = tmp_path / "bot.log"
    try:
        eventually(lambda: "chmod 600" in log.read_text(), timeout=30)
        # It still starts: the warning is advice, not a refusal.
        eventually(lambda: (tmp_path / "filrouge.sqlite3").exists(), timeout=30)
        assert bot.poll() is None
    finally:
        bot.send_signal(signal.SIGTERM)
    assert bot.wait(30) == 0
    text = log.read_text()
    assert "-rw-r--r--" in text
    assert not shows(text)


# -- the check itself --------------------------------------------------------------------------

CANARY = "FILROUGE_TEST_TOKEN_CANARY"


@pytest.mark.skipif(CANARY not in os.environ, reason="run by test_the_suite_wide_check_fails")
@pytest.mark.parametrize("where", ["log", "stdout", "subprocess", "file", "capsys"])
def test_canary(where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Leaks the token on purpose, one way each (only inside the test below)."""
    if where == "log":
        logging.getLogger("bot.mastodon.client").warning("calling with %s", BOT_TOKEN)
    elif where == "stdout":
        print("token:", BOT_TOKEN)
    elif where == "subprocess":
        subprocess.run([sys.executable, "-c", f"import os; os.write(2, b'{BOT_TOKEN[:12]}')"])
    elif where == "file":
        (tmp_path / "crash-report.txt").write_text(f"Authorization: Bearer {BOT_TOKEN}")
    else:
        print(BOT_TOKEN)
        capsys.readouterr()


def test_the_suite_wide_check_fails_on_each_kind_of_leak() -> None:
    """The conftest check would catch a leak in a log record, in captured output
    (also a subprocess writing to the inherited stderr), in output a test read
    and discarded, and in a file left in ``tmp_path``; and its report never
    quotes the token itself."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rfE",
            "--show-capture=no",
            f"{Path(__file__).relative_to(ROOT)}::test_canary",
        ],
        cwd=ROOT,
        env={**os.environ, CANARY: "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    for where in ("log", "stdout", "subprocess", "file", "capsys"):
        assert f"test_canary[{where}]" in out, out
        assert any(
            f"test_canary[{where}]" in line and line.startswith(("FAILED", "ERROR"))
            for line in out.splitlines()
        ), out
    assert "the access token showed" in out
    assert not shows(out)
