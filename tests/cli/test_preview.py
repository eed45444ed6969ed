"""``filrouge preview``, ``explain`` and ``check-config`` through ``bot.cli.main``,
on the bundled catalog and rules (the issue's "Done when" list) and on small
files under ``tests/data/cli/``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from bot.text.render import status_length

DATA = Path(__file__).parents[1] / "data" / "cli"
MAIWANN = (
    "@filrouge Pour les spectacles par exemple. Je trouve ça nul de faire des affiches"
    " générées par IA quand on peut juste ré-utiliser des photos de spectacles précédents"
)
ESSAY_URL = "https://mail.paulineharmange.fr/archive/ia-probleme/"
#: A mention as the server would link it: not after a word character, "/" or "=".
MENTION_RE = re.compile(r"(?<![\w/=])@(\w+(?:@[\w.-]*\w)?)")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bundled defaults only: no .env from the working directory, no FILROUGE_* from outside."""
    monkeypatch.chdir(tmp_path)
    import os

    for name in list(os.environ):
        if name.startswith("FILROUGE_"):
            monkeypatch.delenv(name)


def preview(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["preview", "--json", *args]) == 0
    out = capsys.readouterr().out
    data: dict[str, Any] = json.loads(out)  # exactly one JSON object, nothing else
    assert set(data) == {
        "action",
        "text",
        "visibility",
        "spoiler_text",
        "language",
        "essay",
        "quote",
        "prompt",
        "rule",
        "reason",
    }
    return data


def test_the_maiwann_mention(capsys: pytest.CaptureFixture[str]) -> None:
    data = preview(capsys, MAIWANN)
    assert data["action"] == "reply", data
    assert data["essay"] == "ia-probleme"
    assert data["quote"] == "petites-voix"
    assert "Au milieu, des petites voix" in data["text"]
    assert ESSAY_URL in data["text"]
    assert status_length(data["text"], data["spoiler_text"]) <= 500
    assert data["language"] == "fr"
    assert data["reason"] is None
    # the default visibility caps a public mention
    assert data["visibility"] == "unlisted"
    assert MENTION_RE.findall(data["text"]) == ["lecteur@example.org"]


MAIWANN_EN = (
    "@filrouge For shows for instance. I think it's lame to make AI-generated posters when"
    " you can just reuse photos of previous shows, it says so much more ^^."
)


def test_the_maiwann_mention_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    french = preview(capsys, MAIWANN)
    # Tagged French by the client's default: the text says it is English.
    data = preview(capsys, "--lang", "fr", MAIWANN_EN)
    assert data["language"] == "en"
    assert data["quote"] == french["quote"]
    assert "Au milieu, des petites voix" in data["text"]  # the quote stays French
    assert "essay" in data["text"]  # the words around it are English
    assert data["text"] != french["text"]
    # A French text tagged English is answered in French, the same way.
    assert preview(capsys, "--lang", "en", MAIWANN)["language"] == "fr"
    assert status_length(data["text"]) <= 500


