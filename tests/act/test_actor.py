"""One mention to exactly one outcome (``bot.act.actor``), on an in-memory
server that honours or ignores ``Idempotency-Key`` and a real record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.act.actor import Actor
from bot.model.decision import Moderation
from bot.record.store import Store
from tests.act.conftest import Clock
from tests.act.fake_server import FakeServer, timeout

ALIAS = "https://app.flus.fr/links/1853382202557961738"
AFFICHES = (
    f"@filrouge {ALIAS} Je trouve ça nul de faire des affiches générées par IA quand on"
    " peut juste ré-utiliser des photos de spectacles précédents"
)


def mention(server: FakeServer, store: Store, clock: Clock, text: str, nid: str) -> str:
    status = server.add(text)
    store.mentions.enqueue(nid, status["id"], status["account"]["id"], clock())
    return str(status["id"])


def test_a_mention_gets_one_reply_and_one_outcome(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    actor = make_actor()
    status_id = mention(server, store, clock, AFFICHES, "n1")
    result = actor.process("n1", stale_after=timedelta(0))
    assert result is not None and result.outcome == "replied"
    assert [r["id"] for r in server.replies_by_bot(status_id)] == [result.reply_id]
    # Claimed once: a second call (the stream and the poll overlap) does nothing.
    assert actor.process("n1", stale_after=timedelta(0)) is None
    assert len(server.posted) == 1


@pytest.mark.parametrize("honour_keys", [True, False], ids=["keys-honoured", "keys-ignored"])
def test_a_timeout_after_the_server_posted_is_not_posted_again(
    make_actor: Callable[..., Actor],
    server: FakeServer,
    store: Store,
    clock: Clock,
    honour_keys: bool,
) -> None:
    """The POST created the status but the answer was lost: the record says
    ``posting``, the next attempt finds the reply in the thread (or the server
    hands it back by its key) and records it — one status in all."""
    server.honour_keys = honour_keys
    server.fail_after_post.append(timeout())
    actor = make_actor()
    status_id = mention(server, store, clock, AFFICHES, "n2")
    first = actor.process("n2", stale_after=timedelta(0))
    assert first is not None and first.outcome == "retry"
    clock.advance(timedelta(minutes=30))
    second = actor.process("n2", stale_after=timedelta(0))
    assert second is not None and second.outcome == "replied"
    assert len(server.replies_by_bot(status_id)) == 1
    assert len(server.posted) == 1
    outcome = store.mentions.outcome("n2")
    assert outcome is not None and outcome["reply_id"] == server.posted[0]["id"]


def test_paused_nothing_is_posted_and_a_stop_still_opts_out(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    actor = make_actor()
    store.moderation.pause(by="mod", now=clock())
    mention(server, store, clock, AFFICHES, "n3")
    mention(server, store, clock, "@filrouge stop", "n4")
    for nid in ("n3", "n4"):
        result = actor.process(nid, stale_after=timedelta(0))
        assert result is not None and (result.outcome, result.detail) == ("skipped", "paused")
    assert server.posted == []
    assert store.consent.is_opted_out("10")
    assert store.moderation.state([]) == Moderation(paused=store.moderation.paused())


def test_a_muted_thread_is_skipped_below_the_muted_post(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    actor = make_actor()
    root = server.add("Un fil sur l'essai")
    store.moderation.mute(root["id"], thread_id=root["id"], by="mod", url="", now=clock())
    below = server.add(AFFICHES, in_reply_to_id=root["id"])
    store.mentions.enqueue("n5", below["id"], "10", clock())
    result = actor.process("n5", stale_after=timedelta(0))
    assert result is not None and (result.outcome, result.detail) == ("skipped", "muted")
    assert server.posted == []


def test_a_status_the_bot_cannot_read_is_a_recorded_skip(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    actor = make_actor()
    status_id = mention(server, store, clock, AFFICHES, "n6")
    del server.statuses[status_id]["content"]
    result = actor.process("n6", stale_after=timedelta(0))
    assert result is not None and (result.outcome, result.detail) == ("skipped", "unreadable")


def test_a_mention_deleted_before_it_is_processed_is_gone(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    actor = make_actor()
    status_id = mention(server, store, clock, AFFICHES, "n7")
    del server.statuses[status_id]
    result = actor.process("n7", stale_after=timedelta(0))
    assert result is not None and (result.outcome, result.detail) == ("skipped", "gone")
    assert server.posted == []


def test_a_dry_run_decides_and_records_without_posting(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    actor = make_actor(dry_run=True)
    mention(server, store, clock, AFFICHES, "n8")
    result = actor.process("n8", stale_after=timedelta(0))
    assert result is not None and (result.outcome, result.detail) == ("replied", "dry_run")
    assert server.posted == []
