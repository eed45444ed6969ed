"""Tests for bot.links: URL normalisation and the SSRF-safe resolver.

The resolver tests talk to a real HTTP server on 127.0.0.1 that records every
connection it accepts. The SSRF tests keep the strict default address policy
and assert that zero connections (or requests, for addresses no test may
reach) arrive; each names the guard it protects and fails without it.
"""

from __future__ import annotations

import contextlib
import gzip
import ipaddress
import socket
import ssl
import string
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.settings import Settings
from bot.text.urls import is_tracking_param, normalize_url, url_host
from bot.web.addresses import is_public_address
from bot.web.links import Resolver

# -- normalize_url ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme: http and https are the same page; scheme case is irrelevant
        ("http://example.com/a", "https://example.com/a"),
        ("HTTPS://example.com/a", "https://example.com/a"),
        # host case, and www. dropped
        ("https://WWW.Example.COM/a", "https://example.com/a"),
        ("https://www.example.com", "https://example.com"),
        # "www.com" is a whole domain, not a prefix
        ("https://www.com/a", "https://www.com/a"),
        # default ports dropped, others kept
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        # trailing slash, root included
        ("https://example.com/a/", "https://example.com/a"),
        ("https://example.com/", "https://example.com"),
        ("https://example.com", "https://example.com"),
        # fragment dropped
        ("https://example.com/a#section-2", "https://example.com/a"),
        # tracking parameters dropped
        ("https://example.com/a?utm_source=masto&utm_medium=social", "https://example.com/a"),
        ("https://example.com/a?UTM_Campaign=x", "https://example.com/a"),
        ("https://example.com/a?fbclid=IwAR0abc", "https://example.com/a"),
        ("https://example.com/a?gclid=abc&mc_cid=1&mc_eid=2", "https://example.com/a"),
        ("https://example.com/a?ref=mastodon&ref_src=twsrc", "https://example.com/a"),
        ("https://example.com/a?igshid=abc&_hsenc=p2&_hsmi=3", "https://example.com/a"),
        ("https://example.com/a?xtor=RSS-1&mtm_campaign=n", "https://example.com/a"),
        # other parameters kept, sorted by name, values' order kept
        ("https://example.com/a?b=2&a=1&utm_term=x", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?t=2&t=1", "https://example.com/a?t=2&t=1"),
        ("https://example.com/a?q=", "https://example.com/a?q="),
        ("https://example.com/a?", "https://example.com/a"),
        # a space written as + or %20 is one space
        ("https://example.com/s?q=a+b", "https://example.com/s?q=a%20b"),
        ("https://example.com/s?q=a%20b", "https://example.com/s?q=a%20b"),
        # IDN hosts: Unicode and punycode spellings agree
        ("https://bücher.example/a", "https://xn--bcher-kva.example/a"),
        ("https://XN--BCHER-KVA.example/a", "https://xn--bcher-kva.example/a"),
        # a path pasted raw is encoded as the browser would; escapes normalised
        ("https://example.com/été", "https://example.com/%C3%A9t%C3%A9"),
        ("https://example.com/%c3%a9t%c3%a9", "https://example.com/%C3%A9t%C3%A9"),
        ("https://example.com/%7euser", "https://example.com/~user"),
        # an escaped slash is not a slash
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        # path case is meaningful
        ("https://example.com/Essai", "https://example.com/Essai"),
        # dot segments
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        # trailing dot of a fully qualified host
        ("https://example.com./a", "https://example.com/a"),
        # IPv6 literal keeps its brackets
        ("http://[2001:DB8::1]:8080/a/", "https://[2001:db8::1]:8080/a"),
        # surrounding whitespace
        ("  https://example.com/a  \n", "https://example.com/a"),
        # the seed essay and its aggregator link
        (
            "https://mail.paulineharmange.fr/archive/ia-probleme/?utm_source=flus",
            "https://mail.paulineharmange.fr/archive/ia-probleme",
        ),
        (
            "https://app.flus.fr/links/1853382202557961738",
            "https://app.flus.fr/links/1853382202557961738",
        ),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "not a url",
        "example.com/a",  # no scheme: not ours to guess
        "mailto:someone@example.com",
        "ftp://example.com/a/",
        "javascript:alert(1)",
        "http://",
        "https://example.com:notaport/a",
        "https://[::1/a",  # unbalanced bracket
        "https://example.com:99999/a",  # port out of range
        "https://exa mple.com/a",  # no host name has a space
        "\x00\x01",
    ],
)
def test_normalize_url_returns_garbage_stripped(garbage: str) -> None:
    assert normalize_url(f"  {garbage}  ") == garbage.strip()


