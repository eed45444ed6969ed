"""The one place that talks to Mastodon (through Mastodon.py).

Everything the bot asks of the server goes through ``Client``; every exception
Mastodon.py can raise is turned into the project's error tree by
``translate()`` and nowhere else:

    MastodonRatelimitError (429, "throw" mode)    → RateLimited(retry_at)
    MastodonNetworkError / MastodonReadTimeout    → TransientError(kind="network"/"timeout")
    MastodonServerError (5xx)                     → TransientError(kind="server")
    MastodonAPIError without a status (bad JSON)  → TransientError(kind="malformed")
    401, and 400/403 while checking the token     → PermanentError(kind="auth")
    404, 410                                      → Gone
    other 4xx                                     → PermanentError(kind="rejected"/"client")

Mastodon.py's own defaults are traps for a long-running bot (see
``shared/reference/mastodon.md`` §2-§4): ``ratelimit_method="wait"`` can block a
call for hours, ``request_timeout=300`` lets one hung call stall the loop. The
client uses "throw" and its own small ``Backoff`` instead.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from mastodon import Mastodon

from bot.errors import FilRougeError, PermanentError, TransientError
from bot.mastodon.backoff import Backoff
from bot.mastodon.compat import InstanceInfo, normalise_accounts, read_instance
from bot.mastodon.errors import translate
from bot.model.decision import Reply
from bot.model.ids import id_key, id_text, is_newer, newest, oldest
from bot.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The most notifications Mastodon returns per page (docs: methods/notifications, since 4.1).
PAGE_LIMIT = 80


# -- what connect() learns ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Me:
    """The bot's own account."""

    id: str
    acct: str
    username: str


def idempotency_key(self_id: str, notification_id: str) -> str:
    """The ``Idempotency-Key`` for the reply to one mention: stable across restarts.

    Derived from the bot account and the notification, never from the reply's
    text, so a retry after a timeout or a crash sends the same key (the server
    then returns the first status instead of posting a second one).
    """
    return hashlib.sha256(f"{self_id}:{notification_id}".encode()).hexdigest()


# -- the client ------------------------------------------------------------------------


