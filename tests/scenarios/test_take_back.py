"""Taking back a reply, end to end: the real ``Bot`` against mastodon-mock over
loopback HTTP. On request (``supprime`` / ``delete`` in answer to the bot's
post) by the people it concerns, never by a stranger; when the mention it
answered is deleted (the stream's ``delete``, or the budgeted look-ups);
an edited mention is recorded and never answered twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from mastodon.errors import MastodonNotFoundError
from prometheus_client import generate_latest

from bot.act.take_back import Schedule
from bot.record.store import Store
from tests.act.test_deletions import taken_back_rows
from tests.conftest import eventually
from tests.scenarios.test_live import AFFICHES, SHARED_LINK, Live, live, mentioned

__all__ = ["live"]

pytestmark = pytest.mark.e2e

#: Sweeps five times a second, each mention looked up every half second.
FAST = Schedule(every=0.2, tiers=((timedelta(hours=1), timedelta(seconds=0.5)),))


def answered(harness: Live, *, by: str = "alice", parent: str = "carol") -> tuple[Any, Any]:
    """A thread where ``by`` asks the bot under ``parent``'s post; the mention and the reply."""
    mention = harness.thread(
        (parent, f"À lire : {SHARED_LINK}"),
        (by, f"@{parent} @filrouge {AFFICHES}"),
    )
    outcome = harness.outcome(mention)
    assert outcome["state"] == "replied", outcome
    [reply] = harness.replies_to(mention)
    return mention, reply


def exists(harness: Live, status_id: Any) -> bool:
    try:
        harness.client("carol").status(status_id)
    except MastodonNotFoundError:
        return False
    return True


def taken_back(harness: Live, reply_id: Any) -> dict[str, Any]:
    """The record of ``reply_id`` taken back, once written: the bot records it
    after the server has deleted the post, so a test that saw the post go
    may look before the row is there."""

    def rows() -> list[dict[str, Any]]:
        with Store(harness.settings.db_path) as store:
            return [r for r in taken_back_rows(store) if r["reply_id"] == str(reply_id)]

    [row] = eventually(rows)
    return row  # type: ignore[no-any-return]


def deletions(harness: Live, how: str) -> float:
    assert harness.bot is not None
    text = generate_latest(harness.bot.metrics.registry).decode()
    prefix = f'filrouge_taken_back_total{{how="{how}"}} '
    return sum(float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix))


def sent_by_bot(harness: Live) -> list[Any]:
    statuses: list[Any] = harness.client("filrouge").account_statuses(harness.me["id"], limit=40)
    return statuses


@pytest.mark.parametrize(
    ("who", "word"),
    [("alice", "supprime"), ("carol", "delete"), ("mod", "efface s'il te plaît")],
    ids=["requester", "author-of-the-post-answered", "admin"],
)
def test_a_reply_is_taken_back_on_request_and_confirmed_to_the_asker_only(
    live: Callable[..., Live], who: str, word: str
) -> None:
    harness = live(admins="mod")
    harness.start()
    mention, reply = answered(harness)
    ask = harness.post(who, f"@filrouge {word}", in_reply_to_id=reply["id"])
    outcome = harness.outcome(ask)
    assert (outcome["state"], outcome["rule"]) == ("replied", "supprime"), outcome
    assert not exists(harness, reply["id"])
    assert exists(harness, mention["id"])  # never anyone else's post
    [confirmation] = harness.replies_to(ask)
    assert confirmation["visibility"] == "direct"
    assert mentioned(confirmation) == {who}
    row = taken_back(harness, reply["id"])
    assert (row["taken_back_how"], row["taken_back_by"]) == (
        "request",
        str(harness.client(who).account_verify_credentials()["id"]),
    )
    assert deletions(harness, "request") == 1

    # Exactly one deletion: asking again deletes nothing and confirms nothing.
    again = harness.post(who, "@filrouge supprime", in_reply_to_id=reply["id"])
    assert harness.outcome(again)["reason"] == "take_back_refused"
    assert harness.replies_to(again) == []
    assert deletions(harness, "request") == 1


def test_a_strangers_request_is_recorded_and_ignored(live: Callable[..., Live]) -> None:
    harness = live()
    harness.start()
    _, reply = answered(harness)
    ask = harness.post("bob", "@filrouge delete", in_reply_to_id=reply["id"])
    outcome = harness.outcome(ask)
    assert (outcome["state"], outcome["reason"]) == ("skipped", "take_back_refused")
    assert "neither the requester" in outcome["detail"]
    assert exists(harness, reply["id"])
    assert harness.replies_to(ask) == []


