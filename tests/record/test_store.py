"""The record (bot.record.store.Store) and the ``log``/``stats`` commands that read it.

Every test uses a real SQLite file in ``tmp_path``; time is passed in, never read.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli.main import main
from bot.errors import ConfigError
from bot.model.catalog import Action, Mode
from bot.model.decision import Explained, Reply, SkipReason
from bot.record.mentions import Claim, StateError
from bot.record.schema import MIGRATIONS, applied_migrations, migrate
from bot.record.store import Store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STALE = timedelta(minutes=5)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "record.sqlite3"


@pytest.fixture
def store(db: Path) -> Store:
    return Store(db)


def reply(
    *,
    rule: str = "source",
    quote_id: str | None = "visuels",
    prompt_id: str | None = None,
    mode: Mode = Mode.LIVE,
    in_reply_to_id: str = "s1",
) -> Reply:
    return Reply(
        text="@someone « Les visuels… »",
        visibility="unlisted",
        spoiler_text="",
        language="fr",
        in_reply_to_id=in_reply_to_id,
        rule=rule,
        action=Action.QUOTE if quote_id else Action.PROMPT,
        essay_id="essay",
        quote_id=quote_id,
        prompt_id=prompt_id,
        mode=mode,
    )


def replied(
    store: Store,
    nid: str,
    *,
    reply_id: str | None,
    thread: str = "t1",
    account: str = "a1",
    at: datetime = T0,
    rule: str = "source",
    quote_id: str | None = "visuels",
    prompt_id: str | None = None,
    mode: Mode = Mode.LIVE,
) -> None:
    """Take one mention through enqueue → claim → (posting) → replied."""
    assert store.mentions.enqueue(nid, f"s{nid}", account, at)
    assert store.mentions.claim(nid, at, stale_after=STALE) is not None
    if reply_id is not None:
        store.mentions.mark_posting(nid, f"key:{nid}", at)
    store.mentions.mark_replied(
        nid,
        reply_id=reply_id,
        reply=reply(
            in_reply_to_id=f"s{nid}", rule=rule, quote_id=quote_id, prompt_id=prompt_id, mode=mode
        ),
        thread_id=thread,
        account_id=account,
        trace={"steps": [{"step": "rule", "rule": "source"}], "summary": f"because {nid}"},
        now=at,
    )


def outcome_of(store: Store, nid: str) -> dict[str, Any]:
    outcome = store.mentions.outcome(nid)
    assert outcome is not None, nid
    return outcome


# -- cursor ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("advances", "expected"),
    [
        ([], None),
        (["9"], "9"),
        # Mastodon ids are decimal strings: '9' < '10' as text, 9 < 10 as numbers.
        (["9", "10"], "10"),
        (["10", "9"], "10"),
        (["99", "100", "98"], "100"),
        (["110000000000000001", "110000000000000002", "110000000000000001"], "110000000000000002"),
        (["5", "5"], "5"),
        # Fixed-width sortable ids (GoToSocial ULIDs) order as text.
        (
            ["01HQ0000000000000000000002", "01HQ0000000000000000000001"],
            "01HQ0000000000000000000002",
        ),
    ],
)
def test_cursor_only_moves_forward(store: Store, advances: list[str], expected: str | None) -> None:
    for notification_id in advances:
        store.mentions.advance_cursor(notification_id)
    assert store.mentions.cursor() == expected


@given(st.lists(st.integers(min_value=1, max_value=10**20), max_size=30))
@settings(max_examples=60, deadline=None)
def test_cursor_is_the_largest_id_seen(ids: list[int]) -> None:
    with tempfile.TemporaryDirectory() as directory, Store(Path(directory) / "r.db") as store:
        for notification_id in ids:
            store.mentions.advance_cursor(str(notification_id))
        assert store.mentions.cursor() == (str(max(ids)) if ids else None)


# -- enqueue and the claim lifecycle ----------------------------------------------------


def test_enqueue_is_idempotent(store: Store) -> None:
    assert store.mentions.enqueue("10", "s10", "a1", T0) is True
    # The stream and the poll both deliver it; the second time changes nothing.
    assert store.mentions.enqueue("10", "s10", "a1", T0 + timedelta(seconds=3)) is False
    outcome = store.mentions.outcome("10")
    assert outcome is not None
    assert (outcome["state"], outcome["outcome"], outcome["attempts"]) == ("pending", "pending", 0)
    assert outcome["received_at"] == "2026-03-01T12:00:00.000000+00:00"
    assert store.mentions.outcome("11") is None


def test_claim_posting_replied_lifecycle(store: Store) -> None:
    store.mentions.enqueue("10", "s10", "a1", T0)
    claim = store.mentions.claim("10", T0, stale_after=STALE)
    assert claim == Claim("10", "s10", "a1", attempts=1, was_posting=False)
    # Freshly claimed: nobody else may take it.
    assert store.mentions.claim("10", T0 + timedelta(seconds=1), stale_after=STALE) is None
    assert store.mentions.due(T0 + timedelta(seconds=1), stale_after=STALE) == []

    store.mentions.mark_posting("10", "key:10", T0)
    assert outcome_of(store, "10")["state"] == "posting"
    store.mentions.mark_replied(
        "10",
        reply_id="r10",
        reply=reply(in_reply_to_id="s10"),
        thread_id="t1",
        account_id="a1",
        trace={"steps": ["a", "b"]},
        now=T0 + timedelta(seconds=2),
    )
    outcome = store.mentions.outcome("10")
    assert outcome is not None
    assert outcome["state"] == "replied"
    assert outcome["reply_id"] == "r10"
    assert outcome["final"] is True and outcome["posted"] is True
    assert (outcome["rule"], outcome["quote_id"], outcome["visibility"]) == (
        "source",
        "visuels",
        "unlisted",
    )
    assert store.audit.entry("10") == {"steps": ["a", "b"]}
    # Final: never claimable again, however late.
    assert store.mentions.claim("10", T0 + timedelta(days=30), stale_after=STALE) is None
    assert store.mentions.due(T0 + timedelta(days=30), stale_after=STALE) == []


def test_skip_is_final_and_keeps_reason_and_trace(store: Store) -> None:
    store.mentions.enqueue("10", "s10", "a1", T0)
    store.mentions.claim("10", T0, stale_after=STALE)
    store.mentions.mark_skipped(
        "10",
        reason=SkipReason.THREAD_COOLDOWN,
        detail="last reply 3 min ago",
        rule=None,
        trace={"guard": "cooldown"},
        now=T0,
    )
    outcome = store.mentions.outcome("10")
    assert outcome is not None
    assert (outcome["state"], outcome["reason"], outcome["detail"]) == (
        "skipped",
        "cooldown",
        "last reply 3 min ago",
    )
    assert store.audit.entry("10") == {"guard": "cooldown"}
    assert store.mentions.claim("10", T0 + timedelta(days=1), stale_after=STALE) is None


@pytest.mark.parametrize(
    ("mark", "setup"),
    [
        # Never claimed: a caller that skips the claim would break "at most one reply".
        ("posting", "pending"),
        ("replied", "pending"),
        ("skipped", "pending"),
        ("failed", "pending"),
        # Already final.
        ("posting", "replied"),
        ("replied", "replied"),
        ("skipped", "skipped"),
        ("failed", "skipped"),
        # Unknown mention.
        ("replied", "missing"),
    ],
)
def test_marks_refuse_invalid_transitions(store: Store, mark: str, setup: str) -> None:
    if setup != "missing":
        store.mentions.enqueue("10", "s10", "a1", T0)
    if setup in ("replied", "skipped"):
        store.mentions.claim("10", T0, stale_after=STALE)
        if setup == "replied":
            store.mentions.mark_replied(
                "10", reply_id="r", reply=reply(), thread_id="t", account_id="a1", trace={}, now=T0
            )
        else:
            store.mentions.mark_skipped(
                "10", reason=SkipReason.NO_RULE, detail="", rule=None, trace={}, now=T0
            )
    before = store.mentions.outcome("10")
    with pytest.raises(StateError, match="cannot mark mention 10"):
        if mark == "posting":
            store.mentions.mark_posting("10", "k", T0)
        elif mark == "replied":
            store.mentions.mark_replied(
                "10", reply_id="r2", reply=reply(), thread_id="t", account_id="a1", trace={}, now=T0
            )
        elif mark == "skipped":
            store.mentions.mark_skipped(
                "10", reason=SkipReason.NO_RULE, detail="", rule=None, trace={}, now=T0
            )
        else:
            store.mentions.mark_failed("10", kind="network", message="x", now=T0, retry_at=None)
    assert store.mentions.outcome("10") == before


# -- crash recovery --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reached", "age", "claimable", "was_posting"),
    [
        # A claim younger than stale_after belongs to a live worker.
        ("claimed", timedelta(minutes=4, seconds=59), False, False),
        ("posting", timedelta(minutes=4, seconds=59), False, True),
        ("claimed", STALE, False, False),
        # Past stale_after the worker is presumed dead (killed mid-mention).
        ("claimed", STALE + timedelta(microseconds=1), True, False),
        ("claimed", timedelta(hours=3), True, False),
        # Killed between mark_posting and the outcome: the reply may exist.
        ("posting", STALE + timedelta(microseconds=1), True, True),
        ("posting", timedelta(days=2), True, True),
    ],
)
def test_stale_claim_is_claimable_again(
    store: Store, reached: str, age: timedelta, claimable: bool, was_posting: bool
) -> None:
    store.mentions.enqueue("10", "s10", "a1", T0)
    store.mentions.claim("10", T0, stale_after=STALE)
    if reached == "posting":
        store.mentions.mark_posting("10", "key:10", T0)
    later = T0 + age
    assert store.mentions.due(later, stale_after=STALE) == (["10"] if claimable else [])
    claim = store.mentions.claim("10", later, stale_after=STALE)
    if not claimable:
        assert claim is None
        return
    assert claim == Claim("10", "s10", "a1", attempts=2, was_posting=was_posting)
    # The new claim is fresh again: a third worker gets nothing.
    assert store.mentions.claim("10", later, stale_after=STALE) is None


def test_stale_after_zero_means_claimed_before_now(store: Store) -> None:
    """A single worker passes ``now - started`` as stale_after: rows claimed before
    it started are a dead process's; its own claims, even at the same instant, are not."""
    store.mentions.enqueue("1", "s1", "a1", T0)
    store.mentions.enqueue("2", "s2", "a1", T0)
    store.mentions.claim("1", T0 - timedelta(microseconds=1), stale_after=STALE)  # the dead process
    store.mentions.claim("2", T0, stale_after=STALE)  # ours, with a clock that has not moved
    assert store.mentions.due(T0, stale_after=timedelta(0)) == ["1"]
    assert store.mentions.claim("2", T0, stale_after=timedelta(0)) is None
    assert store.mentions.claim("1", T0, stale_after=timedelta(0)) is not None


