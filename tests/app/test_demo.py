"""``filrouge demo`` end to end: an embedded Mastodon, the real bot, a reply."""

from __future__ import annotations

import io
import time

import pytest

from bot.app.demo import MENTION, SHARED_LINK, run_demo
from bot.cli.main import main

pytestmark = pytest.mark.e2e


def test_the_demo_shows_the_thread_and_the_bots_reply() -> None:
    out = io.StringIO()
    started = time.monotonic()
    code = run_demo(out, timeout=15.0)
    elapsed = time.monotonic() - started
    text = out.getvalue()
    assert code == 0, text
    assert elapsed < 20.0
    # The thread as a person reads it: the shared link, the mention, then the reply.
    assert SHARED_LINK in text
    assert "Pour les spectacles par exemple" in text
    assert MENTION.text.startswith("@maiwann @filrouge")
    _, _, reply = text.partition("fil-rouge replied")
    assert reply, text
    assert "fil rouge (@filrouge) [bot]" in reply
    assert "@lea" in reply
    assert "paulineharmange.fr" in reply
    assert "<p>" not in text  # plain text, not the server's HTML


def test_the_demo_runs_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--timeout", "15"]) == 0
    assert "fil-rouge replied" in capsys.readouterr().out


def test_the_demo_stops_its_server_without_waiting_on_closed_streams(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """The bot closes its stream; the embedded server must not then wait out
    its join (a warning after five seconds) nor print the handlers it cancels."""
    import threading

    before = set(threading.enumerate())
    with caplog.at_level("WARNING"):
        assert run_demo(io.StringIO(), timeout=15.0) == 0
    assert not [r for r in caplog.records if r.name.startswith(("mastodon_mock", "uvicorn"))]
    assert "Traceback" not in capfd.readouterr().err
    # the server's thread (uvicorn's ``run``) has ended, not been left behind
    left = [t.name for t in set(threading.enumerate()) - before if t.name.endswith("(run)")]
    assert left == []
