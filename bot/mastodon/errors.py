"""Mastodon.py's exceptions translated, in this one place, into the bot's own
(``bot.errors``): transient ones retried with backoff, permanent ones
recorded. Its ``MastodonRatelimitError`` is not a ``MastodonAPIError``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonReadTimeout,
    MastodonServerError,
    MastodonUnauthorizedError,
    MastodonVersionError,
)

from bot.errors import FilRougeError, Gone, PermanentError, RateLimited, TransientError

# -- exception translation ------------------------------------------------------------


def _status_code(exc: MastodonError) -> int | None:
    args = exc.args
    if len(args) >= 2 and isinstance(args[1], int):
        return args[1]
    return None


def _server_text(exc: MastodonError) -> str:
    args = exc.args
    if len(args) >= 4 and args[3]:
        return str(args[3])
    return str(args[0]) if args else type(exc).__name__


def translate(
    exc: BaseException,
    *,
    ratelimit_reset: float | None = None,
    checking_token: bool = False,
    secret: str = "",
) -> FilRougeError:
    """Turn any exception from a Mastodon.py call into the project's error tree.

    ``checking_token`` is set while verifying credentials: some servers answer a
    bad token with 400 or 403 rather than 401, and there it can only mean that.
    ``secret`` is scrubbed from the message (requests errors may echo a request).
    """
    if isinstance(exc, FilRougeError):
        return exc
    code = _status_code(exc) if isinstance(exc, MastodonError) else None
    text = _server_text(exc) if isinstance(exc, MastodonError) else str(exc)
    if secret:
        text = text.replace(secret, "[redacted]")
    message = f"{text} (HTTP {code})" if code is not None else text

    # MastodonRatelimitError is not a MastodonAPIError: it must be tested on its own.
    if isinstance(exc, MastodonRatelimitError):
        return RateLimited(message, retry_at=ratelimit_reset)
    if isinstance(exc, MastodonReadTimeout):
        return TransientError(message, kind="timeout")
    if isinstance(exc, MastodonNetworkError):
        kind = "timeout" if "timed out" in text.lower() else "network"
        return TransientError(message, kind=kind)
    if isinstance(exc, MastodonServerError):
        return TransientError(message, kind="server")
    if isinstance(exc, MastodonUnauthorizedError):
        return PermanentError(message, kind="auth")
    if isinstance(exc, MastodonNotFoundError):
        return Gone(message)
    if isinstance(exc, MastodonAPIError):
        if code is None:
            # No status code: a 2xx whose body is not JSON (truncated, a proxy page).
            return TransientError(message, kind="malformed")
        if code == 429:
            return RateLimited(message, retry_at=ratelimit_reset)
        if code == 410:
            return Gone(message)
        if code in (400, 403) and (checking_token or "token" in text.lower()):
            return PermanentError(message, kind="auth")
        if code == 408:
            return TransientError(message, kind="timeout")
        if code == 422:
            return PermanentError(message, kind="rejected")
        if code >= 500:
            return TransientError(message, kind="server")
        return PermanentError(message, kind="client")
    if isinstance(exc, MastodonVersionError):
        return PermanentError(message, kind="version")
    if isinstance(exc, MastodonIllegalArgumentError | ValueError | TypeError):
        return PermanentError(message, kind="invalid")
    if isinstance(exc, MastodonError | OSError):
        return TransientError(message, kind="network")
    return TransientError(f"{type(exc).__name__}: {message}", kind="internal")


def explain_failure(error: BaseException, instance: str) -> str:
    """One plain line for what went wrong talking to ``instance``.

    Mastodon.py wraps requests' errors; the cause is found in the chain:
    nothing listening, a name that does not resolve, TLS, or an answer that
    is not Mastodon's API (an HTML page, a version string it cannot parse).
    """
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    text = " ".join(f"{type(e).__name__}: {e}" for e in chain)
    host = urlsplit(instance if "://" in instance else f"https://{instance}").hostname or instance
    lowered = text.lower()
    if "connection refused" in lowered or "errno 111" in lowered:
        return (
            f"nothing answers at {instance} (connection refused):"
            " is the address right, is the server up?"
        )
    if any(
        marker in lowered
        for marker in (
            "name or service not known",
            "nodename nor servname",
            "getaddrinfo",
            "name resolution",
            "no address associated",
            "nameresolutionerror",
        )
    ):
        return f"unknown host {host}: check the instance's address"
    if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
        return f"TLS failed with {host}: {chain[-1]}"
    if "timed out" in lowered or "timeout" in lowered:
        return f"{instance} did not answer in time"
    if any(isinstance(e, ValueError | IndexError | KeyError) for e in chain) or (
        "expecting value" in lowered or "json" in lowered
    ):
        return (
            f"not a Mastodon API at {instance}: it answered something else (is this the"
            " instance's own address?)"
        )
    return str(error)