def test_normalize_url_is_idempotent() -> None:
    url = "HTTP://WWW.Exemple.FR:80/b/../Été/?z=1&utm_source=x&a=%7e#top"
    once = normalize_url(url)
    assert normalize_url(once) == once


_URLISH = st.one_of(
    st.text(),
    st.builds(
        "{}://{}{}?{}#{}".format,
        st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
        st.text(alphabet=string.ascii_letters + string.digits + ".-:[]@%éü_ ", max_size=20),
        st.text(alphabet=string.printable + "éü", max_size=30),
        st.text(alphabet=string.printable + "éü", max_size=30),
        st.text(max_size=5),
    ),
)


@given(_URLISH)
def test_normalize_url_never_raises_and_is_idempotent(url: str) -> None:
    once = normalize_url(url)
    assert normalize_url(once) == once


@pytest.mark.parametrize(
    ("name", "tracking"),
    [
        ("utm_source", True),
        ("UTM_MEDIUM", True),
        ("fbclid", True),
        ("ref", True),
        ("id", False),
        ("page", False),
        ("q", False),
        ("reference", False),
    ],
)
def test_is_tracking_param(name: str, tracking: bool) -> None:
    assert is_tracking_param(name) is tracking


def test_url_host() -> None:
    assert url_host("https://WWW.App.Flus.fr/links/1") == "app.flus.fr"
    assert url_host("not a url") is None
    assert url_host("ftp://example.com") is None


# -- address policy -----------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),  # loopback
        ("127.8.9.10", False),
        ("::1", False),
        ("10.0.0.1", False),  # private ranges
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("fd12:3456::1", False),  # unique local
        ("169.254.169.254", False),  # link-local: cloud metadata
        ("fe80::1", False),
        ("0.0.0.0", False),  # unspecified
        ("::", False),
        ("100.64.0.1", False),  # shared address space (carrier NAT)
        ("224.0.0.1", False),  # multicast, "global" for the stdlib
        ("ff02::1", False),
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("192.0.2.10", False),  # documentation
        ("198.18.0.1", False),  # benchmarking
        ("fec0::1", False),  # deprecated site-local, "global" for the stdlib
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:10.0.0.1", False),
        ("::ffff:93.184.215.14", True),
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated)
        ("2002:7f00:1::", False),  # 6to4 wrapping 127.0.0.1
        ("2002:a9fe:a9fe::", False),  # 6to4 wrapping 169.254.169.254
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 to 169.254.169.254
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


# -- a loopback server that records what reaches it ----------------------------

Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Listener:
    host: str
    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    connections: list[Any] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)

    def url(self, path: str, *, host: str | None = None, scheme: str = "http") -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{scheme}://{name}:{self.port}{path}"


def _handler_for(listener: Listener) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            listener.requests.append((self.path, self.headers.get("Host", "")))
            route = listener.routes.get(self.path.split("?")[0])
            if route is None:
                self.send_error(404)
                return
            # The client may stop reading: that is what the caps are for.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                route(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _serve(
    host: str, family: socket.AddressFamily, tls: ssl.SSLContext | None = None
) -> Iterator[Listener]:
    class Server(ThreadingHTTPServer):
        address_family = family
        daemon_threads = True
        block_on_close = False

        def verify_request(self, request: Any, client_address: Any) -> bool:
            listener.connections.append(client_address)
            return True

    listener = Listener(host=host, port=0)
    server = Server((host, 0), _handler_for(listener))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    listener.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    yield from _serve("127.0.0.1", socket.AF_INET)


@pytest.fixture
def listener6() -> Iterator[Listener]:
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    yield from _serve("::1", socket.AF_INET6)


def html(body: str, *, status: int = 200, content_type: str = "text/html; charset=utf-8") -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        data = body.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return route


def redirect(location: str, status: int = 302) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return route


