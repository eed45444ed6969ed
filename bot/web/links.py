"""Resolving aggregator links without SSRF.

(URLs are compared normalised, by ``bot.text.urls.normalize_url``.)

- ``Resolver`` fetches a link on an allowlisted aggregator or shortener host
  (``FILROUGE_RESOLVE_HOSTS``) and answers the article's canonical URL. It is
  the only outbound HTTP the bot makes on behalf of what strangers post, so
  every hop is checked (DESIGN invariant 10):

  1. the scheme is https (http only if ``resolve_allow_http``);
  2. the host is on the allowlist; a redirect elsewhere ends the walk with
     that URL as the answer, never fetched;
  3. the host name is resolved once, EVERY address it resolves to must pass
     the address policy (public unicast only), and the connection goes to the
     checked address (Host header and TLS SNI carry the name), so a DNS answer
     that changes between check and connect cannot redirect it;
  4. at most ``max_redirects`` redirects, one deadline for the whole walk, and
     at most ``max_bytes`` of body read (decompression included). Each network
     wait is bounded by the time left when its hop started and the walk stops
     at the first check past the deadline, so a walk never takes more than
     twice ``timeout``.

  Then ``<link rel="canonical">`` or ``<meta property="og:url">`` is read from
  the HTML (``bot.text.page``), else the final URL.
"""

from __future__ import annotations

import codecs
import ipaddress
import logging
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import urljoin, urlsplit

from bot.text.page import PageHead
from bot.text.urls import DEFAULT_PORTS, normalize_host, normalize_url
from bot.web.addresses import IPAddress, is_public_address, system_resolve

if TYPE_CHECKING:
    # Imported by the resolver's methods, where a link is fetched: loading a
    # catalog or checking the config only normalises URLs, and should not
    # pay for an HTTP client.
    import httpx

    from bot.settings import Settings

log = logging.getLogger(__name__)

# -- the resolver -------------------------------------------------------------

AddressPolicy = Callable[[IPAddress], bool]
HostResolver = Callable[[str, int], Sequence[str]]


class Refused(Exception):
    """A hop broke a rule (scheme, address, redirects, size): the link stays unresolved."""


@dataclass(frozen=True, slots=True)
class _Hop:
    url: httpx.URL
    host: str
    port: int
    address: IPAddress


_HTML_TYPES: Final = ("text/html", "application/xhtml+xml")
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})


class CachedLink(Protocol):
    """What a cache knows of a link: where it leads, or None when it was
    refused for good (``bot.record.store.LinkEntry`` is one)."""

    @property
    def resolved(self) -> str | None: ...


