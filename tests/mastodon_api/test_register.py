"""``filrouge register`` end to end against mastodon-mock's OAuth endpoints (real HTTP on loopback).

The admin's browser is played by ``Browser``: it opens the printed authorisation
URL, picks the account on the mock's authorisation page and reads the code the
server shows for the out-of-band redirect, exactly as a person would copy it.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import urllib.parse
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from mastodon import Mastodon
from mastodon_mock.testing import MockServer

from bot.cli import main as cli
from bot.mastodon.register import (
    BOT_SCOPES,
    PROFILE_NOTE,
    REPORT_SCOPE,
    RegisterError,
    normalize_instance,
    register,
    scopes_for,
    write_env,
)
from bot.settings import Settings

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as mock:
        yield mock


@pytest.fixture(autouse=True)
def _fresh(server: MockServer) -> None:
    server.reset()


def settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = attributes.get("action", "")
        elif tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes.get("value", "")


class Browser:
    """Answers the prompts of ``register`` as the admin would, over HTTP."""

    def __init__(self, base_url: str, *accounts: str, profile_answer: str = "y") -> None:
        self.base_url = base_url
        self.accounts = list(accounts)
        self.profile_answer = profile_answer
        self.output: list[str] = []
        self.urls: list[str] = []

    def say(self, text: str) -> None:
        self.output.append(text)

    def ask(self, prompt: str) -> str:
        self.output.append(prompt)
        if "[Y/n]" in prompt:
            return self.profile_answer + "\n"
        url = re.findall(r"https?://\S+", self.output[-2])[-1]
        self.urls.append(url)
        return authorise(self.base_url, url, self.accounts.pop(0)) + "\n"


def authorise(base_url: str, url: str, username: str) -> str:
    """Open the authorisation page, choose ``username``, return the code shown."""
    with urllib.request.urlopen(url, timeout=10) as page:
        form = _Form()
        form.feed(page.read().decode())
    data = urllib.parse.urlencode({**form.fields, "username": username}).encode()
    with urllib.request.urlopen(base_url + form.action, data=data, timeout=10) as answer:
        shown = answer.read().decode()
    match = re.search(r"Authorization code: (\S+?)<", shown)
    assert match, shown
    return match.group(1)


def account(server: MockServer, username: str) -> dict[str, object]:
    me: dict[str, object] = server.client(username).account_verify_credentials()
    return me


def test_register_end_to_end_with_profile(server: MockServer, tmp_path: Path) -> None:
    env = tmp_path / "filrouge.env"
    browser = Browser(server.base_url, "alice", "alice")

    result = register(
        server.base_url, settings=settings(), env_file=env, ask=browser.ask, say=browser.say
    )

    # the env file: both keys, mode 0600
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in env.read_text().splitlines())
    assert values["FILROUGE_INSTANCE_URL"] == server.base_url
    token = values["FILROUGE_ACCESS_TOKEN"]
    # the token works and belongs to the account that authorised
    api = Mastodon(access_token=token, api_base_url=server.base_url)
    assert api.account_verify_credentials()["username"] == "alice"
    assert (result.acct, result.profile_updated) == ("alice", True)
    # it was never shown to the admin
    assert all(token not in line for line in browser.output)

    # the bot's token asked for the minimal scopes, and only those
    first, second = (urllib.parse.parse_qs(urllib.parse.urlsplit(u).query) for u in browser.urls)
    assert first["scope"] == [" ".join(BOT_SCOPES)]
    assert "write:accounts" not in first["scope"][0]
    assert api.app_verify_credentials()["scopes"] == list(BOT_SCOPES)
    # the profile step was a separate authorisation with write:accounts
    assert second["scope"] == ["read:accounts write:accounts"]
    assert first["client_id"] != second["client_id"]

    # the one-time profile token was revoked: only the bot's app still holds a token
    # (the mock's "Development" page lists apps with a live token for the account)
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/_mock/apps", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        apps = json.load(response)
    assert [(a["name"], a["scopes"]) for a in apps] == [("fil-rouge", list(BOT_SCOPES))]

    # bot flag and note are set
    me = account(server, "alice")
    assert me["bot"] is True
    assert "« stop »" in str(me["source"]["note"])  # type: ignore[index]


def test_declining_the_profile_leaves_it_unchanged(server: MockServer, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    browser = Browser(server.base_url, "bob", profile_answer="n")
    result = register(
        server.base_url, settings=settings(), env_file=env, ask=browser.ask, say=browser.say
    )
    assert result.profile_updated is False
    assert len(browser.urls) == 1
    assert account(server, "bob")["bot"] is False


def test_profile_step_authorised_as_another_account_is_refused(
    server: MockServer, tmp_path: Path
) -> None:
    env = tmp_path / ".env"
    browser = Browser(server.base_url, "alice", "bob")
    with pytest.raises(RegisterError, match="not as the bot's account"):
        register(
            server.base_url,
            settings=settings(),
            env_file=env,
            ask=browser.ask,
            say=browser.say,
            profile=True,
        )
    assert account(server, "bob")["bot"] is False
    assert account(server, "alice")["bot"] is False
    # step 1 was done and kept
    assert "FILROUGE_ACCESS_TOKEN=" in env.read_text()


def test_existing_env_file_is_updated_in_place(server: MockServer, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "# fil-rouge\n"
        "FILROUGE_INSTANCE_URL=https://old.example\n"
        "FILROUGE_LANGUAGE=en\n"
        "FILROUGE_ACCESS_TOKEN=old-token\n"
        "\n"
        "FILROUGE_HTTP_PORT=9100\n"
    )
    os.chmod(env, 0o644)
    browser = Browser(server.base_url, "alice")
    register(
        server.base_url,
        settings=settings(),
        env_file=env,
        ask=browser.ask,
        say=browser.say,
        profile=False,
    )
    lines = env.read_text().splitlines()
    assert lines[0] == "# fil-rouge"
    assert lines[1] == f"FILROUGE_INSTANCE_URL={server.base_url}"
    assert lines[2] == "FILROUGE_LANGUAGE=en"
    assert (
        lines[3].startswith("FILROUGE_ACCESS_TOKEN=")
        and lines[3] != "FILROUGE_ACCESS_TOKEN=old-token"
    )
    assert lines[4:6] == ["", "FILROUGE_HTTP_PORT=9100"]
    # the application, appended for the next run
    assert [line.split("=")[0] for line in lines[6:]] == [
        "FILROUGE_CLIENT_ID",
        "FILROUGE_CLIENT_SECRET",
    ]
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


def test_cli_with_code_for_scripting(
    server: MockServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # Settings() reads ./.env
    # The admin authorises in the browser first; the mock's page does not need the app to exist yet.
    code = authorise(
        server.base_url,
        f"{server.base_url}/oauth/authorize?client_id=x&redirect_uri=urn:ietf:wg:oauth:2.0:oob&response_type=code",
        "carol",
    )
    env = tmp_path / "carol.env"
    argv = [
        "register",
        "--instance",
        server.base_url,
        "--env-file",
        str(env),
        "--code",
        code,
        "--no-bot-flag",
    ]
    assert cli.main(argv) == 0
    out = capsys.readouterr()
    token = dict(line.split("=", 1) for line in env.read_text().splitlines())[
        "FILROUGE_ACCESS_TOKEN"
    ]
    assert token not in out.out + out.err
    assert "Authorised as @carol" in out.out
    assert "/oauth/authorize?" in out.out
    assert account(server, "carol")["bot"] is False


def test_cli_without_anyone_to_answer_keeps_the_profile(
    server: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = authorise(
        server.base_url,
        f"{server.base_url}/oauth/authorize?client_id=x&redirect_uri=urn:ietf:wg:oauth:2.0:oob&response_type=code",
        "bob",
    )
    assert cli.main(["register", "--instance", server.base_url, "--code", code]) == 0
    assert "FILROUGE_ACCESS_TOKEN=" in (tmp_path / ".env").read_text()
    assert account(server, "bob")["bot"] is False


def test_cli_bad_code_fails_cleanly_and_writes_no_token(
    server: MockServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    env = tmp_path / ".env"
    argv = [
        "register",
        "--instance",
        server.base_url,
        "--env-file",
        str(env),
        "--code",
        "wrong",
        "--yes",
    ]
    assert cli.main(argv) == 1
    assert "filrouge register: error:" in capsys.readouterr().err
    written = env.read_text()
    assert "FILROUGE_ACCESS_TOKEN" not in written
    # The application is kept for the next run (mode 0600, like the token would be).
    assert "FILROUGE_CLIENT_ID=" in written
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


def env_values(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_a_second_run_with_the_code_finishes_the_first(
    server: MockServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Scripted: the first run prints the URL and stops (nobody to paste the code);
    the admin authorises in a browser; the second run, with --code, reuses the
    application the first one saved, instead of creating another."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    env = tmp_path / "bot.env"
    base = ["register", "--instance", server.base_url, "--env-file", str(env), "--no-bot-flag"]
    assert cli.main(base) == 1
    first = capsys.readouterr()
    assert "run again with --code" in first.err
    url = re.findall(r"https?://\S+/oauth/authorize\S+", first.out)[-1]
    saved = env_values(env)
    assert saved["FILROUGE_CLIENT_ID"] and "FILROUGE_ACCESS_TOKEN" not in saved
    code = authorise(server.base_url, url, "carol")
    assert cli.main([*base, "--code", code]) == 0
    second = capsys.readouterr()
    assert "Using the application saved" in second.out
    assert "/oauth/authorize?" in second.out  # the same URL, for the record
    after = env_values(env)
    assert after["FILROUGE_CLIENT_ID"] == saved["FILROUGE_CLIENT_ID"]
    token = after["FILROUGE_ACCESS_TOKEN"]
    assert token not in second.out + second.err
    assert server.client(token=token).account_verify_credentials()["acct"] == "carol"


def test_revoke_takes_the_token_back_and_forgets_it(
    server: MockServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mastodon.errors import MastodonAPIError

    monkeypatch.chdir(tmp_path)
    env = tmp_path / "bot.env"
    browser = Browser(server.base_url, "carol")
    register(
        server.base_url,
        settings=settings(),
        env_file=env,
        ask=browser.ask,
        say=browser.say,
        profile=False,
    )
    token = env_values(env)["FILROUGE_ACCESS_TOKEN"]
    env.write_text(env.read_text() + "FILROUGE_LANGUAGE=en\n")
    assert cli.main(["register", "--env-file", str(env), "--revoke"]) == 0
    assert "Revoked" in capsys.readouterr().out
    left = env_values(env)
    assert "FILROUGE_ACCESS_TOKEN" not in left and "FILROUGE_CLIENT_SECRET" not in left
    assert left["FILROUGE_LANGUAGE"] == "en"  # the rest of the file is kept
    with pytest.raises(MastodonAPIError):
        server.client(token=token).account_verify_credentials()
    # Nothing left to revoke: a plain error, exit 1.
    assert cli.main(["register", "--env-file", str(env), "--revoke"]) == 1
    assert "nothing to revoke" in capsys.readouterr().err


@pytest.fixture
def plain_http_page() -> Iterator[str]:
    """A loopback web server that is not Mastodon: every path is an HTML page."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _page(self) -> None:
            body = b"<html><body>Welcome to my blog</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _page

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_plain_errors_for_what_is_not_a_mastodon_server(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    plain_http_page: str,
) -> None:
    import socket

    monkeypatch.chdir(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    cases = [
        (f"http://{plain_http_page}", "not a Mastodon API at"),
        (f"http://127.0.0.1:{closed}", "nothing answers at"),
        # https to a server that speaks plain http: the TLS handshake fails
        (f"https://{plain_http_page}", "TLS failed with 127.0.0.1"),
    ]
    for instance, expected in cases:
        code = cli.main(["register", "--instance", instance, "--code", "x", "--no-bot-flag"])
        err = capsys.readouterr().err
        assert code == 1, instance
        assert expected in err, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("mastodon.example", ("https://mastodon.example", False)),  # scheme added
        ("https://mastodon.example/", ("https://mastodon.example", False)),  # slash dropped
        ("http://127.0.0.1:3000", ("http://127.0.0.1:3000", True)),  # loopback dev server
        ("http://localhost:3000", ("http://localhost:3000", True)),
    ],
)
def test_normalize_instance(given: str, expected: tuple[str, bool]) -> None:
    assert normalize_instance(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "http://mastodon.example",  # a code and a token must not cross a network in clear
        "https://mastodon.example/@bot",  # a profile URL, not the instance
        "ftp://mastodon.example",
        "",
    ],
)
def test_normalize_instance_refuses(given: str) -> None:
    with pytest.raises(RegisterError):
        normalize_instance(given)


