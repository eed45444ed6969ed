"""What ``decide`` needs from the settings and the instance, as plain values,
and how accounts are matched against its lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from bot.model.post import Account, Visibility

if TYPE_CHECKING:
    pass


# -- policy -------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """What ``decide`` needs from the settings and the instance, as plain values."""

    #: The bot's own account id on its instance.
    self_id: str
    default_visibility: Visibility = "unlisted"
    default_language: str = "fr"
    #: The instance's limit (``configuration.statuses.max_characters``).
    max_characters: int = 500
    #: What the instance counts per URL (``characters_reserved_per_url``).
    url_length: int = 23
    max_mention_age: timedelta = timedelta(hours=24)
    #: Replies the bot may post in one thread; 0 means none (consent commands aside).
    thread_reply_limit: int = 3
    thread_cooldown: timedelta = timedelta(minutes=10)
    account_cooldown: timedelta = timedelta(minutes=2)
    #: Bot accounts answered anyway: account ids, ``user@domain`` or ``user``
    #: (a local account).
    bot_allowlist: frozenset[str] = frozenset()
    #: Account ids, ``user@domain``, ``user`` (local) and domains never answered.
    blocked: frozenset[str] = frozenset()
    #: Hashtags in a profile that mean "no bots here" (without ``#``).
    nobot_tags: tuple[str, ...] = ("nobot", "nobots", "noai", "nollm")
    #: Heat from which a ``deescalate`` rule with no ``min_heat`` of its own applies.
    heat_threshold: float = 0.6
    #: What a rule without command words needs before it posts (``bot.decide.evidence``).
    min_evidence: float = 4.0
    #: A mention in a language no template speaks: "skip", or "help" in English.
    other_language: Literal["skip", "help"] = "skip"
    unknown_essay: Literal["list", "skip"] = "list"
    rules_url: str = ""
    admins: tuple[str, ...] = ()
    #: The bot's instance (host of ``FILROUGE_INSTANCE_URL``): the server
    #: writes a local account ``user`` where an admin writes ``user@domain``.
    instance_domain: str = ""


def host_of(url: str) -> str:
    """The host of ``url`` (``https://`` assumed when it has no scheme), lower case."""
    url = url.strip()
    if not url:
        return ""
    return (urlsplit(url if "://" in url else "https://" + url).hostname or "").lower()


def handle_key(item: str) -> str:
    """Account ids, ``@user@domain``, ``user@domain`` and domains, compared alike."""
    return item.strip().lstrip("@").lower()


@lru_cache(maxsize=64)
def listed_keys(items: frozenset[str], domain: str) -> frozenset[str]:
    """The keys a list of ids, handles and domains stands for: as written, and
    a bare ``user`` (which may also be an id) as ``user@domain`` too."""
    keys: set[str] = set()
    for item in items:
        key = handle_key(item)
        keys.add(key)
        if domain and "@" not in key and "." not in key:
            keys.add(f"{key}@{domain}")
    return frozenset(keys)


def account_keys(account: Account, domain: str, *, with_domain: bool) -> list[str]:
    """The id, the handle (also with the instance's domain when the server left
    it out) and, if asked, the domain of ``account``, in that order."""
    acct = account.acct.strip().lstrip("@").lower()
    keys = [account.id.lower(), acct]
    if "@" not in acct and domain:
        keys.append(f"{acct}@{domain}")
    own = account.domain or domain
    if with_domain and own:
        keys.append(own)
    return keys