def test_a_request_under_someone_elses_post_deletes_nothing(live: Callable[..., Live]) -> None:
    harness = live()
    harness.start()
    post = harness.post("carol", "Un message de Carol.")
    ask = harness.post("carol", "@filrouge supprime", in_reply_to_id=post["id"])
    outcome = harness.outcome(ask)
    assert (outcome["state"], outcome["reason"]) == ("skipped", "take_back_refused")
    assert exists(harness, post["id"]) and exists(harness, ask["id"])


def test_taking_back_works_while_paused_and_past_the_thread_limit(
    live: Callable[..., Live],
) -> None:
    harness = live(admins="mod", thread_reply_limit=1)
    harness.start()
    _, reply = answered(harness)
    pause = harness.post("mod", "@filrouge pause", visibility="direct")
    assert harness.outcome(pause)["state"] == "replied"
    ask = harness.post("alice", "@filrouge supprime", in_reply_to_id=reply["id"])
    outcome = harness.outcome(ask)
    assert (outcome["state"], outcome["reason"]) == ("skipped", "paused")
    eventually(lambda: not exists(harness, reply["id"]))
    assert taken_back(harness, reply["id"])["taken_back_how"] == "request"


def followed_and_answered(live: Callable[..., Live]) -> tuple[Live, Any, Any, Any]:
    """A bot that follows alice, so the stream tells it her deletions, with
    the look-ups off; alice's answered mention and the bot's reply."""
    harness = live(deletion_checks=0)
    alice = harness.client("alice").account_verify_credentials()
    harness.client("filrouge").account_follow(alice["id"])
    harness.start()
    harness.wait_streaming()
    mention, reply = answered(harness)
    return harness, alice, mention, reply


def test_a_reply_is_taken_back_when_its_mention_is_deleted_on_the_stream(
    live: Callable[..., Live],
) -> None:
    """The stream says ``delete`` to those who see the post in a timeline:
    here the bot follows the requester."""
    harness, alice, mention, reply = followed_and_answered(live)
    harness.client("alice").status_delete(mention["id"])
    eventually(lambda: not exists(harness, reply["id"]))
    row = taken_back(harness, reply["id"])
    assert (row["taken_back_how"], row["taken_back_by"]) == ("mention_deleted", str(alice["id"]))
    assert eventually(lambda: deletions(harness, "mention_deleted") == 1)


def test_a_streamed_deletion_the_server_cannot_act_on_now_waits_and_is_not_lost(
    live: Callable[..., Live],
) -> None:
    """The stream's ``delete`` comes once. When deleting the reply fails
    (the server answers 503 to more attempts than one cycle makes), the
    deletion waits for the next cycles instead of being dropped: with the
    look-ups off, nothing else would ever take the reply back."""
    harness, _, mention, reply = followed_and_answered(live)
    harness.server.fault(
        path_regex=rf"^/api/v1/statuses/{reply['id']}$", methods=["DELETE"], status=503, count=8
    )
    harness.client("alice").status_delete(mention["id"])
    eventually(lambda: not exists(harness, reply["id"]), timeout=30)
    row = taken_back(harness, reply["id"])
    assert row["taken_back_how"] == "mention_deleted"
    assert eventually(lambda: deletions(harness, "mention_deleted") == 1)


def test_a_reply_is_taken_back_when_a_look_up_finds_its_mention_gone(
    live: Callable[..., Live],
) -> None:
    """No stream event (the bot follows no one): the sweep looks the mention up."""
    harness = live(streaming=False, deletion_checks=5, bot_options={"deletion_schedule": FAST})
    harness.start()
    kept_mention, kept = answered(harness, by="maiwann")
    mention, reply = answered(harness)
    harness.client("alice").status_delete(mention["id"])
    eventually(lambda: not exists(harness, reply["id"]))
    assert taken_back(harness, reply["id"])["taken_back_how"] == "mention_deleted"
    assert exists(harness, kept["id"]) and exists(harness, kept_mention["id"])
    with Store(harness.settings.db_path) as store:
        assert [r["reply_id"] for r in taken_back_rows(store)] == [str(reply["id"])]


def test_an_edited_mention_is_recorded_and_not_answered_again(live: Callable[..., Live]) -> None:
    harness = live()
    alice = harness.client("alice").account_verify_credentials()
    harness.client("filrouge").account_follow(alice["id"])
    harness.start()
    harness.wait_streaming()
    mention, _ = answered(harness)
    harness.client("alice").status_update(mention["id"], f"@carol @filrouge {AFFICHES} (edit)")

    def edited() -> str | None:
        with Store(harness.settings.db_path) as store:
            row = store.mentions.outcome(harness.notification_id(mention))
        return None if row is None else row["edited_at"]

    assert eventually(edited)
    assert len(harness.replies_to(mention)) == 1