def test_scopes_are_minimal_and_reports_only_when_configured() -> None:
    assert scopes_for(settings()) == BOT_SCOPES
    assert set(BOT_SCOPES) == {
        "read:notifications",
        "read:statuses",
        "read:accounts",
        "write:statuses",
    }
    assert scopes_for(settings(notify_moderators="report")) == (*BOT_SCOPES, REPORT_SCOPE)
    assert scopes_for(settings(notify_moderators="dm")) == BOT_SCOPES


def test_profile_note_fits_and_says_how_to_stop() -> None:
    assert len(PROFILE_NOTE) <= 500  # Mastodon's limit for a profile note
    for word in ("stop", "start", "aide", "help", "bot"):
        assert word in PROFILE_NOTE


def test_write_env_creates_private_file_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_env(tmp_path / ".env", {"A": "1"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600
    assert (tmp_path / ".env").read_text() == "A=1\n"
    assert list(tmp_path.iterdir()) == [tmp_path / ".env"]  # no temporary file left


def test_write_env_repeated_and_exported_keys(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("export A=old\nB=2\nA=older\n")
    write_env(env, {"A": "new", "C": "3"})
    assert env.read_text() == "A=new\nB=2\nC=3\n"


def test_write_env_refuses_multiline_values(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="span lines"):
        write_env(tmp_path / ".env", {"A": "1\nFILROUGE_X=2"})
    assert not (tmp_path / ".env").exists()


def test_cli_refuses_plain_http_to_a_remote_instance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["register", "--instance", "http://mastodon.example", "--code", "x", "--yes"]
    assert cli.main(argv) == 1
    assert "refusing plain http" in capsys.readouterr().err
    assert not (tmp_path / ".env").exists()


@pytest.mark.parametrize(
    "version", ["takahe/0.11.0", "0.17.3+git-8c2d4e1", "2.7.2 (compatible; Akkoma 3.13.2)", "x"]
)
def test_register_on_a_server_whose_version_mastodon_py_cannot_parse(
    version: str, tmp_path: Path
) -> None:
    """Mastodon.py's log_in parses the version string and died on Takahē's."""
    from tests.conftest import mock_config

    with MockServer(config=mock_config(version=version)) as server:
        browser = Browser(server.base_url, "carol")
        done = register(
            server.base_url,
            settings=settings(),
            env_file=tmp_path / ".env",
            ask=browser.ask,
            say=browser.say,
            profile=False,
        )
    assert done.acct == "carol"
