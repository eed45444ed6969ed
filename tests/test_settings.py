"""Settings: one class, documented in .env.example, read in a documented order."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import DATA_DIR, Settings, is_loopback

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / ".env.example"


def _documented_names() -> list[str]:
    names = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?\s*(FILROUGE_[A-Z_]+)=", line)
        if match:
            names.append(match.group(1))
    return names


def test_every_setting_is_documented_in_env_example() -> None:
    fields = {f"FILROUGE_{name.upper()}" for name in Settings.model_fields}
    documented = _documented_names()
    assert sorted(fields - set(documented)) == [], "settings missing from .env.example"
    assert sorted(set(documented) - fields) == [], ".env.example names unknown settings"
    assert len(documented) == len(set(documented)), "a setting is documented twice"


def test_every_documented_setting_has_a_comment() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^(FILROUGE_[A-Z_]+)=", line):
            previous = lines[number - 1]
            assert previous.startswith("#"), f"line {number + 1} ({line}) has no comment above it"


def test_env_example_loads_as_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(_env_file=EXAMPLE)  # type: ignore[call-arg]
    assert settings.instance_url == "https://mastodon.example"
    assert settings.catalog_path == DATA_DIR / "catalog.toml"
    assert settings.http_port is None


def test_defaults_point_at_the_bundled_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.catalog_path.is_file()
    assert settings.rules_path.is_file()
    assert settings.language == "fr"
    assert settings.default_visibility == "unlisted"
    assert settings.max_characters == 500


def test_environment_beats_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("FILROUGE_LANGUAGE=en\nFILROUGE_THREAD_REPLY_LIMIT=7\n")
    monkeypatch.setenv("FILROUGE_LANGUAGE", "fr")
    settings = Settings()
    assert settings.language == "fr"  # environment
    assert settings.thread_reply_limit == 7  # .env


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("90", timedelta(seconds=90)),  # bare number: seconds
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("24h", timedelta(hours=24)),
        ("2d", timedelta(days=2)),
        ("1.5h", timedelta(minutes=90)),  # fractions
        ("PT6H", timedelta(hours=6)),  # ISO 8601, left to pydantic
    ],
)
def test_durations(raw: str, expected: timedelta, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FILROUGE_MAX_MENTION_AGE", raw)
    assert Settings().max_mention_age == expected


def test_comma_separated_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FILROUGE_BLOCKED", " spam@bad.example , bad.example,,")
    assert Settings().blocked == ("spam@bad.example", "bad.example")


def test_token_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FILROUGE_ACCESS_TOKEN", "s3cr3t-token-value")
    settings = Settings()
    assert "s3cr3t-token-value" not in repr(settings)
    assert "s3cr3t-token-value" not in str(settings)
    assert settings.access_token.get_secret_value() == "s3cr3t-token-value"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FILROUGE_DEFAULT_VISIBILITY", "everyone"),  # not a visibility
        ("FILROUGE_REQUEST_TIMEOUT", "300"),  # a hung call would stall the loop
        ("FILROUGE_MAX_MENTION_AGE", "soon"),
        ("FILROUGE_LOG_FORMAT", "xml"),
    ],
)
def test_bad_values_are_refused(name: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(
    ("value", "seconds"), [("2s", 2.0), ("2", 2.0), ("1.5m", 90.0), (" 3 S ", 3.0), (4, 4.0)]
)
def test_every_duration_setting_takes_units(value: object, seconds: float) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        poll_interval=value,
        stream_stall_timeout=value,
        resolve_timeout=value,
    )
    assert settings.poll_interval == settings.resolve_timeout == seconds
    assert settings.stream_stall_timeout == seconds
    assert Settings(_env_file=None, request_timeout="20s").request_timeout == 20.0  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        (" localhost ", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("10.0.0.1", False),
        ("::ffff:127.0.0.1", True),
        ("::ffff:192.0.2.1", False),
        ("localhost.example.org", False),
        ("social.example", False),
        ("", False),
    ],
)
def test_which_hosts_reach_only_this_machine(host: str, expected: bool) -> None:
    """The console opens without a token, and an instance may be plain http,
    only on these: a wildcard or a private address is reachable from others."""
    assert is_loopback(host) is expected
