"""Who the admins are: ``FILROUGE_ADMINS`` resolved to accounts, matched by
id, else by ``user@domain``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.errors import FilRougeError, Gone
from bot.model.ids import is_ulid, may_be_id
from bot.model.post import Account

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from bot.mastodon.client import Client


# -- who is an admin ---------------------------------------------------------------------


def normal_handle(acct: str, local_domain: str) -> str:
    """``user@domain`` in lower case; a local ``user`` gets the instance's domain."""
    acct = acct.strip().lstrip("@").lower()
    user, _, domain = acct.partition("@")
    return f"{user}@{domain or local_domain.lower()}"


@dataclass(frozen=True)
class Admins:
    """The accounts of ``FILROUGE_ADMINS``, by id and by handle."""

    ids: frozenset[str]
    handles: frozenset[str]
    local_domain: str
    #: A handle to mention each admin with, in the order of the setting.
    mentions: tuple[str, ...] = ()

    @classmethod
    def parse(cls, entries: Sequence[str], local_domain: str) -> Admins:
        """From the setting alone, without asking the server: digits and ULIDs
        are ids (Mastodon's, GoToSocial's), anything else not all digits a
        handle; ``@`` in front makes an entry a handle."""
        written = [e.strip() for e in entries if e.strip()]
        ids = frozenset(e for e in written if e.isdigit() or is_ulid(e))
        handles = frozenset(normal_handle(e, local_domain) for e in written if not e.isdigit())
        return cls(ids=ids, handles=handles, local_domain=local_domain.lower())

    def __contains__(self, account: object) -> bool:
        if not isinstance(account, Account):
            return False
        if account.id in self.ids:
            return True
        return normal_handle(account.acct, self.local_domain) in self.handles


def resolve_admins(entries: Sequence[str], client: Client, local_domain: str) -> Admins:
    """``Admins`` with each handle also looked up to its id and each id to a handle
    to mention, where the server knows them. A lookup that fails leaves the
    entry matched by handle (or, for an id, mentioned by nothing: logged)."""
    admins = Admins.parse(entries, local_domain)
    ids = set(admins.ids)
    mentions: list[str] = []
    for written in (e.strip() for e in entries if e.strip()):
        entry = written.lstrip("@")
        try:
            if written == entry and may_be_id(entry):
                # Ids are opaque (digits, ULIDs, flakes): asked as an id first;
                # one that is no id there is looked up as a handle next.
                try:
                    account = client.account(entry)
                except Gone:
                    if entry.isdigit():
                        raise
                else:
                    ids.add(str(account["id"]))
                    mentions.append(str(account.get("acct") or account.get("username") or ""))
                    continue
            account = lookup_account(client, entry, local_domain)
            ids.add(str(account["id"]))
            mentions.append(entry)
        except FilRougeError as error:
            log.warning(
                "admin %s could not be looked up (%s); matched by handle only",
                entry,
                error,
                extra={"event": "admin", "kind": getattr(error, "kind", "error")},
            )
            if written != entry or not (entry.isdigit() or is_ulid(entry)):
                mentions.append(entry)
    return Admins(
        ids=frozenset(ids),
        handles=admins.handles,
        local_domain=admins.local_domain,
        mentions=tuple(m for m in mentions if m),
    )


def lookup_account(client: Client, acct: str, local_domain: str) -> Mapping[str, Any]:
    """The account ``acct`` (``user`` or ``user@domain``) as the instance knows it.
    A local account is asked for by its bare username, which every server accepts."""
    user, _, domain = acct.strip().lstrip("@").partition("@")
    if not domain or domain.lower() == local_domain.lower():
        acct = user
    found: Mapping[str, Any] = client.read(
        lambda: client.api.account_lookup(acct), what="account lookup"
    )
    return found


def instance_domain(client: Client) -> str:
    """The instance's own domain (``LOCAL_DOMAIN``), which may differ from the
    host of its API (``WEB_DOMAIN``); the API host when the server does not say."""
    if client.instance is not None and client.instance.domain:
        return client.instance.domain
    return urlsplit(client.base_url).hostname or ""
