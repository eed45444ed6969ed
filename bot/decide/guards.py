"""The guards: who and what the bot never answers, and the limits and
cooldowns that hold even under a burst (each a ``Skip`` with its reason).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.decide.policy import Policy, account_keys, listed_keys
from bot.decide.trace import Inputs, Step
from bot.model.catalog import Action, Rule
from bot.model.decision import Decision, Moderation, Reply, Skip, SkipReason
from bot.model.post import Account
from bot.text.fold import fold
from bot.understand.request import LEADING_MENTIONS

if TYPE_CHECKING:
    pass


# -- guards -------------------------------------------------------------------


#: Commands no limit, cooldown or pause holds back: consent, and taking back
#: a reply. They are also never asked whether they are about the essay.
ALWAYS_HEARD = frozenset({Action.STOP, Action.START, Action.TAKE_BACK})


def _nobot_tag(account: Account, tags: Sequence[str]) -> str | None:
    profile = fold(account.profile_text)
    for tag in tags:
        name = fold(tag).lstrip("#")
        if name and re.search(r"(?<![\w#])#" + re.escape(name) + r"(?![\w])", profile):
            return name
    return None


def _blocked(account: Account, policy: Policy) -> str | None:
    blocked = listed_keys(policy.blocked, policy.instance_domain)
    keys = account_keys(account, policy.instance_domain, with_domain=True)
    return next((key for key in keys if key in blocked), None)


def _allowlisted(account: Account, policy: Policy) -> bool:
    allowed = listed_keys(policy.bot_allowlist, policy.instance_domain)
    # The allowlist names accounts, not domains: a whole server's bots are
    # not let in by one entry.
    keys = account_keys(account, policy.instance_domain, with_domain=False)
    return any(key in allowed for key in keys)


def _replies_to_self(inputs: Inputs) -> bool:
    """Whether the mention answers one of the bot's own posts."""
    parent = inputs.mention.post.in_reply_to_id
    if parent is None:
        return False
    explained = inputs.history.explained
    if explained is not None and explained.status_id == parent:
        return True
    return any(
        post.id == parent and post.account.id == inputs.policy.self_id
        for post in inputs.thread.ancestors
    )


_HANDLE = re.compile(r"@([\w.-]+(?:@[\w.-]+)?)")


def _full(handle: str, domain: str) -> str:
    handle = handle.strip().lstrip("@").lower()
    return handle if "@" in handle or not domain else f"{handle}@{domain}"


def _bot_handles(inputs: Inputs) -> set[str]:
    """The bot's handles as the server wrote them in the mentions of this post
    and its thread, or on the bot's own posts there; empty when none says."""
    self_id = inputs.policy.self_id
    posts = (*inputs.thread.ancestors, inputs.mention.post)
    handles = {ref.acct for p in posts for ref in p.content.mentions if ref.account_id == self_id}
    handles.update(p.account.acct for p in posts if p.account.id == self_id)
    return {h.lstrip("@").lower() for h in handles if h}


def _prefilled(inputs: Inputs) -> bool:
    """Whether the bot is mentioned only because the composer pre-filled it:
    the mention replies to someone else's post that mentioned the bot (a reply
    pre-fills everyone the post it answers mentioned), in a thread the bot has
    already answered, and the bot's handle sits in the leading block of
    mentions. The caller has checked there is no command."""
    post = inputs.mention.post
    if post.in_reply_to_id is None or not inputs.history.thread_replies:
        return False
    parent = next((p for p in inputs.thread.ancestors if p.id == post.in_reply_to_id), None)
    bot = _bot_handles(inputs)
    if parent is None or not bot:
        return False
    domain = inputs.policy.instance_domain
    full = {_full(handle, domain) for handle in bot}
    # Without the instance's domain, a bare handle meets a full one by its user part.
    users = {handle.split("@")[0] for handle in bot} if not domain else set()

    def is_bot(handle: str) -> bool:
        return _full(handle, domain) in full or handle.lower().split("@")[0] in users

    parent_mentions = any(
        ref.account_id == inputs.policy.self_id or is_bot(ref.acct)
        for ref in parent.content.mentions
    ) or any(is_bot(handle) for handle in _HANDLE.findall(parent.text))
    block = LEADING_MENTIONS.match(post.text)
    leading = _HANDLE.findall(block.group(0)) if block else []
    return parent_mentions and any(is_bot(handle) for handle in leading)


def _not_addressed(inputs: Inputs) -> str | None:
    """Why a mention without a command is conversation rather than a request."""
    if _replies_to_self(inputs):
        return "a reply to the bot's own post without a command"
    if _prefilled(inputs):
        return (
            "the bot's handle pre-filled by the composer in a thread it answered, without a command"
        )
    return None


def _recent(times: Iterable[datetime], now: datetime, window: timedelta) -> datetime | None:
    """The latest of ``times`` within ``window`` before ``now``, if any."""
    inside = [t for t in times if now - t < window]
    return max(inside) if inside else None