def page(*, canonical: str | None = None, og_url: str | None = None, body: str = "") -> str:
    head = ""
    if canonical:
        head += f'<link rel="canonical" href="{canonical}">'
    if og_url:
        head += f'<meta property="og:url" content="{og_url}">'
    return f"<!doctype html><html><head><title>t</title>{head}</head><body>{body}</body></html>"


def allow_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """The test policy: loopback only. Production never uses it."""
    return address.is_loopback


def names(mapping: dict[str, Sequence[str]]) -> Callable[[str, int], Sequence[str]]:
    """A resolver function answering from a table, recording each question."""

    def resolve(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        if host not in mapping:
            raise socket.gaierror(f"unknown test host {host}")
        return mapping[host]

    asked: list[str] = []
    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


ESSAY = "https://essay.example/archive/ia-probleme/"


def loopback_resolver(listener: Listener, **kwargs: Any) -> Resolver:
    """A resolver allowed to reach ``agg.test`` = the loopback listener."""
    options: dict[str, Any] = {
        "allow_http": True,
        "address_allowed": allow_loopback,
        "resolve_host": names({"agg.test": ["127.0.0.1"]}),
        "timeout": 2.0,
    }
    options.update(kwargs)
    return Resolver([f"agg.test:{listener.port}"], **options)


# -- the resolver, working --------------------------------------------------------


def test_follows_redirects_to_the_canonical_url(listener: Listener) -> None:
    listener.routes["/links/1"] = redirect("/story/1", 301)
    listener.routes["/story/1"] = html(page(canonical=ESSAY))
    with loopback_resolver(listener) as resolver:
        assert resolver.resolve(listener.url("/links/1", host="agg.test")) == ESSAY
    assert [path for path, _ in listener.requests] == ["/links/1", "/story/1"]
    # The connection went to the checked address, the name travelled in Host.
    assert {host for _, host in listener.requests} == {f"agg.test:{listener.port}"}


def test_og_url_when_there_is_no_canonical(listener: Listener) -> None:
    listener.routes["/links/2"] = html(page(og_url=ESSAY))
    with loopback_resolver(listener) as resolver:
        assert resolver.resolve(listener.url("/links/2", host="agg.test")) == ESSAY


def test_aggregator_page_naming_itself_canonical_gives_the_link_in_its_title(
    listener: Listener,
) -> None:
    """Flus link pages say they are their own canonical URL and put the
    shared link in their <h1>."""
    own = listener.url("/links/3", host="agg.test")
    body = f'<h1><a href="{ESSAY}" rel="noopener noreferrer">L\'IA est un problème</a></h1>'
    listener.routes["/links/3"] = html(page(canonical=own, og_url=own, body=body))
    with loopback_resolver(listener) as resolver:
        assert resolver.resolve(own) == ESSAY


def test_meta_refresh_is_followed_as_a_redirect(listener: Listener) -> None:
    """Shorteners answer browsers with an HTML page that refreshes."""
    refresh = '<meta http-equiv="Refresh" content="0; URL=\'/story/9\'">'
    listener.routes["/s/9"] = html(f"<html><head>{refresh}</head></html>")
    listener.routes["/story/9"] = html(page(canonical=ESSAY))
    with loopback_resolver(listener) as resolver:
        assert resolver.resolve(listener.url("/s/9", host="agg.test")) == ESSAY
    assert [path for path, _ in listener.requests] == ["/s/9", "/story/9"]


def test_relative_canonical_is_made_absolute(listener: Listener) -> None:
    listener.routes["/links/4"] = html(page(canonical="//essay.example/a?b=1"))
    with loopback_resolver(listener) as resolver:
        assert resolver.resolve(listener.url("/links/4", host="agg.test")) == (
            "http://essay.example/a?b=1"
        )


def test_final_url_when_the_page_names_nothing(listener: Listener) -> None:
    listener.routes["/links/5"] = redirect("/story/5")
    listener.routes["/story/5"] = html(page())
    with loopback_resolver(listener) as resolver:
        answer = resolver.resolve(listener.url("/links/5", host="agg.test"))
    assert answer == listener.url("/story/5", host="agg.test")


def test_not_html_gives_the_final_url(listener: Listener) -> None:
    listener.routes["/file"] = html(page(canonical=ESSAY), content_type="application/pdf")
    with loopback_resolver(listener) as resolver:
        assert resolver.resolve(listener.url("/file", host="agg.test")) == listener.url(
            "/file", host="agg.test"
        )


def test_redirect_off_the_allowlist_is_the_answer_and_is_not_fetched(
    listener: Listener,
) -> None:
    """Guard: only allowlisted hosts are fetched. The second host is the
    listener too (under another name); without the guard it would be asked."""
    target = listener.url("/article", host="elsewhere.test")
    listener.routes["/links/6"] = redirect(target)
    listener.routes["/article"] = html(page(canonical="https://wrong.example/"))
    resolve_host = names({"agg.test": ["127.0.0.1"], "elsewhere.test": ["127.0.0.1"]})
    with loopback_resolver(listener, resolve_host=resolve_host) as resolver:
        assert resolver.resolve(listener.url("/links/6", host="agg.test")) == target
    assert [path for path, _ in listener.requests] == ["/links/6"]
    assert resolve_host.asked == ["agg.test"]  # type: ignore[attr-defined]


def test_link_not_on_the_allowlist_is_never_fetched(listener: Listener) -> None:
    listener.routes["/article"] = html(page(canonical=ESSAY))
    resolve_host = names({"other.test": ["127.0.0.1"]})
    with loopback_resolver(listener, resolve_host=resolve_host) as resolver:
        assert not resolver.handles(listener.url("/article", host="other.test"))
        assert resolver.resolve(listener.url("/article", host="other.test")) is None
        # The allowlisted name on another port is another service.
        assert resolver.resolve(f"http://agg.test:{listener.port + 1}/article") is None
    assert listener.connections == []
    assert resolve_host.asked == []  # type: ignore[attr-defined]


def test_http_error_is_not_an_answer(listener: Listener) -> None:
    listener.routes["/gone"] = html("gone", status=410)
    with loopback_resolver(listener) as resolver:
        assert resolver.resolve(listener.url("/gone", host="agg.test")) is None


class Memo(dict[str, str | None]):
    """A link cache as the record keeps it: absent, refused for good (None), or resolved."""

    def entry(self, key: str) -> SimpleNamespace | None:
        return SimpleNamespace(resolved=self[key]) if key in self else None


def test_cache_is_asked_first_and_filled(listener: Listener) -> None:
    listener.routes["/links/7"] = html(page(canonical=ESSAY))
    stored = Memo()
    link = listener.url("/links/7?utm_source=masto", host="agg.test")
    key = normalize_url(link)
    with loopback_resolver(listener, cache_get=stored.entry, cache_put=stored.__setitem__) as r:
        assert r.resolve(link) == ESSAY
        assert stored == {key: ESSAY}
        assert r.resolve(link) == ESSAY
    assert len(listener.requests) == 1


def test_refusals_are_cached_as_none_and_network_failures_are_not(
    listener: Listener,
) -> None:
    stored = Memo()
    refused = f"http://agg.test:{listener.port}/x"
    resolver = Resolver(
        [f"agg.test:{listener.port}"],
        allow_http=False,  # refused for good: the scheme
        resolve_host=names({"agg.test": ["127.0.0.1"]}),
        cache_get=stored.entry,
        cache_put=stored.__setitem__,
    )
    with resolver:
        assert resolver.resolve(refused) is None
    assert stored == {normalize_url(refused): None}

    stored.clear()
    listener.routes["/unreachable"] = redirect(f"http://agg.test:{listener.port + 1}/")
    with loopback_resolver(
        listener,
        cache_get=stored.entry,
        cache_put=stored.__setitem__,
        resolve_host=names({}),  # the name does not resolve: maybe later
    ) as resolver:
        assert resolver.resolve(listener.url("/links/8", host="agg.test")) is None
    assert stored == {}


def test_resolve_many_maps_normalised_links() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, html=page(canonical=ESSAY))

    resolver = Resolver(
        ["app.flus.fr"],
        resolve_host=names({"app.flus.fr": ["93.184.215.14"]}),
        transport=httpx.MockTransport(handler),
    )
    links = [
        "https://app.flus.fr/links/1?utm_source=m",
        "https://app.flus.fr/links/1",
        "https://example.com/not-an-aggregator",
    ]
    with resolver:
        assert resolver.resolve_many(links) == {"https://app.flus.fr/links/1": ESSAY}


