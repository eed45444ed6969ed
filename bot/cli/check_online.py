"""``filrouge check-config --online``: what the server says of these settings.

Asks what ``run`` will ask, and says what it found, one line each:

- the token: whose it is (``verify_credentials``), or that it is refused;
- its scopes, where the server tells (``/api/v1/apps/verify_credentials``,
  Mastodon 4.3+), against the ones the bot needs;
- the instance: its software, its limits, the streaming URL it advertises;
- the stream: one connection with the configured protocol, open for a moment.
  A server that does not stream is reported, not an error: the bot polls.

Exit 0 when ``run`` would work, 1 when it would not (a refused token, a server
that cannot be reached, a scope the bot cannot do without).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.mastodon.client import Client
    from bot.settings import Settings

#: How long the stream gets to come up.
STREAM_WAIT = 5.0


def check_online(settings: Settings, say: Callable[[str], None]) -> bool:
    """True when ``run`` would start on this server with these settings."""
    from bot.errors import FilRougeError, PermanentError
    from bot.mastodon.client import Client
    from bot.mastodon.register import scopes_for

    client = Client(settings)
    try:
        me, instance = client.connect()
    except PermanentError as error:
        if error.kind == "auth":
            say(f"token: refused by {client.base_url} ({error}); run `filrouge register`")
        else:
            say(f"server: {client.base_url} refused ({error})")
        return False
    except FilRougeError as error:
        say(f"server: cannot reach {client.base_url} ({error})")
        return False
    say(f"token: @{me.acct} (account {me.id}) on {client.base_url}")
    good = True
    scopes = _scopes(client)
    needed = set(scopes_for(settings))
    if scopes is None:
        say("scopes: the server does not say; the bot needs " + " ".join(sorted(needed)))
    else:
        missing = sorted(s for s in needed if not _covers(scopes, s))
        if missing:
            good = False
            say("scopes: missing " + " ".join(missing) + "; run `filrouge register` again")
        else:
            say("scopes: " + " ".join(sorted(scopes)))
    described = f"{instance.software} {instance.version}".strip()
    if not instance.document:
        described += ", does not describe itself: the configured limits apply"
    say(
        f"instance: {described}; {instance.max_characters} characters,"
        f" URLs count {instance.url_length}, domain {instance.domain}"
    )
    say("stream: " + _stream(settings, client))
    return good


def _scopes(client: Client) -> set[str] | None:
    from bot.errors import FilRougeError

    try:
        app = client.read(client.api.app_verify_credentials, what="app")
    except FilRougeError:
        return None
    scopes = app.get("scopes") if hasattr(app, "get") else None
    if not isinstance(scopes, list):
        return None
    return {str(scope) for scope in scopes}


def _covers(scopes: set[str], needed: str) -> bool:
    """``read`` covers ``read:notifications``; ``write`` covers ``write:statuses``."""
    return needed in scopes or needed.partition(":")[0] in scopes


def _stream(settings: Settings, client: Client) -> str:
    from bot.listen.transport import StreamRefused, reader_for

    if not settings.streaming:
        return "off (FILROUGE_STREAMING=false): polling every " + f"{settings.poll_interval:g}s"
    assert client.instance is not None
    base = client.instance.streaming_url or client.base_url
    protocol = settings.stream_protocol
    opened = threading.Event()
    outcome: list[str] = []

    class Sink:
        closed = threading.Event()

        def opened(self, close: Callable[[], None]) -> None:
            opened.set()
            self.closed.set()
            close()

        def alive(self) -> None:
            pass

        def event(self, name: str, payload: str) -> None:
            pass

    def read() -> None:
        try:
            reader_for(
                protocol,
                base,
                settings.access_token.get_secret_value(),
                stall_timeout=STREAM_WAIT,
                connect_timeout=STREAM_WAIT,
                user_agent=settings.user_agent,
            )(Sink())
        except StreamRefused as refused:
            outcome.append(
                f"the server does not stream over {protocol} (HTTP {refused.status}):"
                f" the bot will poll every {settings.poll_interval:g}s"
            )
        except Exception as error:
            text = str(error).replace(settings.access_token.get_secret_value(), "[redacted]")
            outcome.append(f"could not connect over {protocol} ({type(error).__name__}: {text})")

    thread = threading.Thread(target=read, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(STREAM_WAIT + 1)
    if opened.is_set():
        return f"{protocol} at {base} up in {time.monotonic() - started:.2f}s"
    return outcome[0] if outcome else f"no answer over {protocol} within {STREAM_WAIT:g}s"
