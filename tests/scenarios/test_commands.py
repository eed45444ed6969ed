"""User commands by mention and admin commands by direct message, end to end:
the real ``Bot`` against mastodon-mock over loopback HTTP (issue 4 items 2-3,
issue 5 items 3-4). Nothing of the project is mocked.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import generate_latest

from bot.catalog.essays import load_catalog
from bot.cli.main import main
from bot.ops.server import OpsServer
from bot.record.store import Store
from bot.settings import DATA_DIR
from bot.text.render import status_length
from tests.conftest import eventually
from tests.scenarios.test_live import AFFICHES, SHARED_LINK, Live, live, mentioned, text_of

__all__ = ["live"]  # the fixture, shared with the live bot's tests

pytestmark = pytest.mark.e2e

ESSAY_URL = "https://mail.paulineharmange.fr/archive/ia-probleme/"
ZWSP = "\u200b"


def answers(harness: Live, status: Any) -> list[Any]:
    """Every status the bot posted below ``status`` (an answer and its continuations)."""
    context = harness.client("filrouge").status_context(status["id"])
    return [s for s in context["descendants"] if str(s["account"]["id"]) == str(harness.me["id"])]


def answer_text(harness: Live, status: Any) -> str:
    def found() -> str:
        return "\n".join(text_of(s) for s in answers(harness, status)).replace(ZWSP, "")

    text: str = eventually(found)
    return text


def account_id(harness: Live, who: str) -> str:
    return str(harness.client(who).account_verify_credentials()["id"])


def opted_out(harness: Live, who: str) -> bool:
    with Store(harness.settings.db_path) as store:
        return store.consent.is_opted_out(account_id(harness, who))


def dm(harness: Live, who: str, text: str, **options: Any) -> Any:
    return harness.post(who, f"@filrouge {text}", visibility="direct", **options)


# -- stop / start ---------------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
def test_stop_is_confirmed_once_by_direct_message_and_holds_across_a_restart(
    live: Callable[..., Live], visibility: str
) -> None:
    """Issue 4: ``stop`` → persisted opt-out, confirmed ONCE, privately (direct,
    whatever the mention's visibility); later mentions skipped ``opted_out``,
    also after a restart; ``start`` opts back in."""
    harness = live()
    harness.start()
    stop = harness.post("bob", "@filrouge Stop", visibility=visibility)
    outcome = harness.outcome(stop)
    assert (outcome["state"], outcome["rule"]) == ("replied", "stop")
    [confirmation] = harness.replies_to(stop)
    assert confirmation["visibility"] == "direct"
    assert mentioned(confirmation) == {"bob"}
    assert opted_out(harness, "bob")

    again = harness.post("bob", "@filrouge stop", visibility=visibility)
    assert harness.outcome(again)["reason"] == "opted_out"
    assert harness.replies_to(again) == []

    harness.stop()
    harness.start()
    later = harness.post("bob", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(later)["reason"] == "opted_out"
    assert harness.replies_to(later) == []

    start = harness.post("bob", "@filrouge START", visibility=visibility)
    assert harness.outcome(start)["rule"] == "start"
    [welcome_back] = harness.replies_to(start)
    assert welcome_back["visibility"] == "direct"
    assert not opted_out(harness, "bob")
    back = harness.post("bob", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(back)["state"] == "replied"
    assert len(harness.replies_to(back)) == 1


def test_stop_opening_a_sentence_about_the_thread_is_no_opt_out(
    live: Callable[..., Live],
) -> None:
    """« stop » must be all the request (``alone``): an opinion that opens with
    the word gets the essay, and its writer stays opted in; « stop spamming
    me » is a request, and opts out."""
    harness = live()
    harness.start()
    opinion = harness.post(
        "bob", f"@filrouge stop comparing gig posters with state propaganda {SHARED_LINK}"
    )
    outcome = harness.outcome(opinion)
    assert outcome["state"] == "replied" and outcome["rule"] != "stop", outcome
    assert not opted_out(harness, "bob")
    [answer] = harness.replies_to(opinion)
    assert answer["visibility"] != "direct"

    request = harness.post("bob", "@filrouge stop spamming me please")
    assert harness.outcome(request)["rule"] == "stop"
    assert opted_out(harness, "bob")


# -- help, source, why ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("aide", "fr", "Mentionnez-moi avec"),
        ("AIDE !", "fr", "Mentionnez-moi avec"),
        ("Aide", None, "Mentionnez-moi avec"),  # no language: the default, fr
        ("help", "en", "Mention me with"),
        ("Help", "fr", "Mentionnez-moi avec"),  # the language of the post decides
    ],
)
def test_help_answers_within_one_status(
    live: Callable[..., Live], text: str, language: str | None, expected: str
) -> None:
    harness = live()
    harness.start()
    options = {"language": language} if language else {}
    mention = harness.post("alice", f"@filrouge {text}", **options)
    outcome = harness.outcome(mention)
    assert (outcome["state"], outcome["rule"]) == ("replied", "aide")
    [reply] = harness.replies_to(mention)
    body = text_of(reply)
    assert expected in body
    assert "stop" in body and "source" in body
    assert status_length(body) <= 500
    assert mentioned(reply) == {"alice"}


def test_source_gives_the_essay_link_only(live: Callable[..., Live]) -> None:
    harness = live()
    harness.start()
    mention = harness.thread(
        ("carol", f"Le texte : {SHARED_LINK}"),
        ("alice", "@filrouge Source"),
    )
    outcome = harness.outcome(mention)
    assert (outcome["state"], outcome["rule"]) == ("replied", "source")
    assert outcome["quote_id"] is None and outcome["prompt_id"] is None
    [reply] = harness.replies_to(mention)
    body = text_of(reply)
    assert ESSAY_URL in body
    catalog = load_catalog(DATA_DIR / "catalog.toml")
    quotes = [quote.text for essay in catalog.essays for quote in essay.quotes]
    assert not any(quote[:40] in body for quote in quotes)


def test_why_in_reply_to_the_bots_post_explains_rule_quote_and_reason(
    live: Callable[..., Live],
) -> None:
    """Issue 4: ``pourquoi`` answered from the audit trail (``Store.explained``)."""
    harness = live()
    harness.start()
    mention = harness.thread(
        ("carol", f"À lire : {SHARED_LINK}"),
        ("alice", f"@filrouge {AFFICHES}"),
    )
    first = harness.outcome(mention)
    assert first["state"] == "replied" and first["quote_id"]
    [bot_post] = harness.replies_to(mention)
    with Store(harness.settings.db_path) as store:
        explained = store.replies.explained(str(bot_post["id"]))
    assert explained is not None and explained.quote_id == first["quote_id"]

    why = harness.post("bob", "@filrouge pourquoi ?", in_reply_to_id=bot_post["id"])
    outcome = harness.outcome(why)
    assert (outcome["state"], outcome["rule"]) == ("replied", "pourquoi")
    [reply] = harness.replies_to(why)
    body = text_of(reply).replace(ZWSP, "")
    assert first["rule"] in body  # which rule fired
    assert first["quote_id"] in body  # which quote
    assert "spectacle" in body  # why: the words it shared with the thread
    assert mentioned(reply) == {"bob"}


def test_why_elsewhere_says_there_is_nothing_to_explain(live: Callable[..., Live]) -> None:
    harness = live()
    harness.start()
    mention = harness.post("bob", "@filrouge why", language="en")
    outcome = harness.outcome(mention)
    assert (outcome["state"], outcome["rule"]) == ("replied", "pourquoi")
    [reply] = harness.replies_to(mention)
    assert "nothing to explain" in text_of(reply)


# -- admin commands --------------------------------------------------------------------------------


@pytest.mark.parametrize("admins", ["mod", "@mod@mock.local", "MOD@mock.local", "id"])
def test_an_admin_is_recognised_by_id_or_handle(live: Callable[..., Live], admins: str) -> None:
    """``FILROUGE_ADMINS`` takes account ids or handles; a local admin may be
    written ``user``; the server reports it as ``mod`` (no domain)."""
    harness = live(admins=admins)
    if admins == "id":
        mod_id = account_id(harness, "mod")
        harness.settings = harness.settings.model_copy(update={"admins": (mod_id,)})
    harness.start()
    ask = dm(harness, "mod", "status")
    outcome = harness.outcome(ask)
    assert (outcome["state"], outcome["rule"]) == ("replied", "admin:status")
    [answer] = harness.replies_to(ask)
    assert answer["visibility"] == "direct"
    assert mentioned(answer) == {"mod"}


def test_pause_skips_mentions_persists_across_a_restart_and_resume_answers_again(
    live: Callable[..., Live],
) -> None:
    harness = live(admins="mod")
    bot = harness.start()
    pause = dm(harness, "mod", "pause")
    assert harness.outcome(pause)["rule"] == "admin:pause"
    assert "pause" in answer_text(harness, pause).lower()
    assert bot.health.snapshot()["paused"] is True
    assert "filrouge_paused 1.0" in generate_latest(bot.metrics.registry).decode()

    during = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    outcome = harness.outcome(during)
    assert (outcome["state"], outcome["reason"]) == ("skipped", "paused")
    assert "would have replied" in outcome["detail"]
    assert harness.replies_to(during) == []
    # Consent still holds while paused, unconfirmed.
    stop = harness.post("carol", "@filrouge stop")
    assert harness.outcome(stop)["reason"] == "paused"
    assert opted_out(harness, "carol")

    harness.stop()
    bot = harness.start()
    assert bot.health.snapshot()["paused"] is True
    after_restart = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(after_restart)["reason"] == "paused"

    resume = dm(harness, "mod", "reprendre")
    assert harness.outcome(resume)["rule"] == "admin:resume"
    answer_text(harness, resume)
    assert bot.health.snapshot()["paused"] is False
    assert "filrouge_paused 0.0" in generate_latest(bot.metrics.registry).decode()
    back = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(back)["state"] == "replied"
    # What was skipped while paused stays skipped: no late flood.
    assert harness.replies_to(during) == []
    assert harness.outcome(during)["reason"] == "paused"


def test_status_tells_uptime_stream_counts_and_last_error(live: Callable[..., Live]) -> None:
    harness = live(admins="mod")
    bot = harness.start()
    harness.wait_streaming()
    answered = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    harness.outcome(answered)
    skipped = harness.post("beepboop", f"@filrouge {SHARED_LINK}")
    harness.outcome(skipped)
    bot.health.update(last_error="server said no (HTTP 503)")
    ask = dm(harness, "mod", "statut", language="fr")
    text = answer_text(harness, ask)
    assert "en service" in text
    assert "Démarré il y a" in text
    assert "connecté" in text
    assert "1 répondues, 1 ignorées, 0 en échec" in text
    assert "server said no (HTTP 503)" in text


def test_mute_by_url_skips_the_thread_only_until_unmute(live: Callable[..., Live]) -> None:
    harness = live(admins="mod")
    harness.start()
    root = harness.post("carol", f"Un texte : {SHARED_LINK}")
    other = harness.post("bob", f"Un autre fil sur {SHARED_LINK}")
    mute = dm(harness, "mod", f"mute {root['url']}")
    assert harness.outcome(mute)["rule"] == "admin:mute"
    answer = answer_text(harness, mute)
    assert str(root["id"]) in answer
    # The link is given without an "@": no server may take it for a mention of carol.
    [muted] = harness.replies_to(mute)
    assert mentioned(muted) == {"mod"}
    assert "%40carol" in answer

    deep = harness.post("alice", "On en parle ?", in_reply_to_id=root["id"])
    below = harness.post("alice", f"@filrouge {AFFICHES}", in_reply_to_id=deep["id"])
    outcome = harness.outcome(below)
    assert (outcome["state"], outcome["reason"]) == ("skipped", "muted")
    assert harness.replies_to(below) == []
    elsewhere = harness.post("alice", f"@filrouge {AFFICHES}", in_reply_to_id=other["id"])
    assert harness.outcome(elsewhere)["state"] == "replied"

    harness.stop()  # mutes persist
    harness.start()
    still = harness.post("bob", f"@filrouge {AFFICHES}", in_reply_to_id=root["id"])
    assert harness.outcome(still)["reason"] == "muted"

    # Unmuting by id, naming another post of the same thread, works too.
    unmute = dm(harness, "mod", f"unmute {deep['id']}")
    assert harness.outcome(unmute)["rule"] == "admin:unmute"
    answer_text(harness, unmute)
    again = harness.post("bob", f"@filrouge {AFFICHES}", in_reply_to_id=deep["id"])
    assert harness.outcome(again)["state"] == "replied"


@pytest.mark.parametrize("target", ["bob", "bob@mock.local", "id", "profile"])
def test_optout_by_an_admin(live: Callable[..., Live], target: str) -> None:
    harness = live(admins="mod")
    harness.start()
    bob = harness.client("bob").account_verify_credentials()
    argument = {"id": str(bob["id"]), "profile": str(bob["url"])}.get(target, target)
    ask = dm(harness, "mod", f"optout {argument}")
    assert harness.outcome(ask)["rule"] == "admin:optout"
    text = answer_text(harness, ask)
    assert "bob" in text
    assert opted_out(harness, "bob")
    [answer] = harness.replies_to(ask)
    assert mentioned(answer) == {"mod"}  # bob is named, never mentioned
    mention = harness.post("bob", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(mention)["reason"] == "opted_out"


def test_a_malformed_admin_command_gets_the_usage(live: Callable[..., Live]) -> None:
    harness = live(admins="mod")
    harness.start()
    ask = dm(harness, "mod", "mute", language="en")
    assert harness.outcome(ask)["rule"] == "admin:mute"
    assert "Commands: pause, resume" in answer_text(harness, ask)
    lost = dm(harness, "mod", "mute 999999999999")
    assert "999999999999" in answer_text(harness, lost)
    # Another server's URL goes through search (resolve=True); the mock resolves nothing.
    remote = dm(harness, "mod", "mute https://elsewhere.example/notice/AbC1", language="en")
    assert "Status not found: AbC1" in answer_text(harness, remote)


def test_a_non_admin_cannot_use_admin_commands(live: Callable[..., Live]) -> None:
    """Issue 4: anyone else's command is ignored and recorded (skipped
    ``not_admin``, unanswered, counted); the bot goes on answering."""
    harness = live(admins="mod")
    bot = harness.start()
    attempt = dm(harness, "alice", "pause")
    outcome = harness.outcome(attempt)
    assert (outcome["state"], outcome["reason"]) == ("skipped", "not_admin")
    assert harness.replies_to(attempt) == []
    muting = dm(harness, "alice", f"optout {account_id(harness, 'bob')}")
    assert harness.outcome(muting)["reason"] == "not_admin"
    assert not opted_out(harness, "bob")
    metrics = generate_latest(bot.metrics.registry).decode()
    assert 'filrouge_admin_commands_total{command="pause",outcome="refused"} 1.0' in metrics

    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(mention)["state"] == "replied"
    assert bot.health.snapshot()["paused"] is False


def test_admin_commands_are_taken_by_direct_message_only(live: Callable[..., Live]) -> None:
    """A public "@filrouge pause" is an ordinary mention, even from an admin."""
    harness = live(admins="mod")
    bot = harness.start()
    public = harness.post("mod", f"@filrouge pause {SHARED_LINK}")
    outcome = harness.outcome(public)
    assert outcome["rule"] != "admin:pause"
    assert bot.health.snapshot()["paused"] is False


# -- moderators, observe mode ----------------------------------------------------------------------


def _always_heated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    rules = tmp_path_factory.mktemp("rules") / "rules.toml"
    source = (DATA_DIR / "rules.toml").read_text(encoding="utf-8")
    assert "min_heat = 0.6" in source
    rules.write_text(source.replace("min_heat = 0.6", "min_heat = 0.0"), encoding="utf-8")
    return rules


@pytest.mark.parametrize("how", ["report", "dm"])
def test_moderators_are_told_once_per_thread(
    live: Callable[..., Live], tmp_path_factory: pytest.TempPathFactory, how: str
) -> None:
    """Issue 5 item 3: a report (rule name as comment, not forwarded) or a DM to
    the admins only, with a link and no quote; never twice for one thread."""
    harness = live(
        rules_path=_always_heated(tmp_path_factory),
        notify_moderators=how,
        admins="mod",
        thread_reply_limit=5,
    )
    bot = harness.start()
    root = harness.post("carol", f"Le texte : {SHARED_LINK}")
    first = harness.post("alice", f"@filrouge {AFFICHES}", in_reply_to_id=root["id"])
    assert harness.outcome(first)["rule"] == "apaisement"
    # Same thread, a new request (a reply to carol, not to a post that mentions the bot).
    second = harness.post("bob", f"@filrouge {AFFICHES} !!!", in_reply_to_id=root["id"])
    outcome = harness.outcome(second)
    assert outcome["rule"] == "apaisement", (outcome["reason"], outcome["detail"])
    other_thread = harness.post("bob", f"@filrouge {SHARED_LINK} {AFFICHES}")
    assert harness.outcome(other_thread)["rule"] == "apaisement"

    mod = harness.client("mod")
    if how == "report":
        reports = eventually(lambda: len(mod.admin_reports()) >= 2 and mod.admin_reports())
        assert len(reports) == 2
        by_status = {str(r["statuses"][0]["id"]): r for r in reports}
        assert set(by_status) == {str(first["id"]), str(other_thread["id"])}
        report = by_status[str(first["id"])]
        assert report["comment"] == "apaisement"
        assert report["forwarded"] in (False, None)
        assert report["target_account"]["username"] == "alice"
    else:

        def told() -> list[Any]:
            return [
                n
                for n in mod.notifications(types=["mention"])
                if str(n["account"]["id"]) == str(harness.me["id"])
            ]

        notices = eventually(lambda: len(told()) >= 2 and told())
        assert len(notices) == 2
        for notice in notices:
            status = notice["status"]
            assert status["visibility"] == "direct"
            assert mentioned(status) == {"mod"}
            assert "spectacles" not in text_of(status)  # no quote of the heated text
        links = " ".join(text_of(n["status"]) for n in notices)
        for status in (first, other_thread):
            assert str(status["url"]).replace("/@", "/%40") in links
    metrics = generate_latest(bot.metrics.registry).decode()
    assert f'filrouge_moderator_notices_total{{how="{how}",outcome="sent"}} 2.0' in metrics


def test_observe_mode_decides_records_and_never_posts(
    live: Callable[..., Live],
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 5 item 4: a rule in observe mode: recorded as replied without a
    post, labelled in ``filrouge log``, counted as mode="observe" in /metrics."""
    rules = tmp_path_factory.mktemp("rules") / "rules.toml"
    source = (DATA_DIR / "rules.toml").read_text(encoding="utf-8")
    marker = 'name = "citation-par-defaut"\n'
    assert marker in source
    rules.write_text(source.replace(marker, marker + 'mode = "observe"\n'), encoding="utf-8")
    harness = live(rules_path=rules)
    bot = harness.start()
    mention = harness.post("alice", f"@filrouge {SHARED_LINK} {AFFICHES}")
    outcome = harness.outcome(mention)
    assert (outcome["state"], outcome["rule"]) == ("replied", "citation-par-defaut")
    assert outcome["reply_id"] is None and outcome["quote_id"]
    assert harness.replies_to(mention) == []

    assert main(["log", "--db", str(harness.settings.db_path)]) == 0
    line = next(
        line for line in capsys.readouterr().out.splitlines() if "citation-par-defaut" in line
    )
    assert "observe" in line

    with (
        OpsServer(
            host="127.0.0.1",
            port=0,
            health=bot.health,
            metrics=bot.metrics,
            db_check=lambda: True,
            max_age=60.0,
        ) as ops,
        urllib.request.urlopen(f"{ops.url}/metrics", timeout=5) as response,
    ):
        metrics = response.read().decode()
    assert 'filrouge_replies_total{mode="observe",rule="citation-par-defaut"} 1.0' in metrics
    assert 'mode="live"' not in metrics.split("filrouge_replies_total", 1)[1].split("# HELP")[0]


