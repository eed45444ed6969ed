"""The console over real HTTP on loopback (``bot.console``): what it shows and
the rules it keeps — a token off loopback, cross-origin requests refused,
everything escaped, direct messages hidden, a strict CSP, nothing written.
"""

from __future__ import annotations

import hashlib
import http.client
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from bot.catalog.load import load_config
from bot.console.app import PREFIX, Console
from bot.model.catalog import Action
from bot.model.decision import Reply, SkipReason
from bot.ops.metrics import Health, Metrics
from bot.ops.server import OpsServer
from bot.record.store import Store
from bot.settings import Settings

NOW = datetime.now(UTC)
SCRIPT = "<script>alert('x')</script> les affiches"


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "instance_url": "https://social.example",
        "access_token": "console-test-token",
        "db_path": tmp_path / "record.sqlite3",
        "config_cache": False,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def record(path: Path) -> None:
    """A few mentions: a public one whose text holds markup, a direct message,
    a skip."""
    with Store(path) as store:
        for nid, visibility, text in (
            ("n1", "public", f"@filrouge {SCRIPT}"),
            ("n2", "direct", "@filrouge un secret entre nous"),
        ):
            store.mentions.enqueue(nid, f"s{nid}", f"a{nid}", NOW)
            store.mentions.claim(nid, NOW, stale_after=timedelta(0))
            store.texts.keep(
                nid,
                status_id=f"s{nid}",
                account_id=f"a{nid}",
                acct=f"user{nid}@social.example",
                text=text,
                url=f"https://social.example/@user{nid}/s{nid}",
                visibility=visibility,
                now=NOW,
            )
            store.mentions.mark_posting(nid, f"key:{nid}", NOW)
            store.mentions.mark_replied(
                nid,
                reply_id=f"r{nid}",
                reply=Reply(
                    text=f"@user{nid} Ce qu'en dit le texte",
                    visibility=visibility,
                    spoiler_text="",
                    language="fr",
                    in_reply_to_id=f"s{nid}",
                    rule="citation",
                    action=Action.QUOTE,
                    essay_id="ia-probleme",
                    quote_id="petites-voix",
                ),
                thread_id=f"t{nid}",
                account_id=f"a{nid}",
                trace={
                    "steps": [
                        {
                            "kind": "evidence",
                            "name": "quote",
                            "ok": True,
                            "detail": "secret words: affiches",
                        }
                    ]
                },
                now=NOW,
            )
        store.mentions.enqueue("n3", "sn3", "an3", NOW)
        store.mentions.claim("n3", NOW, stale_after=timedelta(0))
        store.mentions.mark_skipped(
            "n3", reason=SkipReason.OFF_TOPIC, detail="nothing", rule=None, trace={}, now=NOW
        )


Served = Callable[..., OpsServer]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    started: list[OpsServer] = []

    def serve(**overrides: Any) -> OpsServer:
        settings = settings_for(tmp_path, **overrides)
        if not settings.db_path.exists():
            record(settings.db_path)
        config = load_config(settings)
        console = Console(settings=settings, config=lambda: config, self_id=lambda: "1")
        server = OpsServer(
            host=settings.http_host,
            port=0,
            health=Health(),
            metrics=Metrics(),
            db_check=lambda: True,
            max_age=60,
            pages={PREFIX: console},
        ).start()
        started.append(server)
        return server

    yield serve
    for server in started:
        server.stop()


def call(
    server: OpsServer,
    path: str,
    *,
    method: str = "GET",
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    body = urlencode(form).encode() if form is not None else None
    sent = dict(headers or {})
    if body is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=sent)
    response = connection.getresponse()
    text = response.read().decode()
    found = {name.lower(): value for name, value in response.getheaders()}
    connection.close()
    return response.status, found, text


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_on_loopback_it_shows_the_mentions_escaped_and_hides_direct_messages(
    served: Served, tmp_path: Path
) -> None:
    server = served()
    status, headers, page = call(server, "/console")
    assert status == 200
    assert "&lt;script&gt;" in page and "<script>" not in page  # shown as text
    assert "@usern1@social.example" in page
    assert "un secret entre nous" not in page and "usern2" not in page
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "script-src" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    # the trace of the direct message is hidden too; the public one's is shown
    assert "secret words" not in call(server, "/console/mentions/n2")[2]
    assert "secret words: affiches" in call(server, "/console/mentions/n1")[2]


def test_direct_messages_show_when_the_admins_say_so(served: Served) -> None:
    server = served(console_show_direct=True)
    page = call(server, "/console")[2]
    assert "un secret entre nous" in page


