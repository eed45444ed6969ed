"""Understand: Mastodon entities in, the pipeline's values out, and the essay found.

listen ──▶ **understand** ──▶ decide ──▶ act ──▶ record

The entity functions take what the server sent, either as Mastodon.py's
``AttribAccessDict`` entities (``created_at`` already a ``datetime``) or as
raw JSON dicts (ISO strings), from Mastodon or from the servers that speak
its API (GoToSocial, Akkoma, Pleroma, Misskey bridges…). They are lenient on
what is optional — ``language`` null, ``card`` null, ``fields`` absent,
ids that are not numbers — and raise ``ValueError`` naming the entity and
the field when something required is missing, so the caller can record the
mention as unreadable instead of guessing.

``find_essay`` decides which essay of the catalog a thread is about, from the
strongest evidence to the weakest. It is pure: aggregator links are resolved
beforehand by ``bot.web.links.Resolver`` and handed in as ``resolved``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from bot.model.catalog import Essay, EssayMatch
from bot.model.post import Account, Mention, MentionRef, PlainText, Post, Thread, Visibility
from bot.rank.query import Query, telling
from bot.text.fold import fold
from bot.text.html import html_to_text
from bot.text.language import language_code
from bot.text.urls import normalize_url
from bot.understand.request import request_words

if TYPE_CHECKING:
    from bot.catalog.config import Config

log = logging.getLogger(__name__)

__all__ = [
    "account_from_entity",
    "find_essay",
    "mention_from_notification",
    "parse_time",
    "post_from_status",
    "thread_from_context",
    "visibility_of",
]

# -- visibility -------------------------------------------------------------------

#: What other servers call their audiences, mapped to the Mastodon value whose
#: audience is no wider. A reply is never placed wider than its mention
#: (DESIGN invariant 3), so a value not listed here reads as ``direct``.
_VISIBILITIES: Final[Mapping[str, Visibility]] = {
    "public": "public",
    "unlisted": "unlisted",
    "private": "private",
    "direct": "direct",
    # Misskey "home" (and bridges exposing it): public but out of public timelines.
    "home": "unlisted",
    # Followers-only under other names (Misskey, Pixelfed, bridges).
    "followers": "private",
    "followers_only": "private",
    # Audiences narrower than followers, or not federated at all: a reply the
    # bot could post would reach further, so only the people mentioned.
    # "limited": Mastodon's circle/limited posts and Hometown; "local":
    # Akkoma/Pleroma/glitch-soc local-only; "list": Pleroma list-scoped;
    # "mutuals_only": GoToSocial; "specified": Misskey direct.
    "limited": "direct",
    "local": "direct",
    "list": "direct",
    "mutuals_only": "direct",
    "specified": "direct",
}


def visibility_of(value: object) -> Visibility:
    """The Mastodon visibility whose audience is no wider than ``value``'s;
    ``direct`` for anything unknown or missing."""
    if isinstance(value, str):
        known = _VISIBILITIES.get(value.strip().lower())
        if known is not None:
            return known
    if value is not None:
        log.info(
            "unknown visibility %r read as direct",
            value,
            extra={"event": "unknown_visibility"},
        )
    return "direct"


# -- small readers -------------------------------------------------------------------

_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: object, what: str = "created_at") -> datetime:
    """A timezone-aware UTC datetime from a ``datetime`` (Mastodon.py) or an
    ISO 8601 string (raw JSON). A naive value is taken as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        # Python 3.11 reads "Z" and offsets, but not more than 6 fractional digits.
        text = _FRACTION.sub(r"\1", text)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{what} {value!r} is not an ISO 8601 time") from None
    else:
        raise ValueError(f"{what} is missing or not a time: {value!r}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} is not an object: {type(value).__name__}")
    return value


def _id(entity: Mapping[str, Any], what: str, key: str = "id") -> str:
    """A required id. Mastodon sends numeric strings, GoToSocial ULIDs,
    Akkoma flake ids; older clients may hand over ints."""
    value = entity.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{what} has no {key!r} (got {value!r})")
    text = str(value).strip()
    if not text:
        raise ValueError(f"{what} has an empty {key!r}")
    return text


def _optional_id(entity: Mapping[str, Any], key: str) -> str | None:
    value = entity.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


def _string(entity: Mapping[str, Any], key: str) -> str:
    """An optional string field; null and non-strings read as empty."""
    value = entity.get(key)
    return value if isinstance(value, str) else ""