def test_resolve_many_bounds_the_fetches_per_call() -> None:
    """A thread full of aggregator links costs a few fetches, not one each."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, html=page(canonical=f"{ESSAY}{request.url.path}"))

    stored = Memo({"https://app.flus.fr/links/99": ESSAY})
    resolver = Resolver(
        ["app.flus.fr"],
        resolve_host=names({"app.flus.fr": ["93.184.215.14"]}),
        transport=httpx.MockTransport(handler),
        cache_get=stored.entry,
        cache_put=stored.__setitem__,
    )
    links = [f"https://app.flus.fr/links/{n}" for n in range(100)]
    with resolver:
        resolved = resolver.resolve_many(links, max_walks=3)
    assert len(seen) == 3
    # The first three, fetched; the rest only if already cached.
    assert set(resolved) == {
        "https://app.flus.fr/links/0",
        "https://app.flus.fr/links/1",
        "https://app.flus.fr/links/2",
        "https://app.flus.fr/links/99",
    }


def test_from_settings() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        resolve_hosts=("app.flus.fr", "t.co"),
        resolve_allow_http=True,
        resolve_timeout=3.0,
        resolve_max_bytes=1000,
    )
    with Resolver.from_settings(settings) as resolver:
        assert resolver.handles("https://app.flus.fr/links/1")
        assert resolver.handles("http://t.co/abc")
        assert not resolver.handles("https://example.com/")
        assert (resolver.allow_http, resolver.timeout, resolver.max_bytes) == (True, 3.0, 1000)


# -- pinning --------------------------------------------------------------------


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name``, made with the openssl command."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    try:
        command = [
            *("openssl", "req", "-x509", "-nodes", "-days", "1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}"),
            *("-addext", f"subjectAltName=DNS:{name}"),
        ]
        subprocess.run(command, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"cannot make a test certificate: {error}")
    return cert, key


@pytest.mark.parametrize(("served_name", "works"), [("agg.test", True), ("other.test", False)])
def test_tls_to_the_pinned_address_verifies_the_host_name(
    tmp_path: Path, served_name: str, works: bool
) -> None:
    """The connection goes to the checked address while TLS (SNI and the
    certificate check) uses the host name: a certificate for another name fails."""
    cert, key = _certificate(tmp_path, served_name)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    for listener in _serve("127.0.0.1", socket.AF_INET, tls=server_tls):
        listener.routes["/links/1"] = html(page(canonical=ESSAY))
        resolver = Resolver(
            [f"agg.test:{listener.port}"],
            address_allowed=allow_loopback,
            resolve_host=names({"agg.test": ["127.0.0.1"]}),
            transport=httpx.HTTPTransport(
                verify=client_tls, limits=httpx.Limits(max_keepalive_connections=0)
            ),
            timeout=5.0,
        )
        with resolver:
            answer = resolver.resolve(f"https://agg.test:{listener.port}/links/1")
        assert answer == (ESSAY if works else None)
        assert len(listener.requests) == (1 if works else 0)


def test_connects_to_the_checked_address_with_name_in_host_and_sni() -> None:
    """Guard: the connection goes to the address that was checked, and the
    name is resolved once per hop. A rebinding DNS answers a public address
    first and loopback afterwards; the second answer is never asked for."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, html=page(canonical=ESSAY))

    answers = iter([["93.184.215.14"], ["127.0.0.1"]])

    def rebinding(host: str, port: int) -> Sequence[str]:
        return next(answers)

    resolver = Resolver(
        ["app.flus.fr"], resolve_host=rebinding, transport=httpx.MockTransport(handler)
    )
    with resolver:
        assert resolver.resolve("https://app.flus.fr/links/1") == ESSAY
    (request,) = seen
    assert request.url.host == "93.184.215.14"
    assert request.url.scheme == "https"
    assert request.headers["host"] == "app.flus.fr"
    assert request.extensions["sni_hostname"] == "app.flus.fr"


