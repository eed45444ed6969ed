"""Who may read the console, and what every answer carries.

- **Where it listens.** On a loopback address (the default) the console is
  open to whoever can reach that address, as ``/metrics`` is. Anywhere else it
  asks for ``FILROUGE_CONSOLE_TOKEN`` and answers 401 until it gets it; with
  no token set it answers 401 to everything, so binding it wide by mistake
  shows nothing. A token, once set, is asked on loopback too.
- **How the token is given.** Once, in the login form; compared in constant
  time; after ten wrong ones in a minute, logins are refused (429) for the
  rest of it. The session is a random id in an ``HttpOnly; SameSite=Strict``
  cookie scoped to ``/console``, kept in memory for twelve hours (a restart
  logs everyone out). ``Authorization: Bearer <token>`` works too, for curl.
- **Cross-site requests.** A request whose ``Origin`` is not the console's own
  host is refused with 403, whatever its method: a page elsewhere cannot post
  a preview or a login on a moderator's behalf.
- **What every answer carries.** A Content-Security-Policy that allows
  nothing but the console's own stylesheet and forms (no script at all, no
  frame, no external asset), ``nosniff``, no referrer beyond the console and
  no framing.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Final
from urllib.parse import urlsplit

COOKIE: Final = "filrouge_console"
SESSION_SECONDS: Final = 12 * 3600
#: Wrong tokens allowed in a minute before the login refuses every try for
#: the rest of that minute (guessing a token stays slower than a lifetime).
MAX_FAILURES: Final = 10

CSP: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: Final = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null"
    # on its own form posts, which the origin check must refuse.
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)


def same_origin(headers: Mapping[str, str]) -> bool:
    """No ``Origin``, or one naming the host the request was sent to."""
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    host = headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


class Sessions:
    """The console's logins: random ids and their expiry, in memory."""

    def __init__(self, token: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._token = token.encode()
        self._clock = clock
        self._sessions: dict[str, float] = {}
        self._failures: deque[float] = deque()
        self._lock = threading.Lock()

    @property
    def required(self) -> bool:
        return bool(self._token)

    def token_matches(self, given: str) -> bool:
        """Constant time, whatever ``given`` is."""
        return bool(self._token) and hmac.compare_digest(given.encode(), self._token)

    def throttled(self) -> bool:
        """Too many wrong tokens in the last minute: no login is tried now."""
        with self._lock:
            now = self._clock()
            while self._failures and self._failures[0] < now - 60:
                self._failures.popleft()
            return len(self._failures) >= MAX_FAILURES

    def failed(self) -> None:
        with self._lock:
            self._failures.append(self._clock())

    def open(self) -> str:
        session = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._sessions = {s: t for s, t in self._sessions.items() if t > now}
            self._sessions[session] = now + SESSION_SECONDS
        return session

    def close(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)

    def valid(self, session: str) -> bool:
        with self._lock:
            expiry = self._sessions.get(session)
            return expiry is not None and expiry > self._clock()

    def allows(self, headers: Mapping[str, str]) -> bool:
        """A live session cookie, or the token as a bearer."""
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            return self.token_matches(authorization[7:].strip())
        session = cookie(headers, COOKIE)
        return session is not None and self.valid(session)


def cookie(headers: Mapping[str, str], name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def session_cookie(session: str, *, max_age: int = SESSION_SECONDS) -> tuple[str, str]:
    return (
        "Set-Cookie",
        f"{COOKIE}={session}; Path=/console; Max-Age={max_age}; HttpOnly; SameSite=Strict",
    )