def test_a_failed_report_is_tried_again_at_the_threads_next_heated_mention(
    live: Callable[..., Live], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Best effort, at most once: a notice that could not be sent does not use up
    the thread's one notice; the reply itself stands."""
    harness = live(
        rules_path=_always_heated(tmp_path_factory), notify_moderators="report", admins="mod"
    )
    bot = harness.start()
    harness.server.fault(path_regex=r"^/api/v1/reports", status=500, count=1)
    root = harness.post("carol", f"Le texte : {SHARED_LINK}")
    first = harness.post("alice", f"@filrouge {AFFICHES}", in_reply_to_id=root["id"])
    assert harness.outcome(first)["state"] == "replied"
    assert len(harness.replies_to(first)) == 1
    second = harness.post("bob", f"@filrouge {AFFICHES} !!!", in_reply_to_id=root["id"])
    assert harness.outcome(second)["rule"] == "apaisement"
    [report] = eventually(lambda: harness.client("mod").admin_reports())
    metrics = generate_latest(bot.metrics.registry).decode()
    assert [str(s["id"]) for s in report["statuses"]] == [str(second["id"])], metrics
    assert 'filrouge_moderator_notices_total{how="report",outcome="failed"} 1.0' in metrics
    assert 'filrouge_moderator_notices_total{how="report",outcome="sent"} 1.0' in metrics
