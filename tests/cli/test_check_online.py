"""``filrouge check-config --online`` against mastodon-mock: it tells the truth
about the token, a misspelt key, the instance and the stream."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mastodon_mock.testing import MockServer

from bot.cli.main import main
from tests.conftest import BOT_TOKEN

pytestmark = pytest.mark.e2e


def env_file(tmp_path: Path, server: MockServer, **values: str) -> Path:
    lines = {
        "FILROUGE_INSTANCE_URL": server.base_url,
        "FILROUGE_ACCESS_TOKEN": BOT_TOKEN,
        "FILROUGE_DB_PATH": str(tmp_path / "bot.sqlite3"),
        "FILROUGE_RESOLVE_HOSTS": "",
        **values,
    }
    path = tmp_path / ".env"
    path.write_text("".join(f"{k}={v}\n" for k, v in lines.items() if v != "-"), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_filrouge_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("FILROUGE_"):
            monkeypatch.delenv(key)


@pytest.mark.parametrize("protocol", ["websocket", "sse"])
def test_a_good_setup_says_who_what_and_that_it_streams(
    server: MockServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], protocol: str
) -> None:
    path = env_file(tmp_path, server, FILROUGE_STREAM_PROTOCOL=protocol)
    assert main(["check-config", "--env-file", str(path), "--online"]) == 0
    out = capsys.readouterr().out
    assert "token: @filrouge" in out
    assert "instance: mastodon" in out and "500 characters" in out
    assert f"stream: {protocol} at " in out and " up in " in out
    assert out.rstrip().endswith("ok")
    assert BOT_TOKEN not in out


def test_a_wrong_token_is_found(
    server: MockServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = env_file(tmp_path, server, FILROUGE_ACCESS_TOKEN="not-the-token")
    assert main(["check-config", "--env-file", str(path), "--online"]) == 1
    captured = capsys.readouterr()
    assert "token: refused" in captured.out
    assert "filrouge register" in captured.out
    assert not captured.out.rstrip().endswith("ok")


def test_a_misspelt_key_is_found_before_anything_is_asked(
    server: MockServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = env_file(tmp_path, server, FILROUGE_ACCESS_TOKEN="-", FILROUGE_ACCES_TOKEN=BOT_TOKEN)
    assert main(["check-config", "--env-file", str(path), "--online"]) == 1
    err = capsys.readouterr().err
    assert "FILROUGE_ACCES_TOKEN" in err and "FILROUGE_ACCESS_TOKEN" in err
    assert ".env:" in err


def test_a_server_that_does_not_stream_is_reported_not_failed(
    start_server: Callable[..., MockServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(streaming=False)
    path = env_file(tmp_path, server)
    assert main(["check-config", "--env-file", str(path), "--online"]) == 0
    out = capsys.readouterr().out
    assert "does not stream over websocket" in out and "poll every" in out
    assert out.rstrip().endswith("ok")


def test_an_unreachable_server_is_a_plain_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: MockServer
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = env_file(
        tmp_path,
        server,
        FILROUGE_INSTANCE_URL=f"http://127.0.0.1:{port}",
        FILROUGE_REQUEST_TIMEOUT="2s",
    )
    assert main(["check-config", "--env-file", str(path), "--online"]) == 1
    out = capsys.readouterr().out
    assert "server: cannot reach http://127.0.0.1:" in out


def test_a_bad_value_is_named_with_its_file_and_line(
    server: MockServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = env_file(tmp_path, server, FILROUGE_MAX_CHARACTERS="beaucoup")
    line = path.read_text().splitlines().index("FILROUGE_MAX_CHARACTERS=beaucoup") + 1
    assert main(["check-config", "--env-file", str(path)]) == 1
    assert f"{path}:{line}: FILROUGE_MAX_CHARACTERS:" in capsys.readouterr().err
    # Set in the environment, which wins over the file: the environment is named.
    monkeypatch.setenv("FILROUGE_MAX_CHARACTERS", "toujours")
    assert main(["check-config", "--env-file", str(path)]) == 1
    assert "environment: FILROUGE_MAX_CHARACTERS:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("scopes", "good", "said"),
    [
        (["read", "write:statuses"], True, "scopes: read write:statuses"),
        (["read:accounts", "read:statuses", "write:statuses"], False, "missing read:notifications"),
    ],
)
def test_the_token_scopes_are_checked_where_the_server_tells(
    tmp_path: Path, scopes: list[str], good: bool, said: str
) -> None:
    """Mastodon 4.3+ answers apps/verify_credentials with the token's scopes."""
    from bot.cli.check_online import check_online
    from tests.conftest import bot_settings
    from tests.replay_server import ReplayServer

    server = ReplayServer("mastodon-4.3")
    server.routes["GET /api/v1/apps/verify_credentials"] = {
        "status": 200,
        "body": {"name": "fil-rouge", "scopes": scopes},
    }
    server.start()
    try:
        lines: list[str] = []
        settings = bot_settings(server, tmp_path / "r.sqlite3")  # type: ignore[arg-type]
        assert check_online(settings, lines.append) is good
    finally:
        server.stop()
    assert any(said in line for line in lines), lines