def test_off_loopback_without_a_token_everything_is_401(served: Served) -> None:
    server = served(http_host="0.0.0.0")
    for path in ("/console", "/console/mentions/n1", "/console/plots", "/console/catalog"):
        status, _, page = call(server, path)
        assert status == 401, path
        assert "usern1" not in page and "FILROUGE_CONSOLE_TOKEN" in page
    assert call(server, "/console/preview", method="POST", form={"text": "x"})[0] == 401


def test_with_a_token_a_login_opens_a_strict_session(served: Served) -> None:
    server = served(http_host="0.0.0.0", console_token="s3cret-token")
    assert call(server, "/console")[0] == 401
    status, _, page = call(server, "/console/login", method="POST", form={"token": "wrong"})
    assert status == 401 and "not the console" in page
    status, headers, _ = call(
        server, "/console/login", method="POST", form={"token": "s3cret-token"}
    )
    assert status == 303
    set_cookie = headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    assert "Path=/console" in set_cookie
    session = set_cookie.split(";", 1)[0]
    assert call(server, "/console", headers={"Cookie": session})[0] == 200
    assert call(server, "/console", headers={"Cookie": "filrouge_console=forged"})[0] == 401
    assert call(server, "/console", headers={"Authorization": "Bearer s3cret-token"})[0] == 200
    # guessing is throttled: after ten wrong tokens in a minute, even the right one waits
    for _ in range(10):
        call(server, "/console/login", method="POST", form={"token": "guess"})
    assert call(server, "/console/login", method="POST", form={"token": "s3cret-token"})[0] == 429
    # logging out ends the session
    call(server, "/console/logout", method="POST", headers={"Cookie": session})
    assert call(server, "/console", headers={"Cookie": session})[0] == 401


def test_a_cross_origin_request_is_refused(served: Served) -> None:
    server = served()
    host = urlsplit(server.url).netloc
    status, _, _ = call(
        server,
        "/console/preview",
        method="POST",
        form={"text": "@filrouge citation"},
        headers={"Origin": "https://evil.example"},
    )
    assert status == 403
    assert call(server, "/console", headers={"Origin": "null"})[0] == 403
    same = call(
        server,
        "/console/preview",
        method="POST",
        form={"text": "@filrouge citation"},
        headers={"Origin": f"http://{host}"},
    )
    assert same[0] == 200


def test_the_preview_decides_and_posts_nothing(served: Served, tmp_path: Path) -> None:
    server = served()
    before = digest(tmp_path / "record.sqlite3")
    status, _, page = call(
        server,
        "/console/preview",
        method="POST",
        form={"text": "@filrouge citation <b>affiches</b> #iaprobleme"},
    )
    assert status == 200
    assert "It would reply" in page and "&lt;b&gt;affiches&lt;/b&gt;" in page
    thread = call(
        server,
        "/console/preview",
        method="POST",
        form={"text": "@filrouge ?", "thread": "https://social.example/@usern1/sn1"},
    )[2]
    assert "It would" in thread
    unknown = call(
        server, "/console/preview", method="POST", form={"text": "x", "thread": "https://x/1"}
    )[2]
    assert "not a mention the record kept" in unknown
    assert digest(tmp_path / "record.sqlite3") == before


def test_filters_plots_and_catalog(served: Served) -> None:
    server = served()
    skipped = call(server, "/console?outcome=skipped")[2]
    assert skipped.count('<tr class="skipped">') == 1 and "usern1" not in skipped
    replied = call(server, "/console?outcome=replied&rule=citation&since=24h")[2]
    assert replied.count('<tr class="replied">') == 2 and '<tr class="skipped">' not in replied
    assert "usern1" in replied
    plots = call(server, "/console/plots")[2]
    assert plots.count("<svg") == 7 and "<title>skips by reason</title>" in plots
    catalog = call(server, "/console/catalog")[2]
    assert "petites-voix" in catalog and 'class="never"' in catalog
    assert call(server, "/console/nowhere")[0] == 404


def test_no_record_yet_is_an_empty_page(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    console = Console(settings=settings, config=lambda: load_config(settings), self_id=lambda: "1")
    from bot.ops.server import Request

    response = console(Request("GET", "/console", {}, {"host": "127.0.0.1"}))
    assert response.status == 200 and b"No record yet" in response.body
    assert not settings.db_path.exists()


def test_filrouge_run_serves_the_console_only_when_asked(tmp_path: Path) -> None:
    from bot.app.runner import Bot
    from bot.cli.run import console_pages

    on = settings_for(tmp_path, console=True, http_port=8080)
    bot = Bot(on)
    assert list(console_pages(on, bot)) == [PREFIX]
    assert console_pages(settings_for(tmp_path, http_port=8080), bot) == {}
    # no port, no ops server: nothing to serve it on
    assert console_pages(settings_for(tmp_path, console=True), bot) == {}
