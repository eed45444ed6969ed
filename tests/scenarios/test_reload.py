"""Hot reload of the catalog and rules (issue 4 item 4): by an admin's ``reload``
direct message and by SIGHUP to ``filrouge run``. Good files are used from the
next mention; broken ones never replace good ones and every problem is
reported (the log, and the admin's direct message)."""

from __future__ import annotations

import logging
import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mastodon_mock.testing import MockServer

from bot.catalog.load import load_config
from bot.errors import ConfigError
from bot.settings import DATA_DIR
from bot.text.render import status_length
from tests.cli.test_run import common, run_bot
from tests.conftest import eventually
from tests.scenarios.test_commands import ZWSP, answer_text, answers, dm
from tests.scenarios.test_live import AFFICHES, SHARED_LINK, Live, live, mentioned, text_of

__all__ = ["live"]

pytestmark = pytest.mark.e2e

RULES = (DATA_DIR / "rules.toml").read_text(encoding="utf-8")
SOURCE_FR = "{requester} Le texte dont parle ce fil"
# Each rule has one mistake of its own, so the loader finds several.
BROKEN = """
[[rules]]
name = "one"
action = "nope"
[rules.templates]
fr = "{requester} hello"

[[rules]]
name = "two"
action = "quote"
[rules.templates]
fr = "{requester} {unknown_placeholder}"

[[rules]]
name = "three"
action = "link"
[rules.when]
regex = ["(unclosed"]
[rules.templates]
fr = "{requester} {essay_url}"
"""


def admin_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("admin")
    rules = data / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    return rules


def test_reload_by_direct_message_uses_the_new_rules(
    live: Callable[..., Live], tmp_path_factory: pytest.TempPathFactory
) -> None:
    rules = admin_files(tmp_path_factory)
    harness = live(rules_path=rules, admins="mod")
    bot = harness.start()
    assert bot.actor is not None
    before = bot.actor.config
    assert SOURCE_FR in RULES
    rules.write_text(RULES.replace(SOURCE_FR, "{requester} NOUVEAU Le texte"), encoding="utf-8")
    ask = dm(harness, "mod", "recharger")
    assert harness.outcome(ask)["rule"] == "admin:reload"
    assert "Rechargé" in answer_text(harness, ask)
    assert bot.actor.config is not before
    mention = harness.post("alice", f"@filrouge source {SHARED_LINK}")
    assert harness.outcome(mention)["rule"] == "source"
    [reply] = harness.replies_to(mention)
    assert "NOUVEAU" in text_of(reply)