def test_credentials_in_a_link_are_not_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, html=page(canonical=ESSAY))

    resolver = Resolver(
        ["app.flus.fr"],
        resolve_host=names({"app.flus.fr": ["93.184.215.14"]}),
        transport=httpx.MockTransport(handler),
    )
    with resolver:
        assert resolver.resolve("https://admin:hunter2@app.flus.fr/links/1") == ESSAY
    (request,) = seen
    assert "authorization" not in request.headers
    assert request.url.userinfo == b""


# -- SSRF: nothing reaches a forbidden address ----------------------------------


def test_loopback_literal_is_refused(listener: Listener) -> None:
    """Guard: address policy on IP literals. 127.0.0.1 is even on the
    allowlist here; only the address check stands between it and the listener."""
    listener.routes["/"] = html(page(canonical=ESSAY))
    resolver = Resolver([f"127.0.0.1:{listener.port}"], allow_http=True, timeout=2.0)
    with resolver:
        assert resolver.resolve(listener.url("/")) is None
    assert listener.connections == []


def test_ipv6_loopback_literal_is_refused(listener6: Listener) -> None:
    """Guard: address policy on IPv6 literals."""
    listener6.routes["/"] = html(page(canonical=ESSAY))
    resolver = Resolver([f"[::1]:{listener6.port}"], allow_http=True, timeout=2.0)
    with resolver:
        assert resolver.resolve(listener6.url("/")) is None
    assert listener6.connections == []


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "[::1]",
        "169.254.169.254",
        "10.0.0.1",
        "192.168.0.10",
        "100.64.0.1",
        "0.0.0.0",
        "[::ffff:127.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[fe80::1]",
    ],
)
def test_forbidden_literals_never_reach_the_transport(host: str) -> None:
    """Guard: address policy. These addresses must not be reached even by a
    test, so the transport only records; without the guard it records a request."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, html=page(canonical=ESSAY))

    resolver = Resolver([host], allow_http=True, transport=httpx.MockTransport(handler))
    with resolver:
        assert resolver.resolve(f"https://{host}/latest/meta-data/") is None
        assert resolver.resolve(f"http://{host}/") is None
    assert seen == []


def test_name_resolving_to_loopback_is_refused(listener: Listener) -> None:
    """Guard: the resolved address is checked, not only the name."""
    listener.routes["/links/1"] = html(page(canonical=ESSAY))
    resolver = Resolver(
        [f"agg.test:{listener.port}"],
        allow_http=True,
        resolve_host=names({"agg.test": ["127.0.0.1"]}),
        timeout=2.0,
    )
    with resolver:
        assert resolver.resolve(listener.url("/links/1", host="agg.test")) is None
    assert listener.connections == []


def test_name_resolving_to_public_and_loopback_is_refused(listener: Listener) -> None:
    """Guard: EVERY resolved address is checked, not only the first."""
    listener.routes["/links/1"] = html(page(canonical=ESSAY))
    resolver = Resolver(
        [f"agg.test:{listener.port}"],
        allow_http=True,
        resolve_host=names({"agg.test": ["93.184.215.14", "127.0.0.1"]}),
        timeout=2.0,
    )
    with resolver:
        assert resolver.resolve(listener.url("/links/1", host="agg.test")) is None
    assert listener.connections == []


def test_name_resolving_to_metadata_address_is_refused() -> None:
    seen: list[httpx.Request] = []
    resolver = Resolver(
        ["agg.test"],
        resolve_host=names({"agg.test": ["169.254.169.254"]}),
        transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200)),
    )
    with resolver:
        assert resolver.resolve("https://agg.test/x") is None
    assert seen == []


PUBLIC = "93.184.215.14"


class Chunks(httpx.SyncByteStream):
    """A response body that is streamed, not handed over already read."""

    def __init__(self, data: bytes, size: int = 16384) -> None:
        self.data = data
        self.size = size
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), self.size):
            self.pulled += self.size
            yield self.data[start : start + self.size]


class Routing(httpx.BaseTransport):
    """Requests pinned to PUBLIC are answered in-process; anything else goes
    to a real connection (which the netguard plugin allows only on loopback)."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.public = httpx.MockTransport(handler)
        self.real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == PUBLIC:
            return self.public.handle_request(request)
        return self.real.handle_request(request)

    def close(self) -> None:
        self.real.close()


