"""Act: take one mention from ``pending`` to exactly one recorded outcome.

For each mention the worker calls ``Actor.process``:

1. claim it in the record (a transaction; None if it is final or held);
2. fetch the mention and its thread, understand them (an entity the bot
   cannot read is a recorded ``unreadable`` skip, never a crash);
3. find the essay (resolving aggregator links only when nothing better
   identified it), read the history, ``decide`` (pure);
4. act: a ``Skip`` is recorded; a ``Reply`` in observe mode or dry run is
   recorded without posting; a live reply is marked ``posting`` *before* the
   POST (with an ``Idempotency-Key`` derived from the bot and the mention),
   then marked ``replied`` with the new status id.

One reply per mention, even on servers that ignore ``Idempotency-Key``: before
posting, the thread's descendants are searched for a reply by the bot to this
mention (left by an earlier attempt that crashed or timed out after the server
created it); if there is one, it is recorded instead of posting again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.act.admin.desk import Admin
from bot.act.notify import Notifier
from bot.act.poster import Poster, Result, log_extra
from bot.act.take_back import Schedule, TakeBack
from bot.catalog.config import Config
from bot.decide.decision import decide
from bot.decide.policy import Policy
from bot.decide.trace import Inputs
from bot.errors import FilRougeError, Gone, PermanentError, RateLimited, TransientError
from bot.mastodon.backoff import Backoff
from bot.mastodon.port import MastodonPort
from bot.model.catalog import Action, EssayMatch, Mode
from bot.model.decision import Reply, Skip, SkipReason
from bot.model.ids import same_id
from bot.model.post import Mention, Post, Thread
from bot.ops.metrics import Metrics
from bot.record.mentions import StateError
from bot.record.store import Store
from bot.settings import Settings
from bot.text.html import html_to_text
from bot.understand.language import with_language
from bot.understand.thread import find_essay, post_from_status, thread_from_context

if TYPE_CHECKING:
    from bot.act.admin.desk import Admin
    from bot.act.notify import Notifier

log = logging.getLogger(__name__)

#: Evidence strong enough that no aggregator link needs fetching.
_DIRECT_EVIDENCE = frozenset({"link", "alias", "card", "hashtag"})


class Actor:
    """Everything one mention needs, wired once by the runner."""

    def __init__(
        self,
        *,
        client: MastodonPort,
        store: Store,
        poster: Poster,
        config: Config,
        policy: Policy,
        settings: Settings,
        metrics: Metrics,
        backoff: Backoff,
        clock: Callable[[], datetime],
        resolve_links: Callable[[Sequence[str]], Mapping[str, str]] | None = None,
        admin: Admin | None = None,
        notifier: Notifier | None = None,
        deletion_schedule: Schedule | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.poster = poster
        self.config = config
        #: Admin commands by direct message (``bot.act.admin``).
        self.admin = admin
        #: Moderator notifications (``bot.act.notify``).
        self.notifier = notifier
        self.policy = policy
        self.settings = settings
        self.metrics = metrics
        self.backoff = backoff
        self.clock = clock
        self.resolve_links = resolve_links
        #: Deletes the bot's replies (``bot.act.take_back``).
        self.taking_back = TakeBack(
            client=client,
            store=store,
            metrics=metrics,
            clock=clock,
            budget=settings.deletion_checks,
            dry_run=settings.dry_run,
            schedule=deletion_schedule or Schedule(),
        )

    @property
    def self_id(self) -> str:
        return self.policy.self_id

    # -- one mention ------------------------------------------------------------------

    def process(
        self,
        notification_id: str,
        *,
        stale_after: timedelta,
        status: Mapping[str, Any] | None = None,
    ) -> Result | None:
        """Take one mention to an outcome; None if it was not ours to take."""
        claim = self.store.mentions.claim(
            notification_id,
            self.clock(),
            stale_after=stale_after,
            max_attempts=self.settings.max_attempts,
        )
        if claim is None:
            return None
        try:
            return self._handle(notification_id, claim.status_id, status)
        except Gone as error:
            return self._skip(notification_id, SkipReason.GONE, str(error), None, {})
        except RateLimited as error:
            result = self._fail(notification_id, error, claim.attempts)
            return Result(
                notification_id,
                result.outcome,
                result.detail,
                pause_until=error.retry_at,
            )
        except (TransientError, PermanentError) as error:
            return self._fail(notification_id, error, claim.attempts)
        except Exception as error:
            # A bug must cost one mention an attempt, never the worker.
            log.exception(
                "unexpected error on mention %s",
                notification_id,
                extra={"event": "error", "notification_id": notification_id},
            )
            internal = TransientError(f"{type(error).__name__}: {error}", kind="internal")
            try:
                return self._fail(notification_id, internal, claim.attempts)
            except StateError:
                # The outcome was recorded before the error: it stands.
                return None

    def _handle(
        self, notification_id: str, status_id: str, status: Mapping[str, Any] | None
    ) -> Result:
        if status is None:
            status = self.client.status(status_id)
        try:
            post = with_language(post_from_status(status), detect=self.settings.detect_language)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return self._skip(notification_id, SkipReason.UNREADABLE, f"mention: {error}", None, {})
        mention = Mention(notification_id=notification_id, post=post)
        self._keep_text(notification_id, post)
        if self.admin is not None:
            # An admin's command by direct message is answered, not decided.
            handled = self.admin.command(mention)
            if handled is not None:
                return handled
        answered = self.store.mentions.answered_elsewhere(post.id, notification_id)
        if answered is not None:
            # A server that notifies again when a mention is edited: one answer a post.
            return self._skip(
                notification_id,
                SkipReason.DUPLICATE,
                f"post {post.id} was answered as notification {answered}",
                None,
                {},
            )
        context = self.client.status_context(post.id)
        try:
            thread = thread_from_context(context)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return self._skip(notification_id, SkipReason.UNREADABLE, f"thread: {error}", None, {})

        # Read once: a reload (SIGHUP) swaps it between mentions, never within one.
        config = self.config
        existing = self._existing_reply(context, post.id)
        essay = self._find_essay(mention, thread, config)
        thread_id = thread.ancestors[0].id if thread.ancestors else post.id
        history = self.store.replies.history(
            thread_id=thread_id,
            account_id=post.account.id,
            parent_status_id=post.in_reply_to_id,
            shown_since=self.clock() - self.settings.repeat_window,
        )
        moderation = self.store.moderation.state([post.id, *(a.id for a in thread.ancestors)])
        now = self.clock()
        deciding = time.perf_counter()
        outcome = decide(
            Inputs(
                mention=mention,
                thread=thread,
                essay=essay,
                config=config,
                history=history,
                policy=self.policy,
                now=now,
                moderation=moderation,
            )
        )
        # How long the pure decision took, for the console's plot.
        trace = {**outcome.trace.to_json(), "decide_ms": (time.perf_counter() - deciding) * 1e3}
        decision = outcome.decision

        if existing is not None:
            # An earlier attempt posted and then lost track (crash, timeout):
            # record that reply rather than posting a second one.
            reply = decision if isinstance(decision, Reply) else _recovered(existing, post)
            reply_id = str(existing["id"])
            self._record_reply(
                notification_id, reply, post, thread_id, trace, reply_id, "recovered"
            )
            log.info(
                "mention %s already answered by %s (recorded, not posted again)",
                notification_id,
                reply_id,
                extra={
                    "event": "outcome",
                    "outcome": "replied",
                    "notification_id": notification_id,
                },
            )
            return Result(notification_id, "replied", "recovered", reply_id=reply_id)

        if decision.takes_back is not None:
            # Deleted before anything is confirmed: a confirmation that cannot be
            # posted must never leave the reply up.
            self.taking_back.take_back(
                decision.takes_back,
                by=post.account.id,
                how="request",
                notification_id=notification_id,
            )
        if isinstance(decision, Skip):
            # A stop or start held by a pause or a mute takes effect all the same.
            self._consent(decision.consent, post, now)
            return self._skip(
                notification_id, decision.reason, decision.detail, decision.rule, trace
            )
        return self._reply(notification_id, decision, post, thread_id, trace)

    # -- outcomes ---------------------------------------------------------------------

    def _record_reply(
        self,
        notification_id: str,
        reply: Reply,
        post: Post,
        thread_id: str,
        trace: Mapping[str, Any],
        reply_id: str | None,
        mode: str,
    ) -> None:
        """Record a reply (``reply_id`` None: decided, not posted) and count it by mode."""
        self.poster.record(notification_id, reply, reply_id, thread_id, post.account.id, trace)
        self.metrics.replies.labels(rule=reply.rule, mode=mode).inc()

    def _reply(
        self,
        notification_id: str,
        reply: Reply,
        post: Post,
        thread_id: str,
        trace: Mapping[str, Any],
    ) -> Result:
        now = self.clock()
        # Consent first: an opt-out holds even if its confirmation cannot be posted.
        self._consent(reply.action, post, now)

        mode = "dry_run" if self.settings.dry_run else reply.mode.value
        if reply.mode is Mode.OBSERVE or self.settings.dry_run:
            self._record_reply(notification_id, reply, post, thread_id, trace, None, mode)
            log.info(
                "mention %s: would reply (%s, rule %s)",
                notification_id,
                mode,
                reply.rule,
                extra=log_extra("replied", notification_id, rule=reply.rule, mode=mode),
            )
            return Result(notification_id, "replied", mode)

        reply_id = self.poster.answer(
            notification_id,
            [reply],
            whole=reply,
            thread_id=thread_id,
            account_id=post.account.id,
            trace=trace,
        )
        self.metrics.replies.labels(rule=reply.rule, mode="live").inc()
        done = self.clock()
        self.metrics.latency.observe(max((done - post.created_at).total_seconds(), 0.0))
        log.info(
            "mention %s: replied %s (rule %s, %s)",
            notification_id,
            reply_id,
            reply.rule,
            reply.visibility,
            extra=log_extra("replied", notification_id, rule=reply.rule, reply_id=reply_id),
        )
        if reply.notify_moderators and self.notifier is not None:
            try:
                self.notifier.notify(
                    post=post, reply=reply, thread_id=thread_id, notification_id=notification_id
                )
            except Exception:
                # Best effort: the reply is posted and recorded whatever happens here.
                log.warning("could not notify the moderators", exc_info=True)
        return Result(notification_id, "replied", "live", reply_id=reply_id)

    def _keep_text(self, notification_id: str, post: Post) -> None:
        """Record the mention's visibility and keep its words for the
        moderators, if the admins allow it (``bot.record.texts``): never a
        direct message's, unless they said so."""
        settings = self.settings
        words = settings.record_text_days > 0 and (
            post.visibility != "direct" or settings.console_show_direct
        )
        self.store.texts.keep(
            notification_id,
            status_id=post.id,
            account_id=post.account.id,
            acct=post.account.acct,
            text=post.text,
            url=post.url or "",
            visibility=post.visibility,
            now=self.clock(),
            words=words,
        )

    def _consent(self, action: Action | None, post: Post, now: datetime) -> None:
        if action is Action.STOP:
            self.store.consent.opt_out(post.account.id, now)
            # Who asks to be left alone has their words forgotten too.
            self.store.texts.forget_account(post.account.id)
        elif action is Action.START:
            self.store.consent.opt_in(post.account.id)

    def _skip(
        self,
        notification_id: str,
        reason: SkipReason,
        detail: str,
        rule: str | None,
        trace: Mapping[str, Any],
    ) -> Result:
        return self.poster.skip(notification_id, reason, detail, rule, trace)

    def _fail(self, notification_id: str, error: FilRougeError, attempts: int) -> Result:
        now = self.clock()
        kind = getattr(error, "kind", "error")
        retry_at: datetime | None = None
        if isinstance(error, TransientError) and attempts < self.settings.max_attempts:
            wait = self.backoff.wait_for(error, attempts, now=time.time())
            retry_at = now + timedelta(seconds=wait)
        self.store.mentions.mark_failed(
            notification_id,
            kind=kind,
            message=str(error),
            now=now,
            retry_at=retry_at,
            max_attempts=self.settings.max_attempts,
        )
        self.metrics.errors.labels(kind=kind).inc()
        outcome = "retry" if retry_at is not None else "failed"
        level = logging.INFO if outcome == "retry" else logging.WARNING
        log.log(
            level,
            "mention %s: %s (%s, attempt %d)%s",
            notification_id,
            error,
            kind,
            attempts,
            f", retry at {retry_at:%H:%M:%S}" if retry_at else ", giving up",
            extra=log_extra(outcome, notification_id, kind=kind, attempts=attempts),
        )
        return Result(notification_id, outcome, kind)

    # -- helpers ----------------------------------------------------------------------

    def _existing_reply(
        self, context: Mapping[str, Any], mention_id: str
    ) -> Mapping[str, Any] | None:
        """The bot's reply to this mention among the thread's descendants, if any."""
        for status in context.get("descendants") or ():
            try:
                account = status.get("account") or {}
                if same_id(account.get("id"), self.self_id) and same_id(
                    status.get("in_reply_to_id"), mention_id
                ):
                    found: Mapping[str, Any] = status
                    return found
            except AttributeError:
                continue
        return None

    def _find_essay(self, mention: Mention, thread: Thread, config: Config) -> EssayMatch:
        threshold = self.settings.essay_threshold
        match = find_essay(mention, thread, config, threshold=threshold)
        if match.how in _DIRECT_EVIDENCE or self.resolve_links is None:
            return match
        links: list[str] = []
        for post in (mention.post, *reversed(thread.ancestors)):
            links.extend(post.content.links)
            if post.card_url:
                links.append(post.card_url)
        if not links:
            return match
        resolved = self.resolve_links(links)
        if not resolved:
            return match
        return find_essay(mention, thread, config, resolved=resolved, threshold=threshold)


def _recovered(status: Mapping[str, Any], post: Post) -> Reply:
    """A record of a reply found in the thread when the decision cannot be replayed."""
    visibility = status.get("visibility") or post.visibility
    return Reply(
        text=html_to_text(str(status.get("content") or "")).text,
        visibility=visibility
        if visibility in ("direct", "private", "unlisted", "public")
        else "direct",
        spoiler_text=str(status.get("spoiler_text") or ""),
        language=str(status.get("language") or ""),
        in_reply_to_id=post.id,
        rule="recovered",
        action=Action.LINK,
    )