class Resolver:
    """Resolve links on allowlisted hosts to the article they point at.

    ``hosts`` are host names (``app.flus.fr``) fetched on their default port,
    or ``host:port`` for another port. ``address_allowed``, ``resolve_host``
    and ``transport`` exist so tests can reach a server on loopback; in
    production keep the defaults (public addresses only, the system resolver,
    a real connection). ``cache_get`` answers a previous result (None means
    "not cached"; an entry whose ``resolved`` is None, a link refused for good,
    which is not fetched again); ``cache_put`` records one.
    """

    def __init__(
        self,
        hosts: Iterable[str],
        *,
        allow_http: bool = False,
        timeout: float = 5.0,
        max_bytes: int = 512 * 1024,
        max_redirects: int = 5,
        user_agent: str = "fil-rouge",
        cache_get: Callable[[str], CachedLink | None] | None = None,
        cache_put: Callable[[str, str | None], None] | None = None,
        address_allowed: AddressPolicy = is_public_address,
        resolve_host: HostResolver = system_resolve,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import httpx

        self._hosts = frozenset(_host_entry(host) for host in hosts if host.strip())
        self.allow_http = allow_http
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._cache_get = cache_get
        self._cache_put = cache_put
        self._address_allowed = address_allowed
        self._resolve_host = resolve_host
        self._clock = clock
        self._client = httpx.Client(
            transport=transport
            or httpx.HTTPTransport(
                # A pooled connection was opened for one host name; never reuse
                # it for another name that resolves to the same address.
                limits=httpx.Limits(max_keepalive_connections=0),
                retries=0,
            ),
            # Proxies from the environment would do their own DNS lookup.
            trust_env=False,
            follow_redirects=False,
            headers={
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                "Accept-Encoding": "gzip, deflate, identity",
            },
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        cache_get: Callable[[str], CachedLink | None] | None = None,
        cache_put: Callable[[str, str | None], None] | None = None,
    ) -> Resolver:
        return cls(
            settings.resolve_hosts,
            allow_http=settings.resolve_allow_http,
            timeout=settings.resolve_timeout,
            max_bytes=settings.resolve_max_bytes,
            user_agent=settings.user_agent,
            cache_get=cache_get,
            cache_put=cache_put,
        )

    # -- public API -----------------------------------------------------------

    def handles(self, url: str) -> bool:
        """True if ``url`` is on an allowlisted host (the only links ever fetched)."""
        import httpx

        try:
            parsed = httpx.URL(url.strip())
        except (httpx.InvalidURL, ValueError):
            return False
        return parsed.scheme in DEFAULT_PORTS and self._allowlisted(parsed)

    def resolve(self, url: str) -> str | None:
        """The canonical URL ``url`` leads to, or None when it is not on an
        allowlisted host, a hop was refused, or the walk failed."""
        answer, _ = self._resolve(url)
        return answer

    def resolve_many(self, urls: Iterable[str], *, max_walks: int = 3) -> dict[str, str]:
        """``{normalize_url(link): resolved}`` for the links this resolver
        handles, as ``bot.understand.find_essay`` takes them.

        Give the links nearest the mention first: at most ``max_walks`` of
        them are fetched per call (cached answers are free), so a thread of a
        thousand aggregator links costs a few fetches, not a thousand.
        """
        resolved: dict[str, str] = {}
        seen: set[str] = set()
        walks = 0
        for url in urls:
            key = normalize_url(url)
            if key in seen or not self.handles(url):
                continue
            seen.add(key)
            if walks >= max_walks:
                cached = self._cached(key)
                if cached is not None and cached.resolved is not None:
                    resolved[key] = cached.resolved
                continue
            answer, walked = self._resolve(url)
            walks += walked
            if answer is not None:
                resolved[key] = answer
        return resolved

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Resolver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- the walk -------------------------------------------------------------

    def _cached(self, key: str) -> CachedLink | None:
        return self._cache_get(key) if self._cache_get is not None else None

    def _resolve(self, url: str) -> tuple[str | None, bool]:
        """The answer, and whether the network was used to get it."""
        import httpx

        if not self.handles(url):
            return None, False
        key = normalize_url(url)
        cached = self._cached(key)
        if cached is not None:
            return cached.resolved, False
        try:
            answer = self._walk(url.strip())
        except Refused as refusal:
            log.warning(
                "link not resolved: %s",
                refusal,
                extra={"event": "link_refused", "url": url},
            )
            self._put(key, None)
            return None, True
        except (httpx.HTTPError, httpx.InvalidURL, OSError, UnicodeError, ValueError) as error:
            # Network trouble is not cached: the next mention may get through.
            log.info(
                "link not resolved: %s: %s",
                type(error).__name__,
                error,
                extra={"event": "link_failed", "url": url},
            )
            return None, True
        self._put(key, answer)
        return answer, True

    def _put(self, key: str, answer: str | None) -> None:
        if self._cache_put is not None:
            self._cache_put(key, answer)

    def _allowlisted(self, url: httpx.URL) -> bool:
        host = normalize_host(url.host)
        port = url.port
        if port is None or port == DEFAULT_PORTS.get(url.scheme):
            return (host, None) in self._hosts
        return (host, port) in self._hosts

    def _walk(self, url: str) -> str:
        import httpx

        deadline = self._clock() + self.timeout
        current = httpx.URL(url)
        for hop_number in range(self.max_redirects + 1):
            if hop_number and not self._allowlisted(current):
                # Redirected off the allowlist: that is the answer, unfetched.
                if current.scheme not in DEFAULT_PORTS:
                    raise Refused(f"redirected to a {current.scheme!r} URL")
                return str(current)
            hop = self._check(current)
            result = self._fetch(hop, deadline)
            if isinstance(result, httpx.URL):
                current = result
                continue
            return result
        raise Refused(f"more than {self.max_redirects} redirects from {url}")

    def _check(self, url: httpx.URL) -> _Hop:
        """Every rule a hop must pass before a connection is opened."""
        if url.scheme != "https" and not (url.scheme == "http" and self.allow_http):
            raise Refused(f"scheme {url.scheme!r} not allowed: {url}")
        host = url.raw_host.decode("ascii")
        port = url.port or DEFAULT_PORTS[url.scheme]
        try:
            # An IP literal is checked as it is, without asking the resolver.
            addresses: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            # A failing lookup (OSError) is not a refusal: it may work next time.
            answers = self._resolve_host(host, port)
            addresses = []
            for answer in answers:
                try:
                    addresses.append(ipaddress.ip_address(answer.split("%", 1)[0]))
                except ValueError as error:
                    raise Refused(f"{host} resolved to {answer!r}, not an address") from error
        if not addresses:
            raise Refused(f"{host} resolved to no address")
        # One bad address is enough to refuse: a rebinding attacker answers
        # with a public and a private address and hopes the private one is used.
        for address in addresses:
            if not self._address_allowed(address):
                raise Refused(f"{host} resolves to {address}, which is not a public address")
        return _Hop(url=url, host=host, port=port, address=addresses[0])

    def _fetch(self, hop: _Hop, deadline: float) -> httpx.URL | str:
        """One request to the checked address. Returns the next URL for a
        redirect, else the answer."""
        import httpx

        remaining = deadline - self._clock()
        if remaining <= 0:
            raise httpx.TimeoutException("resolution took too long")
        # userinfo would go out as an Authorization header: a stranger's link
        # does not get to make the bot send credentials.
        pinned = hop.url.copy_with(host=str(hop.address), userinfo=b"")
        name = f"[{hop.host}]" if ":" in hop.host else hop.host
        default_port = hop.port == DEFAULT_PORTS[hop.url.scheme]
        host_header = name if default_port else f"{name}:{hop.port}"
        request = self._client.build_request(
            "GET",
            pinned,
            headers={"Host": host_header},
            timeout=httpx.Timeout(remaining),
            # TLS must verify the certificate for the name, not the address.
            extensions={"sni_hostname": hop.host},
        )
        response = self._client.send(request, stream=True)
        try:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                return hop.url.join(response.headers["location"])
            if not response.is_success:
                raise httpx.HTTPStatusError(
                    f"HTTP {response.status_code} from {hop.url}",
                    request=request,
                    response=response,
                )
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type and content_type not in _HTML_TYPES:
                return str(hop.url)
            parser = PageHead()
            for text in self._read_text(response, deadline, hop.url):
                parser.feed(text)
                if self._named(parser, hop.url) is not None:
                    break
        finally:
            response.close()
        named = self._named(parser, hop.url)
        if named is not None:
            return named
        if parser.refresh:
            # Followed like a redirect: the same checks, counted in the same limit.
            return hop.url.join(parser.refresh[0])
        return self._pick((parser.heading_links,), hop.url) or str(hop.url)

    def _named(self, page: PageHead, base: httpx.URL) -> str | None:
        """The article the page names as itself: canonical, else ``og:url``."""
        return self._pick((page.canonicals, page.meta.get("og:url", [])), base)

    def _pick(self, lists: Iterable[list[str]], base: httpx.URL) -> str | None:
        """The first candidate that is an absolute http(s) URL leaving the
        aggregators (their own pages name themselves as canonical)."""
        import httpx

        for candidates in lists:
            for candidate in candidates:
                try:
                    absolute = httpx.URL(urljoin(str(base), candidate))
                except (httpx.InvalidURL, ValueError):
                    continue
                if absolute.scheme in DEFAULT_PORTS and not self._allowlisted(absolute):
                    return str(absolute)
        return None

    def _read_text(
        self, response: httpx.Response, deadline: float, url: httpx.URL
    ) -> Iterator[str]:
        """The body as text, decompressed, cut at ``max_bytes`` and at the deadline."""
        import httpx

        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        chunks: Iterable[bytes]
        if response.is_stream_consumed:
            # A transport that handed over a response already read (and decoded).
            chunks, encoding = (response.content,), "identity"
        else:
            chunks = response.iter_raw()
        if encoding in ("gzip", "x-gzip"):
            inflater: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            inflater = zlib.decompressobj()
        elif encoding in ("", "identity"):
            inflater = None
        else:
            return  # br, zstd…: not asked for, not read
        try:
            decoder = codecs.getincrementaldecoder(response.charset_encoding or "utf-8")(
                errors="replace"
            )
        except LookupError:
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        budget = self.max_bytes
        for raw in chunks:
            if self._clock() > deadline:
                raise httpx.TimeoutException("resolution took too long")
            if inflater is None:
                data = raw[:budget]
            else:
                try:
                    # max_length bounds what a small compressed body can expand to.
                    data = inflater.decompress(raw, budget)
                except zlib.error:
                    return
            budget -= len(data)
            yield decoder.decode(data)
            if budget <= 0:
                log.info(
                    "link page cut at %d bytes",
                    self.max_bytes,
                    extra={"event": "link_capped", "url": str(url)},
                )
                return
        yield decoder.decode(b"", final=True)


def _host_entry(entry: str) -> tuple[str, int | None]:
    """``"host"`` or ``"host:port"`` from the allowlist setting."""
    entry = entry.strip()
    try:
        parsed = urlsplit(f"//{entry}")
        port = parsed.port
        host = parsed.hostname or entry
    except ValueError:
        return normalize_host(entry), None
    return normalize_host(host), port
