"""Links: normalising URLs, and resolving aggregator links without SSRF.

Two things live here:

- ``normalize_url`` turns the many spellings of one address (scheme, case,
  ``www.``, default port, trailing slash, fragment, tracking parameters) into
  one, so a catalog URL matches the link someone pasted. It is pure and never
  raises: what it cannot parse comes back stripped.
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
  the HTML with the standard library's parser, else the final URL.
"""

from __future__ import annotations

import codecs
import contextlib
import ipaddress
import logging
import re
import socket
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from types import TracebackType
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

if TYPE_CHECKING:
    # Imported by the resolver's methods, where a link is fetched: loading a
    # catalog or checking the config only normalises URLs, and should not
    # pay for an HTTP client.
    import httpx

    from bot.settings import Settings

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# -- normalisation ------------------------------------------------------------

#: Query parameters that only say where a click came from. Compared case-insensitively.
TRACKING_PARAMS: Final = frozenset(
    {
        # ad click ids
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        "srsltid",
        # Mailchimp, HubSpot, Marketo, Vero, Olytics
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "__hssc",
        "__hstc",
        "__hsfp",
        "hsctatracking",
        "mkt_tok",
        "vero_id",
        "vero_conv",
        "oly_anon_id",
        "oly_enc_id",
        "rb_clickid",
        # referrers
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        # Google Analytics cross-domain linker
        "_ga",
        "_gl",
        # AT Internet / Piano (common on French news sites)
        "xtor",
        "at_medium",
        "at_campaign",
        "at_platform",
        "at_send_date",
    }
)

#: Parameter prefixes that are tracking whatever follows (``utm_source``, ``mtm_kwd``…).
TRACKING_PREFIXES: Final = ("utm_", "mtm_", "pk_", "hsa_", "matomo_")

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
#: Characters left as they are in a path: RFC 3986 pchar plus "/" and "%" (existing escapes).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def is_tracking_param(name: str) -> bool:
    folded = name.lower()
    return folded in TRACKING_PARAMS or folded.startswith(TRACKING_PREFIXES)


def normalize_host(host: str) -> str:
    """Lowercase ASCII (IDNA) form of a host name, without a leading ``www.``."""
    host = host.strip().rstrip(".").lower()
    # Stdlib IDNA 2003 maps case and compatibility forms; good enough for a
    # comparison key, and "bücher.de" and "xn--bcher-kva.de" agree. A label
    # too long or not encodable is compared as it is.
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii").lower()
    if host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    return host


def _normalize_escapes(text: str) -> str:
    """Upper-case percent escapes and decode the ones of unreserved characters,
    so ``%7e``, ``%7E`` and ``~`` compare equal (RFC 3986 §6.2.2.2)."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    return _PERCENT_ESCAPE.sub(fix, text)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, for paths that are already absolute."""
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/".join(output)


def _normalize_path(path: str) -> str:
    # Encode what a person may paste raw (spaces, accents) as a browser would.
    path = quote(path, safe=_PATH_SAFE)
    path = _remove_dot_segments(_normalize_escapes(path))
    return path.rstrip("/")


def _normalize_query(query: str) -> str:
    pairs = [
        (name, value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if not is_tracking_param(name)
    ]
    # Sort by name only: the order of repeated values of one name can matter.
    pairs.sort(key=lambda pair: pair[0])
    return urlencode(pairs, quote_via=quote)


def normalize_url(url: str) -> str:
    """One spelling for one address, as a comparison key.

    http and https compare equal (the result says https); host lowercased,
    IDNA-encoded, without ``www.``; default port, fragment, trailing slash and
    tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ``mc_*``, ``ref``…)
    dropped; remaining query parameters sorted by name. Anything that is not an
    absolute http(s) URL comes back stripped, unchanged otherwise. Never raises.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        host = parts.hostname
        if scheme not in _DEFAULT_PORTS or not host:
            return text
        port = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        return text
    if any(char.isspace() or not char.isprintable() for char in host):
        return text  # no host name has these: not a URL

    host = normalize_host(host)
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit(
        ("https", netloc, _normalize_path(parts.path), _normalize_query(parts.query), "")
    )


def url_host(url: str) -> str | None:
    """The normalised host of an absolute http(s) URL, else None."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not host:
        return None
    return normalize_host(host)


# -- address policy -----------------------------------------------------------

#: NAT64 well-known prefix: the last 32 bits are an IPv4 address (RFC 6052).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the
    forms that reach IPv4 hosts (mapped, 6to4, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: IPAddress) -> bool:
    """True only for a global unicast address: the default address policy.

    ``is_global`` alone is not enough: multicast (224/4, ff00::/8) and
    deprecated site-local (fec0::/10) count as global in the standard library,
    and an IPv6 address can carry an IPv4 one (``::ffff:127.0.0.1``).
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host`` (TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


# -- reading the page ---------------------------------------------------------


_REFRESH_URL = re.compile(r"""url\s*=\s*['"]?([^'"\s]+)""", re.IGNORECASE)


class _CanonicalParser(HTMLParser):
    """Collects the canonical URL, ``og:url``, a ``<meta http-equiv=refresh>``
    target (shorteners answer browsers with one), and the links inside
    ``<h1>`` (an aggregator's page about a link carries the link in its title)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.canonical: list[str] = []
        self.og_url: list[str] = []
        self.refresh: list[str] = []
        self.heading_links: list[str] = []
        self._h1_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        if tag == "link" and "canonical" in values.get("rel", "").lower().split():
            if values.get("href"):
                self.canonical.append(values["href"])
        elif tag == "meta" and values.get("property", values.get("name", "")).lower() == "og:url":
            if values.get("content"):
                self.og_url.append(values["content"])
        elif tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            if match := _REFRESH_URL.search(values.get("content", "")):
                self.refresh.append(match.group(1))
        elif tag == "h1":
            self._h1_depth += 1
        elif tag == "a" and self._h1_depth and values.get("href"):
            self.heading_links.append(values["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1" and self._h1_depth:
            self._h1_depth -= 1


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
        return parsed.scheme in _DEFAULT_PORTS and self._allowlisted(parsed)

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
        if port is None or port == _DEFAULT_PORTS.get(url.scheme):
            return (host, None) in self._hosts
        return (host, port) in self._hosts

    def _walk(self, url: str) -> str:
        import httpx

        deadline = self._clock() + self.timeout
        current = httpx.URL(url)
        for hop_number in range(self.max_redirects + 1):
            if hop_number and not self._allowlisted(current):
                # Redirected off the allowlist: that is the answer, unfetched.
                if current.scheme not in _DEFAULT_PORTS:
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
        port = url.port or _DEFAULT_PORTS[url.scheme]
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
        default_port = hop.port == _DEFAULT_PORTS[hop.url.scheme]
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
            parser = _CanonicalParser()
            for text in self._read_text(response, deadline, hop.url):
                parser.feed(text)
                if self._pick((parser.canonical, parser.og_url), hop.url) is not None:
                    break
        finally:
            response.close()
        named = self._pick((parser.canonical, parser.og_url), hop.url)
        if named is not None:
            return named
        if parser.refresh:
            # Followed like a redirect: the same checks, counted in the same limit.
            return hop.url.join(parser.refresh[0])
        return self._pick((parser.heading_links,), hop.url) or str(hop.url)

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
                if absolute.scheme in _DEFAULT_PORTS and not self._allowlisted(absolute):
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
