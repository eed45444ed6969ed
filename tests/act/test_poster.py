"""Posting once (``bot.act.poster``) on an in-memory server and a real record:
the record says ``posting`` before any POST, every status is keyed by a
stable name, and a dry run posts nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.act.poster import Poster
from bot.mastodon.client import idempotency_key
from bot.model.catalog import Action
from bot.model.decision import Reply, SkipReason
from bot.record.store import Store
from tests.act.conftest import Clock
from tests.act.fake_server import SELF_ID, FakeServer


def claimed(store: Store, server: FakeServer, clock: Clock, notification_id: str) -> str:
    """A mention recorded and claimed, as the actor has it when it posts."""
    mention = server.add("@filrouge une question")
    store.mentions.enqueue(notification_id, mention["id"], "10", clock())
    assert store.mentions.claim(notification_id, clock(), stale_after=timedelta(0)) is not None
    return str(mention["id"])


def reply(text: str, in_reply_to_id: str) -> Reply:
    return Reply(
        text=text,
        visibility="unlisted",
        spoiler_text="",
        language="fr",
        in_reply_to_id=in_reply_to_id,
        rule="citation",
        action=Action.QUOTE,
    )


def test_the_record_says_posting_before_the_post(
    make_poster: Callable[..., Poster], server: FakeServer, store: Store, clock: Clock
) -> None:
    mention_id = claimed(store, server, clock, "n1")
    seen: list[str | None] = []
    server.on_post = lambda: seen.append((store.mentions.outcome("n1") or {}).get("state"))
    first = make_poster().answer(
        "n1",
        [reply("@alice « … »", mention_id)],
        whole=reply("@alice « … »", mention_id),
        thread_id=mention_id,
        account_id="10",
        trace={},
    )
    assert seen == ["posting"]
    outcome = store.mentions.outcome("n1")
    assert outcome is not None
    assert (outcome["state"], outcome["reply_id"]) == ("replied", first)
    assert server.posted[0]["idempotency_key"] == idempotency_key(SELF_ID, "n1")


def test_a_long_answer_is_a_chain_keyed_by_the_mention(
    make_poster: Callable[..., Poster], server: FakeServer, store: Store, clock: Clock
) -> None:
    mention_id = claimed(store, server, clock, "n2")
    parts = [reply(f"@mod partie {n}", mention_id) for n in range(3)]
    first = make_poster().answer(
        "n2",
        parts,
        whole=reply("@mod tout", mention_id),
        thread_id=mention_id,
        account_id="10",
        trace={},
    )
    posted = server.posted
    assert [p["in_reply_to_id"] for p in posted] == [mention_id, posted[0]["id"], posted[1]["id"]]
    assert [p["idempotency_key"] for p in posted] == [
        idempotency_key(SELF_ID, name) for name in ("n2", "n2:1", "n2:2")
    ]
    assert first == posted[0]["id"]


def test_a_dry_run_records_the_answer_and_posts_nothing(
    make_poster: Callable[..., Poster], server: FakeServer, store: Store, clock: Clock
) -> None:
    mention_id = claimed(store, server, clock, "n3")
    answer = reply("@alice « … »", mention_id)
    poster = make_poster(dry_run=True)
    assert (
        poster.answer("n3", [answer], whole=answer, thread_id=mention_id, account_id="10", trace={})
        is None
    )
    assert poster.direct(["@mod bonjour"], name="reload:x") is None
    assert server.posted == []
    outcome = store.mentions.outcome("n3")
    assert outcome is not None
    assert (outcome["state"], outcome["reply_id"], outcome["text"]) == (
        "replied",
        None,
        answer.text,
    )


def test_direct_messages_are_keyed_by_their_name(
    make_poster: Callable[..., Poster], server: FakeServer
) -> None:
    poster = make_poster()
    first = poster.direct(["@mod un", "@mod deux"], name="reload:2026")
    again = poster.direct(["@mod un", "@mod deux"], name="reload:2026")
    assert first == again
    assert len(server.posted) == 2
    assert server.posted[1]["in_reply_to_id"] == first
    assert [p["visibility"] for p in server.posted] == ["direct", "direct"]
    assert [p["idempotency_key"] for p in server.posted] == [
        idempotency_key(SELF_ID, "reload:2026:0"),
        idempotency_key(SELF_ID, "reload:2026:1"),
    ]


def test_a_skip_is_recorded_with_its_reason(
    make_poster: Callable[..., Poster], server: FakeServer, store: Store, clock: Clock
) -> None:
    claimed(store, server, clock, "n4")
    poster = make_poster()
    result = poster.skip("n4", SkipReason.NO_RULE, "no rule matches", None, {"steps": []})
    assert (result.outcome, result.detail) == ("skipped", "no_rule")
    outcome = store.mentions.outcome("n4")
    assert outcome is not None
    assert (outcome["state"], outcome["reason"]) == ("skipped", "no_rule")
    counted = poster.metrics.registry.get_sample_value(
        "filrouge_skips_total", {"reason": "no_rule"}
    )
    assert counted == 1
    assert server.posted == []
