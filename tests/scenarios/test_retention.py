"""People's words in the record (``bot.record.texts``), end to end: kept for
``FILROUGE_RECORD_TEXT_DAYS`` only, never a direct message's unless the admins
say so, forgotten at ``stop`` and when the mention is deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.record.store import Store
from tests.conftest import eventually
from tests.scenarios.test_live import AFFICHES, Live, live

__all__ = ["live"]

pytestmark = pytest.mark.e2e


def kept(harness: Live, status: Any) -> dict[str, str] | None:
    with Store(harness.settings.db_path) as store:
        return store.texts.of(harness.notification_id(status))


def test_a_public_mention_is_kept_a_direct_message_is_not(live: Callable[..., Live]) -> None:
    harness = live()
    harness.start()
    public = harness.post("alice", f"@filrouge {AFFICHES}")
    direct = harness.post("alice", "@filrouge un secret", visibility="direct")
    harness.outcome(public)
    harness.outcome(direct)
    text = kept(harness, public)
    assert text is not None and AFFICHES[:30] in text["text"] and text["acct"] == "alice"
    assert kept(harness, direct) is None


def test_direct_messages_are_kept_when_moderators_may_read_them(
    live: Callable[..., Live],
) -> None:
    harness = live(console_show_direct=True)
    harness.start()
    direct = harness.post("alice", "@filrouge un secret", visibility="direct")
    harness.outcome(direct)
    assert kept(harness, direct) is not None


def test_nothing_is_kept_at_zero_days(live: Callable[..., Live]) -> None:
    harness = live(record_text_days=0)
    harness.start()
    public = harness.post("alice", f"@filrouge {AFFICHES}")
    harness.outcome(public)
    assert kept(harness, public) is None


def test_stop_forgets_every_text_of_its_author(live: Callable[..., Live]) -> None:
    harness = live()
    harness.start()
    first = harness.post("bob", f"@filrouge {AFFICHES}")
    harness.outcome(first)
    other = harness.post("carol", f"@filrouge {AFFICHES}")
    harness.outcome(other)
    assert kept(harness, first) is not None
    stop = harness.post("bob", "@filrouge stop")
    harness.outcome(stop)
    assert kept(harness, first) is None and kept(harness, stop) is None
    assert kept(harness, other) is not None


def test_a_deleted_mention_is_forgotten(live: Callable[..., Live]) -> None:
    harness = live()
    alice = harness.client("alice").account_verify_credentials()
    harness.client("filrouge").account_follow(alice["id"])
    harness.start()
    harness.wait_streaming()
    mention = harness.post("alice", f"@filrouge {AFFICHES}")
    harness.outcome(mention)
    assert kept(harness, mention) is not None
    harness.client("alice").status_delete(mention["id"])
    eventually(lambda: kept(harness, mention) is None)


def test_texts_past_their_time_are_forgotten_at_start(live: Callable[..., Live]) -> None:
    harness = live(record_text_days=30)
    old = datetime.now(UTC) - timedelta(days=31)
    with Store(harness.settings.db_path) as store:
        for name, at in (("old", old), ("recent", old + timedelta(days=30))):
            store.mentions.enqueue(name, f"s-{name}", f"a-{name}", at)
            store.texts.keep(
                name,
                status_id=f"s-{name}",
                account_id=f"a-{name}",
                acct="someone",
                text=f"des mots ({name})",
                url="",
                visibility="public",
                now=at,
            )
    harness.start()

    def forgotten() -> bool:
        with Store(harness.settings.db_path) as store:
            return store.texts.of("old") is None

    eventually(forgotten)
    with Store(harness.settings.db_path) as store:
        assert store.texts.of("recent") is not None
