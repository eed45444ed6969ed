"""The values that flow through the pipeline.

listen ──▶ understand ──▶ decide ──▶ act ──▶ record

Everything here is a frozen dataclass with no behaviour beyond small derived
properties: the edges build these from Mastodon entities and SQLite rows, the
pure core (``bot.decide``) reads them and returns a ``Reply`` or a ``Skip``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

# -- visibility ---------------------------------------------------------------

Visibility = Literal["direct", "private", "unlisted", "public"]

#: Narrowest first. A reply is never placed further right than its mention.
VISIBILITY_ORDER: tuple[Visibility, ...] = ("direct", "private", "unlisted", "public")


def narrowest(*visibilities: Visibility) -> Visibility:
    """The most restrictive of the given visibilities."""
    return min(visibilities, key=VISIBILITY_ORDER.index)


# -- what the server told us, understood ---------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    """An account as the bot needs it. Compare accounts by ``id``, never ``acct``:
    servers report local accounts as ``user`` in some places and ``user@domain``
    in others."""

    id: str
    acct: str
    username: str
    bot: bool = False
    #: Bio and profile field values, already turned into plain text.
    profile_text: str = ""

    @property
    def domain(self) -> str | None:
        """The account's domain, or None for a local account."""
        _, sep, domain = self.acct.partition("@")
        return domain.lower() if sep else None


@dataclass(frozen=True, slots=True)
class MentionRef:
    """An @-mention inside a post."""

    acct: str
    url: str = ""
    account_id: str | None = None


@dataclass(frozen=True, slots=True)
class PlainText:
    """A status's HTML turned into text plus the structure it carried."""

    text: str
    mentions: tuple[MentionRef, ...] = ()
    hashtags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Post:
    """One status of a thread, understood."""

    id: str
    account: Account
    content: PlainText
    created_at: datetime
    visibility: Visibility = "public"
    spoiler_text: str = ""
    language: str | None = None
    in_reply_to_id: str | None = None
    #: URL of the link-preview card, if the server attached one.
    card_url: str | None = None
    url: str | None = None

    @property
    def text(self) -> str:
        return self.content.text


@dataclass(frozen=True, slots=True)
class Mention:
    """A mention notification: the post that addressed the bot."""

    notification_id: str
    post: Post


@dataclass(frozen=True, slots=True)
class Thread:
    """The ancestors of a mention, oldest first (the mention itself excluded)."""

    ancestors: tuple[Post, ...] = ()

    @property
    def depth(self) -> int:
        return len(self.ancestors)


# -- the catalog (admin data) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quote:
    id: str
    essay_id: str
    text: str
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    #: A link to the passage (an anchor in the essay), if the admin gave one.
    anchor_url: str | None = None
    #: Where the quote is defined, for error messages.
    line: int = 0


@dataclass(frozen=True, slots=True)
class Prompt:
    """A reading prompt: an invitation to read a passage before replying."""

    id: str
    essay_id: str
    #: Text per language code (``fr``, ``en``, …).
    texts: Mapping[str, str]
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class Essay:
    id: str
    title: str
    author: str
    url: str
    language: str
    aliases: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    quotes: tuple[Quote, ...] = ()
    prompts: tuple[Prompt, ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class EssayMatch:
    """Which essay a thread is about, and how that was found."""

    essay: Essay | None
    #: ``link``, ``alias``, ``card``, ``resolved``, ``hashtag``, ``text`` or ``none``.
    how: str = "none"
    #: The URL, hashtag or matched terms that decided it.
    evidence: str = ""
    score: float = 0.0


# -- the rules (admin data) ---------------------------------------------------


class Action(StrEnum):
    QUOTE = "quote"
    PROMPT = "prompt"
    LINK = "link"
    HELP = "help"
    STOP = "stop"
    START = "start"
    WHY = "why"
    DEESCALATE = "deescalate"


class Mode(StrEnum):
    LIVE = "live"
    #: Decide and record, never post.
    OBSERVE = "observe"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class Conditions:
    """All given conditions must hold (AND); within one list, any item (OR)."""

    #: Command words, matched as whole words, accent- and case-folded.
    commands: tuple[str, ...] = ()
    #: Keywords in the mention text (folded, whole words or phrases).
    keywords: tuple[str, ...] = ()
    #: Keywords anywhere in the thread (ancestors and mention).
    thread_keywords: tuple[str, ...] = ()
    #: Regexes (already validated) searched in the mention text.
    regex: tuple[str, ...] = ()
    thread_regex: tuple[str, ...] = ()
    #: Keywords that veto the rule when found in the mention.
    not_keywords: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    essays: tuple[str, ...] = ()
    visibilities: tuple[Visibility, ...] = ()
    min_depth: int | None = None
    max_depth: int | None = None
    #: Heat score bounds (see ``bot.heat``).
    min_heat: float | None = None
    max_heat: float | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    action: Action
    conditions: Conditions
    #: Template per language code, with ``{placeholder}`` fields.
    templates: Mapping[str, str]
    #: Quote or prompt ids this rule may use (empty: any of the essay's).
    quotes: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()
    #: Restrict candidates to those carrying one of these tags.
    tags: tuple[str, ...] = ()
    mode: Mode = Mode.LIVE
    #: Also hand the thread to the moderators (see ``bot.act``).
    notify_moderators: bool = False
    line: int = 0


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
    opted_out: bool = False
    #: The bot's post that a ``why`` mention replies to, if known.
    explained: Explained | None = None


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


@dataclass(frozen=True, slots=True)
class Skip:
    reason: SkipReason
    detail: str = ""
    rule: str | None = None


Decision = Reply | Skip