def _items(value: object) -> Iterator[Mapping[str, Any]]:
    """The objects of an optional list field (null, absent or malformed: none)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        for item in value:
            if isinstance(item, Mapping):
                yield item


# -- entities --------------------------------------------------------------------------


def account_from_entity(entity: Mapping[str, Any]) -> Account:
    """An ``Account`` from a Mastodon account entity.

    ``profile_text`` is the bio (``note``, HTML) and the profile fields
    (``name``: plain text, ``value``: HTML) as plain text, one per line: what
    the ``#nobot`` guard reads.
    """
    entity = _mapping(entity, "account")
    account_id = _id(entity, "account")
    acct = _string(entity, "acct").strip()
    username = _string(entity, "username").strip()
    if not acct and not username:
        raise ValueError(f"account {account_id} has neither 'acct' nor 'username'")
    acct = acct or username
    username = username or acct.partition("@")[0]
    lines = [html_to_text(_string(entity, "note")).text]
    for field in _items(entity.get("fields")):
        name = _string(field, "name").strip()
        value = html_to_text(_string(field, "value")).text
        lines.append(f"{name}: {value}" if name else value)
    return Account(
        id=account_id,
        acct=acct,
        username=username,
        bot=entity.get("bot") is True,
        profile_text="\n".join(line for line in lines if line.strip()),
    )


def _merge_mentions(content: PlainText, status: Mapping[str, Any]) -> tuple[MentionRef, ...]:
    """The text's mentions in their order, completed with the account id and
    acct of the status's ``mentions`` (the server's word on who is meant),
    then any listed mention the text did not show."""
    listed: list[MentionRef] = []
    for item in _items(status.get("mentions")):
        acct = _string(item, "acct").strip() or _string(item, "username").strip()
        if acct:
            listed.append(
                MentionRef(
                    acct=acct,
                    url=_string(item, "url").strip(),
                    account_id=_optional_id(item, "id"),
                )
            )
    if not listed:
        return content.mentions
    merged: list[MentionRef] = []
    used: set[int] = set()
    for shown in content.mentions:
        index = _match_mention(shown, listed, used)
        if index is None:
            merged.append(shown)
        else:
            used.add(index)
            ref = listed[index]
            merged.append(replace(ref, url=ref.url or shown.url))
    merged.extend(ref for index, ref in enumerate(listed) if index not in used)
    return tuple(merged)


def _match_mention(shown: MentionRef, listed: list[MentionRef], used: set[int]) -> int | None:
    url = shown.url.strip().lower()
    for index, ref in enumerate(listed):
        if index not in used and url and ref.url.strip().lower() == url:
            return index
    # No URL in common (a server linking /users/<id>): the same user@domain, or
    # the same local part when only one listed mention has it.
    name = shown.acct.lower()
    for index, ref in enumerate(listed):
        if index not in used and ref.acct.lower() == name:
            return index
    local = name.partition("@")[0]
    candidates = [
        index
        for index, ref in enumerate(listed)
        if index not in used and ref.acct.lower().partition("@")[0] == local
    ]
    return candidates[0] if len(candidates) == 1 else None


def _merge_hashtags(content: PlainText, status: Mapping[str, Any]) -> tuple[str, ...]:
    tags = list(content.hashtags)
    seen = {tag.casefold() for tag in tags}
    for item in _items(status.get("tags")):
        name = _string(item, "name").strip().lstrip("#")
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            tags.append(name)
    return tuple(tags)


def post_from_status(status: Mapping[str, Any]) -> Post:
    """A ``Post`` from a Mastodon status entity (Mastodon.py entity or raw JSON).

    Raises ``ValueError`` when the id, the account, the creation time or the
    content is missing or unusable.
    """
    status = _mapping(status, "status")
    status_id = _id(status, "status")
    what = f"status {status_id}"
    account = account_from_entity(_mapping(status.get("account"), f"{what}: account"))
    if "content" not in status:
        raise ValueError(f"{what} has no 'content'")
    content = html_to_text(_string(status, "content"))
    content = replace(
        content,
        mentions=_merge_mentions(content, status),
        hashtags=_merge_hashtags(content, status),
    )
    card = status.get("card")
    card_url = _string(card, "url").strip() if isinstance(card, Mapping) else ""
    return Post(
        id=status_id,
        account=account,
        content=content,
        created_at=parse_time(status.get("created_at"), f"{what}: created_at"),
        visibility=visibility_of(status.get("visibility")),
        spoiler_text=_string(status, "spoiler_text").strip(),
        language=language_code(status.get("language")),
        in_reply_to_id=_optional_id(status, "in_reply_to_id"),
        card_url=card_url or None,
        url=(_string(status, "url") or _string(status, "uri")).strip() or None,
    )


def mention_from_notification(notification: Mapping[str, Any]) -> Mention:
    """A ``Mention`` from a ``mention`` notification entity."""
    notification = _mapping(notification, "notification")
    notification_id = _id(notification, "notification")
    kind = notification.get("type")
    if kind is not None and kind != "mention":
        raise ValueError(f"notification {notification_id} is a {kind!r}, not a mention")
    status = notification.get("status")
    if status is None:
        raise ValueError(f"notification {notification_id} has no 'status'")
    return Mention(notification_id=notification_id, post=post_from_status(status))


def thread_from_context(context: Mapping[str, Any]) -> Thread:
    """The ancestors of a ``status_context`` answer, oldest first (the order
    the server sends). An ancestor that cannot be read is left out rather than
    losing the whole thread; a context without ``ancestors`` is an error."""
    context = _mapping(context, "context")
    ancestors = context.get("ancestors")
    if not isinstance(ancestors, Sequence) or isinstance(ancestors, str):
        raise ValueError("context has no 'ancestors' list")
    posts: list[Post] = []
    seen: set[str] = set()
    for index, entity in enumerate(ancestors):
        try:
            post = post_from_status(entity)
        except ValueError as error:
            log.info(
                "ancestor %d left out: %s",
                index,
                error,
                extra={"event": "ancestor_unreadable"},
            )
            continue
        if post.id not in seen:
            seen.add(post.id)
            posts.append(post)
    return Thread(ancestors=tuple(posts))


# -- which essay -------------------------------------------------------------------------


def find_essay(
    mention: Mention,
    thread: Thread,
    config: Config,
    *,
    resolved: Mapping[str, str] = {},
    threshold: float,
) -> EssayMatch:
    """Which essay of the catalog the thread is about, and how that was found.

    From the strongest evidence to the weakest, each step looking at the
    mention first, then the ancestors from the newest to the oldest:

    1. a link to an essay's canonical URL (``link``) or an alias (``alias``);
    2. a link-preview card's URL (``card``);
    3. an aggregator link that ``resolved`` (normalised link → resolved URL)
       maps to an essay's URL (``resolved``);
    4. a configured hashtag (``hashtag``);
    5. text relevance (``config.index.essay_scores``), read on the mention's
       own words (the leading @-mentions and a command word are a request,
       not a topic) and the ancestors: the best essay must score at least
       ``threshold``, share at least ``TEXT_MIN_TERMS`` distinct words with
       the thread and score ``TEXT_LEAD`` times the runner-up (``text``);
    6. a catalog of exactly one essay (``default``).

    Else no essay (``none``).
    """
    catalog = config.catalog
    posts = (mention.post, *reversed(thread.ancestors))

    for post in posts:
        for link in post.content.links:
            essay = catalog.essay_by_url(link)
            if essay is not None:
                how = "link" if normalize_url(link) == normalize_url(essay.url) else "alias"
                return EssayMatch(essay=essay, how=how, evidence=link)

    for post in posts:
        if post.card_url:
            essay = catalog.essay_by_url(post.card_url)
            if essay is not None:
                return EssayMatch(essay=essay, how="card", evidence=post.card_url)

    if resolved:
        for post in posts:
            for link in (*post.content.links, *filter(None, (post.card_url,))):
                target = resolved.get(normalize_url(link))
                essay = catalog.essay_by_url(target) if target else None
                if essay is not None:
                    return EssayMatch(essay=essay, how="resolved", evidence=f"{link} → {target}")

    for post in posts:
        for tag in post.content.hashtags:
            essay = catalog.essay_by_hashtag(tag)
            if essay is not None:
                return EssayMatch(essay=essay, how="hashtag", evidence=f"#{tag}")

    by_text = _by_text(mention, thread, config, threshold)
    if by_text is not None:
        return by_text
    if len(catalog.essays) == 1:
        return EssayMatch(essay=catalog.essays[0], how="default")
    return EssayMatch(essay=None, how="none")


#: Distinct words an essay must share with the thread to be named by text:
#: one word ("problème", "débat", "mails") is a coincidence, however rare,
#: and a common word of its text (``bot.rank.common``) counts for none.
TEXT_MIN_TERMS: Final = 2
#: How many times the runner-up's score the best essay must reach: two essays
#: close to each other mean the text cannot tell them apart.
TEXT_LEAD: Final = 1.5


def _commands(config: Config) -> tuple[str, ...]:
    return tuple(command for rule in config.rules.rules for command in rule.conditions.commands)


def _by_text(
    mention: Mention, thread: Thread, config: Config, threshold: float
) -> EssayMatch | None:

    if not config.catalog.essays:
        return None
    query = Query(
        mention=request_words(mention.post.text, _commands(config)),
        thread=tuple(post.text for post in thread.ancestors),
        language=mention.post.language or "",
    )
    scores = config.index.essay_scores(query, limit=2)
    if not scores:
        return None
    best = scores[0]
    if best.score <= 0 or best.score < threshold:
        return None
    # A word the language uses everywhere (« gens », "whole", "point") is
    # no word of an essay's, however often its text says it.
    if len({fold(word) for word in telling(best.matched, best.incidental)}) < TEXT_MIN_TERMS:
        return None
    if len(scores) > 1 and best.score < TEXT_LEAD * scores[1].score:
        return None
    essay: Essay | None = config.catalog.essay(best.id)
    if essay is None:
        return None
    return EssayMatch(essay=essay, how="text", evidence=" ".join(best.matched), score=best.score)