@pytest.mark.parametrize("target_host", ["127.0.0.1", "localhost", "loop.test"])
def test_redirect_to_loopback_is_refused(listener: Listener, target_host: str) -> None:
    """Guard: every hop is checked, not only the first. An allowed public
    aggregator redirects to the loopback listener, which is allowlisted too;
    only the per-hop address check keeps the second request from reaching it."""
    listener.routes["/admin"] = html(page(canonical=ESSAY))
    target = listener.url("/admin", host=target_host)

    def aggregator(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": target})

    resolver = Resolver(
        ["agg.test", f"{target_host}:{listener.port}"],
        allow_http=True,
        resolve_host=names(
            {"agg.test": [PUBLIC], "loop.test": ["127.0.0.1"], "localhost": ["127.0.0.1"]}
        ),
        transport=Routing(aggregator),
        timeout=2.0,
    )
    with resolver:
        assert resolver.resolve("https://agg.test/links/1") is None
    assert listener.connections == []


def test_meta_refresh_to_loopback_is_refused(listener: Listener) -> None:
    """Guard: a meta refresh is a hop like any other and is checked."""
    listener.routes["/admin"] = html(page(canonical=ESSAY))
    target = listener.url("/admin")

    def aggregator(request: httpx.Request) -> httpx.Response:
        refresh = f'<meta http-equiv="refresh" content="0;url={target}">'
        return httpx.Response(200, html=f"<html><head>{refresh}</head></html>")

    resolver = Resolver(
        ["agg.test", f"127.0.0.1:{listener.port}"],
        allow_http=True,
        resolve_host=names({"agg.test": [PUBLIC]}),
        transport=Routing(aggregator),
        timeout=2.0,
    )
    with resolver:
        assert resolver.resolve("https://agg.test/s/1") is None
    assert listener.connections == []


def test_redirect_from_https_to_http_is_refused(listener: Listener) -> None:
    """Guard: the scheme rule applies to every hop."""
    listener.routes["/article"] = html(page(canonical=ESSAY))

    def aggregator(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": listener.url("/article", host="agg.test")})

    resolver = Resolver(
        ["agg.test", f"agg.test:{listener.port}"],
        allow_http=False,
        address_allowed=lambda a: True,
        resolve_host=names({"agg.test": [PUBLIC]}),
        transport=Routing(aggregator),
    )
    with resolver:
        assert resolver.resolve("https://agg.test/links/1") is None
    assert listener.connections == []


def test_http_is_refused_unless_allowed(listener: Listener) -> None:
    """Guard: https only by default."""
    listener.routes["/links/1"] = html(page(canonical=ESSAY))
    with loopback_resolver(listener, allow_http=False) as resolver:
        assert resolver.handles(listener.url("/links/1", host="agg.test"))
        assert resolver.resolve(listener.url("/links/1", host="agg.test")) is None
    assert listener.connections == []
    with loopback_resolver(listener, allow_http=True) as resolver:
        assert resolver.resolve(listener.url("/links/1", host="agg.test")) == ESSAY
    assert len(listener.connections) == 1


def test_redirect_to_another_scheme_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "javascript:alert(1)"})

    resolver = Resolver(
        ["agg.test"],
        resolve_host=names({"agg.test": [PUBLIC]}),
        transport=httpx.MockTransport(handler),
    )
    with resolver:
        assert resolver.resolve("https://agg.test/x") is None