def check_guards(inputs: Inputs, command: Rule | None, steps: list[Step]) -> Skip | None:
    post = inputs.mention.post
    account = post.account
    policy = inputs.policy
    history = inputs.history
    action = command.action if command else None
    consent = action in ALWAYS_HEARD

    def check(name: str, failed: str | None, reason: SkipReason, ok_detail: str) -> Skip | None:
        steps.append(Step("guard", name, failed is None, failed or ok_detail))
        return None if failed is None else Skip(reason, failed)

    allowlisted = _allowlisted(account, policy)
    tag = _nobot_tag(account, policy.nobot_tags)
    blocked = _blocked(account, policy)
    age = inputs.now - post.created_at
    latest_thread = _recent(history.thread_replies, inputs.now, policy.thread_cooldown)
    latest_account = _recent(history.account_replies, inputs.now, policy.account_cooldown)
    checks: list[tuple[str, str | None, SkipReason, str]] = [
        (
            "self",
            "the mention is the bot's own post" if account.id == policy.self_id else None,
            SkipReason.SELF,
            "not the bot's own post",
        ),
        (
            "bot",
            f"@{account.acct} is a bot account" if account.bot and not allowlisted else None,
            SkipReason.BOT_ACCOUNT,
            "allowlisted bot" if account.bot else "not a bot account",
        ),
        (
            "nobot",
            f"#{tag} in @{account.acct}'s profile" if tag else None,
            SkipReason.NOBOT,
            "no opt-out tag in the profile",
        ),
        (
            "opted_out",
            f"@{account.acct} opted out"
            if history.opted_out and action not in (Action.START, Action.TAKE_BACK)
            else None,
            SkipReason.OPTED_OUT,
            "opting back in" if history.opted_out else "not opted out",
        ),
        (
            "blocked",
            f"{blocked} is blocked" if blocked else None,
            SkipReason.BLOCKED,
            "not blocked",
        ),
        (
            "age",
            f"posted {_duration(age)} ago, more than {_duration(policy.max_mention_age)}"
            if age > policy.max_mention_age and action is not Action.TAKE_BACK
            else None,
            SkipReason.TOO_OLD,
            f"posted {_duration(age)} ago",
        ),
        (
            "addressed",
            _not_addressed(inputs) if command is None else None,
            SkipReason.NOT_ADDRESSED,
            f"command {command.name!r}" if command else "a new request",
        ),
    ]
    if not consent:
        count = len(history.thread_replies)
        checks += [
            (
                "thread_limit",
                f"{count} replies already in this thread (limit {policy.thread_reply_limit})"
                if count >= policy.thread_reply_limit
                else None,
                SkipReason.THREAD_LIMIT,
                f"{count} of {policy.thread_reply_limit} replies in this thread",
            ),
            (
                "thread_cooldown",
                f"replied in this thread {_duration(inputs.now - latest_thread)} ago"
                f" (cooldown {_duration(policy.thread_cooldown)})"
                if latest_thread
                else None,
                SkipReason.THREAD_COOLDOWN,
                "no recent reply in this thread",
            ),
            (
                "account_cooldown",
                f"replied to @{account.acct} {_duration(inputs.now - latest_account)} ago"
                f" (cooldown {_duration(policy.account_cooldown)})"
                if latest_account
                else None,
                SkipReason.ACCOUNT_COOLDOWN,
                "no recent reply to this account",
            ),
        ]
    for name, failed, reason, ok_detail in checks:
        skip = check(name, failed, reason, ok_detail)
        if skip is not None:
            return skip
    if consent:
        steps.append(
            Step("guard", "limits", True, f"{action} bypasses the thread limit and cooldowns")
        )
    return None


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if abs(seconds) < 120:
        return f"{seconds}s"
    if abs(seconds) < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def held(decision: Decision, moderation: Moderation, steps: list[Step]) -> Decision:
    """A reply held back by the admins: the bot is paused, or the thread muted.

    Decided in full first, so the trace says what the bot would have done;
    a ``stop`` or ``start`` still takes effect (``Skip.consent``), unconfirmed."""
    if not isinstance(decision, Reply) or (moderation.paused is None and moderation.muted is None):
        return decision
    would = f"would have replied by rule {decision.rule!r}"
    consent = decision.action if decision.action in (Action.STOP, Action.START) else None
    # A take-back held the same way still deletes: only its confirmation waits.
    kept = {"takes_back": decision.takes_back, "taken_back_for": decision.taken_back_for}
    if moderation.paused is not None:
        since = moderation.paused.since.strftime("%Y-%m-%d %H:%M UTC")
        skip = Skip(
            SkipReason.PAUSED,
            f"paused by an admin since {since}; {would}",
            decision.rule,
            consent,
            **kept,
        )
    else:
        skip = Skip(
            SkipReason.MUTED,
            f"thread muted by an admin ({moderation.muted}); {would}",
            decision.rule,
            consent,
            **kept,
        )
    steps.append(Step("guard", skip.reason.value, False, skip.detail))
    return skip
