"""Logging: formats, structured fields, token redaction, the env-file permission warning."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.ops.logs import REDACTED, Redactor, setup_logging, warn_if_env_readable
from bot.settings import Settings

TOKEN = "zX9-secret-token_value.0123456789abcdef"


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hooks = sys.excepthook, threading.excepthook
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook, threading.excepthook = hooks


def configure(fmt: str, level: str = "INFO") -> io.StringIO:
    stream = io.StringIO()
    settings = Settings(_env_file=None, access_token=TOKEN, log_format=fmt, log_level=level)  # type: ignore[call-arg]
    setup_logging(settings, stream=stream)
    return stream


pytestmark = pytest.mark.usefixtures("restore_root_logger")


def test_json_lines_carry_time_level_logger_message_and_extra_fields() -> None:
    stream = configure("json")
    logging.getLogger("bot.app.runner").info(
        "mention %s replied",
        "111",
        extra={
            "event": "outcome",
            "notification_id": "111",
            "outcome": "replied",
            "rule": "source",
        },
    )
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "bot.app.runner"
    assert entry["message"] == "mention 111 replied"
    assert entry["time"].endswith("+00:00")
    assert entry["event"] == "outcome"
    assert entry["notification_id"] == "111"
    assert entry["outcome"] == "replied"
    assert entry["rule"] == "source"


def test_text_lines_append_extra_fields_as_key_value() -> None:
    stream = configure("text")
    logging.getLogger("bot.listen.stream").warning(
        "stream dropped", extra={"event": "connection", "reason": "read timeout"}
    )
    line = stream.getvalue().strip()
    assert " WARNING bot.listen.stream: stream dropped" in line
    assert line.endswith('event=connection reason="read timeout"')


def test_level_comes_from_settings() -> None:
    stream = configure("text", level="warning")
    logging.getLogger("bot").info("hidden")
    logging.getLogger("bot").warning("shown")
    assert "hidden" not in stream.getvalue()
    assert "shown" in stream.getvalue()


def test_unknown_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"FILROUGE_LOG_LEVEL.*'loud'"):
        configure("text", level="loud")


def test_setting_up_twice_keeps_one_handler() -> None:
    configure("text")
    stream = configure("json")
    logging.getLogger("bot").info("once")
    assert len(stream.getvalue().splitlines()) == 1
    marked = [h for h in logging.getLogger().handlers if getattr(h, "_filrouge_handler", False)]
    assert len(marked) == 1


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_token_is_redacted_from_message_and_args(fmt: str) -> None:
    stream = configure(fmt)
    log = logging.getLogger("bot.mastodon.client")
    log.info("token is " + TOKEN)
    log.info("token is %s", TOKEN)
    log.info("headers %r", {"Authorization": f"Bearer {TOKEN}"})
    log.info("extra", extra={"detail": f"used {TOKEN}"})
    out = stream.getvalue()
    assert TOKEN not in out
    assert out.count(REDACTED) == 4


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_token_is_redacted_from_exception_message_and_traceback(fmt: str) -> None:
    """Invariant 9: a token inside an exception's message never reaches the log,
    neither in the formatted traceback nor in the exception line."""
    stream = configure(fmt)

    def call_api() -> None:
        raise ConnectionError(
            f"GET https://example.social/api?access_token={TOKEN} failed ({TOKEN})"
        )

    try:
        call_api()
    except ConnectionError:
        logging.getLogger("bot.mastodon.client").exception("call failed")
    out = stream.getvalue()
    assert "Traceback (most recent call last)" in out
    assert "ConnectionError" in out
    assert "call_api" in out
    assert TOKEN not in out
    assert f"access_token={REDACTED}" in out


def test_token_is_redacted_from_a_chained_exception() -> None:
    stream = configure("json")
    try:
        try:
            raise ValueError(f"inner {TOKEN}")
        except ValueError as error:
            raise RuntimeError("outer") from error
    except RuntimeError:
        logging.getLogger("bot").error("boom", exc_info=True)
    entry = json.loads(stream.getvalue())
    assert "ValueError: inner [REDACTED]" in entry["exception"]
    assert TOKEN not in stream.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an Authorization header of any token, known or not
        ("Authorization: Bearer abc.DEF-123", f"Authorization: Bearer {REDACTED}"),
        # the streaming API accepts the token in the query string
        (
            "/api/v1/streaming?access_token=abcd1234&stream=user",
            f"/api/v1/streaming?access_token={REDACTED}&stream=user",
        ),
        # an OAuth token response
        (
            '{"access_token": "abcd1234", "token_type": "Bearer"}',
            f'{{"access_token": "{REDACTED}", "token_type": "Bearer"}}',
        ),
        # the app secret from create_app
        ("client_secret=s3cr3tvalue", f"client_secret={REDACTED}"),
        # ordinary text is left alone
        ("replied to 111 with rule source", "replied to 111 with rule source"),
    ],
)
def test_redactor_patterns(text: str, expected: str) -> None:
    assert Redactor()(text) == expected


def test_short_secret_is_not_replaced_everywhere() -> None:
    assert Redactor(["abc"])("abc def") == "abc def"
    assert Redactor([""])("text") == "text"


def test_env_file_readable_by_others_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = tmp_path / ".env"
    env.write_text(f"FILROUGE_ACCESS_TOKEN={TOKEN}\n")
    os.chmod(env, 0o644)
    with caplog.at_level(logging.WARNING, logger="bot.ops.logs"):
        assert warn_if_env_readable(env) is True
    assert "chmod 600" in caplog.text
    assert TOKEN not in caplog.text


def test_env_file_private_or_missing_is_quiet(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = tmp_path / ".env"
    env.write_text("FILROUGE_ACCESS_TOKEN=x\n")
    os.chmod(env, 0o600)
    with caplog.at_level(logging.WARNING, logger="bot.ops.logs"):
        assert warn_if_env_readable(env) is False
        assert warn_if_env_readable(tmp_path / "missing.env") is False
    assert caplog.text == ""


CRASH = """
import sys, threading
from bot.ops.logs import setup_logging
from bot.settings import Settings
setup_logging(Settings(_env_file=None, access_token=sys.argv[1], log_format=sys.argv[2]))
def worker():
    raise RuntimeError("thread failed with " + sys.argv[1])
thread = threading.Thread(target=worker, name="listener")
thread.start()
thread.join()
raise ConnectionError("main failed with " + sys.argv[1])
"""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_crash_tracebacks_are_logged_redacted(fmt: str) -> None:
    """Invariant 9 for crash reports: uncaught exceptions, in the main thread and
    in a worker thread, go through the log handler instead of a raw traceback."""
    result = subprocess.run(
        [sys.executable, "-c", CRASH, TOKEN, fmt], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert TOKEN not in result.stderr + result.stdout
    assert "thread failed with [REDACTED]" in result.stderr
    assert "main failed with [REDACTED]" in result.stderr
    assert "uncaught exception in thread listener" in result.stderr
    assert result.stderr.count("Traceback (most recent call last)") == 2