# -- SSRF: bounded redirects, time and size -------------------------------------


def _chain(listener: Listener, length: int) -> None:
    """/r/0 → /r/1 → … → /r/<length>, which answers the page."""
    for index in range(length):
        listener.routes[f"/r/{index}"] = redirect(f"/r/{index + 1}")
    listener.routes[f"/r/{length}"] = html(page(canonical=ESSAY))


def test_five_redirects_are_followed(listener: Listener) -> None:
    _chain(listener, 5)
    with loopback_resolver(listener) as resolver:
        assert resolver.resolve(listener.url("/r/0", host="agg.test")) == ESSAY
    assert len(listener.requests) == 6


def test_more_than_five_redirects_stop(listener: Listener) -> None:
    """Guard: the redirect limit. The sixth redirect is not followed."""
    _chain(listener, 50)
    with loopback_resolver(listener) as resolver:
        assert resolver.resolve(listener.url("/r/0", host="agg.test")) is None
    assert len(listener.requests) == 6


def test_a_link_refused_for_good_is_not_fetched_again(listener: Listener) -> None:
    """Guard: the cache's "refused" answer. Without it every mention citing a
    link that breaks the limits would walk its redirects again."""
    _chain(listener, 50)
    stored = Memo()
    link = listener.url("/r/0", host="agg.test")
    with loopback_resolver(listener, cache_get=stored.entry, cache_put=stored.__setitem__) as r:
        assert r.resolve(link) is None
        assert stored == {normalize_url(link): None}
        assert r.resolve(link) is None
    assert len(listener.requests) == 6  # the first walk only