def test_stale_claim_past_max_attempts_is_abandoned(store: Store) -> None:
    """A mention that kills the bot each time must not keep it crashing forever."""
    store.mentions.enqueue("10", "s10", "a1", T0)
    at = T0
    for attempt in (1, 2, 3):
        claim = store.mentions.claim("10", at, stale_after=STALE, max_attempts=3)
        assert claim is not None and claim.attempts == attempt
        at += STALE * 2  # ... and the worker dies
    assert store.mentions.claim("10", at, stale_after=STALE, max_attempts=3) is None
    outcome = store.mentions.outcome("10")
    assert outcome is not None
    assert (outcome["state"], outcome["error_kind"], outcome["final"]) == (
        "failed",
        "abandoned",
        True,
    )
    assert store.mentions.due(at + timedelta(days=1), stale_after=STALE) == []


def test_failed_is_retried_until_max_attempts_then_final(store: Store) -> None:
    store.mentions.enqueue("10", "s10", "a1", T0)
    at = T0
    for attempt in (1, 2, 3):
        claim = store.mentions.claim("10", at, stale_after=STALE)
        assert claim is not None and claim.attempts == attempt
        store.mentions.mark_posting("10", "key:10", at)
        retry_at = at + timedelta(minutes=attempt)
        store.mentions.mark_failed(
            "10", kind="server", message="502", now=at, retry_at=retry_at, max_attempts=3
        )
        # Not before its time...
        assert (
            store.mentions.claim("10", retry_at - timedelta(seconds=1), stale_after=STALE) is None
        )
        at = retry_at
        if attempt < 3:
            assert store.mentions.due(at, stale_after=STALE) == ["10"]
    # ... and after the third attempt, never.
    outcome = store.mentions.outcome("10")
    assert outcome is not None
    assert (outcome["state"], outcome["attempts"], outcome["retry_at"], outcome["final"]) == (
        "failed",
        3,
        None,
        True,
    )
    assert store.mentions.claim("10", at + timedelta(days=1), stale_after=STALE) is None


