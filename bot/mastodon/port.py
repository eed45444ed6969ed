"""The port: what the stages that act ask of the server, as a ``Protocol``.

``bot.mastodon.client.Client`` implements it over Mastodon.py; tests of
``bot.act`` implement it in memory. Every method raises the bot's own
errors (``bot.errors``): ``Gone`` for a status that is no more,
``TransientError`` for what may pass, ``PermanentError`` for what will not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bot.model.decision import Reply


class MastodonPort(Protocol):
    def status(self, status_id: str) -> Mapping[str, Any]:
        """A status entity."""
        ...

    def status_context(self, status_id: str) -> Mapping[str, Any]:
        """``{"ancestors": [...], "descendants": [...]}`` of a status."""
        ...

    def delete_status(self, status_id: str) -> None:
        """Delete one of the bot's own statuses; ``Gone`` if it is no longer there."""
        ...

    def post_reply(self, reply: Reply, *, idempotency_key: str) -> Mapping[str, Any]:
        """Post ``reply``; the new status. Never retried inside: an ambiguous
        failure must go through the record first."""
        ...

    def post_direct(
        self,
        text: str,
        *,
        in_reply_to_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Mapping[str, Any]:
        """A direct message; the new status."""
        ...

    def report(self, account_id: str, status_ids: Sequence[str], comment: str) -> None:
        """Report statuses to the instance's moderators."""
        ...