class Client:
    """The bot's view of its Mastodon server. One per thread (Mastodon.py shares one
    ``requests.Session`` per object, which is not documented as thread-safe)."""

    def __init__(
        self,
        settings: Settings,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token = settings.access_token.get_secret_value()
        self.base_url = settings.instance_url.rstrip("/")
        self.backoff = backoff or Backoff()
        self.clock = clock
        self._settings = settings
        self.api = self.new_api()
        self.me: Me | None = None
        self.instance: InstanceInfo | None = None
        #: Notifications per page (the server's maximum; tests use small pages).
        self.page_limit = PAGE_LIMIT

    def __repr__(self) -> str:
        # Never the token (invariant 9).
        return f"Client({self.base_url!r}, me={self.me.acct if self.me else None!r})"

    def new_api(self) -> Mastodon:
        """A fresh Mastodon.py object with safe defaults (one per thread)."""
        return Mastodon(
            api_base_url=self.base_url,
            access_token=self._token,
            request_timeout=self._settings.request_timeout,
            ratelimit_method="throw",
            # No version check: servers report versions Mastodon.py cannot parse
            # (GoToSocial, Akkoma, glitch-soc suffixes) and a failed check used to crash bots.
            version_check_mode="none",
            user_agent=self._settings.user_agent,
        )

    # -- plumbing -------------------------------------------------------------------

    @contextmanager
    def _translated(self, *, checking_token: bool = False) -> Iterator[None]:
        try:
            yield
        except FilRougeError:
            raise
        except Exception as exc:
            raise translate(
                exc,
                ratelimit_reset=getattr(self.api, "ratelimit_reset", None),
                checking_token=checking_token,
                secret=self._token,
            ) from None

    def call(self, function: Callable[[], T], *, checking_token: bool = False) -> T:
        """One call, translated; no retry."""
        with self._translated(checking_token=checking_token):
            return function()

    def read(self, function: Callable[[], T], *, what: str) -> T:
        """A read, retried in-call on transient errors (bounded by ``backoff.attempts``)."""
        failures = 0
        while True:
            try:
                return self.call(function)
            except TransientError as error:
                failures += 1
                if failures >= self.backoff.attempts:
                    raise
                wait = self.backoff.wait_for(error, failures, now=self.clock())
                if wait > self.backoff.max_inline_wait:
                    # A rate-limit reset far away: the caller schedules it (the
                    # worker pauses, the mention gets a retry time) instead of
                    # holding the thread.
                    raise
                log.info(
                    "%s failed (%s), retrying in %.2fs",
                    what,
                    error.kind,
                    wait,
                    extra={"event": "retry", "kind": error.kind},
                )
                self.backoff.sleep(wait)

    # -- connection ------------------------------------------------------------------

    def connect(self) -> tuple[Me, InstanceInfo]:
        """Check the token (who am I) and read the instance's limits."""
        account = self.read(
            lambda: self.call(self.api.account_verify_credentials, checking_token=True),
            what="verify credentials",
        )
        self.me = Me(
            id=str(account["id"]),
            acct=str(account.get("acct") or account.get("username") or ""),
            username=str(account.get("username") or ""),
        )
        self.instance = self._instance_info()
        return self.me, self.instance

    def _instance_info(self) -> InstanceInfo:
        settings = self._settings
        try:
            info = self.read(
                lambda: read_instance(
                    self.base_url,
                    token=self._token,
                    timeout=settings.request_timeout,
                    user_agent=settings.user_agent,
                    max_characters=settings.max_characters,
                    url_length=settings.characters_per_url,
                ),
                what="instance",
            )
        except TransientError as error:
            # The server's limits are a nicety, not a reason to stay down.
            log.warning(
                "could not read the instance document (%s); using the configured limits",
                error,
                extra={"event": "connect"},
            )
            return read_instance_fallback(self.base_url, settings)
        if not info.document:
            log.warning(
                "the instance does not describe itself; using the configured limits",
                extra={"event": "connect"},
            )
        return info

    def normalise(self, entity: T) -> T:
        """``entity`` with local accounts spelt without the domain (Takahē)."""
        domain = self.instance.domain if self.instance is not None else ""
        result: T = normalise_accounts(entity, domain)
        return result

    # -- notifications ---------------------------------------------------------------

    def notifications_since(
        self, cursor: str | None, *, not_before: datetime | None = None
    ) -> list[Mapping[str, Any]]:
        """Mention notifications after ``cursor``, oldest first, without gaps.

        With a cursor: pages forward with ``min_id`` (each page is the ``limit``
        items immediately after it, newest first) until a page is empty.
        Without one (first start): pages backward from the newest until
        ``not_before``, so a new bot does not walk the account's whole history.
        """
        found: dict[str, Mapping[str, Any]] = {}
        if cursor is not None:
            position = cursor
            while True:
                page = self._page(min_id=position)
                fresh = [n for n in page if is_newer(n["id"], position)]
                if not fresh:
                    break
                for notification in fresh:
                    found[id_text(notification["id"])] = notification
                position = id_text(newest(fresh, _id_of)["id"])
        else:
            max_id: str | None = None
            while True:
                page = self._page(max_id=max_id)
                if not page:
                    break
                for notification in page:
                    found[id_text(notification["id"])] = notification
                last = oldest(page, _id_of)
                created = last.get("created_at")
                # Only an empty page ends the walk: servers cap ``limit`` lower
                # than asked (40 on many), so a short page is not the last one.
                if not_before is None or not isinstance(created, datetime) or created < not_before:
                    break
                max_id = id_text(last["id"])
        return [found[key] for key in sorted(found, key=id_key)]

    def notifications_after(self, position: str) -> list[Mapping[str, Any]]:
        """One page of mention notifications after ``position``, oldest first:
        the ``limit`` items immediately after it (``min_id``)."""
        page = self._page(min_id=position)
        return sorted(page, key=lambda n: id_key(n["id"]))

    def _page(
        self, *, min_id: str | None = None, max_id: str | None = None
    ) -> Sequence[Mapping[str, Any]]:
        page = self.read(
            lambda: self.api.notifications(
                types=["mention"], min_id=min_id, max_id=max_id, limit=self.page_limit
            ),
            what="notifications",
        )
        # Some servers ignore ``types``: keep mentions only.
        return [n for n in page if n.get("type") == "mention" and n.get("id") is not None]

    # -- statuses ---------------------------------------------------------------------

    def status(self, status_id: str) -> Mapping[str, Any]:
        result: Mapping[str, Any] = self.read(lambda: self.api.status(status_id), what="status")
        return self.normalise(result)

    def status_context(self, status_id: str) -> Mapping[str, Any]:
        result: Mapping[str, Any] = self.read(
            lambda: self.api.status_context(status_id), what="context"
        )
        return self.normalise(result)

    def account(self, account_id: str) -> Mapping[str, Any]:
        result: Mapping[str, Any] = self.read(lambda: self.api.account(account_id), what="account")
        return result

    def post_reply(self, reply: Reply, *, idempotency_key: str) -> Mapping[str, Any]:
        """Post ``reply``. Never retried here: an ambiguous failure (a timeout after
        the server created the status) must go through the record and the
        thread check before any second attempt."""
        result: Mapping[str, Any] = self.call(
            lambda: self.api.status_post(
                reply.text,
                in_reply_to_id=reply.in_reply_to_id,
                visibility=reply.visibility,
                spoiler_text=reply.spoiler_text or None,
                language=reply.language or None,
                idempotency_key=idempotency_key,
            )
        )
        return result

    def delete_status(self, status_id: str) -> None:
        """Delete one of the bot's statuses (``Gone``: it already is). Retried
        like a read: deleting twice deletes once."""
        self.read(lambda: self.api.status_delete(status_id), what="delete")

    def notification_policy(self) -> Mapping[str, Any] | None:
        """The account's notification policy (Mastodon 4.3+), None where there is none."""
        try:
            result: Mapping[str, Any] = self.call(self.api.notifications_policy)
        except (PermanentError, TransientError):
            return None
        return result

    def post_direct(
        self,
        text: str,
        *,
        in_reply_to_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Mapping[str, Any]:
        """A direct message (to hand a thread to the moderators, to tell the admins
        a reload was refused). With a key, a retry gets the first status back."""
        result: Mapping[str, Any] = self.call(
            lambda: self.api.status_post(
                text,
                in_reply_to_id=in_reply_to_id,
                visibility="direct",
                idempotency_key=idempotency_key,
            )
        )
        return result

    def report(self, account_id: str, status_ids: Sequence[str], comment: str) -> None:
        """Report a thread to the instance's moderators."""
        self.call(
            lambda: self.api.report(
                account_id, status_ids=list(status_ids), comment=comment, forward=False
            )
        )


def _id_of(entity: Mapping[str, Any]) -> object:
    return entity["id"]


def read_instance_fallback(base_url: str, settings: Settings) -> InstanceInfo:
    """What the bot assumes of a server it could not ask: the configured limits."""
    return InstanceInfo(
        max_characters=settings.max_characters,
        url_length=settings.characters_per_url,
        streaming_url=None,
        version="",
        domain=urlsplit(base_url).hostname or "",
        software="unknown",
    )
