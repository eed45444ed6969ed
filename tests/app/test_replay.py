"""Tests for bot.replay and ``filrouge replay``.

tests/data/replay/threads.jsonl holds saved threads with the HTML Mastodon
sends (the seed thread, a link request in English, a reading prompt, a heated
thread seen by a bystander and by the heated one, an opt-out, a bot account,
``#nobot``, a direct mention with a content warning saved as a notification)
and three lines that cannot be read, plus a blank line. Everything runs the
real catalog, rules, ``bot.understand`` and ``bot.decide``; nothing is mocked.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.app.replay import Summary, parse_line, replay_lines, result_text, self_id
from bot.app.wiring import policy_from_settings
from bot.catalog.load import load_config
from bot.cli.main import main
from bot.model.decision import Reply, Skip, SkipReason
from bot.settings import Settings

DATA = Path(__file__).parents[1] / "data"
THREADS = DATA / "replay" / "threads.jsonl"
THREE = DATA / "catalogs" / "three_essays.toml"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings from the defaults and the test only: no .env, no FILROUGE_* from the shell."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("FILROUGE_"):
            monkeypatch.delenv(name)


def replay_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["replay", *argv, "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


# -- the command -------------------------------------------------------------------------


def test_replay_prints_each_thread_then_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(THREADS)]) == 0
    out = capsys.readouterr().out
    blocks = out.split("\n\n")
    assert blocks[0].splitlines()[:3] == [
        "line 1 · @bob · status 114160098772047326 · 2 posts above",
        "  essay ia-probleme (by alias: https://app.flus.fr/links/1853382202557961738)",
        "  reply by rule citation-par-defaut (quote) · quote petites-voix · unlisted · fr"
        " · 268/500",
    ]
    # the reply itself, as it would be posted
    assert "  │ @bob Pour revenir au texte\xa0:" in blocks[0]
    assert "line 7: unreadable: not JSON: Expecting property name" in out
    assert "line 9: unreadable: expected a JSON array of status entities" in out
    assert "line 13: unreadable: status 114160098772197787 has no 'content'" in out
    assert "  skip (bot_account): @beepboop@bots.example is a bot account" in out
    summary = out[out.index("12 threads:") :].splitlines()
    assert summary == [
        "12 threads: 7 replies, 2 skips, 3 unreadable",
        "by rule:",
        "  (no rule)            2",
        "  apaisement           2",
        "  citation             1",
        "  citation-par-defaut  1",
        "  question             1",
        "  source               1",
        "  stop                 1",
        "by skip reason:",
        "  unreadable   3",
        "  bot_account  1",
        "  nobot        1",
    ]


def test_replay_json_says_what_the_bot_would_do_per_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = replay_json(capsys, str(THREADS))
    results = {r["line"]: r for r in data["results"]}
    # the blank line 4 is not a thread
    assert sorted(results) == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    actions = {n: (r["action"], r.get("rule"), r.get("reason")) for n, r in results.items()}
    assert actions == {
        1: ("reply", "citation-par-defaut", None),
        2: ("reply", "source", None),
        3: ("reply", "question", None),
        # a heated thread: the insults traded just above the mention count too
        5: ("reply", "apaisement", None),
        6: ("reply", "apaisement", None),
        7: ("unreadable", None, None),
        8: ("reply", "stop", None),
        9: ("unreadable", None, None),
        10: ("skip", None, "bot_account"),
        11: ("skip", None, "nobot"),
        12: ("reply", "citation", None),
        13: ("unreadable", None, None),
    }
    assert data["summary"] == {
        "lines": 12,
        "replies": 7,
        "skips": 2,
        "unreadable": 3,
        "errors": 0,
        "by_rule": {
            "(no rule)": 2,
            "apaisement": 2,
            "citation": 1,
            "citation-par-defaut": 1,
            "question": 1,
            "source": 1,
            "stop": 1,
        },
        "by_reason": {"unreadable": 3, "bot_account": 1, "nobot": 1},
    }
    first = results[1]
    assert (first["essay"], first["essay_how"]) == ("ia-probleme", "alias")
    assert first["quote"] == "petites-voix"
    assert first["text"].startswith("@bob Pour revenir au texte\xa0:")
    assert first["length"] <= 500
    # English mention, English template
    assert results[2]["language"] == "en"
    assert results[2]["text"].startswith("@carol@mastodon.example The essay this thread is about")


def test_a_direct_mention_saved_as_a_notification_keeps_its_audience_and_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    direct = replay_json(capsys, str(THREADS))["results"][10]
    assert direct["line"] == 12
    assert direct["visibility"] == "direct"
    assert direct["spoiler_text"] == "IA, travail"
    assert direct["quote"] == "productivite"
    assert direct["requester"] == "@alice@piaille.example"


def test_replay_reads_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = THREADS.read_text(encoding="utf-8").splitlines()[0]
    monkeypatch.setattr("sys.stdin", io.StringIO(first + "\n"))
    data = replay_json(capsys, "-")
    assert [r["rule"] for r in data["results"]] == ["citation-par-defaut"]


def test_a_rule_change_shows_in_the_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The admin tries the de-escalation rule in observe mode before it goes live.
    rules = (Settings().rules_path).read_text(encoding="utf-8")
    marker = 'name = "apaisement"\n'
    assert marker in rules
    changed = tmp_path / "rules.toml"
    changed.write_text(rules.replace(marker, marker + 'mode = "observe"\n'), encoding="utf-8")
    monkeypatch.setenv("FILROUGE_RULES_PATH", str(changed))
    assert main(["replay", str(THREADS)]) == 0
    out = capsys.readouterr().out
    assert "mode observe: would not be posted" in out
    assert "replies that would not be posted (rule mode):\n  apaisement (observe)  2" in out


# -- many essays: none can be told apart ---------------------------------------------------------


def _neutral_thread() -> str:
    """Line 2 of the file (a link request) with a root that names no essay."""
    statuses = json.loads(THREADS.read_text(encoding="utf-8").splitlines()[1])
    root = statuses[0]
    root["content"] = "<p>Bon, on en parle ou pas ?</p>"
    root["card"] = None
    root["tags"] = []
    return json.dumps(statuses, ensure_ascii=False)


@pytest.mark.parametrize("policy", ["list", "skip"])
def test_with_three_essays_a_thread_without_evidence(
    policy: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads = tmp_path / "threads.jsonl"
    threads.write_text(_neutral_thread() + "\n", encoding="utf-8")
    monkeypatch.setenv("FILROUGE_CATALOG_PATH", str(THREE))
    monkeypatch.setenv("FILROUGE_UNKNOWN_ESSAY", policy)
    (result,) = replay_json(capsys, str(threads))["results"]
    assert result["essay"] is None and result["essay_how"] == "none"
    if policy == "list":
        assert result["action"] == "reply"
        assert "The Library Is Not a Warehouse" in result["text"]
        assert "Sobriété numérique : le mythe du petit geste" in result["text"]
    else:
        assert (result["action"], result["reason"]) == ("skip", "no_essay")


# -- failures --------------------------------------------------------------------------------------


def test_a_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "nope.jsonl"]) == 2
    assert "nope.jsonl: cannot read" in capsys.readouterr().err


def test_a_broken_catalog_is_reported_not_replayed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILROUGE_CATALOG_PATH", str(DATA / "catalogs" / "catalog_syntax.toml"))
    assert main(["replay", str(THREADS)]) == 1
    captured = capsys.readouterr()
    assert "catalog_syntax.toml" in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[]", "empty thread"),
        ("[1, 2]", r"the mention \(item 2\) is not a JSON object"),
        ('"hello"', "not str"),
        ('[{"id": "1"}]', "status 1"),
        ('[{"id": "9", "type": "mention"}]', "status 9"),
    ],
)
def test_unreadable_lines_say_why(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_line(line)


def test_a_decision_that_fails_is_reported_and_the_replay_goes_on() -> None:
    settings = Settings()
    lines = THREADS.read_text(encoding="utf-8").splitlines()[:2]
    # Not a Config: every decision fails inside the bot, which the replay
    # must report per line rather than stop at.
    broken: Any = object()
    results = list(
        replay_lines(lines, broken, policy_from_settings(settings, self_id=""), threshold=1.0)
    )
    assert [r.crashed for r in results] == [True, True]
    summary = Summary()
    for result in results:
        summary.add(result)
    assert summary.crashed == 2
    assert "2 errors" in summary.to_text()
    assert result_text(results[0]).startswith("line 1 @bob: error: AttributeError")


def test_the_bot_is_recognised_in_the_thread() -> None:
    settings = Settings()
    config = load_config(settings)
    lines = THREADS.read_text(encoding="utf-8").splitlines()
    mention, thread = parse_line(lines[0])
    # named in the mention's ``mentions`` list
    assert self_id(mention, thread, "filrouge") == "110000000000000001"
    assert self_id(mention, thread, "@filrouge@social.example") == "110000000000000001"
    assert self_id(mention, thread, "someone-else") == "replay:someone-else"
    # a mention written by the bot itself is its own: skipped as such
    statuses = json.loads(lines[0])
    statuses[-1]["account"] = {**statuses[-1]["account"], "id": "110000000000000001"}
    statuses[-1]["account"].update(acct="filrouge", username="filrouge", bot=True)
    (result,) = replay_lines(
        [json.dumps(statuses)],
        config,
        policy_from_settings(settings, self_id=""),
        threshold=settings.essay_threshold,
    )
    assert result.outcome is not None
    decision = result.outcome.decision
    assert isinstance(decision, Skip) and decision.reason is SkipReason.SELF


def test_now_is_the_mention_time() -> None:
    # The saved mentions are from 2025; replayed "now" they would be too old.
    settings = Settings()
    lines = THREADS.read_text(encoding="utf-8").splitlines()[:1]
    (result,) = replay_lines(
        lines,
        load_config(settings),
        policy_from_settings(settings, self_id=""),
        threshold=settings.essay_threshold,
    )
    assert result.outcome is not None
    assert isinstance(result.outcome.decision, Reply)


def test_a_mute_in_the_record_shows_in_the_replay(capsys: pytest.CaptureFixture[str]) -> None:
    """Line 1's thread starts at status 114160098772031488: muted by an admin in
    the record beside the bot, its reply is held; the other threads are not."""
    from datetime import UTC, datetime

    from bot.record.store import Store
    from bot.settings import Settings

    with Store(Settings(_env_file=None).db_path) as store:  # type: ignore[call-arg]
        store.moderation.mute(
            "114160098772031488",
            thread_id="114160098772031488",
            by="mod",
            url="",
            now=datetime(2026, 3, 1, tzinfo=UTC),
        )
    results = {r["line"]: r for r in replay_json(capsys, str(THREADS))["results"]}
    assert (results[1]["action"], results[1]["reason"]) == ("skip", "muted")
    assert (results[2]["action"], results[2]["rule"]) == ("reply", "source")


@pytest.mark.parametrize(("detect", "expected"), [("true", "fr"), ("false", "en")])
def test_the_language_is_read_from_the_text_unless_detection_is_off(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    detect: str,
    expected: str,
) -> None:
    # The seed thread's French mention, tagged English by its client.
    statuses = json.loads(THREADS.read_text(encoding="utf-8").splitlines()[0])
    statuses[-1]["language"] = "en"
    saved = tmp_path / "tagged.jsonl"
    saved.write_text(json.dumps(statuses) + "\n", encoding="utf-8")
    monkeypatch.setenv("FILROUGE_DETECT_LANGUAGE", detect)
    [result] = replay_json(capsys, str(saved))["results"]
    assert result["language"] == expected