def test_redirect_loop_stops(listener: Listener) -> None:
    listener.routes["/loop"] = redirect("/loop")
    with loopback_resolver(listener) as resolver:
        assert resolver.resolve(listener.url("/loop", host="agg.test")) is None
    assert len(listener.requests) == 6


def _slow(handler: BaseHTTPRequestHandler) -> None:
    time.sleep(5)
    html(page(canonical=ESSAY))(handler)


def _trickle(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.end_headers()
    handler.wfile.write(b"<html><head>")
    for _ in range(200):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.05)
    handler.wfile.write(f'<link rel="canonical" href="{ESSAY}">'.encode())


@pytest.mark.parametrize("route", [_slow, _trickle], ids=["slow-headers", "trickling-body"])
def test_slow_server_times_out(listener: Listener, route: Route) -> None:
    """Guard: one deadline for the whole walk, body included."""
    listener.routes["/slow"] = route
    with loopback_resolver(listener, timeout=0.5) as resolver:
        started = time.monotonic()
        assert resolver.resolve(listener.url("/slow", host="agg.test")) is None
        assert time.monotonic() - started < 2.0


def test_deadline_covers_all_hops(listener: Listener) -> None:
    def slowish_redirect(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(0.3)
        redirect("/slowish")(handler)

    listener.routes["/slowish"] = slowish_redirect
    with loopback_resolver(listener, timeout=0.5, max_redirects=50) as resolver:
        started = time.monotonic()
        assert resolver.resolve(listener.url("/slowish", host="agg.test")) is None
        assert time.monotonic() - started < 1.5
    assert len(listener.requests) <= 3


def test_body_is_not_read_past_the_cap(listener: Listener) -> None:
    """Guard: the size cap. The canonical link comes after the cap and must
    not be seen."""
    padding = "<!-- " + "x" * 5000 + " -->"
    listener.routes["/big"] = html(
        f"<html><head>{padding}<link rel='canonical' href='{ESSAY}'></head></html>"
    )
    with loopback_resolver(listener, max_bytes=4096) as resolver:
        assert resolver.resolve(listener.url("/big", host="agg.test")) == listener.url(
            "/big", host="agg.test"
        )
    with loopback_resolver(listener, max_bytes=8192) as resolver:
        assert resolver.resolve(listener.url("/big", host="agg.test")) == ESSAY


def test_endless_body_is_cut(listener: Listener) -> None:
    """Guard: the size cap, against a body that never ends."""
    sent = [0]

    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        chunk = b"<p>" + b"x" * 65536 + b"</p>"
        while sent[0] < 1 << 30:
            handler.wfile.write(chunk)
            sent[0] += len(chunk)

    listener.routes["/endless"] = endless
    with loopback_resolver(listener, max_bytes=100_000, timeout=10.0) as resolver:
        started = time.monotonic()
        answer = resolver.resolve(listener.url("/endless", host="agg.test"))
        assert time.monotonic() - started < 5.0
    assert answer == listener.url("/endless", host="agg.test")
    assert sent[0] < 1 << 30


def test_compressed_body_is_capped_after_decompression() -> None:
    """Guard: the size cap counts decompressed bytes (a small gzip body can
    expand a thousandfold)."""
    body = b"<html><head>" + b" " * 5_000_000 + f'<link rel="canonical" href="{ESSAY}">'.encode()
    compressed = gzip.compress(body)
    assert len(compressed) < 100_000

    def handler(request: httpx.Request) -> httpx.Response:
        # Streamed as a real connection would, 16 KiB at a time.
        return httpx.Response(
            200,
            headers={"Content-Type": "text/html", "Content-Encoding": "gzip"},
            stream=Chunks(compressed),
        )

    def resolver(max_bytes: int) -> Resolver:
        return Resolver(
            ["agg.test"],
            max_bytes=max_bytes,
            resolve_host=names({"agg.test": [PUBLIC]}),
            transport=httpx.MockTransport(handler),
        )

    with resolver(100_000) as small:
        assert small.resolve("https://agg.test/x") == "https://agg.test/x"
    with resolver(6_000_000) as large:
        assert large.resolve("https://agg.test/x") == ESSAY