def test_retry_after_posting_reports_was_posting(store: Store) -> None:
    """A timeout during the POST may still have posted: the retry must know."""
    store.mentions.enqueue("10", "s10", "a1", T0)
    store.mentions.claim("10", T0, stale_after=STALE)
    store.mentions.mark_posting("10", "key:10", T0)
    store.mentions.mark_failed(
        "10", kind="network", message="timeout", now=T0, retry_at=T0 + timedelta(seconds=30)
    )
    claim = store.mentions.claim("10", T0 + timedelta(seconds=30), stale_after=STALE)
    assert claim is not None and claim.was_posting is True


def test_failed_without_retry_is_final(store: Store) -> None:
    store.mentions.enqueue("10", "s10", "a1", T0)
    store.mentions.claim("10", T0, stale_after=STALE)
    store.mentions.mark_failed("10", kind="gone", message="404", now=T0, retry_at=None)
    assert store.mentions.claim("10", T0 + timedelta(days=1), stale_after=STALE) is None
    assert outcome_of(store, "10")["final"] is True


def test_due_is_oldest_first_by_numeric_id(store: Store) -> None:
    for nid in ("100", "9", "10", "11"):
        store.mentions.enqueue(nid, f"s{nid}", "a1", T0)
    assert store.mentions.due(T0, stale_after=STALE) == ["9", "10", "11", "100"]


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.mentions.enqueue("1", "s1", "a1", datetime(2026, 3, 1, 12, 0))


def test_times_are_stored_as_utc(store: Store) -> None:
    paris = timezone(timedelta(hours=1))
    store.mentions.enqueue("1", "s1", "a1", datetime(2026, 3, 1, 13, 0, tzinfo=paris))
    assert outcome_of(store, "1")["received_at"] == "2026-03-01T12:00:00.000000+00:00"


# -- two processes after a bad restart ---------------------------------------------------


