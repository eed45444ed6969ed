"""What the decision reads from the record and what it returns.

``bot.decide`` returns a :class:`Reply` or a :class:`Skip` (with a
:class:`SkipReason` that the record, the metrics and ``explain`` share).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.model.catalog import Action, Mode
from bot.model.post import Visibility

# -- per-thread and per-account history (read from the record) ------------------


@dataclass(frozen=True, slots=True)
class Explained:
    """What the bot did for one of its own posts, for ``why``."""

    status_id: str
    rule: str
    action: str
    essay_id: str | None
    quote_id: str | None
    prompt_id: str | None
    summary: str
    #: The account the reply answered (who asked), and the mention it answered.
    account_id: str = ""
    in_reply_to_id: str = ""
    #: When it was deleted (taken back), and by which mention's request.
    taken_back_at: datetime | None = None
    taken_back_notification: str | None = None


@dataclass(frozen=True, slots=True)
class History:
    """What the record knows that bears on one decision."""

    #: Times of the bot's replies in this thread (any mention of it).
    thread_replies: tuple[datetime, ...] = ()
    #: Times of the bot's replies to this account.
    account_replies: tuple[datetime, ...] = ()
    thread_quote_ids: frozenset[str] = frozenset()
    thread_prompt_ids: frozenset[str] = frozenset()
    #: When each quote or prompt id was last posted anywhere (for tie-breaks).
    last_used: Mapping[str, datetime] = field(default_factory=dict)
    #: Quote and prompt ids this account was shown recently, in any thread.
    shown_to_account: frozenset[str] = frozenset()
    opted_out: bool = False
    #: The bot's post that a ``why`` mention replies to, if known.
    explained: Explained | None = None


# -- what the admins set -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Paused:
    """An admin's ``pause``: who asked (account id) and when."""

    by: str
    since: datetime


@dataclass(frozen=True, slots=True)
class Moderation:
    """What the admins set that holds the bot's replies, read from the record
    before ``decide`` runs: a pause, a mute on the mention's thread."""

    paused: Paused | None = None
    #: The muted status or thread root among the mention and its ancestors.
    muted: str | None = None


# -- the decision -------------------------------------------------------------


class SkipReason(StrEnum):
    """Why the bot did not reply. These codes are shared by the record,
    the metrics, ``explain`` and ``log``."""

    SELF = "self"
    BOT_ACCOUNT = "bot_account"
    NOBOT = "nobot"
    OPTED_OUT = "opted_out"
    BLOCKED = "blocked"
    TOO_OLD = "too_old"
    THREAD_LIMIT = "thread_limit"
    THREAD_COOLDOWN = "cooldown"
    ACCOUNT_COOLDOWN = "account_cooldown"
    NO_RULE = "no_rule"
    NO_ESSAY = "no_essay"
    NO_CANDIDATE = "no_candidate"
    DOES_NOT_FIT = "does_not_fit"
    RULE_OFF = "rule_off"
    NOT_ADDRESSED = "not_addressed"
    PAUSED = "paused"
    MUTED = "muted"
    #: An admin command (``pause``, ``mute``…) by direct message from an account
    #: that is not in ``FILROUGE_ADMINS``: recorded, not obeyed, not answered.
    NOT_ADMIN = "not_admin"
    DUPLICATE = "duplicate"
    UNREADABLE = "unreadable"
    GONE = "gone"
    #: Nothing the rule could post has evidence enough (it hands over to the next).
    WEAK_EVIDENCE = "weak_evidence"
    #: No rule had evidence enough: the mention is not about the essay.
    OFF_TOPIC = "off_topic"
    #: Insults aimed at the bot, and nothing else.
    HOSTILE = "hostile"
    #: Links to unknown hosts with promotional wording.
    SPAM = "spam"
    #: Written in a language the bot does not speak.
    OTHER_LANGUAGE = "other_language"
    #: A request to take back a reply that is not the bot's, is already taken
    #: back, or comes from someone with no say over it.
    TAKE_BACK_REFUSED = "take_back_refused"


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    visibility: Visibility
    spoiler_text: str
    language: str
    in_reply_to_id: str
    rule: str
    action: Action
    essay_id: str | None = None
    quote_id: str | None = None
    prompt_id: str | None = None
    mode: Mode = Mode.LIVE
    notify_moderators: bool = False
    #: The bot's post this answer deletes first (a ``take_back``), and on
    #: whose behalf: ``requester``, ``author`` (of the post answered) or ``admin``.
    takes_back: str | None = None
    taken_back_for: str | None = None


@dataclass(frozen=True, slots=True)
class Skip:
    reason: SkipReason
    detail: str = ""
    rule: str | None = None
    #: A ``stop`` or ``start`` that takes effect though nothing is posted (the
    #: bot is paused, the thread muted): consent always holds.
    consent: Action | None = None
    #: Likewise a ``take_back``: the bot's post deleted, unconfirmed.
    takes_back: str | None = None
    taken_back_for: str | None = None


Decision = Reply | Skip
