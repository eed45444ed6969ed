"""Taking back (``bot.act.take_back``) on an in-memory server and a real
record: a crash between the deletion and the confirmation deletes once and
confirms once; a post notified twice is answered once; the look-ups for
deleted mentions keep to their budget and their schedule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from bot.act.actor import Actor
from bot.act.take_back import Schedule, TakeBack
from bot.errors import PermanentError, TransientError
from bot.ops.metrics import Metrics
from bot.record.store import Store
from tests.act.conftest import Clock
from tests.act.fake_server import FakeServer, timeout
from tests.act.test_actor import AFFICHES, mention


def taken_back_rows(store: Store) -> list[dict[str, Any]]:
    """The recorded mentions whose reply was taken back, as ``log`` reads them."""
    rows = store.audit.recent(since=None, outcome=None, limit=1000)
    return [row for row in rows if row["taken_back_at"]]


def replied(actor: Actor, server: FakeServer, store: Store, clock: Clock, nid: str) -> str:
    """A mention answered by the bot; the id of the bot's reply."""
    mention(server, store, clock, AFFICHES, nid)
    result = actor.process(nid, stale_after=timedelta(0))
    assert result is not None and result.reply_id is not None
    return result.reply_id


def ask(server: FakeServer, store: Store, clock: Clock, text: str, parent: str, nid: str) -> None:
    status = server.add(text, in_reply_to_id=parent)
    store.mentions.enqueue(nid, status["id"], status["account"]["id"], clock())


