"""What servers that speak Mastodon's API do differently, in one place.

Mastodon, GoToSocial, Takahē, Akkoma and Pleroma answer the same endpoints
with small differences that a bot trips on (the fixtures under
``tests/data/servers/`` record each one):

- the instance document: Mastodon.py asks for ``/api/v2/instance/`` with a
  trailing slash, which Takahē answers 404. It is read here without one, v2
  then v1, once per start (and on reload), never per stream reconnect;
- the streaming URL: GoToSocial advertises ``wss://`` even when it is served
  over plain http; the URL is corrected to the API's own scheme;
- streaming itself: Takahē has none (404), GoToSocial and Pleroma speak only
  WebSocket. A 404 on the stream means "this server does not stream", not an
  outage (see ``bot.listen.stream``);
- ``acct``: Takahē writes local accounts as ``alice@localhost`` in statuses and
  ``alice`` in ``verify_credentials``. ``local_acct`` gives the one spelling
  the rest of the bot compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from bot.errors import FilRougeError, Gone, PermanentError, RateLimited, TransientError


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    max_characters: int
    url_length: int
    #: The streaming base URL (http(s)://…), None when the server advertises none.
    streaming_url: str | None
    version: str
    #: The instance's own domain (``LOCAL_DOMAIN``), which may differ from the API host.
    domain: str
    #: Which software answers, as far as its version string tells.
    software: str = "mastodon"
    #: Which instance document answered: "v2", "v1", or "" for none.
    document: str = ""


def software_of(version: str) -> str:
    """The server software behind a version string (Akkoma and Pleroma say
    ``2.7.2 (compatible; Akkoma 3.13.2)``, GoToSocial ``0.17.3+git-…``)."""
    lowered = version.lower()
    for name in ("akkoma", "pleroma", "gotosocial", "takahe", "takahē", "glitch", "hometown"):
        if name in lowered:
            return {"takahē": "takahe", "glitch": "mastodon", "hometown": "mastodon"}.get(
                name, name
            )
    return "mastodon" if lowered[:1].isdigit() or not lowered else "unknown"


def streaming_base(advertised: str | None, api_base: str) -> str | None:
    """The advertised streaming URL with the API's own scheme family.

    ``wss://`` advertised by a server reached over ``http://`` (GoToSocial
    behind no TLS, a test server on loopback) would never connect: the
    scheme follows the API's. Returned as http(s); the WebSocket transport
    turns it into ws(s) itself.
    """
    if not advertised:
        return None
    parts = urlsplit(advertised.rstrip("/"))
    if not parts.netloc:
        return None
    secure_api = urlsplit(api_base).scheme == "https"
    if parts.scheme in ("ws", "wss", "http", "https"):
        secure = parts.scheme in ("wss", "https") and secure_api
    else:
        return None
    return urlunsplit(("https" if secure else "http", parts.netloc, parts.path, "", ""))


def local_acct(acct: str, domain: str) -> str:
    """``alice@example.social`` → ``alice`` on example.social; others unchanged."""
    user, at, host = acct.partition("@")
    if at and domain and host.lower() == domain.lower():
        return user
    return acct


def normalise_accounts(entity: Any, domain: str) -> Any:
    """A status, context or notification with every local ``acct`` spelt without
    the domain (accounts, mentions, the reblogged or quoted statuses within)."""
    if not domain:
        return entity
    if isinstance(entity, list):
        items = [normalise_accounts(item, domain) for item in entity]
        return entity if all(a is b for a, b in zip(items, entity, strict=True)) else items
    if not isinstance(entity, Mapping):
        return entity
    changed: dict[str, Any] = {}
    for key, value in entity.items():
        new = value
        if key == "acct" and isinstance(value, str):
            new = local_acct(value, domain)
        elif isinstance(value, Mapping | list):
            new = normalise_accounts(value, domain)
        if new is not value:
            changed[key] = new
    if not changed:
        return entity
    # Mastodon.py hands out AttribAccessDict (a dict): keep the caller's type.
    copy = dict(entity)
    copy.update(changed)
    if isinstance(entity, dict) and type(entity) is not dict:
        typed = type(entity)()
        typed.update(copy)
        return typed
    return copy


# -- the instance document --------------------------------------------------------------


def read_instance(
    base_url: str,
    *,
    token: str,
    timeout: float,
    user_agent: str,
    max_characters: int,
    url_length: int,
    transport: httpx.BaseTransport | None = None,
) -> InstanceInfo:
    """Read the instance document, v2 then v1, without a trailing slash.

    The configured limits stand in for whatever the server does not say. A
    server that describes itself in neither document is no error: the
    result's ``document`` is "" and the caller says so once.
    """
    base = base_url.rstrip("/")
    fallback_domain = urlsplit(base).hostname or ""
    headers = {"User-Agent": user_agent, "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with httpx.Client(
        timeout=timeout, headers=headers, follow_redirects=True, transport=transport
    ) as http:
        v2 = _document(http, f"{base}/api/v2/instance", token)
        if v2 is not None:
            configuration = _mapping(v2.get("configuration"))
            statuses = _mapping(configuration.get("statuses"))
            version = str(v2.get("version") or "")
            # GoToSocial's version is bare; its source_url names it (so does Takahē's).
            source = str(v2.get("source_url") or "")
            return InstanceInfo(
                max_characters=_positive(statuses.get("max_characters"), max_characters),
                url_length=_positive(statuses.get("characters_reserved_per_url"), url_length),
                streaming_url=streaming_base(
                    _string(_mapping(configuration.get("urls")).get("streaming")), base
                ),
                version=version,
                domain=_string(v2.get("domain")) or fallback_domain,
                software=software_of(f"{version} {source}".strip()),
                document="v2",
            )
        v1 = _document(http, f"{base}/api/v1/instance", token)
        if v1 is not None:
            configuration = _mapping(v1.get("configuration"))
            statuses = _mapping(configuration.get("statuses"))
            version = str(v1.get("version") or "")
            uri = _string(v1.get("uri")) or ""
            domain = urlsplit(uri).hostname if "://" in uri else uri
            return InstanceInfo(
                max_characters=_positive(
                    statuses.get("max_characters", v1.get("max_toot_chars")), max_characters
                ),
                url_length=_positive(statuses.get("characters_reserved_per_url"), url_length),
                streaming_url=streaming_base(
                    _string(_mapping(v1.get("urls")).get("streaming_api")), base
                ),
                version=version,
                domain=domain or fallback_domain,
                software=software_of(version),
                document="v1",
            )
    return InstanceInfo(
        max_characters=max_characters,
        url_length=url_length,
        streaming_url=None,
        version="",
        domain=fallback_domain,
        software="unknown",
    )


def _document(http: httpx.Client, url: str, token: str) -> Mapping[str, Any] | None:
    """The JSON object at ``url``; None when the server has no such document."""
    try:
        response = http.get(url)
    except httpx.TimeoutException as error:
        raise TransientError(_scrub(f"instance document: {error}", token), kind="timeout") from None
    except httpx.HTTPError as error:
        raise TransientError(_scrub(f"instance document: {error}", token), kind="network") from None
    status = response.status_code
    if status in (405, 501) or (400 <= status < 500 and status != 429):
        # No such document here (Takahē's v2, older servers), or not for us to read.
        return None
    raise_for(status, "instance document")
    try:
        data = response.json()
    except ValueError:
        # An HTML page where JSON was expected: a proxy, or not this API at all.
        return None
    return data if isinstance(data, Mapping) else None


def raise_for(status: int, what: str, *, retry_at: float | None = None) -> None:
    """The error tree's answer to an HTTP status outside ``bot.mastodon.client``."""
    if status < 400:
        return
    message = f"{what}: HTTP {status}"
    error: FilRougeError
    if status == 429:
        error = RateLimited(message, retry_at=retry_at)
    elif status in (404, 410):
        error = Gone(message)
    elif status in (401, 403):
        error = PermanentError(message, kind="auth")
    elif status >= 500:
        error = TransientError(message, kind="server")
    else:
        error = PermanentError(message, kind="client")
    raise error


def _scrub(text: str, secret: str) -> str:
    return text.replace(secret, "[redacted]") if secret else text


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _positive(value: object, fallback: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return fallback
    return number if number > 0 else fallback


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
