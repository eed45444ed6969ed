"""``filrouge run``: the bot, until SIGTERM or Ctrl-C.

Exit codes: 0 stopped on request; 2 the settings or the admin data are wrong
(every problem printed); 3 the server refused the bot (a bad or revoked token,
missing scopes); 4 the record cannot be used (an unwritable directory, a
database locked by another program or another filrouge, a damaged database,
a full disk). Each failure to start is one line saying what, where and what
to do.

Under systemd (``Type=notify``) it says ``READY=1`` once it listens, feeds
``WatchdogSec=`` from the listening loop while the worker lives, and says
``STOPPING=1`` on the way out (``bot.ops.notify``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app.runner import Bot
    from bot.ops.server import Pages
    from bot.settings import Settings

log = logging.getLogger("bot.run")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="decide and record, never post (same as FILROUGE_DRY_RUN=true)",
    )


def run(args: argparse.Namespace) -> int:
    from bot.app.runner import Bot
    from bot.errors import ConfigError, PermanentError, RecordUnavailable, TransientError
    from bot.ops.logs import setup_logging, warn_if_env_readable
    from bot.ops.notify import Notifier
    from bot.ops.server import OpsServer, sqlite_write_check
    from bot.rank.index import freeze_after_load
    from bot.settings import Settings

    settings = (
        Settings.read(args.env_file, dry_run=True) if args.dry_run else Settings.read(args.env_file)
    )
    setup_logging(settings)
    warn_if_env_readable(".env")
    if not settings.instance_url or not settings.access_token.get_secret_value():
        log.error(
            "FILROUGE_INSTANCE_URL and FILROUGE_ACCESS_TOKEN must be set (in the environment "
            "or .env); see the README, or try `filrouge demo`",
            extra={"event": "start"},
        )
        return 2

    stop = threading.Event()
    reload = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(number).name, extra={"event": "stop"})
        stop.set()

    def on_hangup(number: int, frame: FrameType | None) -> None:
        reload.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, on_hangup)

    systemd = Notifier()
    bot = Bot(settings, after_load=freeze_after_load, watchdog=systemd.watchdog)
    failures = 0
    while True:
        try:
            bot.start()
            break
        except ConfigError as error:
            for problem in error.problems:
                print(problem, file=sys.stderr)
            return 2
        except RecordUnavailable as error:
            log.error("cannot start: %s", error, extra={"event": "start", "kind": error.kind})
            bot.stop()
            return 4
        except PermanentError as error:
            log.error("cannot start: %s (%s)", error, error.kind, extra={"event": "start"})
            bot.stop()
            return 3
        except TransientError as error:
            # The server is down or unreachable: keep trying, as after any fault.
            failures += 1
            delay = bot.backoff.delay(failures)
            log.warning(
                "cannot reach the server (%s); trying again in %.0fs",
                error,
                delay,
                extra={"event": "start", "kind": error.kind},
            )
            # Under systemd: still starting, for this long at least.
            systemd.send(
                f"EXTEND_TIMEOUT_USEC={int((delay + 60) * 1_000_000)}\n"
                f"STATUS=cannot reach the server, trying again in {delay:.0f}s"
            )
            if stop.wait(delay):
                bot.stop()
                return 0

    ops = OpsServer.from_settings(
        settings,
        health=bot.health,
        metrics=bot.metrics,
        db_check=sqlite_write_check(settings.db_path),
        pages=console_pages(settings, bot),
    )
    if ops is not None:
        ops.start()
    me = bot.me.acct if bot.me is not None else "?"
    systemd.ready(f"answering mentions of @{me} on {settings.instance_url}")
    try:
        while not stop.wait(0.5):
            if reload.is_set():
                reload.clear()
                systemd.send(f"RELOADING=1\nMONOTONIC_USEC={time.monotonic_ns() // 1000}")
                bot.reload()
                systemd.send("READY=1")
    finally:
        systemd.stopping()
        bot.stop()
        if ops is not None:
            ops.stop()
    return 0


def console_pages(settings: Settings, bot: Bot) -> dict[str, Pages]:
    """The console's pages for the ops server, when ``FILROUGE_CONSOLE`` is on."""
    if not settings.console:
        return {}
    if settings.http_port is None:
        log.warning(
            "FILROUGE_CONSOLE is on but FILROUGE_HTTP_PORT is empty: no console",
            extra={"event": "console"},
        )
        return {}
    from bot.console.app import PREFIX, Console
    from bot.settings import is_loopback

    if not is_loopback(settings.http_host) and not settings.console_token.get_secret_value():
        log.warning(
            "the console listens on %s without FILROUGE_CONSOLE_TOKEN: it answers 401 to all",
            settings.http_host,
            extra={"event": "console"},
        )
    try:
        console = Console(
            settings=settings,
            config=bot.current_config,
            self_id=lambda: bot.me.id if bot.me is not None else "",
        )
    except RuntimeError as error:  # Jinja2 missing: the bot runs on, without a console
        log.error("no console: %s", error, extra={"event": "console"})
        return {}
    return {PREFIX: console}
