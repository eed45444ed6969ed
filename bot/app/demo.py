"""``filrouge demo``: the real bot against an embedded Mastodon, no account needed.

Starts the ``mastodon-mock`` package on 127.0.0.1 (a free port, an in-memory
database), creates the bot's account and a few people, seeds a heated thread
about the essay (someone shares its aggregator link), starts the same ``Bot``
that ``filrouge run`` starts — streaming and REST, a temporary SQLite record —
then posts the mention that asks the bot in, waits for the reply and prints
the thread as a person would read it.
"""

from __future__ import annotations

import logging
import tempfile
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.app.runner import Bot
from bot.settings import Settings

# Tokens of a throwaway server on loopback, not credentials.
BOT_TOKEN = "demo-filrouge-token"  # noqa: S105

#: The essay's aggregator link (an alias in the catalog: it matches without any fetch).
SHARED_LINK = "https://app.flus.fr/links/1853382202557961738"


@dataclass(frozen=True)
class Line:
    """One post of the seeded thread."""

    who: str
    text: str


CAST: tuple[tuple[str, str], ...] = (
    ("maiwann", "Maiwann"),
    ("lea", "Léa"),
    ("camille", "Camille"),
    ("sam", "Sam"),
)

THREAD: tuple[Line, ...] = (
    Line(
        "camille",
        "Je viens de lire ce texte sur l'IA générative, ça remet pas mal de choses "
        f"en perspective : {SHARED_LINK}",
    ),
    Line(
        "sam",
        "@camille Encore un texte qui met tout dans le même panier. Une affiche générée "
        "pour la fête de l'asso, ce n'est quand même pas la montée de l'extrême droite !",
    ),
    Line(
        "maiwann",
        "@sam @camille Si, justement : l'outil n'est pas neutre, quoi qu'on en fasse. "
        "Mais je comprends la question : on fait comment pour les visuels quand on n'a "
        "ni graphiste ni budget ?",
    ),
)

MENTION = Line(
    "lea",
    "@maiwann @filrouge Pour les spectacles par exemple. Je trouve ça nul de faire des "
    "affiches générées par IA quand on peut juste ré-utiliser des photos de spectacles "
    "précédents c'est tellement plus parlant ^^.",
)


def mock_config() -> Any:
    from mastodon_mock.config import (
        DatabaseConfig,
        MastodonMockConfig,
        SeedAccount,
        SeedConfig,
        StreamingConfig,
    )

    accounts = [
        SeedAccount(
            username="filrouge",
            display_name="fil rouge",
            bot=True,
            note="Je ramène les discussions au texte dont elles parlent.",
            access_token=BOT_TOKEN,
        )
    ]
    accounts += [
        SeedAccount(username=name, display_name=display, access_token=f"demo-{name}-token")
        for name, display in CAST
    ]
    return MastodonMockConfig(
        title="fil-rouge demo",
        database=DatabaseConfig(path=":memory:"),
        seed=SeedConfig(accounts=accounts),
        streaming=StreamingConfig(heartbeat_seconds=1.0),
        url_scheme="http",
    )


def stop_mock(server: Any) -> None:
    """Stop a mastodon-mock server once nothing is in flight, without waiting
    on the streams its clients have closed.

    mastodon-mock's WebSocket handler learns that a client has gone only when
    it next sends it an event, so a stream the bot closed keeps uvicorn's
    graceful shutdown waiting until the server's join times out (five seconds,
    and a warning). uvicorn's own force-exit, what a second Ctrl+C sets, ends
    that wait, and the handlers it leaves are cancelled: uvicorn's log of
    those cancellations is muted while it stops. On a server without it, this
    is a plain ``stop``.
    """
    running = getattr(server, "_server", None)
    if running is None or not hasattr(running, "force_exit"):
        server.stop()
        return
    running.force_exit = True
    uvicorn_log = logging.getLogger("uvicorn.error")
    was = uvicorn_log.disabled
    uvicorn_log.disabled = True
    try:
        server.stop()
    finally:
        uvicorn_log.disabled = was