def test_without_detection_the_tag_is_trusted(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILROUGE_DETECT_LANGUAGE", "false")
    assert preview(capsys, "--lang", "fr", MAIWANN_EN)["language"] == "fr"
    assert preview(capsys, "--lang", "en", MAIWANN)["language"] == "en"


COMMANDS = [
    # (text, language, rule, what the reply must carry)
    ("@filrouge source", None, "source", ESSAY_URL),
    ("@filrouge lien", None, "source", ESSAY_URL),
    ("@filrouge question", None, "question", None),
    ("@filrouge aide", None, "aide", None),
    ("@filrouge help", "en", "aide", "Mention me"),
    ("@filrouge stop", None, "stop", "start"),
    ("@filrouge start", None, "start", "stop"),
    ("@filrouge why", "en", "pourquoi", None),
    ("@filrouge citation", None, "citation", None),
]


@pytest.mark.parametrize(("text", "language", "rule", "carries"), COMMANDS)
def test_commands(
    capsys: pytest.CaptureFixture[str],
    text: str,
    language: str | None,
    rule: str,
    carries: str | None,
) -> None:
    args = ["--lang", language, text] if language else [text]
    data = preview(capsys, *args)
    assert (data["action"], data["rule"]) == ("reply", rule), data
    if carries:
        assert carries in data["text"]
    if rule == "question":
        assert data["prompt"] is not None
    if rule == "citation":
        assert data["quote"] is not None
    assert MENTION_RE.findall(data["text"]) == ["lecteur@example.org"]


@pytest.mark.parametrize(
    ("visibility", "expected"),
    [
        ("direct", "direct"),
        ("private", "private"),
        ("unlisted", "unlisted"),
        ("public", "unlisted"),
    ],
)
def test_visibility(capsys: pytest.CaptureFixture[str], visibility: str, expected: str) -> None:
    assert preview(capsys, "--visibility", visibility, MAIWANN)["visibility"] == expected


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
@pytest.mark.parametrize("command", ["stop", "start"])
def test_consent_is_confirmed_privately(
    capsys: pytest.CaptureFixture[str], visibility: str, command: str
) -> None:
    """stop/start are confirmed by a direct message, whatever the mention's
    visibility: consent is between the person and the bot."""
    data = preview(capsys, "--visibility", visibility, f"@filrouge {command}")
    assert data["rule"] == command
    assert data["visibility"] == "direct"


def test_content_warning_kept(capsys: pytest.CaptureFixture[str]) -> None:
    data = preview(capsys, "--cw", "IA, débat", MAIWANN)
    assert data["spoiler_text"] == "IA, débat"
    assert status_length(data["text"], data["spoiler_text"]) <= 500


def test_from(capsys: pytest.CaptureFixture[str]) -> None:
    data = preview(capsys, "--from", "@maiwann@example.social", MAIWANN)
    assert data["text"].startswith("@maiwann@example.social ")


def test_a_quote_with_a_handle_never_mentions(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        (DATA / "catalog.toml")
        .read_text(encoding="utf-8")
        .replace("Une phrase courte.", "Comme le dit @someone@example.org, une phrase courte."),
        encoding="utf-8",
    )
    monkeypatch.setenv("FILROUGE_CATALOG_PATH", str(catalog))
    monkeypatch.setenv("FILROUGE_RULES_PATH", str(DATA / "rules.toml"))
    for visibility in ("public", "direct"):
        data = preview(capsys, "--visibility", visibility, "@filrouge citation")
        assert data["quote"] == "q1"
        assert "someone" in data["text"]
        assert MENTION_RE.findall(data["text"]) == ["lecteur@example.org"]


def _status(id: str, acct: str, html: str) -> dict[str, Any]:
    username = acct.split("@")[0]
    return {
        "id": id,
        "created_at": "2026-03-01T10:00:00.000Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "visibility": "public",
        "language": "fr",
        "spoiler_text": "",
        "sensitive": False,
        "uri": f"https://example.social/users/{username}/statuses/{id}",
        "url": f"https://example.social/@{username}/{id}",
        "content": html,
        "account": {
            "id": f"id-{username}",
            "username": username,
            "acct": acct,
            "display_name": username,
            "bot": username == "filrouge",
            "note": "",
            "url": f"https://example.social/@{username}",
            "fields": [],
        },
        "mentions": [],
        "tags": [],
        "emojis": [],
        "media_attachments": [],
        "card": None,
    }


def test_a_reply_to_the_bots_post_needs_a_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    thread = tmp_path / "thread.json"
    thread.write_text(
        json.dumps(
            [
                _status("1", "alice@example.social", "<p>Des affiches par IA, vraiment ?</p>"),
                _status("2", "filrouge", "<p>@alice Pour revenir au texte : « … »</p>"),
            ]
        ),
        encoding="utf-8",
    )
    # the composer pre-filled @filrouge: conversation, not a request
    data = preview(capsys, "--thread", str(thread), "@filrouge @alice je ne suis pas d'accord")
    assert (data["action"], data["reason"]) == ("skip", "not_addressed")
    # asked explicitly
    data = preview(capsys, "--thread", str(thread), "@filrouge @alice source")
    assert (data["action"], data["rule"]) == ("reply", "source")


def test_thread_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    account = {
        "id": "7",
        "username": "alice",
        "acct": "alice@example.social",
        "display_name": "Alice",
        "bot": False,
        "note": "",
        "url": "https://example.social/@alice",
        "fields": [],
    }
    status = {
        "id": "1001",
        "created_at": "2026-03-01T10:00:00.000Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "visibility": "public",
        "language": "fr",
        "spoiler_text": "",
        "sensitive": False,
        "uri": "https://example.social/users/alice/statuses/1001",
        "url": "https://example.social/@alice/1001",
        "content": f'<p>Lu ce matin : <a href="{ESSAY_URL}">{ESSAY_URL}</a></p>',
        "account": account,
        "mentions": [],
        "tags": [],
        "emojis": [],
        "media_attachments": [],
        "card": None,
    }
    thread = tmp_path / "thread.json"
    thread.write_text(json.dumps([status]), encoding="utf-8")
    data = preview(capsys, "--thread", str(thread), "@filrouge source")
    assert data["essay"] == "ia-probleme"
    assert data["rule"] == "source"


def test_thread_file_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["preview", "--thread", str(bad), "x"]) == 2
    assert "bad.json" in capsys.readouterr().err
    assert main(["preview", "--thread", str(tmp_path / "missing.json"), "x"]) == 2
    assert "missing.json" in capsys.readouterr().err


