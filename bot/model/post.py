"""Posts, accounts and threads as the bot understands them, and visibility.

Frozen values built by the edges (``bot.understand`` from Mastodon
entities); the pure core reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
