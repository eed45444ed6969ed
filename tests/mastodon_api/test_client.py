"""bot.client against mastodon-mock over loopback: connect, paging, and the
translation of every failure Mastodon.py can raise into the error tree."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from mastodon_mock.testing import MockServer

from bot.errors import Gone, PermanentError, RateLimited, TransientError
from bot.mastodon.backoff import Backoff
from bot.mastodon.client import Client, idempotency_key
from bot.mastodon.errors import translate
from bot.model.ids import id_key, is_newer
from bot.settings import Settings
from tests.conftest import BOT_TOKEN

sleeps: list[float] = []


def no_sleep_backoff(attempts: int = 3) -> Backoff:
    sleeps.clear()
    return Backoff(base=0.01, cap=1.0, attempts=attempts, rng=random.Random(7), sleep=sleeps.append)


@pytest.fixture
def client(server: MockServer, settings_for: Callable[..., Settings]) -> Client:
    return Client(settings_for(server), backoff=no_sleep_backoff())


def mention(server: MockServer, who: str, text: str, **options: Any) -> Any:
    return server.client(who).status_post(text, **options)


# -- connect ----------------------------------------------------------------------------


def test_connect_reads_who_and_the_instance_limits(client: Client) -> None:
    me, instance = client.connect()
    assert me.acct == "filrouge"
    assert me.id.isdigit()
    assert instance.max_characters == 500
    assert instance.url_length == 23
    assert instance.streaming_url is not None


def test_unparsable_version_string_is_no_problem(
    start_server: Callable[..., MockServer], settings_for: Callable[..., Settings]
) -> None:
    """Servers differ: GoToSocial/Akkoma versions Mastodon.py cannot parse."""
    server = start_server(version="3.5.3 (compatible; Pleroma 2.6.1-akkoma+soapbox~weird)")
    me, _ = Client(settings_for(server), backoff=no_sleep_backoff()).connect()
    assert me.acct == "filrouge"


def test_missing_instance_fields_fall_back_to_settings(
    server: MockServer, settings_for: Callable[..., Settings]
) -> None:
    server.fault(path="/api/v2/instance/", type="status", status=200, body={"version": "x"})
    server.fault(path="/api/v2/instance", type="status", status=200, body={"version": "x"})
    client = Client(settings_for(server, max_characters=777), backoff=no_sleep_backoff())
    _, instance = client.connect()
    assert instance.max_characters == 777
    assert instance.url_length == 23
    assert instance.streaming_url is None


def test_bad_token_401_is_a_permanent_auth_error(
    server: MockServer, settings_for: Callable[..., Settings]
) -> None:
    client = Client(settings_for(server, access_token="wrong"), backoff=no_sleep_backoff())
    with pytest.raises(PermanentError) as caught:
        client.connect()
    assert caught.value.kind == "auth"


def test_bad_token_answered_with_400_is_an_auth_error(client: Client, server: MockServer) -> None:
    """Servers differ: some answer a bad token with 400, not 401."""
    server.fault(
        path="/api/v1/accounts/verify_credentials",
        status=400,
        body={"error": "invalid_grant"},
    )
    with pytest.raises(PermanentError) as caught:
        client.connect()
    assert caught.value.kind == "auth"
    assert sleeps == []  # never retried


# -- failures -----------------------------------------------------------------------------


def test_rate_limit_carries_the_reset_time(client: Client, server: MockServer) -> None:
    server.fault(path="/api/v1/notifications", type="ratelimit")
    with pytest.raises(RateLimited) as caught:
        client.notifications_since("0")
    assert caught.value.retry_at is not None
    # The reset is 300 s away: longer than the backoff cap, so no in-call waiting.
    assert sleeps == []


def test_server_errors_are_retried_then_transient(client: Client, server: MockServer) -> None:
    server.fault(path="/api/v1/notifications", status=503)
    with pytest.raises(TransientError) as caught:
        client.notifications_since("0")
    assert caught.value.kind == "server"
    assert len(sleeps) == 2  # three attempts, two waits


def test_a_passing_fault_is_absorbed_by_the_retry(client: Client, server: MockServer) -> None:
    post = mention(server, "alice", "@filrouge bonjour")
    server.fault(path=f"/api/v1/statuses/{post['id']}", status=502, count=1)
    assert str(client.status(str(post["id"]))["id"]) == str(post["id"])
    assert len(sleeps) == 1


def test_malformed_json_is_transient(client: Client, server: MockServer) -> None:
    server.fault(path="/api/v1/notifications", type="malformed")
    with pytest.raises(TransientError) as caught:
        client.notifications_since("0")
    assert caught.value.kind == "malformed"


def test_a_slow_server_times_out(server: MockServer, settings_for: Callable[..., Settings]) -> None:
    client = Client(settings_for(server, request_timeout=0.3), backoff=no_sleep_backoff(1))
    server.fault(path="/api/v1/notifications", type="latency", delay_ms=1500)
    with pytest.raises(TransientError) as caught:
        client.notifications_since("0")
    assert caught.value.kind in ("timeout", "network")


def test_a_missing_status_is_gone(client: Client) -> None:
    with pytest.raises(Gone):
        client.status("123456789")


def test_validation_errors_are_permanent() -> None:
    from mastodon.errors import MastodonAPIError

    error = translate(MastodonAPIError("Mastodon API returned error", 422, "Unprocessable", "x"))
    assert isinstance(error, PermanentError)
    assert error.kind == "rejected"


# -- notifications -------------------------------------------------------------------------


def test_paging_forward_is_gap_free_and_oldest_first(client: Client, server: MockServer) -> None:
    client.connect()
    client.page_limit = 5  # the same code as with 80 per page, in fewer posts
    alice = server.client("alice")
    first = alice.status_post("@filrouge zéro")
    cursor = str(client.notifications_since(None)[-1]["id"])
    for number in range(12):  # more than two pages
        alice.status_post(f"@filrouge numéro {number}")
    found = client.notifications_since(cursor)
    assert len(found) == 12
    ids = [id_key(n["id"]) for n in found]
    assert ids == sorted(ids)
    assert all(is_newer(n["id"], cursor) for n in found)
    assert str(found[0]["status"]["id"]) != str(first["id"])
    assert client.notifications_since(str(found[-1]["id"])) == []


def test_first_start_pages_back_to_the_maximum_age(client: Client, server: MockServer) -> None:
    from datetime import UTC, datetime, timedelta

    client.connect()
    client.page_limit = 4
    alice = server.client("alice")
    for number in range(10):
        alice.status_post(f"@filrouge numéro {number}")
    everything = client.notifications_since(None, not_before=datetime.now(UTC) - timedelta(hours=1))
    assert len(everything) == 10
    ids = [id_key(n["id"]) for n in everything]
    assert ids == sorted(ids)
    # Nothing is younger than "in an hour": only the newest page is read.
    newest = client.notifications_since(None, not_before=datetime.now(UTC) + timedelta(hours=1))
    assert len(newest) == 4


def test_a_server_capping_pages_below_80_still_gives_everything(
    client: Client, server: MockServer
) -> None:
    """Servers cap ``limit`` lower than asked (mastodon-mock and many servers: 40):
    a short page is not the last one, on the first start as after it."""
    from datetime import UTC, datetime, timedelta

    client.connect()
    alice = server.client("alice")
    for number in range(45):
        alice.status_post(f"@filrouge numéro {number}")
    first_start = client.notifications_since(
        None, not_before=datetime.now(UTC) - timedelta(hours=1)
    )
    assert len(first_start) == 45
    assert len(client.notifications_since(str(first_start[0]["id"]))) == 44


def test_idempotency_key_is_stable_and_per_bot() -> None:
    assert idempotency_key("1", "42") == idempotency_key("1", "42")
    assert idempotency_key("1", "42") != idempotency_key("2", "42")
    assert len(idempotency_key("1", "42")) == 64


# -- secrets -------------------------------------------------------------------------------


def test_the_token_never_shows(client: Client, server: MockServer) -> None:
    assert BOT_TOKEN not in repr(client)
    server.fault(path="/api/v1/notifications", status=500, body={"error": f"echo {BOT_TOKEN}"})
    with pytest.raises(TransientError) as caught:
        client.notifications_since("0")
    assert BOT_TOKEN not in str(caught.value)


def test_backoff_is_jittered_capped_and_honours_the_reset() -> None:
    backoff = Backoff(base=1.0, cap=10.0, rng=random.Random(1))
    delays = [backoff.delay(n) for n in range(1, 10)]
    assert all(0.5 <= d <= 10.0 for d in delays)
    assert max(delays) > 5.0
    limited = RateLimited("slow down", retry_at=1000.0)
    assert backoff.wait_for(limited, 1, now=900.0) == 100.0


def _api_error(code: int, text: str = "x") -> Exception:
    from mastodon.errors import MastodonAPIError

    return MastodonAPIError("Mastodon API returned error", code, "reason", text)


def _translation_table() -> list[tuple[Exception, type, str, dict[str, Any]]]:
    from mastodon.errors import (
        MastodonAPIError,
        MastodonIllegalArgumentError,
        MastodonInternalServerError,
        MastodonNetworkError,
        MastodonNotFoundError,
        MastodonRatelimitError,
        MastodonReadTimeout,
        MastodonServiceUnavailableError,
        MastodonUnauthorizedError,
        MastodonVersionError,
    )

    return [
        # 429 in "throw" mode: not a MastodonAPIError, carries the reset
        (MastodonRatelimitError("Hit rate limit."), RateLimited, "ratelimit", {}),
        # a stream or REST read that timed out
        (MastodonReadTimeout("Timed out"), TransientError, "timeout", {}),
        # requests' connection errors, resets, DNS
        (MastodonNetworkError("Could not complete request"), TransientError, "network", {}),
        # 5xx, by subclass and by code
        (MastodonInternalServerError("e", 500, "r", "x"), TransientError, "server", {}),
        (MastodonServiceUnavailableError("e", 503, "r", "x"), TransientError, "server", {}),
        # a 200 whose body is not JSON
        (
            MastodonAPIError("Could not parse response as JSON", "Exception was"),
            TransientError,
            "malformed",
            {},
        ),
        # revoked token, missing scope
        (
            MastodonUnauthorizedError("e", 401, "r", "The access token is invalid"),
            PermanentError,
            "auth",
            {},
        ),
        # servers that answer a bad token with 400 or 403
        (_api_error(400, "invalid_grant"), PermanentError, "auth", {"checking_token": True}),
        (_api_error(403, "The access token is invalid"), PermanentError, "auth", {}),
        # a 400 about something else stays a client error
        (_api_error(400, "bad visibility"), PermanentError, "client", {}),
        # 404 (in_reply_not_found, deleted) and 410
        (MastodonNotFoundError("e", 404, "r", "Record not found"), Gone, "gone", {}),
        (_api_error(410), Gone, "gone", {}),
        # validation: too long, unexpected mentions
        (_api_error(422, "Validation failed"), PermanentError, "rejected", {}),
        # odd codes
        (_api_error(408), TransientError, "timeout", {}),
        (_api_error(418), PermanentError, "client", {}),
        # wrong arguments (a bad visibility in Mastodon.py is a plain ValueError)
        (MastodonIllegalArgumentError("bad"), PermanentError, "invalid", {}),
        (ValueError("Invalid visibility value"), PermanentError, "invalid", {}),
        (MastodonVersionError("too old"), PermanentError, "version", {}),
        # anything else: an attempt lost, retried
        (RuntimeError("surprise"), TransientError, "internal", {}),
    ]


@pytest.mark.parametrize(("error", "expected", "kind", "options"), _translation_table())
def test_translate(error: Exception, expected: type, kind: str, options: dict[str, Any]) -> None:
    translated = translate(error, **options)
    assert type(translated) is expected
    assert translated.kind == kind
