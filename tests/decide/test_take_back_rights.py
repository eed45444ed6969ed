"""Who may have a reply taken back, and what no limit holds back (pure
``decide``, ``bot.decide.take_back``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.decide.decision import decide
from bot.decide.trace import Outcome
from bot.model.catalog import Action, Conditions
from bot.model.decision import Explained, History, Moderation, Paused, SkipReason
from bot.model.post import Account, PlainText, Post, Thread
from tests.decide.test_decision import (
    NOW,
    POLICY,
    REQUESTER,
    RULES,
    config,
    make,
    reply_of,
    rule,
    skip_of,
)

CFG = config(
    (
        rule("supprime", Action.TAKE_BACK, when=Conditions(commands=("supprime", "delete"))),
        *RULES,
    )
)
AUTHOR = Account(id="7", acct="autrice@example.org", username="autrice")
STRANGER = Account(id="99", acct="passant@example.org", username="passant")
ADMIN = Account(id="5", acct="mod", username="mod")
BOT = Account(id=POLICY.self_id, acct="filrouge", username="filrouge")

#: The thread above the request: the author's post, the requester's mention
#: under it, the bot's reply to the mention.
ROOT = Post(id="700", account=AUTHOR, content=PlainText("Un avis."), created_at=NOW)
MENTION = Post(
    id="800",
    account=REQUESTER,
    content=PlainText("@filrouge affiches"),
    created_at=NOW,
    in_reply_to_id="700",
)
REPLY = Post(
    id="850", account=BOT, content=PlainText("Citation"), created_at=NOW, in_reply_to_id="800"
)
THREAD = Thread(ancestors=(ROOT, MENTION, REPLY))
EXPLAINED = Explained(
    status_id="850",
    rule="citation",
    action="quote",
    essay_id="ia-probleme",
    quote_id="q",
    prompt_id=None,
    summary="",
    account_id=REQUESTER.id,
    in_reply_to_id="800",
)
POLICY_WITH_ADMIN = replace(
    POLICY, admins=("mod@social.example",), instance_domain="social.example"
)


def asked(account: Account, **options: Any) -> Outcome:
    history = options.pop("history", History(explained=EXPLAINED))
    return decide(
        make(
            "@filrouge supprime",
            account=account,
            in_reply_to_id="850",
            thread=THREAD,
            history=history,
            policy=POLICY_WITH_ADMIN,
            cfg=CFG,
            **options,
        )
    )


@pytest.mark.parametrize(
    ("account", "who"),
    [(REQUESTER, "requester"), (AUTHOR, "author"), (ADMIN, "admin")],
)
def test_those_with_a_say_have_it_taken_back_confirmed_privately(
    account: Account, who: str
) -> None:
    reply = reply_of(asked(account))
    assert (reply.takes_back, reply.taken_back_for) == ("850", who)
    assert reply.visibility == "direct" and reply.in_reply_to_id == "900"
    assert reply.text.startswith("@" + account.acct)


@pytest.mark.parametrize(
    ("account", "history", "detail"),
    [
        (STRANGER, History(explained=EXPLAINED), "neither the requester"),
        (REQUESTER, History(), "not in reply to one of the bot's posts"),
        (
            REQUESTER,
            History(
                explained=replace(
                    EXPLAINED,
                    taken_back_at=NOW - timedelta(minutes=5),
                    taken_back_notification="n1",
                )
            ),
            "was taken back",
        ),
    ],
    ids=["stranger", "not-the-bots-post", "already-taken-back"],
)
def test_a_request_without_a_say_is_refused_and_deletes_nothing(
    account: Account, history: History, detail: str
) -> None:
    skip = skip_of(asked(account, history=history))
    assert skip.reason is SkipReason.TAKE_BACK_REFUSED and detail in skip.detail
    assert skip.takes_back is None


def test_a_retry_of_the_request_that_took_it_back_is_confirmed() -> None:
    """A crash after the deletion: the same mention, tried again, still gets its confirmation."""
    done = replace(EXPLAINED, taken_back_at=NOW, taken_back_notification="n900")
    reply = reply_of(asked(REQUESTER, history=History(explained=done)))
    assert reply.takes_back == "850"


@pytest.mark.parametrize(
    "history",
    [
        History(explained=EXPLAINED, opted_out=True),
        History(explained=EXPLAINED, thread_replies=(NOW - timedelta(seconds=5),) * 9),
        History(explained=EXPLAINED, account_replies=(NOW - timedelta(seconds=5),)),
    ],
    ids=["opted-out", "thread-limit-and-cooldown", "account-cooldown"],
)
def test_no_limit_cooldown_or_opt_out_holds_it_back(history: History) -> None:
    assert reply_of(asked(REQUESTER, history=history)).takes_back == "850"


def test_an_old_request_and_a_pause_still_take_it_back() -> None:
    old = asked(REQUESTER, created_at=NOW - timedelta(days=3))
    assert reply_of(old).takes_back == "850"
    inputs = make(
        "@filrouge supprime",
        account=REQUESTER,
        in_reply_to_id="850",
        thread=THREAD,
        history=History(explained=EXPLAINED),
        policy=POLICY_WITH_ADMIN,
        cfg=CFG,
    )
    paused = decide(replace(inputs, moderation=Moderation(paused=Paused(by="5", since=NOW))))
    skip = skip_of(paused)
    assert skip.reason is SkipReason.PAUSED and skip.takes_back == "850"