def test_a_confirmation_that_fails_is_retried_without_a_second_deletion(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    actor = make_actor()
    reply_id = replied(actor, server, store, clock, "n1")

    def refuse() -> None:
        server.on_post = None
        raise timeout()

    server.on_post = refuse  # the confirmation's POST fails once, before the server has it
    ask(server, store, clock, "@filrouge supprime", reply_id, "n2")
    first = actor.process("n2", stale_after=timedelta(0))
    assert first is not None and first.outcome == "retry"
    assert server.deleted == [reply_id]
    clock.advance(timedelta(minutes=30))
    second = actor.process("n2", stale_after=timedelta(0))
    assert second is not None and second.outcome == "replied"
    assert server.deleted == [reply_id]
    confirmations = [p for p in server.posted if p["visibility"] == "direct"]
    assert len(confirmations) == 1
    [row] = taken_back_rows(store)
    assert (row["reply_id"], row["taken_back_how"]) == (reply_id, "request")


def test_a_post_notified_twice_is_answered_once(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    """Some servers notify again when a mention is edited: a new notification
    id for the same post."""
    actor = make_actor()
    status_id = mention(server, store, clock, AFFICHES, "n1")
    assert actor.process("n1", stale_after=timedelta(0)) is not None
    store.mentions.enqueue("n1-edited", status_id, "10", clock())
    result = actor.process("n1-edited", stale_after=timedelta(0))
    assert result is not None and (result.outcome, result.detail) == ("skipped", "duplicate")
    assert len(server.replies_by_bot(status_id)) == 1


def test_a_dry_run_deletes_nothing(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    actor = make_actor()
    reply_id = replied(actor, server, store, clock, "n1")
    dry = TakeBack(
        client=server, store=store, metrics=Metrics(), clock=clock, budget=5, dry_run=True
    )
    assert not dry.take_back(reply_id, by="10", how="request")
    assert server.deleted == [] and taken_back_rows(store) == []


class Monotonic:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


SCHEDULE = Schedule(
    every=60.0,
    tiers=(
        (timedelta(hours=1), timedelta(minutes=1)),
        (timedelta(days=1), timedelta(minutes=15)),
    ),
)


def sweeper(
    server: FakeServer, store: Store, clock: Clock, budget: int
) -> tuple[TakeBack, Monotonic]:
    monotonic = Monotonic()
    made = TakeBack(
        client=server,
        store=store,
        metrics=Metrics(),
        clock=clock,
        budget=budget,
        schedule=SCHEDULE,
        monotonic=monotonic,
    )
    return made, monotonic


class Counting:
    """Counts the server's ``status`` look-ups."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.looked_up: list[str] = []
        self.original = server.status

    def __call__(self, status_id: str) -> Mapping[str, Any]:
        self.looked_up.append(status_id)
        return self.original(status_id)


def test_the_sweep_keeps_to_its_budget_and_its_schedule(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    actor = make_actor()
    old = replied(actor, server, store, clock, "old")
    clock.advance(timedelta(hours=2))
    recent = [replied(actor, server, store, clock, f"n{n}") for n in range(3)]
    sweep, monotonic = sweeper(server, store, clock, budget=2)
    counting = Counting(server)
    server.status = counting  # type: ignore[method-assign]

    assert sweep.sweep() == 0
    assert len(counting.looked_up) == 2  # the budget
    assert sweep.sweep() == 0 and len(counting.looked_up) == 2  # not before a minute
    monotonic.now += 60
    sweep.sweep()
    # The third recent one and the old one (never checked) come next.
    assert len(counting.looked_up) == 4
    monotonic.now += 60
    clock.advance(timedelta(seconds=30))
    sweep.sweep()
    assert len(counting.looked_up) == 4  # each was checked less than a minute ago

    # A mention deleted meanwhile is found at its next check.
    [mentioned_status] = [s["in_reply_to_id"] for s in server.posted if s["id"] == recent[0]]
    del server.statuses[mentioned_status]
    clock.advance(timedelta(minutes=1))
    monotonic.now += 60
    assert sweep.sweep() == 1
    assert server.deleted == [recent[0]]
    assert old not in server.deleted


def test_a_reply_older_than_the_last_tier_is_never_looked_up(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    actor = make_actor()
    replied(actor, server, store, clock, "n1")
    clock.advance(timedelta(days=2))
    sweep, _ = sweeper(server, store, clock, budget=10)
    counting = Counting(server)
    server.status = counting  # type: ignore[method-assign]
    assert sweep.sweep() == 0 and counting.looked_up == []


def test_a_failed_look_up_ends_the_sweep_and_checks_again_later(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    actor = make_actor()
    replied(actor, server, store, clock, "n1")
    sweep, monotonic = sweeper(server, store, clock, budget=10)
    original = server.status

    def failing(status_id: str) -> Mapping[str, Any]:
        raise TransientError("read timed out", kind="timeout")

    server.status = failing  # type: ignore[method-assign]
    assert sweep.sweep() == 0
    server.status = original  # type: ignore[method-assign]
    counting = Counting(server)
    server.status = counting  # type: ignore[method-assign]
    monotonic.now += 60
    sweep.sweep()
    assert len(counting.looked_up) == 1  # not marked checked by the failed sweep


def test_no_budget_no_look_ups(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    actor = make_actor()
    replied(actor, server, store, clock, "n1")
    sweep, _ = sweeper(server, store, clock, budget=0)
    counting = Counting(server)
    server.status = counting  # type: ignore[method-assign]
    assert sweep.sweep() == 0 and counting.looked_up == []


def test_a_reply_the_server_refuses_to_delete_holds_nothing_up(
    make_actor: Callable[..., Actor], server: FakeServer, store: Store, clock: Clock
) -> None:
    """A refusal (403, say) is logged and looked at again on its schedule,
    not at every sweep; the sweep and everything after it go on."""
    actor = make_actor()
    refused = replied(actor, server, store, clock, "n1")
    [mention_of] = [s["in_reply_to_id"] for s in server.posted if s["id"] == refused]
    del server.statuses[mention_of]

    def refuse(status_id: str) -> None:
        raise PermanentError("forbidden", kind="forbidden")

    server.delete_status = refuse  # type: ignore[method-assign]
    sweep, monotonic = sweeper(server, store, clock, budget=5)
    assert sweep.sweep() == 0
    counting = Counting(server)
    server.status = counting  # type: ignore[method-assign]
    monotonic.now += 60
    sweep.sweep()
    assert counting.looked_up == []  # checked: not asked again within the minute
    assert taken_back_rows(store) == []