def test_preview_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--cw", "IA", MAIWANN]) == 0
    out = capsys.readouterr().out
    assert "[CW: IA]" in out
    assert "Au milieu, des petites voix" in out
    assert "/500 characters" in out


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", MAIWANN]) == 0
    out = capsys.readouterr().out
    # guards, heat, every rule tried and why, candidates with scores, the budget
    assert "guard" in out and "heat" in out
    assert "rule source: no command word first" in out
    assert "petites-voix" in out and "score" in out
    assert "/500 characters" in out
    assert main(["explain", "--json", MAIWANN]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["decision"]["quote"] == "petites-voix"
    assert {step["kind"] for step in data["trace"]["steps"]} >= {"guard", "rule", "candidates"}


def test_check_config_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "1 essays" in out and "quotes" in out and "prompts" in out and "rules" in out
    assert out.rstrip().endswith("ok")
    # the bundled de-escalation rule gives {rules_url} a line of its own, which
    # decide leaves out when FILROUGE_RULES_URL is empty: nothing to warn about
    assert "warning" not in out


RULES_URL_SHARED = """
[[rules]]
name = "apaisement"
action = "deescalate"
[rules.templates]
fr = \"\"\"{requester} On se calme.
Les règles : {rules_url}\"\"\"

[[rules]]
name = "regles"
action = "deescalate"
[rules.templates]
fr = \"\"\"{requester} On se calme.
{prompt}, et les règles : {rules_url}\"\"\"
"""


def test_check_config_warns_when_an_empty_rules_url_shares_a_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES_URL_SHARED, encoding="utf-8")
    arguments = ["check-config", "--catalog", str(DATA / "catalog.toml"), "--rules", str(rules)]
    assert main(arguments) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if "RULES_URL" in line]
    # only the rule whose link line also carries {prompt}: the other line is dropped whole
    assert len(warnings) == 1
    assert "FILROUGE_RULES_URL is empty" in warnings[0]
    assert "regles" in warnings[0] and "apaisement" not in warnings[0]

    monkeypatch.setenv("FILROUGE_RULES_URL", "https://example.org/about")
    assert main(arguments) == 0
    assert "RULES_URL" not in capsys.readouterr().out


ONLY_A_QUOTE = """
[[rules]]
name = "citation"
action = "quote"
[rules.templates]
fr = "{requester} {quote} {quote_url}"
"""


LOOSE_STOP = """
[[rules]]
name = "stop"
action = "stop"
[rules.when]
commands = ["stop"]
[rules.templates]
fr = "{requester} C’est noté."
"""


