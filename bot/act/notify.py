"""Handing a thread to the moderators, when a rule asks for it.

A rule with ``notify_moderators = true`` (the de-escalation rule of the bundled
rules) also tells the humans, besides posting its reply, as
``FILROUGE_NOTIFY_MODERATORS`` says (off by default):

- ``dm``: one direct message mentioning each account of ``FILROUGE_ADMINS``
  and nobody else, with the rule's name and a link to the post that triggered
  it. The heated words themselves are not quoted: the moderators read them in
  the thread, where they belong, and a DM does not copy them anywhere else.
- ``report``: a report through the API (``write:reports``) against the account
  and post that triggered the rule, with the rule's name as the comment, not
  forwarded to a remote instance. The instance's moderators see it in their
  reports queue, whoever they are.

Never more than once per thread: the record keeps which threads were handed
over (the claim is taken before sending and given back if sending fails, so a
failure costs nothing and a success is never repeated). Only a reply actually
posted notifies: observe mode, a dry run, a pause or a muted thread do not.
Sending is best effort: a failure is logged and counted, the reply stands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from bot.errors import FilRougeError
from bot.mastodon.port import MastodonPort

if TYPE_CHECKING:
    from bot.act.admin.roster import Admins
    from bot.act.poster import Poster
    from bot.model.decision import Reply
    from bot.model.post import Post
    from bot.ops.metrics import Metrics
    from bot.record.store import Store
    from bot.settings import Settings

log = logging.getLogger(__name__)


def moderator_message(mentions: tuple[str, ...], rule: str, link: str, language: str) -> str:
    """The direct message to the admins: their handles, the rule, a link. Nothing quoted."""
    handles = " ".join(f"@{handle.lstrip('@')}" for handle in mentions)
    if language == "fr":
        return f"{handles} Un fil a peut-être besoin d’une modération (règle {rule}) :\n{link}"
    return f"{handles} A thread may need a moderator (rule {rule}):\n{link}"


class Notifier:
    """Sends the moderator notifications of one running bot (worker thread only)."""

    def __init__(
        self,
        *,
        poster: Poster,
        client: MastodonPort,
        store: Store,
        settings: Settings,
        metrics: Metrics,
        clock: Callable[[], datetime],
        admins: Callable[[], Admins],
    ) -> None:
        self.poster = poster
        self.client = client
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        #: Resolved lazily (a lookup per admin), shared with the admin commands.
        self.admins = admins

    def notify(self, *, post: Post, reply: Reply, thread_id: str, notification_id: str) -> bool:
        """Hand ``thread_id`` to the moderators if the settings say how and it was
        not handed over before; True if a notification was sent."""
        how = self.settings.notify_moderators
        if how == "off" or not reply.notify_moderators:
            return False
        if how == "dm" and not self.settings.admins:
            log.warning(
                "rule %s asks for the moderators, but FILROUGE_ADMINS is empty",
                reply.rule,
                extra={"event": "moderators"},
            )
            return False
        if not self.store.moderation.claim_notice(
            thread_id,
            notification_id=notification_id,
            rule=reply.rule,
            how=how,
            now=self.clock(),
        ):
            return False  # this thread was handed over already
        try:
            if how == "report":
                self.client.report(post.account.id, [post.id], reply.rule)
            else:
                mentions = self.admins().mentions
                if not mentions:
                    raise FilRougeError("no admin account could be found to write to")
                # Keyed by the thread: a retry never hands it over twice.
                self.poster.direct(
                    [moderator_message(mentions, reply.rule, _link(post), self.settings.language)],
                    name=f"moderators:{thread_id}",
                )
        except FilRougeError as error:
            self.store.moderation.release_notice(thread_id)
            self.metrics.moderator_notices.labels(how=how, outcome="failed").inc()
            log.warning(
                "could not notify the moderators about thread %s: %s",
                thread_id,
                error,
                extra={"event": "moderators", "kind": getattr(error, "kind", "error")},
            )
            return False
        self.metrics.moderator_notices.labels(how=how, outcome="sent").inc()
        log.info(
            "thread %s handed to the moderators (%s, rule %s)",
            thread_id,
            how,
            reply.rule,
            extra={"event": "moderators", "how": how, "thread_id": thread_id},
        )
        return True


def _link(post: Post) -> str:
    return safe_link(post.url) if post.url else f"status {post.id}"


def safe_link(url: str) -> str:
    """``url`` with every ``@`` of its path written ``%40``, which servers read the same.

    Profile-style status URLs (``https://host/@bob/123``) carry a handle, and
    some servers take any ``@handle`` in a status for a mention, even inside a
    link: in a direct message that would make the person linked to a
    recipient, the very person a moderator is being told about.
    """
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.replace("@", "%40")))