def test_two_stores_racing_claim_each_mention_exactly_once(db: Path) -> None:
    ids = [str(n) for n in range(1, 201)]
    first, second = Store(db), Store(db)
    for nid in ids:
        first.mentions.enqueue(nid, f"s{nid}", "a1", T0)
    claims: list[tuple[str, Claim]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker(name: str, store: Store, seed: int) -> None:
        order = ids[:]
        random.Random(seed).shuffle(order)
        try:
            start.wait()
            for nid in order:
                claim = store.mentions.claim(nid, T0, stale_after=STALE)
                if claim is not None:
                    with lock:
                        claims.append((name, claim))
        except BaseException as error:  # reported below, not swallowed
            errors.append(error)

    threads = [
        threading.Thread(target=worker, args=(f"w{n}", store, n))
        for n, store in enumerate((first, second, first, second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    claimed = Counter(claim.notification_id for _, claim in claims)
    assert sorted(claimed, key=int) == ids
    assert set(claimed.values()) == {1}
    assert all(claim.attempts == 1 for _, claim in claims)
    # Both stores really competed (not one doing all the work).
    assert len({name for name, _ in claims}) > 1
    first.close()
    second.close()


CLAIMER = """
import json, pathlib, sys, time
from datetime import datetime, timedelta
from bot.record.store import Store

db, go, ids = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3].split(",")
store = Store(db)
while not go.exists():
    time.sleep(0.001)
now = datetime.fromisoformat(sys.argv[4])
got = [nid for nid in ids if store.mentions.claim(nid, now, stale_after=timedelta(minutes=5))]
store.close()
print(json.dumps(got))
"""


def test_two_processes_racing_claim_each_mention_exactly_once(db: Path, tmp_path: Path) -> None:
    """The situation after a bad restart: an old process still running beside
    the new one, both draining the same backlog from the same file."""
    ids = [str(n) for n in range(1, 151)]
    with Store(db) as store:
        for nid in ids:
            store.mentions.enqueue(nid, f"s{nid}", "a1", T0)
    go = tmp_path / "go"
    processes = []
    for seed in range(3):
        order = ids[:]
        random.Random(seed).shuffle(order)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", CLAIMER, str(db), str(go), ",".join(order), T0.isoformat()],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    go.touch()
    claimed: list[list[str]] = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        claimed.append(json.loads(out))
    everything = [nid for got in claimed for nid in got]
    assert sorted(everything, key=int) == ids  # each exactly once
    with Store(db) as store:
        assert store.mentions.due(T0, stale_after=STALE) == []


WORKER = """
import sys
from datetime import datetime, timedelta
from bot.model.catalog import Action
from bot.model.decision import Reply, SkipReason
from bot.record.store import Store

store = Store(sys.argv[1])
now = datetime.fromisoformat(sys.argv[2])
base = int(sys.argv[3])
print("ready", flush=True)
for n in range(base, base + 100_000):
    nid = str(n)
    store.mentions.enqueue(nid, "s" + nid, "a" + str(n % 7), now)
    store.mentions.advance_cursor(nid)
    if store.mentions.claim(nid, now, stale_after=timedelta(minutes=5)) is None:
        continue
    if n % 3 == 0:
        store.mentions.mark_skipped(
            nid, reason=SkipReason.NO_RULE, detail="", rule=None, trace={"n": n}, now=now
        )
        continue
    store.mentions.mark_posting(nid, "key:" + nid, now)
    reply = Reply("text", "public", "", "fr", "s" + nid, "source", Action.QUOTE, quote_id="q")
    store.mentions.mark_replied(
        nid, reply_id="r" + nid, reply=reply, thread_id="t" + str(n % 5),
        account_id="a" + str(n % 7), trace={"n": n}, now=now,
    )
"""


@pytest.mark.parametrize("round_", range(4))
def test_sigkill_leaves_a_consistent_record(db: Path, round_: int) -> None:
    """A process killed at a random moment leaves no half-written outcome: every
    replied mention has its reply row and vice versa, the cursor is a seen id,
    and what it left claimed or posting is claimable again once stale."""
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(db), T0.isoformat(), str(1_000 * (round_ + 1))],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    time_to_work = 0.05 + random.Random(round_).random() * 0.3
    try:
        process.wait(timeout=time_to_work)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    check = sqlite3.connect(db)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    orphans = check.execute(
        "SELECT count(*) FROM replies r JOIN mentions m USING (notification_id)"
        " WHERE m.state != 'replied' OR m.reply_id IS NOT r.reply_id"
    ).fetchone()[0]
    missing = check.execute(
        "SELECT count(*) FROM mentions m LEFT JOIN replies r USING (notification_id)"
        " WHERE m.state = 'replied' AND r.notification_id IS NULL"
    ).fetchone()[0]
    seen = check.execute("SELECT count(*) FROM mentions").fetchone()[0]
    check.close()
    assert (orphans, missing) == (0, 0)
    assert seen > 0

    with Store(db) as store:
        cursor = store.mentions.cursor()
        assert cursor is not None and store.mentions.outcome(cursor) is not None
        later = T0 + STALE * 2
        for nid in store.mentions.due(later, stale_after=STALE):
            claim = store.mentions.claim(nid, later, stale_after=STALE)
            assert claim is not None
            store.mentions.mark_skipped(
                nid, reason=SkipReason.DUPLICATE, detail="", rule=None, trace={}, now=later
            )
        assert store.audit.counts()["outcome"]["pending"] == 0


# -- history --------------------------------------------------------------------------


def test_history_counts_only_posted_replies(store: Store) -> None:
    # Posted in thread t1 to a1, then to a2; one observe and one dry-run reply in t1.
    replied(store, "1", reply_id="r1", at=T0, quote_id="visuels")
    replied(store, "2", reply_id="r2", account="a2", at=T0 + timedelta(minutes=1), quote_id="ia")
    replied(
        store, "3", reply_id=None, at=T0 + timedelta(minutes=2), quote_id="obs", mode=Mode.OBSERVE
    )
    replied(store, "4", reply_id=None, at=T0 + timedelta(minutes=3), quote_id="dry")
    # Posted in another thread to a1, a prompt.
    replied(
        store,
        "5",
        reply_id="r5",
        thread="t2",
        at=T0 + timedelta(minutes=4),
        quote_id=None,
        prompt_id="lire",
    )

    history = store.replies.history(thread_id="t1", account_id="a1", parent_status_id=None)
    assert history.thread_replies == (T0, T0 + timedelta(minutes=1))
    assert history.account_replies == (T0, T0 + timedelta(minutes=4))
    assert history.thread_quote_ids == {"visuels", "ia"}
    assert history.thread_prompt_ids == frozenset()
    assert history.last_used == {
        "visuels": T0,
        "ia": T0 + timedelta(minutes=1),
        "lire": T0 + timedelta(minutes=4),
    }
    assert history.opted_out is False
    assert history.explained is None

    other = store.replies.history(thread_id="t2", account_id="a3", parent_status_id=None)
    assert other.thread_replies == (T0 + timedelta(minutes=4),)
    assert other.account_replies == ()
    assert other.thread_prompt_ids == {"lire"}

    # The unposted replies are still recorded as outcomes.
    assert outcome_of(store, "3")["state"] == "replied"
    assert outcome_of(store, "3")["posted"] is False


def test_history_explains_the_bots_own_post(store: Store) -> None:
    replied(store, "1", reply_id="r1")
    expected = Explained(
        status_id="r1",
        rule="source",
        action="quote",
        essay_id="essay",
        quote_id="visuels",
        prompt_id=None,
        summary="because 1",
        account_id="a1",
        in_reply_to_id="s1",
    )
    assert store.replies.explained("r1") == expected
    history = store.replies.history(thread_id="t1", account_id="a9", parent_status_id="r1")
    assert history.explained == expected
    # Someone else's post, or a reply never posted: nothing to explain.
    assert (
        store.replies.history(thread_id="t1", account_id="a9", parent_status_id="s1").explained
        is None
    )
    assert store.replies.explained("unknown") is None


def test_explained_summary_falls_back_to_the_facts(store: Store) -> None:
    store.mentions.enqueue("1", "s1", "a1", T0)
    store.mentions.claim("1", T0, stale_after=STALE)
    store.mentions.mark_replied(
        "1", reply_id="r1", reply=reply(), thread_id="t", account_id="a1", trace={}, now=T0
    )
    explained = store.replies.explained("r1")
    assert explained is not None
    assert explained.summary == "rule source, action quote, quote visuels, essay essay"


# -- opt-outs and the link cache -----------------------------------------------------------


def test_opt_out_and_in(store: Store) -> None:
    assert store.consent.is_opted_out("a1") is False
    store.consent.opt_out("a1", T0)
    store.consent.opt_out("a1", T0 + timedelta(days=1))  # again: harmless
    assert store.consent.is_opted_out("a1") is True
    assert store.consent.is_opted_out("a2") is False
    assert store.replies.history(thread_id="t", account_id="a1", parent_status_id=None).opted_out
    store.consent.opt_in("a1")
    store.consent.opt_in("a1")  # again: harmless
    assert store.consent.is_opted_out("a1") is False


def resolved_link(store: Store, url: str) -> str | None:
    """Where the record says ``url`` leads (None: unknown or refused)."""
    entry = store.links.link_entry(url)
    return None if entry is None else entry.resolved


def test_link_cache(store: Store) -> None:
    url = "https://app.flus.fr/links/123"
    assert resolved_link(store, url) is None
    assert store.links.link_entry(url) is None
    store.links.cache_link(url, "https://example.org/essai", T0)
    assert resolved_link(store, url) == "https://example.org/essai"
    # A link that could not be resolved is remembered as such.
    store.links.cache_link("https://app.flus.fr/links/404", None, T0)
    entry = store.links.link_entry("https://app.flus.fr/links/404")
    assert entry is not None and entry.resolved is None and entry.resolved_at == T0
    store.links.cache_link(url, "https://example.org/moved", T0 + timedelta(days=1))
    assert resolved_link(store, url) == "https://example.org/moved"


# -- migrations and durability ----------------------------------------------------------------


def test_migrations_upgrade_a_database_from_migration_one(db: Path) -> None:
    old = sqlite3.connect(db, isolation_level=None)
    assert migrate(old, MIGRATIONS[:1]) == [MIGRATIONS[0].name]
    old.execute(
        "INSERT INTO mentions (notification_id, status_id, account_id, received_at, updated_at)"
        " VALUES ('7', 's7', 'a1', '2026-03-01T12:00:00.000000+00:00',"
        " '2026-03-01T12:00:00.000000+00:00')"
    )
    old.close()

    with Store(db) as store:
        assert store.mentions.claim("7", T0, stale_after=STALE) == Claim("7", "s7", "a1", 1, False)
    check = sqlite3.connect(db)
    assert applied_migrations(check) == [m.name for m in MIGRATIONS]
    indexes = {row[0] for row in check.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "mentions_open" in indexes
    check.close()


def test_migrations_apply_once(db: Path) -> None:
    Store(db).close()
    connection = sqlite3.connect(db, isolation_level=None)
    assert migrate(connection) == []
    connection.close()


def test_a_database_from_a_newer_version_is_refused(db: Path) -> None:
    Store(db).close()
    connection = sqlite3.connect(db, isolation_level=None)
    connection.execute("INSERT INTO migrations (position, name) VALUES (99, '0099_future')")
    connection.close()
    with pytest.raises(ConfigError, match="0099_future"):
        Store(db)


def test_reopening_keeps_everything(db: Path) -> None:
    with Store(db) as store:
        store.mentions.advance_cursor("42")
        replied(store, "1", reply_id="r1")
        store.mentions.enqueue("2", "s2", "a2", T0)
        store.mentions.claim("2", T0, stale_after=STALE)
        store.mentions.mark_posting("2", "key:2", T0)
        store.consent.opt_out("a3", T0)
        store.links.cache_link("https://a.example/x", "https://b.example/y", T0)
    # close() checkpoints: the WAL is empty and the main file holds everything.
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0

    with Store(db) as store:
        assert store.mentions.cursor() == "42"
        assert outcome_of(store, "1")["reply_id"] == "r1"
        assert store.audit.entry("1") == {
            "steps": [{"step": "rule", "rule": "source"}],
            "summary": "because 1",
        }
        assert store.replies.history(
            thread_id="t1", account_id="a1", parent_status_id=None
        ).thread_replies
        assert store.consent.is_opted_out("a3")
        assert resolved_link(store, "https://a.example/x") == "https://b.example/y"
        # The mention in flight at "shutdown" comes back after stale_after.
        claim = store.mentions.claim("2", T0 + STALE * 2, stale_after=STALE)
        assert claim is not None and claim.was_posting


def test_store_settings(store: Store) -> None:
    with store._lock:  # the pragmas the docstring promises
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store._db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    store.close()
    store.close()  # idempotent


def test_one_store_is_usable_from_several_threads(store: Store) -> None:
    def work(base: int) -> None:
        for n in range(base, base + 50):
            store.mentions.enqueue(str(n), f"s{n}", "a1", T0)
            store.mentions.advance_cursor(str(n))

    threads = [threading.Thread(target=work, args=(base,)) for base in (0, 1000, 2000, 3000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.mentions.due(T0, stale_after=STALE)) == 200
    assert store.mentions.cursor() == "3049"


# -- recent and counts --------------------------------------------------------------------


def populate(store: Store, base: datetime) -> None:
    """Four outcomes: replied (posted), replied (dry run), skipped, failed; one pending."""
    replied(store, "1", reply_id="r1", at=base - timedelta(days=3))
    replied(store, "2", reply_id=None, at=base - timedelta(minutes=30), rule="help", quote_id=None)
    store.mentions.enqueue("3", "s3", "a3", base - timedelta(minutes=20))
    store.mentions.claim("3", base - timedelta(minutes=20), stale_after=STALE)
    store.mentions.mark_skipped(
        "3",
        reason=SkipReason.BOT_ACCOUNT,
        detail="a3 is a bot",
        rule=None,
        trace={},
        now=base - timedelta(minutes=20),
    )
    store.mentions.enqueue("4", "s4", "a4", base - timedelta(minutes=10))
    store.mentions.claim("4", base - timedelta(minutes=10), stale_after=STALE)
    store.mentions.mark_failed(
        "4", kind="ratelimit", message="429", now=base - timedelta(minutes=10), retry_at=None
    )
    store.mentions.enqueue("5", "s5", "a5", base - timedelta(minutes=5))


def test_recent_filters_and_orders(store: Store) -> None:
    populate(store, T0)
    assert [
        row["notification_id"] for row in store.audit.recent(since=None, outcome=None, limit=10)
    ] == [
        "5",
        "4",
        "3",
        "2",
        "1",
    ]
    assert [
        row["notification_id"] for row in store.audit.recent(since=None, outcome=None, limit=2)
    ] == [
        "5",
        "4",
    ]
    since = T0 - timedelta(hours=1)
    assert [
        r["notification_id"] for r in store.audit.recent(since=since, outcome=None, limit=10)
    ] == [
        "5",
        "4",
        "3",
        "2",
    ]
    for outcome, expected in [
        ("replied", ["2", "1"]),
        ("skipped", ["3"]),
        ("failed", ["4"]),
        ("pending", ["5"]),
    ]:
        rows = store.audit.recent(since=None, outcome=outcome, limit=10)
        assert [row["notification_id"] for row in rows] == expected
    with pytest.raises(ValueError, match="unknown outcome"):
        store.audit.recent(since=None, outcome="lost", limit=10)


def test_counts(store: Store) -> None:
    populate(store, T0)
    assert store.audit.counts() == {
        "outcome": {"replied": 2, "skipped": 1, "failed": 1, "pending": 1},
        "rule": {"help": 1, "source": 1},
        "reason": {"bot_account": 1},
        "error": {"ratelimit": 1},
    }


def test_counts_since_a_moment(store: Store) -> None:
    """Only the mentions whose state changed in the window: the reply of three
    days ago drops out of the last hour's counts."""
    populate(store, T0)
    assert store.audit.counts(T0 - timedelta(hours=1)) == {
        "outcome": {"replied": 1, "skipped": 1, "failed": 1, "pending": 1},
        "rule": {"help": 1},
        "reason": {"bot_account": 1},
        "error": {"ratelimit": 1},
    }
    assert store.audit.counts(T0 + timedelta(hours=1))["outcome"] == dict.fromkeys(
        ("replied", "skipped", "failed", "pending"), 0
    )


# -- the log and stats commands ------------------------------------------------------------------


@pytest.fixture
def filled(db: Path) -> Path:
    with Store(db) as store:
        # The commands read the real clock (--since is relative to it).
        populate(store, datetime.now(UTC))
    return db


def test_log_prints_one_line_per_mention(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log", "--db", str(filled)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "time",
        "(UTC)",
        "mention",
        "outcome",
        "rule",
        "reason",
        "quote",
        "reply",
    ]
    body = [line.split() for line in lines[1:]]
    assert [fields[1:] for fields in body] == [
        ["5", "pending", "-", "pending", "-", "-"],
        ["4", "failed", "-", "ratelimit", "-", "-"],
        ["3", "skipped", "-", "bot_account", "-", "-"],
        ["2", "replied", "help", "dry-run", "-", "-"],
        ["1", "replied", "source", "-", "visuels", "r1"],
    ]
    assert all(fields[0].endswith("Z") and "T" in fields[0] for fields in body)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--outcome", "skipped"], ["3"]),
        (["--outcome", "replied"], ["2", "1"]),
        (["--outcome", "pending"], ["5"]),
        (["--since", "1h"], ["5", "4", "3", "2"]),
        (["--since", "15m"], ["5", "4"]),
        (["--since", "PT15M"], ["5", "4"]),
        (["--since", "7d", "--outcome", "replied"], ["2", "1"]),
        (["--limit", "1"], ["5"]),
    ],
)
def test_log_json_filters(
    filled: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], expected: list[str]
) -> None:
    assert main(["log", "--db", str(filled), "--json", *arguments]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["notification_id"] for row in rows] == expected


def test_log_json_carries_the_reply(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log", "--db", str(filled), "--json", "--outcome", "replied"]) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert first["reply_id"] == "r1"
    assert first["quote_id"] == "visuels"
    assert first["text"] == "@someone « Les visuels… »"


@pytest.mark.parametrize("bad", ["--since=soon", "--since=-1h", "--limit=0", "--outcome=lost"])
def test_log_rejects_bad_arguments(
    filled: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["log", "--db", str(filled), bad])
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_stats(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--db", str(filled)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "mentions: 5 (2 replied, 1 skipped, 1 failed, 1 pending)"
    assert "replies by rule:" in out and "skips by reason:" in out and "failures by kind:" in out
    assert "  bot_account  1" in out

    assert main(["stats", "--db", str(filled), "--since", "1h"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        "mentions: 4 (1 replied, 1 skipped, 1 failed, 1 pending)"
    )

    assert main(["stats", "--db", str(filled), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == {
        "replied": 2,
        "skipped": 1,
        "failed": 1,
        "pending": 1,
    }


def test_commands_read_the_settings_db_path(
    filled: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("FILROUGE_DB_PATH", str(filled))
    assert main(["stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"]["replied"] == 2


@pytest.mark.parametrize("command", ["log", "stats"])
def test_commands_without_a_record_fail_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    missing = tmp_path / "missing.sqlite3"
    assert main([command, "--db", str(missing)]) == 1
    assert "no record at" in capsys.readouterr().err
    assert not missing.exists()  # reading never creates an empty record


def test_commands_on_a_file_that_is_not_a_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("not a database " * 100)
    assert main(["log", "--db", str(junk)]) == 1
    assert "cannot read the record" in capsys.readouterr().err


def test_what_an_account_was_shown_recently_across_threads(store: Store) -> None:
    """``shown_since`` bounds the no-repeat window; dry runs never count."""
    replied(store, "1", reply_id="r1", thread="t1", at=T0 - timedelta(days=10), quote_id="old")
    replied(store, "2", reply_id="r2", thread="t2", at=T0 - timedelta(days=2), quote_id="new")
    replied(
        store,
        "3",
        reply_id="r3",
        thread="t3",
        at=T0 - timedelta(days=1),
        quote_id=None,
        prompt_id="p1",
    )
    replied(store, "4", reply_id=None, thread="t4", at=T0, quote_id="dry")
    replied(store, "5", reply_id="r5", thread="t5", account="a2", at=T0, quote_id="theirs")

    def shown(since: datetime | None) -> frozenset[str]:
        history = store.replies.history(
            thread_id="t9", account_id="a1", parent_status_id=None, shown_since=since
        )
        return history.shown_to_account

    assert shown(T0 - timedelta(days=7)) == {"new", "p1"}
    assert shown(T0 - timedelta(days=30)) == {"old", "new", "p1"}
    assert shown(None) == frozenset()


def test_log_follow_prints_each_outcome_as_it_is_recorded(filled: Path) -> None:
    """``log --follow``: the recent lines, then each new outcome once, until SIGTERM."""
    import os
    import queue
    import signal
    import subprocess
    import sys
    import threading
    import time

    root = Path(__file__).resolve().parents[2]
    follow = subprocess.Popen(
        [sys.executable, "-m", "bot", "log", "--follow", "--db", str(filled)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
        cwd=filled.parent,
    )
    assert follow.stdout is not None
    printed: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [printed.put(line) for line in follow.stdout],
        daemon=True,  # type: ignore[union-attr]
    ).start()

    def lines_until(wanted: str, timeout: float = 20.0) -> list[str]:
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = printed.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(line)
            if wanted in line:
                return seen
        raise AssertionError(f"{wanted!r} never printed: {seen}")

    try:
        lines_until(" 4 ")  # the recorded ones first (mention 4 failed)
        with Store(filled) as store:
            now = datetime.now(UTC)
            store.mentions.enqueue("77", "s77", "a7", now)
            store.mentions.claim("77", now, stale_after=STALE)
            store.mentions.mark_skipped(
                "77", reason=SkipReason.OFF_TOPIC, detail="", rule=None, trace={}, now=now
            )
        new = lines_until(" 77 ")
        assert "skipped" in new[-1] and "off_topic" in new[-1]
    finally:
        follow.send_signal(signal.SIGTERM)
        assert follow.wait(10) == 0


def test_catalog_coverage_is_the_curators_to_do_list(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """From the record: what mentions got, the words weak matches rested on,
    the quotes and prompts never chosen."""
    now = datetime.now(UTC)
    with Store(filled) as store:
        store.mentions.enqueue("6", "s6", "a6", now - timedelta(minutes=2))
        store.mentions.claim("6", now - timedelta(minutes=2), stale_after=STALE)
        weak = {"kind": "evidence", "ok": False, "data": {"words": ["boss", "taf"]}}
        store.mentions.mark_skipped(
            "6",
            reason=SkipReason.OFF_TOPIC,
            detail="nothing in the essay speaks to it",
            rule="lien-par-defaut",
            trace={"steps": [{**weak, "name": "quote"}, {**weak, "name": "prompt"}]},
            now=now - timedelta(minutes=2),
        )
        # An outcome recorded before the record kept weak words beside the
        # trace: read from the trace itself.
        store.mentions.enqueue("7", "s7", "a7", now - timedelta(minutes=2))
        store.mentions.claim("7", now - timedelta(minutes=2), stale_after=STALE)
        store.mentions.mark_skipped(
            "7",
            reason=SkipReason.OFF_TOPIC,
            detail="nothing",
            rule=None,
            trace={"steps": [{**weak, "name": "quote", "data": {"words": ["taf"]}}]},
            now=now - timedelta(minutes=2),
        )
        with store.mentions._write() as db:
            db.execute("UPDATE mentions SET weak_words = NULL WHERE notification_id = '7'")
        store.texts.keep(
            "6",
            status_id="s6",
            account_id="a6",
            acct="a6",
            text="@filrouge la trottinette de mon voisin, https://example.org/trottinette",
            url="",
            visibility="public",
            now=now,
        )
        [visuels] = [
            row
            for row in store.audit.recent(since=None, outcome="replied", limit=50)
            if row["quote_id"] == "visuels"
        ]
        assert store.replies.take_back(visuels["reply_id"], by="a1", how="request", now=now)
        assert not store.replies.take_back(visuels["reply_id"], by="a1", how="request", now=now)
    assert main(["catalog", "coverage", "--db", str(filled), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["taken_back"] == {"visuels": 1}
    # the words of a mention that got no quote which no passage uses (counted
    # once; the handle and the link are not words)
    assert report["unmatched_words"]["trottinette"] == 1
    assert "filrouge" not in report["unmatched_words"] and "org" not in report["unmatched_words"]
    assert "voisin" in report["unmatched_words"] and "mon" not in report["unmatched_words"]
    # 1 (3 days ago), 2, 3, 6 and 7; the failed and the pending ones have no outcome yet
    assert report["mentions"] == 5
    assert report["answered"] == {"quote": 1, "other": 1}
    assert report["skipped"] == {"bot_account": 1, "off_topic": 2}
    assert report["weak_match_words"] == {"taf": 2, "boss": 1}  # once per mention
    [essay] = report["essays"]
    assert "petites-voix" in essay["quotes_never_chosen"]
    assert report["quotes_most_chosen"] == {"visuels": 1}
    assert main(["catalog", "coverage", "--db", str(filled), "--since", "1h", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mentions"] == 4
    assert main(["catalog", "coverage", "--db", str(filled)]) == 0
    out = capsys.readouterr().out
    assert "weak matches rested on: taf (2), boss (1)" in out
    assert "quotes never chosen: " in out
    assert "taken back on request: visuels (1)" in out
    assert "words no passage knows: " in out and "trottinette (1)" in out
    assert main(["log", "--db", str(filled)]) == 0
    assert "taken back (request)" in capsys.readouterr().out