def test_check_config_names_the_fallbacks_an_older_rules_file_lacks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Upgrading: a rules file written before the bot abstained on weak evidence
    and took replies back."""
    rules = tmp_path / "rules.toml"
    rules.write_text(ONLY_A_QUOTE, encoding="utf-8")
    assert (
        main(["check-config", "--catalog", str(DATA / "catalog.toml"), "--rules", str(rules)]) == 0
    )
    out = capsys.readouterr().out
    assert "warning: no rule answers a mention that says nothing" in out
    assert "warning: a quote rule without command words has no prompt or link rule after it" in out
    assert "warning: no rule takes back a reply" in out
    assert "alone = true" not in out  # no consent rule to warn about

    rules.write_text(ONLY_A_QUOTE + LOOSE_STOP, encoding="utf-8")
    assert (
        main(["check-config", "--catalog", str(DATA / "catalog.toml"), "--rules", str(rules)]) == 0
    )
    out = capsys.readouterr().out
    assert "warning: rule(s) stop act on a command word whatever follows it" in out
    assert "`alone = true`" in out
    # the bundled rules have all four
    assert main(["check-config"]) == 0
    assert "warning" not in capsys.readouterr().out


def test_check_config_names_the_keywords_no_post_can_match(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A keyword of one function or conversation word loads, and matches
    nothing: the curator is told which, where, and what to write instead."""
    bundled = (Path(__file__).parents[2] / "bot" / "data" / "catalog.toml").read_text("utf-8")
    catalog = tmp_path / "catalog.toml"
    written = (
        bundled.replace('tags = ["debat", "visuels", "amalgame"]', 'tags = ["debat", "the"]')
        .replace('"même panier", "même chose",', '"de", "avant", "même panier", "même chose",')
        .replace('"AGI", "IAG",', '"AGI", "merci", "IAG",')
    )
    assert written.count('"the"') == written.count('"merci"') == written.count('"de"') == 1
    catalog.write_text(written, encoding="utf-8")
    line = catalog.read_text("utf-8").split("\n").index("[[essays.quotes]]") + 1
    concept_line = catalog.read_text("utf-8").split("\n").index('id = "hype-agi"')
    assert main(["check-config", "--catalog", str(catalog)]) == 0
    out = capsys.readouterr().out
    warned = [w for w in out.splitlines() if "is never matched" in w]
    assert [w.split(" is never")[0] for w in warned] == [
        f"warning: {catalog}:{concept_line}: concept hype-agi: 'merci'",
        f"warning: {catalog}:{line}: quote meme-panier: 'de'",
        f"warning: {catalog}:{line}: quote meme-panier: 'the'",
    ]
    assert all("write it in a phrase" in w for w in warned)
    assert out.rstrip().endswith("ok")  # it loads: a warning, not an error


BROKEN = [
    # a duplicate quote id in the catalog
    ("broken_catalog.toml", "rules.toml", r"broken_catalog\.toml:13: .*duplicate id"),
    # an unknown placeholder
    (
        "catalog.toml",
        "broken_rules.toml",
        r"broken_rules\.toml:5: .*unknown placeholder \{auteur\}",
    ),
    # an unknown quote id
    ("catalog.toml", "broken_rules.toml", r"broken_rules\.toml:10: .*unknown quote id \"nope\""),
    # a regex that does not compile
    ("catalog.toml", "broken_rules.toml", r"broken_rules\.toml:18: .*does not compile"),
    # a template that cannot fit the limit
    ("catalog.toml", "broken_rules.toml", r"broken_rules\.toml:26: .*over the limit of 500"),
]


@pytest.mark.parametrize(("catalog", "rules", "expected"), BROKEN)
def test_check_config_reports_broken_files(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    catalog: str,
    rules: str,
    expected: str,
) -> None:
    monkeypatch.setenv("FILROUGE_CATALOG_PATH", str(DATA / catalog))
    monkeypatch.setenv("FILROUGE_RULES_PATH", str(DATA / rules))
    assert main(["check-config"]) == 1
    captured = capsys.readouterr()
    assert re.search(expected, captured.err), captured.err
    assert "problem" in captured.err


def test_check_config_options_override_settings(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "check-config",
            "--catalog",
            str(DATA / "catalog.toml"),
            "--rules",
            str(DATA / "broken_rules.toml"),
        ]
    )
    assert code == 1
    assert "broken_rules.toml:26" in capsys.readouterr().err


