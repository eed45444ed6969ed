"""The running bot: one listener, one worker, one record.

``Bot.start()`` connects (who am I, the instance's limits), loads the admin
data, opens the record, starts the listener and the worker thread.
``Bot.stop()`` (SIGTERM) lets the in-flight mention finish — or leaves it
claimable for the next start — and closes the database.

The worker is the only thread that makes REST calls or writes the record:

    loop:
        take streamed notifications → record.enqueue
        catch-up requested?         → notifications(min_id=cursor) → enqueue, advance cursor
        every due mention (pending, retry due, left by a crash) → Actor.process

The cursor only moves in the catch-up, after what it covers was enqueued: a
streamed notification never moves it, or a gap before it would be skipped.

``Bot.reload()`` (SIGHUP) loads the catalog and rules again and swaps them in
between two mentions; if they are broken, the bot keeps the ones it has and
the worker sends every problem to the admins by direct message.
Settings are read once, at start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.act.actor import Actor
from bot.act.admin.desk import Admin
from bot.act.notify import Notifier
from bot.act.poster import Poster, Result
from bot.act.take_back import Schedule
from bot.app.wiring import policy_from_settings, stream_reader
from bot.app.worker import Worker
from bot.catalog.config import Config
from bot.catalog.load import load_config
from bot.errors import (
    ConfigError,
    FilRougeError,
    Problem,
    RecordUnavailable,
    TransientError,
)
from bot.listen.intake import Intake
from bot.listen.stream import Inbox, Listener, StreamReader
from bot.mastodon.backoff import Backoff
from bot.mastodon.client import Client, Me
from bot.mastodon.compat import InstanceInfo
from bot.ops.metrics import Health, Metrics
from bot.record.store import Store, open_record, record_unavailable
from bot.settings import Settings

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Bot:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
        backoff: Backoff | None = None,
        stream_backoff: Backoff | None = None,
        metrics: Metrics | None = None,
        health: Health | None = None,
        config: Config | None = None,
        after_load: Callable[[], None] | None = None,
        watchdog: Callable[[], None] | None = None,
        deletion_schedule: Schedule | None = None,
    ) -> None:
        self.settings = settings
        #: Fed by the listening loop while the worker thread lives (systemd's watchdog).
        self._watchdog = watchdog
        #: When recent mentions are looked up (``bot.act.take_back``; tests shorten it).
        self._deletion_schedule = deletion_schedule
        #: Called after the configuration is loaded or reloaded; ``filrouge run``
        #: passes ``bot.rank.index.freeze_after_load`` to keep full garbage collections
        #: off a large index (tests leave it off: freezing leaks a test process's garbage).
        self._after_load = after_load
        self.clock = clock
        self._stopping = threading.Event()
        # Waits between retries end early on stop(): SIGTERM never waits out a backoff.
        self.backoff = backoff or Backoff(sleep=self._interruptible_sleep)
        self.stream_backoff = stream_backoff or Backoff(base=2.0, cap=300.0)
        self.metrics = metrics or Metrics()
        self.health = health or Health()
        self._config = config
        self.client = Client(settings, backoff=self.backoff)
        self.inbox = Inbox()
        self.me: Me | None = None
        self.instance: InstanceInfo | None = None
        self.store: Store | None = None
        self.actor: Actor | None = None
        self.listener: Listener | None = None
        self._resolver: Any = None
        self._lock_file: TextIO | None = None
        self._worker: threading.Thread | None = None
        self.worker: Worker | None = None
        #: Results of the latest processed mentions, newest last (tests, the demo).
        self.results: deque[Result] = deque(maxlen=1000)
        self._results_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        #: A refused SIGHUP reload waiting for the worker to tell the admins:
        #: (its problems, when). Set from the main thread, taken by the worker.
        self._refused_reload: tuple[tuple[Problem, ...], datetime] | None = None
        self._refused_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Bot({self.client!r})"

    def _interruptible_sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> Bot:
        """Load, lock and open the record, connect, and start listening. Raises on
        bad data, an unusable record or a bad token; nothing touches the network
        before the record is ours. Called again after a ``TransientError`` (the
        server unreachable), it goes on from where it stopped."""
        settings = self.settings
        if self._config is None:
            self._config = load_config(settings)
            if self._after_load is not None:
                self._after_load()
        config = self._config
        if self.store is None:
            self._lock_record(settings.db_path)
            self.store = open_record(settings.db_path)
        self.me, self.instance = self.client.connect()
        log.info(
            "connected as @%s on %s (limit %d characters)",
            self.me.acct,
            self.client.base_url,
            self.instance.max_characters,
            extra={"event": "connect", "account_id": self.me.id},
        )
        self._check_notification_policy()
        policy = policy_from_settings(
            settings,
            self_id=self.me.id,
            max_characters=self.instance.max_characters,
            url_length=self.instance.url_length,
        )
        resolve_links = None
        if settings.resolve_hosts:
            from bot.web.links import Resolver

            store = self.store
            self._resolver = Resolver.from_settings(
                settings,
                cache_get=store.links.link_entry,
                cache_put=lambda url, resolved: store.links.cache_link(url, resolved, self.clock()),
            )
            resolve_links = self._resolver.resolve_many
        poster = Poster(
            client=self.client,
            store=self.store,
            metrics=self.metrics,
            clock=self.clock,
            self_id=self.me.id,
            dry_run=settings.dry_run,
        )
        admin = Admin(
            poster=poster,
            client=self.client,
            store=self.store,
            settings=settings,
            metrics=self.metrics,
            health=self.health,
            clock=self.clock,
            wall_clock=time.time,
            max_characters=policy.max_characters,
            url_length=policy.url_length,
            config=self.current_config,
            reload=self.reload_problems,
        )
        notifier = Notifier(
            poster=poster,
            client=self.client,
            store=self.store,
            settings=settings,
            metrics=self.metrics,
            clock=self.clock,
            admins=lambda: admin.admins,
        )
        self.actor = Actor(
            client=self.client,
            store=self.store,
            poster=poster,
            admin=admin,
            notifier=notifier,
            config=config,
            policy=policy,
            settings=settings,
            metrics=self.metrics,
            backoff=self.backoff,
            clock=self.clock,
            resolve_links=resolve_links,
            deletion_schedule=self._deletion_schedule,
        )
        self.listener = Listener(
            inbox=self.inbox,
            reader=self._stream_reader(),
            health=self.health,
            metrics=self.metrics,
            poll_interval=settings.poll_interval,
            stall_timeout=settings.stream_stall_timeout,
            connect_timeout=settings.request_timeout + settings.stream_stall_timeout,
            backoff=self.stream_backoff,
            on_tick=self._feed_watchdog if self._watchdog is not None else None,
        )
        self.health.update(started_at=time.time(), polling=not settings.streaming)
        self._stopping.clear()
        self.worker = Worker(
            inbox=self.inbox,
            intake=Intake(
                mentions=self.store.mentions,
                client=self.client,
                metrics=self.metrics,
                health=self.health,
                clock=self.clock,
                max_mention_age=settings.max_mention_age,
                fetcher=self._fetcher(),
                wake=self.inbox.wake,
            ),
            actor=self.actor,
            backoff=self.backoff,
            health=self.health,
            metrics=self.metrics,
            clock=self.clock,
            stopping=self._stopping,
            poll_interval=settings.poll_interval,
            on_result=self._keep_result,
            chores=self._report_refused_reload,
        )
        self._worker = threading.Thread(target=self.worker.run, name="filrouge-worker", daemon=True)
        self._worker.start()
        self.listener.start()
        return self

    def _fetcher(self) -> Client:
        """The catch-up's own client: its pages are fetched beside the worker."""
        fetcher = Client(self.settings, backoff=self.backoff)
        fetcher.me, fetcher.instance = self.me, self.instance
        return fetcher

    def _feed_watchdog(self) -> None:
        worker = self._worker
        if self._watchdog is not None and worker is not None and worker.is_alive():
            self._watchdog()

    def _stream_reader(self) -> StreamReader | None:
        """How the listener reads one stream connection; None when streaming is off."""
        if not self.settings.streaming:
            self.health.update(streaming="off")
            return None
        assert self.instance is not None
        # Servers that advertise no streaming URL serve it beside the API.
        return stream_reader(self.settings, self.instance.streaming_url or self.client.base_url)

    def _lock_record(self, db_path: Path) -> None:
        """One running bot per record: a second one would take the first one's
        in-flight mentions for a crash's leftovers (see ``Worker.stale_after``).

        An advisory lock on a file beside the database; the kernel releases it
        when the process dies, however it dies.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX: no lock
            return
        # Named like SQLite's own -wal and -shm files, which live beside it too.
        path = Path(f"{db_path}-lock")
        try:
            handle = path.open("a")
        except OSError as error:
            raise record_unavailable(db_path, error) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise RecordUnavailable(
                f"another filrouge is running on the record {db_path} (lock {path}):"
                " stop it, or give this one its own FILROUGE_DB_PATH",
                kind="locked",
            ) from None
        self._lock_file = handle

    def _check_notification_policy(self) -> None:
        """Say so when the server filters mentions before they reach the bot.

        Since Mastodon 4.3, filtered notifications are neither listed nor
        streamed: private mentions from accounts the bot does not follow are
        filtered by default (``for_private_mentions``). Deliberate either way.
        """
        policy = self.client.notification_policy()
        if not policy:
            return
        for field, what in (
            ("for_not_following", "mentions from accounts the bot does not follow"),
            ("for_private_mentions", "private mentions and DMs from strangers"),
            ("for_new_accounts", "mentions from new accounts"),
            ("for_limited_accounts", "mentions from limited accounts"),
        ):
            value = policy.get(field)
            if value in ("filter", "drop"):
                log.warning(
                    "the server's notification policy %ss %s: the bot will not see them "
                    "(set %s to accept in the bot account's notification settings to answer them)",
                    "drop" if value == "drop" else "filter",
                    what,
                    field,
                    extra={"event": "connect", "policy": field, "value": value},
                )

    def stop(self, timeout: float = 30.0) -> None:
        """Stop listening, let the worker finish its mention, close the record."""
        self._stopping.set()
        self.inbox.wake()
        if self.listener is not None:
            self.listener.stop()
        if self._worker is not None:
            self._worker.join(timeout)
            if self._worker.is_alive():
                log.warning("the worker did not stop in %.0fs", timeout, extra={"event": "stop"})
            self._worker = None
        if self._resolver is not None:
            self._resolver.close()
            self._resolver = None
        if self.store is not None:
            self.store.close()
            self.store = None
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock
            self._lock_file = None
        log.info("stopped", extra={"event": "stop"})

    def reload(self) -> bool:
        """Load the catalog and rules again (SIGHUP). False, keeping the current
        ones, when the files have problems: they are logged and, when
        ``FILROUGE_ADMINS`` is set, sent to the admins by direct message.

        Not sent from here (the main thread, woken by the signal): the worker
        is the only thread that talks to the server, so the problems are left
        for it and it is woken up to send them.
        """
        problems = self.reload_problems()
        if problems and self.settings.admins:
            with self._refused_lock:
                # A newer refusal replaces one not sent yet: its problems are the current ones.
                self._refused_reload = (problems, self.clock())
            self.inbox.wake()
        return not problems

    def reload_problems(self) -> tuple[Problem, ...]:
        """``reload``, returning every problem found (none: reloaded). Called from
        the main thread (SIGHUP) and from the worker (the admin's ``reload``);
        the lock makes two reloads at once load and swap one after the other."""
        with self._reload_lock:
            return self._reload()

    def _reload(self) -> tuple[Problem, ...]:
        try:
            config = load_config(self.settings)
        except ConfigError as error:
            for problem in error.problems:
                log.error("reload: %s", problem, extra={"event": "reload"})
            log.error(
                "reload refused: keeping the catalog and rules in use", extra={"event": "reload"}
            )
            return error.problems
        self._config = config
        if self.actor is not None:
            # One attribute swap: the worker reads it once per mention.
            self.actor.config = config
        if self._after_load is not None:
            self._after_load()
        log.info(
            "reloaded %d essays and %d rules",
            len(config.catalog.essays),
            len(config.rules.rules),
            extra={"event": "reload"},
        )
        return ()

    def current_config(self) -> Config:
        """The admin data in use (a reload swaps it)."""
        assert self._config is not None
        return self._config

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ``stop()`` is called (or ``timeout``); True if stopped."""
        return self._stopping.wait(timeout)

    def run_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Poll ``predicate`` until it holds or ``timeout`` passes (tests, the demo)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()

    def outcomes(self) -> list[Result]:
        with self._results_lock:
            return list(self.results)

    # -- the worker's chores -----------------------------------------------------------

    def _keep_result(self, result: Result) -> None:
        with self._results_lock:
            self.results.append(result)

    def _report_refused_reload(self) -> None:
        """Send the problems of a refused SIGHUP reload to the admins, if one waits.

        A transient failure leaves it for the next cycle (after the worker's
        backoff) unless a newer refusal came meanwhile; the idempotency keys make
        that retry post nothing twice. Any other failure is logged, not retried.
        """
        with self._refused_lock:
            pending, self._refused_reload = self._refused_reload, None
        if pending is None or self.actor is None or self.actor.admin is None:
            return
        problems, at = pending
        try:
            self.actor.admin.report_reload(problems, at)
        except TransientError:
            with self._refused_lock:
                if self._refused_reload is None:
                    self._refused_reload = pending
            raise
        except FilRougeError as error:
            log.warning(
                "could not tell the admins that the reload was refused: %s",
                error,
                extra={"event": "reload", "kind": getattr(error, "kind", "error")},
            )