def demo_settings(base_url: str, db_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "instance_url": base_url,
        "access_token": BOT_TOKEN,
        "db_path": db_path,
        "request_timeout": 5.0,
        "poll_interval": 1.0,
        "stream_stall_timeout": 5.0,
        # The demo never leaves this machine: no aggregator link is fetched.
        "resolve_hosts": (),
        "log_level": "WARNING",
    }
    values.update(overrides)
    # No .env: the demo must not pick up (or need) a real configuration.
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def run_demo(
    out: TextIO,
    *,
    timeout: float = 15.0,
    verbose: bool = False,
    width: int = 78,
    configure_logging: bool = False,
) -> int:
    """Run the whole demo; 0 when the bot replied. ``configure_logging`` installs
    the bot's log handler (the command does; a test keeps its own)."""
    try:
        from mastodon_mock.testing import MockServer
    except ImportError:
        out.write("The demo needs the mastodon-mock package: pip install 'fil-rouge[demo]'\n")
        return 2

    from bot.ops.logs import setup_logging
    from bot.text.html import html_to_text

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="filrouge-demo-") as tmp:
        server = MockServer(config=mock_config()).start()
        bot: Bot | None = None
        try:
            settings = demo_settings(
                server.base_url,
                Path(tmp) / "demo.sqlite3",
                log_level="INFO" if verbose else "WARNING",
            )
            if configure_logging:
                setup_logging(settings)
            out.write(f"A Mastodon server is running on {server.base_url} (mastodon-mock).\n")
            people = {name: server.client(name) for name, _ in CAST}
            parent: Any = None
            for line in THREAD:
                parent = people[line.who].status_post(
                    line.text, in_reply_to_id=parent["id"] if parent is not None else None
                )

            bot = Bot(settings).start()
            listener = bot.listener
            if listener is not None:
                bot.run_until(lambda: listener.stream_connected, timeout=5.0)
            mode = "streaming" if listener is not None and listener.stream_connected else "polling"
            out.write(f"fil-rouge is listening as @filrouge ({mode}).\n\n")

            mention = people[MENTION.who].status_post(MENTION.text, in_reply_to_id=parent["id"])
            mention_id = str(mention["id"])
            posted_at = time.monotonic()

            def answered() -> bool:
                return any(
                    result.outcome in ("replied", "skipped", "failed") for result in bot.outcomes()
                )

            bot.run_until(answered, timeout=timeout)
            elapsed = time.monotonic() - posted_at
            context = people[MENTION.who].status_context(mention_id)
            thread = [*context["ancestors"], mention]
            replies = [
                status
                for status in context["descendants"]
                if status["account"]["username"] == "filrouge"
            ]

            out.write(_rule("The thread", width))
            for status in thread:
                out.write(_render(status, html_to_text, width))
            if replies:
                reply = replies[0]
                out.write(
                    _rule(f"fil-rouge replied ({reply['visibility']}, {elapsed:.1f}s later)", width)
                )
                out.write(_render(reply, html_to_text, width))
                out.write(_rule("", width))
                out.write(f"Demo finished in {time.monotonic() - started:.1f}s.\n")
                return 0
            results = bot.outcomes()
            why = f"{results[-1].outcome}: {results[-1].detail}" if results else "no outcome yet"
            out.write(_rule("", width))
            out.write(f"fil-rouge did not reply ({why}).\n")
            return 1
        finally:
            if bot is not None:
                bot.stop()
            stop_mock(server)


def _rule(title: str, width: int) -> str:
    if not title:
        return "─" * width + "\n"
    return f"\n── {title} " + "─" * max(width - len(title) - 4, 0) + "\n\n"


def _render(status: Mapping[str, Any], html_to_text: Any, width: int) -> str:
    account = status["account"]
    name = account.get("display_name") or account["username"]
    badge = " [bot]" if account.get("bot") else ""
    lines = [f"{name} (@{account['acct']}){badge}"]
    spoiler = status.get("spoiler_text") or ""
    if spoiler:
        lines.append(f"  CW: {spoiler}")
    text = html_to_text(str(status.get("content") or "")).text
    for paragraph in text.split("\n"):
        # Never break a URL: a reader must be able to copy it.
        wrapped = textwrap.wrap(
            paragraph, width - 2, break_long_words=False, break_on_hyphens=False
        )
        if wrapped:
            lines.extend(f"  {part}" for part in wrapped)
        else:
            lines.append("")
    return "\n".join(lines) + "\n\n"