def test_broken_config_stops_preview(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILROUGE_RULES_PATH", str(DATA / "broken_rules.toml"))
    assert main(["preview", MAIWANN]) == 1
    assert "broken_rules.toml" in capsys.readouterr().err


def test_preview_and_explain_show_a_pause_in_the_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pause set by an admin (in the record beside the bot) shows offline as it
    holds live: the skip, and the reply that was held."""
    from datetime import UTC, datetime

    from bot.record.store import Store
    from bot.settings import Settings

    answered = preview(capsys, MAIWANN)
    with Store(Settings(_env_file=None).db_path) as store:  # type: ignore[call-arg]
        store.moderation.pause(by="mod", now=datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    data = preview(capsys, MAIWANN)
    assert data["action"] == "skip"
    assert data["reason"] == "paused"
    assert main(["explain", MAIWANN]) == 0
    out = capsys.readouterr().out
    assert "- guard paused: paused by an admin since 2026-03-01 09:30 UTC" in out
    assert f"would have replied by rule {answered['rule']!r}" in out


def test_preview_without_a_record_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    preview(capsys, MAIWANN)
    assert list(tmp_path.iterdir()) == []


def test_check_config_names_misspelt_keys_and_lines_that_set_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelt key leaves its setting at the default without a word: ``run``
    would not do what the file says, so ``check-config`` fails on it."""
    (tmp_path / ".env").write_text(
        "# the bot's token\nFILROUGE_ACCES_TOKEN=abc\nthis line is garbage\n", encoding="utf-8"
    )
    monkeypatch.setenv("FILROUGE_THREAD_COLDOWN", "1m")
    assert main(["check-config"]) == 1
    err = capsys.readouterr().err
    assert (
        ".env:2: unknown setting FILROUGE_ACCES_TOKEN (did you mean FILROUGE_ACCESS_TOKEN?)" in err
    )
    assert ".env:3: not a KEY=value line" in err
    assert "unknown setting FILROUGE_THREAD_COLDOWN (did you mean FILROUGE_THREAD_COOLDOWN?)" in err


def test_env_file_names_the_settings_file_of_every_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--env-file``: one bot's settings beside another's, without ``cd``."""
    (tmp_path / "other.env").write_text("FILROUGE_LANGUAGE=en\n", encoding="utf-8")
    assert main(["check-config", "--env-file", str(tmp_path / "other.env")]) == 0
    assert capsys.readouterr().out.rstrip().endswith("ok")
    data = preview(capsys, "--env-file", str(tmp_path / "other.env"), "@filrouge source")
    assert data["language"] == "en"  # the file's default language, not the bundled "fr"
    # a misspelt key in that file is found there, with its line
    (tmp_path / "bad.env").write_text("FILROUGE_LANGAGE=en\n", encoding="utf-8")
    assert main(["check-config", "--env-file", str(tmp_path / "bad.env")]) == 1
    assert "bad.env:1: unknown setting FILROUGE_LANGAGE" in capsys.readouterr().err


def test_explain_names_each_evidence_step_after_what_was_weighed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A mention with little evidence walks quote, prompt and link rules: each
    evidence step says which (it once said "the" for the essay's link)."""
    text = "@filrouge mon taf c'est l'enfer"
    assert main(["explain", "--json", text]) == 0
    steps = json.loads(capsys.readouterr().out)["trace"]["steps"]
    names = [step["name"] for step in steps if step["kind"] == "evidence"]
    assert names and set(names) <= {"quote", "prompt", "essay"}
    assert "essay" in names


def test_explain_says_a_concepts_words_were_not_enough(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ "learn" and "piano" are words of the bundled catalog's concept of
    making things yourself, and nothing names the essay: each evidence step
    says so, and the mention is skipped off topic with that reason."""
    assert main(["explain", "--json", "@filrouge my kid wants to learn piano"]) == 0
    out = json.loads(capsys.readouterr().out)
    steps = [step for step in out["trace"]["steps"] if step["kind"] == "evidence"]
    assert steps and all(step["ok"] is False for step in steps)
    assert all("nothing names the essay" in step["detail"] for step in steps)
    assert all(step["data"]["own"] == [] for step in steps)
    assert out["decision"]["reason"] == "off_topic"


def test_explain_marks_a_common_word_of_a_passages_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """« gens » is in the text of the bundled quote about small organisations
    and among the most frequent words of French: the candidates and the
    evidence say it is common, and it is no word of evidence."""
    text = "@filrouge arrêtez de traiter de fachos les gens qui font un visuel pour leur loto"
    assert main(["explain", text]) == 0
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if ". petites-voix  score" in line]
    assert "gens (common), visuel" in line
    assert "not enough against 5.00 (gens (common), visuel)" in out
