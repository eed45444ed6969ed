"""Admin commands: reading them, knowing who is an admin, splitting long answers,
and the admin state the record keeps (pause, mutes, moderator notices).
End-to-end tests against mastodon-mock are in ``test_commands_e2e.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.act.admin.parse import Command, Verb, parse
from bot.act.admin.roster import Admins, normal_handle
from bot.act.admin.texts import split_answer
from bot.act.notify import moderator_message, safe_link
from bot.model.post import Account
from bot.record.schema import ADMIN_RULE_PREFIX
from bot.record.store import Store
from bot.text.render import status_length

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the plain commands, after the bot's handle
        ("@filrouge pause", Command(Verb.PAUSE)),
        ("@filrouge resume", Command(Verb.RESUME)),
        ("@filrouge status", Command(Verb.STATUS)),
        ("@filrouge reload", Command(Verb.RELOAD)),
        # French words, accents and case ignored, trailing punctuation allowed
        ("@filrouge Reprendre !", Command(Verb.RESUME)),
        ("@filrouge ÉTAT ?", Command(Verb.STATUS)),
        ("@filrouge statut", Command(Verb.STATUS)),
        ("@filrouge recharger.", Command(Verb.RELOAD)),
        ("@filrouge@mock.local PAUSE", Command(Verb.PAUSE)),
        # arguments keep their case (ids on other servers are case-sensitive)
        (
            "@filrouge mute https://b.example/notice/AbC123",
            Command(Verb.MUTE, "https://b.example/notice/AbC123"),
        ),
        ("@filrouge sourdine 110000000000000001", Command(Verb.MUTE, "110000000000000001")),
        ("@filrouge unmute 42.", Command(Verb.UNMUTE, "42")),
        ("@filrouge optout bob@b.example", Command(Verb.OPTOUT, "bob@b.example")),
        ("@filrouge opt-out Bob", Command(Verb.OPTOUT, "Bob")),
        # the command's shape is wrong: a usage answer for admins, nothing for others
        ("@filrouge mute", Command(Verb.MUTE, problem="mute takes a status URL or id")),
        ("@filrouge optout a b", Command(Verb.OPTOUT, problem="optout takes an account")),
        ("@filrouge pause café ?", Command(Verb.PAUSE, problem="pause takes nothing after it")),
        # not a command: the first word decides
        ("@filrouge on fait une pause ?", None),
        ("@filrouge stop", None),  # a user command, for decide
        ("@filrouge", None),
        ("", None),
        ("@filrouge paused", None),
    ],
)
def test_parse(text: str, expected: Command | None) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("acct", "expected"),
    [
        ("mod", "mod@social.example"),  # local, as the server reports it
        ("@Mod", "mod@social.example"),
        ("mod@social.example", "mod@social.example"),
        ("@mod@Other.Example", "mod@other.example"),
    ],
)
def test_normal_handle(acct: str, expected: str) -> None:
    assert normal_handle(acct, "social.example") == expected


def account(id: str, acct: str) -> Account:
    return Account(id=id, acct=acct, username=acct.split("@")[0])


@pytest.mark.parametrize(
    ("setting", "who", "admin"),
    [
        (["42"], account("42", "mod"), True),  # by id
        (["42"], account("43", "mod"), False),  # the id decides, not the name
        (["mod"], account("7", "mod"), True),  # a local admin written "user"
        (["mod"], account("7", "mod@social.example"), True),  # reported with the domain
        (["mod@social.example"], account("7", "mod"), True),
        (["@mod@social.example"], account("7", "MOD"), True),
        (["mod"], account("8", "mod@elsewhere.example"), False),  # same name, other server
        (["mod@elsewhere.example"], account("8", "mod@elsewhere.example"), True),
        (["mod@elsewhere.example"], account("7", "mod"), False),
        ([], account("7", "mod"), False),
        # GoToSocial's ids are ULIDs: read as ids, not as a handle "01hq…@social.example".
        (["01HQ8ZK3J5W9C7R2V4X6Y8B0DM"], account("01HQ8ZK3J5W9C7R2V4X6Y8B0DM", "mod"), True),
        (["01HQ8ZK3J5W9C7R2V4X6Y8B0DM"], account("01HQ8ZK3J5W9C7R2V4X6Y8B0DN", "mod"), False),
    ],
)
def test_who_is_an_admin(setting: list[str], who: Account, admin: bool) -> None:
    admins = Admins.parse(setting, "social.example")
    assert (who in admins) is admin


def test_a_long_answer_is_split_into_statuses_that_fit() -> None:
    lines = ["Reload refused:"] + [
        f"- rules.toml:{n}: rule {n}: unknown placeholder {{x{n}}} in a template that is long"
        for n in range(30)
    ]
    lines.append("word " * 200)  # one line longer than a status: cut between words
    statuses = split_answer("@mod", lines, max_characters=500, url_length=23)
    assert len(statuses) > 3
    for status in statuses:
        assert status.startswith("@mod\n")
        assert status_length(status) <= 500
    joined = "\n".join(s.removeprefix("@mod\n") for s in statuses)
    for line in lines[:-1]:
        assert line in joined
    assert joined.count("word") == 200


def test_a_short_answer_is_one_status() -> None:
    assert split_answer("@mod", ["Paused."], max_characters=500, url_length=23) == ["@mod\nPaused."]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://social.example/@bob/123", "https://social.example/%40bob/123"),
        (
            "https://social.example/@bob@other.example/123",
            "https://social.example/%40bob%40other.example/123",
        ),
        ("https://other.example/notice/AbC", "https://other.example/notice/AbC"),
    ],
)
def test_links_in_direct_messages_carry_no_at_sign(url: str, expected: str) -> None:
    assert safe_link(url) == expected


def test_the_moderators_message_mentions_only_them_and_quotes_nothing() -> None:
    text = moderator_message(("mod", "ops@other.example"), "apaisement", "https://x/1", "en")
    assert text.startswith("@mod @ops@other.example ")
    assert text.count("@") == 3
    assert "apaisement" in text and "https://x/1" in text


# -- the record's admin state --------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "filrouge.sqlite3")


def test_pause_persists_and_keeps_its_first_author(store: Store, tmp_path: Path) -> None:
    assert store.moderation.paused() is None
    assert store.moderation.pause(by="42", now=NOW) is True
    assert store.moderation.pause(by="43", now=NOW + timedelta(hours=1)) is False
    store.close()
    with Store(tmp_path / "filrouge.sqlite3") as again:
        paused = again.moderation.paused()
        assert paused is not None and (paused.by, paused.since) == ("42", NOW)
        assert again.moderation.resume() is True
        assert again.moderation.resume() is False
        assert again.moderation.paused() is None


def test_a_mute_matches_the_named_status_or_its_thread(store: Store) -> None:
    assert store.moderation.mute("20", thread_id="10", by="42", url="", now=NOW) is True
    assert store.moderation.mute("20", thread_id="10", by="42", url="", now=NOW) is False
    assert store.moderation.muted(["30", "10"]) == "10"  # a mention below the root
    assert store.moderation.muted(["31", "20"]) == "20"  # a mention below the named post
    assert store.moderation.muted(["99", "98"]) is None
    assert store.moderation.muted([]) is None
    assert [row["status_id"] for row in store.moderation.muted_threads()] == ["20"]
    assert store.moderation.unmute(["10"]) == 1  # by the thread's root
    assert store.moderation.muted(["20"]) is None
    assert store.moderation.unmute([]) == 0


def test_a_thread_gets_one_moderator_notice_unless_sending_failed(store: Store) -> None:
    claim = {"notification_id": "1", "rule": "apaisement", "how": "dm", "now": NOW}
    assert store.moderation.claim_notice("10", **claim) is True  # type: ignore[arg-type]
    assert store.moderation.claim_notice("10", **claim) is False  # type: ignore[arg-type]
    store.moderation.release_notice("10")
    assert store.moderation.claim_notice("10", **claim) is True  # type: ignore[arg-type]


def test_admin_answers_never_count_as_discussion_history(store: Store) -> None:
    from bot.model.catalog import Action
    from bot.model.decision import Reply

    for number, rule in (("1", f"{ADMIN_RULE_PREFIX}status"), ("2", "citation")):
        store.mentions.enqueue(number, f"s{number}", "7", NOW)
        assert store.mentions.claim(number, NOW, stale_after=timedelta(0)) is not None
        reply = Reply(
            text="@mod …",
            visibility="direct",
            spoiler_text="",
            language="fr",
            in_reply_to_id=f"s{number}",
            rule=rule,
            action=Action.HELP,
        )
        store.mentions.mark_replied(
            number,
            reply_id=f"r{number}",
            reply=reply,
            thread_id="t",
            account_id="7",
            trace={},
            now=NOW,
        )
    history = store.replies.history(thread_id="t", account_id="7", parent_status_id=None)
    assert len(history.thread_replies) == 1
    assert len(history.account_replies) == 1