def test_a_broken_rules_file_keeps_the_old_config_and_the_admin_gets_every_error(
    live: Callable[..., Live],
    tmp_path_factory: pytest.TempPathFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rules = admin_files(tmp_path_factory)
    harness = live(rules_path=rules, admins="mod", max_characters=500)
    bot = harness.start()
    assert bot.actor is not None
    before = bot.actor.config
    rules.write_text(BROKEN * 4, encoding="utf-8")  # enough problems for several statuses
    with pytest.raises(ConfigError) as caught:
        load_config(harness.settings)
    problems = caught.value.problems
    assert len(problems) >= 8

    with caplog.at_level(logging.ERROR, logger="bot.app.runner"):
        ask = dm(harness, "mod", "reload", language="en")
        outcome = harness.outcome(ask)
    assert outcome["rule"] == "admin:reload"
    assert bot.actor.config is before  # the old one keeps running

    def whole_answer() -> list[str]:
        texts = [text_of(s).replace(ZWSP, "") for s in answers(harness, ask)]
        joined = "\n".join(texts)
        return texts if all(p.message in joined for p in problems) else []

    statuses = eventually(whole_answer)
    assert "Reload refused" in statuses[0]
    assert len(statuses) > 1  # too long for one status: continued, never cut off
    for status in answers(harness, ask):
        assert status["visibility"] == "direct"
        assert mentioned(status) == {"mod"}
        assert status_length(text_of(status)) <= 500
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for problem in problems:
        assert problem.message in logged
    assert "reload refused" in logged

    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(mention)["state"] == "replied"


def test_sighup_reloads_a_running_process_and_refuses_broken_files(
    server: MockServer, tmp_path: Path
) -> None:
    """``filrouge run`` installs the SIGHUP handler, so the signal goes to a real process."""
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    log = tmp_path / "bot.log"
    bot = run_bot(
        tmp_path,
        **common(server.base_url, tmp_path),
        rules_path=str(rules),
        account_cooldown="0s",
        thread_cooldown="0s",
    )
    alice = server.client("alice")

    def reply_to(status: dict[str, object]) -> str:
        def found() -> str:
            context = server.client("filrouge").status_context(status["id"])
            mine = [s for s in context["descendants"] if s["account"]["username"] == "filrouge"]
            return text_of(mine[0]) if mine else ""

        text: str = eventually(found, timeout=30, message=log.read_text)
        return text

    try:
        eventually(lambda: "connected as" in log.read_text(), timeout=30, message=log.read_text)
        rules.write_text(BROKEN, encoding="utf-8")
        bot.send_signal(signal.SIGHUP)
        eventually(lambda: "reload refused" in log.read_text(), timeout=30)
        assert "unknown_placeholder" in log.read_text()
        assert bot.poll() is None
        first = alice.status_post(f"@filrouge source {SHARED_LINK}")
        assert "Le texte dont parle ce fil" in reply_to(first)

        rules.write_text(RULES.replace(SOURCE_FR, "{requester} APRÈS Le texte"), encoding="utf-8")
        bot.send_signal(signal.SIGHUP)
        eventually(lambda: "reloaded" in log.read_text(), timeout=30)
        second = alice.status_post(f"@filrouge source {SHARED_LINK}")
        assert "APRÈS" in reply_to(second)
    finally:
        bot.send_signal(signal.SIGTERM)
    assert bot.wait(30) == 0


def test_a_refused_sighup_reload_is_sent_to_the_admins_by_direct_message(
    server: MockServer, tmp_path: Path
) -> None:
    """Issue 4: a SIGHUP reload that fails reports every problem in the log AND to
    the admins by direct message (sent by the worker, not from the signal), while
    the old rules keep answering."""
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    log = tmp_path / "bot.log"
    bot = run_bot(
        tmp_path,
        **common(server.base_url, tmp_path),
        rules_path=str(rules),
        admins="mod",
        language="en",
        account_cooldown="0s",
        thread_cooldown="0s",
    )
    mod = server.client("mod")
    alice = server.client("alice")

    def told() -> list[dict[str, Any]]:
        return [
            n["status"]
            for n in mod.notifications(types=["mention"])
            if n["account"]["username"] == "filrouge"
        ]

    try:
        eventually(lambda: "connected as" in log.read_text(), timeout=30, message=log.read_text)
        rules.write_text(BROKEN, encoding="utf-8")
        bot.send_signal(signal.SIGHUP)
        eventually(lambda: "reload refused" in log.read_text(), timeout=30)

        def whole() -> list[dict[str, Any]]:
            # Long: continued over several statuses, each a reply to the one before.
            statuses = sorted(told(), key=lambda status: int(status["id"]))
            text = "\n".join(text_of(status) for status in statuses)
            counted = re.search(r"(\d+) problem\(s\)", text)
            listed = [line for line in text.splitlines() if line.startswith("- rules.toml")]
            return statuses if counted and int(counted[1]) == len(listed) else []

        statuses = eventually(whole, timeout=30, message=log.read_text)
        for status in statuses:
            assert status["visibility"] == "direct"
            assert mentioned(status) == {"mod"}
            assert status_length(text_of(status)) <= 500
        text = "\n".join(text_of(status) for status in statuses).replace(ZWSP, "")
        assert "Reload refused" in text
        # Every problem, located by the file's name (never its full path) and line.
        for located in ("rules.toml:4:", "rules.toml:12:", "rules.toml:18:"):
            assert located in text
        assert "unknown_placeholder" in text
        assert str(tmp_path) not in text
        assert bot.poll() is None

        mention = alice.status_post(f"@filrouge source {SHARED_LINK}")

        def reply() -> str:
            context = server.client("filrouge").status_context(mention["id"])
            mine = [s for s in context["descendants"] if s["account"]["username"] == "filrouge"]
            return text_of(mine[0]) if mine else ""

        assert "The essay this thread is about" in eventually(
            reply, timeout=30, message=log.read_text
        )
        assert len(told()) == len(statuses)  # one refused reload, one message
    finally:
        bot.send_signal(signal.SIGTERM)
    assert bot.wait(30) == 0
