"""The admin desk: an admin's command by direct message, executed and
answered by direct message to that admin alone (see ``bot.act.admin``)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.act.admin.find import Finder, last_segment
from bot.act.admin.parse import Command, Verb, is_url, parse
from bot.act.admin.roster import (
    Admins,
    instance_domain,
    resolve_admins,
)
from bot.act.admin.texts import TEXTS, duration, reload_refused_lines, say, split_answer, when
from bot.act.notify import safe_link
from bot.act.poster import Poster, Result
from bot.catalog.config import Config
from bot.errors import PermanentError, Problem
from bot.mastodon.client import Client
from bot.model.catalog import Action
from bot.model.decision import Reply, SkipReason
from bot.model.post import Mention, Post
from bot.ops.metrics import Health, Metrics
from bot.record.schema import ADMIN_RULE_PREFIX
from bot.record.store import Store
from bot.settings import Settings
from bot.text.render import neutralise_mentions

log = logging.getLogger(__name__)


# -- the admin desk ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Answer:
    lines: tuple[str, ...]
    outcome: str = "done"


class Admin:
    """Admin commands for one running bot.

    Used from the worker thread only (through ``Actor``), like everything
    that talks to the server; the pause and the mutes it sets live in the
    record, where ``decide``'s guards read them.
    """

    def __init__(
        self,
        *,
        poster: Poster,
        client: Client,
        store: Store,
        settings: Settings,
        metrics: Metrics,
        health: Health,
        clock: Callable[[], datetime],
        wall_clock: Callable[[], float],
        max_characters: int,
        url_length: int,
        config: Callable[[], Config],
        reload: Callable[[], Sequence[Problem]],
    ) -> None:
        self.poster = poster
        self.client = client
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.health = health
        self.clock = clock
        self.wall_clock = wall_clock
        #: The instance's limits, which every answer must fit.
        self.max_characters = max_characters
        self.url_length = url_length
        self.config = config
        self.reload = reload
        self._admins: Admins | None = None
        self._domain: str | None = None
        self.find = Finder(client, lambda: self.domain)
        self._show_paused(store.moderation.paused() is not None)

    def _show_paused(self, paused: bool) -> None:
        """In /healthz (reported, not a fault) and in /metrics (``filrouge_paused``)."""
        self.health.update(paused=paused)
        self.metrics.paused.set(1 if paused else 0)

    # -- set up on first use (a start must not depend on lookups) --------------------------

    @property
    def domain(self) -> str:
        if self._domain is None:
            self._domain = instance_domain(self.client)
        return self._domain

    @property
    def admins(self) -> Admins:
        if self._admins is None:
            self._admins = resolve_admins(self.settings.admins, self.client, self.domain)
        return self._admins

    # -- telling the admins, unasked ---------------------------------------------------------

    def report_reload(self, problems: Sequence[Problem], at: datetime) -> str | None:
        """Send every problem of a reload refused at ``at`` (SIGHUP) to the admins by
        direct message, in the bot's language; the id of the first status, or None
        when nothing was sent (no admin account to write to, or a dry run)."""
        language = self._language(None)
        lines = reload_refused_lines(language, problems)
        # Keyed by what was refused and when: the worker's retry after a
        # failure posts nothing twice, a later refused reload is a new message.
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]
        return self.tell_admins(lines, key=f"reload:{at.isoformat()}:{digest}", what="reload")

    def tell_admins(self, lines: Sequence[str], *, key: str, what: str) -> str | None:
        """``lines`` by direct message mentioning the admins and nobody else, split
        over several statuses when long (each continues the one before). ``key``
        names the message: one idempotency key per status is derived from it.
        The id of the first status; None when no admin account could be found or
        in a dry run (logged). Worker thread only; raises ``FilRougeError``."""
        mentions = self.admins.mentions
        if not mentions:
            log.warning(
                "no admin account could be found to write to (%s): %s",
                what,
                " / ".join(lines),
                extra={"event": "admin", "command": what},
            )
            return None
        if self.poster.dry_run:
            log.info(
                "to the admins (dry run, not sent): %s",
                " / ".join(lines),
                extra={"event": "admin", "command": what},
            )
            return None
        head = " ".join(f"@{handle.lstrip('@')}" for handle in mentions)
        statuses = self._split(head, lines)
        first_id = self.poster.direct(statuses, name=key)
        log.info(
            "told the admins (%s) in %d status(es)",
            what,
            len(statuses),
            extra={"event": "admin", "command": what, "reply_id": first_id},
        )
        return first_id

    def _split(self, head: str, lines: Sequence[str]) -> list[str]:
        return split_answer(
            head, lines, max_characters=self.max_characters, url_length=self.url_length
        )

    # -- commands ---------------------------------------------------------------------------

    def command(self, mention: Mention) -> Result | None:
        """Handle ``mention`` if it is an admin command by direct message; None if
        it is an ordinary mention for the rest of the pipeline."""
        post = mention.post
        if post.visibility != "direct":
            return None
        command = parse(post.text)
        if command is None:
            return None
        if post.account not in self.admins:
            if not command.well_formed:
                return None  # "pause café ?" from anyone else: an ordinary message
            return self._refuse(mention, command)
        language = self._language(post)
        try:
            answer = self._execute(command, post, language)
        except PermanentError as error:
            # Refused or gone: the admin hears why; transient errors go up and retry.
            answer = _Answer((f"{command.verb}: {neutralise_mentions(str(error))}",), "error")
        return self._answer(mention, command, answer, language)

    def _language(self, post: Post | None) -> str:
        for code in (post.language if post else None, self.settings.language):
            code = (code or "").split("-")[0].lower()
            if code in TEXTS:
                return code
        return "en"

    def _refuse(self, mention: Mention, command: Command) -> Result:
        post = mention.post
        self.metrics.admin_commands.labels(command=command.verb.value, outcome="refused").inc()
        log.warning(
            "admin command %r by direct message from @%s, who is not an admin: ignored",
            command.verb.value,
            post.account.acct,
            extra={"event": "admin", "command": command.verb.value, "account_id": post.account.id},
        )
        trace = {
            "steps": [
                {
                    "kind": "admin",
                    "name": command.verb.value,
                    "ok": False,
                    "detail": f"@{post.account.acct} is not in FILROUGE_ADMINS",
                    "data": {},
                }
            ],
            "summary": f"admin command {command.verb.value} from a non-admin",
        }
        return self.poster.skip(
            mention.notification_id,
            SkipReason.NOT_ADMIN,
            f"{command.verb.value} from @{post.account.acct}, not an admin",
            None,
            trace,
        )

    def _execute(self, command: Command, post: Post, language: str) -> _Answer:
        if not command.well_formed:
            return _Answer((say(language, "usage", problem=command.problem),), "error")
        store = self.store
        now = self.clock()
        verb = command.verb
        if verb is Verb.PAUSE:
            if store.moderation.pause(by=post.account.id, now=now):
                self._show_paused(True)
                log.warning(
                    "paused by @%s", post.account.acct, extra={"event": "admin", "command": "pause"}
                )
                return _Answer((say(language, "paused"),))
            paused = store.moderation.paused()
            since = when(paused.since if paused else now)
            return _Answer((say(language, "already_paused", since=since),))
        if verb is Verb.RESUME:
            resumed = store.moderation.resume()
            self._show_paused(False)
            if resumed:
                log.warning(
                    "resumed by @%s",
                    post.account.acct,
                    extra={"event": "admin", "command": "resume"},
                )
            return _Answer((say(language, "resumed" if resumed else "not_paused"),))
        if verb is Verb.STATUS:
            return _Answer(self._status(language))
        if verb is Verb.RELOAD:
            return self._reload(language)
        if verb is Verb.MUTE:
            return self._mute(command.argument, post, language, now)
        if verb is Verb.UNMUTE:
            return self._unmute(command.argument, language)
        if verb in (Verb.BETTER, Verb.NONE):
            return self._correct(command, post, language, now)
        return self._optout(command.argument, post, language, now)

    def _correct(self, command: Command, post: Post, language: str, now: datetime) -> _Answer:
        """``mieux <id>`` / ``aucune`` in reply to one of the bot's posts: recorded
        for ``filrouge catalog learned``, with the mention's text while the
        record keeps it (``bot.record.texts``)."""
        explained = self.store.replies.explained(post.in_reply_to_id or "")
        if explained is None:
            return _Answer((say(language, "not_a_reply"),), "error")
        item = command.argument if command.verb is Verb.BETTER else None
        catalog = self.config().catalog
        if item is not None and catalog.quote(item) is None and catalog.prompt(item) is None:
            return _Answer((say(language, "unknown_item", item=item),), "error")
        self.store.corrections.add(
            reply_id=explained.status_id,
            item_id=item,
            by=post.account.id,
            now=now,
        )
        log.info(
            "correction of %s by @%s: %s",
            explained.status_id,
            post.account.acct,
            item or "none fitted",
            extra={"event": "admin", "command": command.verb.value},
        )
        if item is None:
            return _Answer((say(language, "corrected_none"),))
        chosen = explained.quote_id or explained.prompt_id or explained.rule
        return _Answer((say(language, "corrected", item=item, chosen=chosen),))

    def _status(self, language: str) -> tuple[str, ...]:
        store = self.store
        health = self.health.snapshot()
        paused = store.moderation.paused()
        started = health.get("started_at")
        uptime = self.wall_clock() - started if isinstance(started, int | float) else 0.0
        stream = (
            "connected"
            if health.get("stream_connected")
            else "polling"
            if health.get("polling")
            else "down"
        )
        counts = store.audit.counts()["outcome"]
        error = health.get("last_error")
        return (
            say(language, "state_paused", since=when(paused.since))
            if paused
            else say(language, "state_running"),
            say(language, "uptime", uptime=duration(uptime), stream=TEXTS[language][stream]),
            say(language, "counts", **counts),
            say(language, "muted_count", count=len(store.moderation.muted_threads())),
            say(language, "last_error", error=error) if error else say(language, "no_error"),
        )

    def _reload(self, language: str) -> _Answer:
        problems = list(self.reload())
        if not problems:
            config = self.config()
            return _Answer(
                (
                    say(
                        language,
                        "reloaded",
                        essays=len(config.catalog.essays),
                        rules=len(config.rules.rules),
                    ),
                )
            )
        return _Answer(reload_refused_lines(language, problems), "error")

    def _mute(self, target: str, post: Post, language: str, now: datetime) -> _Answer:
        try:
            status = self.find.status(target)
        except PermanentError as error:
            shown = last_segment(target)
            return _Answer((say(language, "no_status", target=shown, error=error),), "error")
        status_id = str(status["id"])
        context = self.client.status_context(status_id)
        ancestors = context.get("ancestors") or []
        root = str(ancestors[0]["id"]) if ancestors else status_id
        url = str(status.get("url") or status.get("uri") or "")
        if self.store.moderation.mute(
            status_id, thread_id=root, by=post.account.id, url=url, now=now
        ):
            log.warning(
                "thread %s muted by @%s",
                root,
                post.account.acct,
                extra={"event": "admin", "command": "mute", "thread_id": root},
            )
            return _Answer(
                (say(language, "muted", status_id=status_id, thread_id=root, link=safe_link(url)),)
            )
        return _Answer((say(language, "already_muted"),))

    def _unmute(self, target: str, language: str) -> _Answer:
        ids = [last_segment(target)]
        try:
            status = self.find.status(target)
            ids.append(str(status["id"]))
            ancestors = self.client.status_context(str(status["id"])).get("ancestors") or []
            if ancestors:
                ids.append(str(ancestors[0]["id"]))
        except PermanentError:
            pass  # a deleted status can still be unmuted by its id
        if self.store.moderation.unmute([i for i in dict.fromkeys(ids) if i]):
            return _Answer((say(language, "unmuted", target=", ".join(dict.fromkeys(ids))),))
        return _Answer((say(language, "not_muted"),))

    def _optout(self, target: str, post: Post, language: str, now: datetime) -> _Answer:
        try:
            account_id, acct = self.find.account(target, post)
        except PermanentError as error:
            shown = safe_link(target) if is_url(target) else target
            return _Answer((say(language, "no_account", target=shown, error=error),), "error")
        store = self.store
        if store.consent.is_opted_out(account_id):
            return _Answer((say(language, "already_opted_out", account=acct),))
        store.consent.opt_out(account_id, now)
        log.warning(
            "account %s opted out by @%s",
            acct,
            post.account.acct,
            extra={"event": "admin", "command": "optout", "account_id": account_id},
        )
        return _Answer((say(language, "opted_out", account=acct),))

    # -- answering ---------------------------------------------------------------------------

    def _answer(self, mention: Mention, command: Command, answer: _Answer, language: str) -> Result:
        post = mention.post
        notification_id = mention.notification_id
        verb = command.verb.value
        statuses = self._split(f"@{post.account.acct}", answer.lines)
        rule = f"{ADMIN_RULE_PREFIX}{verb}"

        def reply(text: str) -> Reply:
            # Each status after the first continues the one before (the poster
            # sets its parent); the first answers the command.
            return Reply(
                text=text,
                visibility="direct",
                spoiler_text="",
                language=language,
                in_reply_to_id=post.id,
                rule=rule,
                action=Action.HELP,
            )

        trace = {
            "steps": [
                {
                    "kind": "admin",
                    "name": verb,
                    "ok": answer.outcome == "done",
                    "detail": " / ".join(answer.lines),
                    "data": {"argument": command.argument} if command.argument else {},
                }
            ],
            "summary": f"admin command {verb} ({answer.outcome})",
        }
        self.metrics.admin_commands.labels(command=verb, outcome=answer.outcome).inc()
        first_id = self.poster.answer(
            notification_id,
            [reply(text) for text in statuses],
            whole=reply("\n\n".join(statuses)),
            thread_id=post.id,
            account_id=post.account.id,
            trace=trace,
        )
        log.info(
            "admin command %s from @%s: %s%s",
            verb,
            post.account.acct,
            answer.outcome,
            " (dry run, not answered)" if first_id is None else "",
            extra={
                "event": "admin",
                "command": verb,
                "outcome": answer.outcome,
                "notification_id": notification_id,
                "reply_id": first_id,
            },
        )
        if first_id is None:
            return Result(notification_id, "replied", "dry_run")
        return Result(notification_id, "replied", "admin", reply_id=first_id)
