"""Finding what an admin's argument names: a status by URL or id, an account by
id, handle or profile URL.

A URL of this instance carries its id as the last path segment; anything
else is resolved by search (``search_v2(resolve=True)``, which needs the
``read:search`` scope).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from bot.act.admin.parse import is_url
from bot.act.admin.roster import lookup_account, normal_handle
from bot.errors import Gone
from bot.mastodon.client import Client
from bot.model.ids import may_be_id
from bot.model.post import Post


class Finder:
    """Lookups on the bot's instance for the admin desk."""

    def __init__(self, client: Client, domain: Callable[[], str]) -> None:
        self.client = client
        #: The instance's domain, looked up on first use.
        self._domain = domain

    @property
    def domain(self) -> str:
        return self._domain()

    def _is_local(self, host: str | None) -> bool:
        host = (host or "").lower()
        api_host = (urlsplit(self.client.base_url).hostname or "").lower()
        return bool(host) and host in {self.domain.lower(), api_host}

    def status(self, target: str) -> Mapping[str, Any]:
        """The status a URL or id names. A URL of this instance carries its id
        as the last path segment (``/@user/ID``, ``/users/user/statuses/ID``,
        also for remote posts seen here); other URLs are resolved by search,
        which needs the ``read:search`` scope. Raises ``PermanentError``."""
        client = self.client
        if not is_url(target):
            return client.status(target.strip())
        parts = urlsplit(target)
        if self._is_local(parts.hostname):
            return client.status(last_segment(target))
        found = client.read(
            lambda: client.api.search_v2(target, resolve=True, result_type="statuses"),
            what="search",
        )
        # Only the status at that address: some servers answer a search with
        # every status that merely contains the text (the admin's own message).
        wanted = same_url(target)
        for status in found.get("statuses") or []:
            if wanted in (
                same_url(str(status.get("url") or "")),
                same_url(str(status.get("uri") or "")),
            ):
                result: Mapping[str, Any] = status
                return result
        raise Gone("the instance could not resolve it")

    def account(self, target: str, post: Post) -> tuple[str, str]:
        """(account id, ``user@domain``) of an id, handle or profile URL."""
        client = self.client
        target = target.strip()
        if may_be_id(target):
            # Ids are opaque: Mastodon's are digits, GoToSocial's ULIDs, Akkoma's
            # flakes. Asked as an id first; a handle that is no id is looked up next.
            try:
                account = client.account(target)
            except Gone:
                if target.isdigit():
                    raise
            else:
                return str(account["id"]), str(account.get("acct") or target)
        if is_url(target):
            parts = urlsplit(target)
            user = last_segment(target).lstrip("@")
            host = parts.hostname or ""
            target = user if self._is_local(host) or "@" in user else f"{user}@{host}"
        handle = target.lstrip("@")
        # An @-mention of the account in the command itself: the server told us its id.
        for ref in post.content.mentions:
            if ref.account_id and normal_handle(ref.acct, self.domain) == normal_handle(
                handle, self.domain
            ):
                return ref.account_id, ref.acct
        try:
            account = lookup_account(client, handle, self.domain)
        except Gone:
            found = client.read(
                lambda: client.api.search_v2(handle, resolve=True, result_type="accounts"),
                what="search",
            )
            wanted = normal_handle(handle, self.domain)
            matches = [
                a
                for a in found.get("accounts") or []
                if normal_handle(str(a.get("acct", "")), self.domain) == wanted
            ]
            if not matches:
                raise Gone("the instance does not know it") from None
            account = matches[0]
        return str(account["id"]), str(account.get("acct") or handle)


def same_url(url: str) -> str:
    """A URL in a form two spellings of one address share (host case, trailing slash)."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}{parts.path.rstrip('/')}"


def last_segment(target: str) -> str:
    path = urlsplit(target).path if is_url(target) else target
    return path.rstrip("/").rsplit("/", 1)[-1].strip()
