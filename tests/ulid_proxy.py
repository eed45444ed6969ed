"""A loopback HTTP proxy that makes a mastodon-mock server speak in ULIDs.

GoToSocial's ids are ULIDs (26 characters of Crockford base32, sortable as
text, never numbers). mastodon-mock's ids are decimal snowflakes. This proxy
sits between the bot and the mock on 127.0.0.1 and rewrites every id on the
way out (JSON fields ``id``, ``*_id`` and ``*_ids``, ``Link`` headers, status
URLs, the ``data:`` lines of the SSE stream) into a ULID, and every ULID on the
way in (path, query string, body) back into the mock's number. The mapping is
a bijection that keeps order, so the mock's pagination stays right while the
bot sees nothing but ULIDs.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Every id the proxy hands out starts with this: a ULID's time part would, and
#: the "J" makes sure no id is all digits.
PREFIX = "01J"
WIDTH = 26 - len(PREFIX)
_ULID = re.compile(rf"{PREFIX}[{CROCKFORD}]{{{WIDTH}}}")
_ULID_BYTES = re.compile(_ULID.pattern.encode())
_LINK_ID = re.compile(r"\b((?:max|min|since)_id=)(\d+)")
_URL_ID = re.compile(r"/(\d{6,})(?=$|[/?#])")
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
}


def to_ulid(number: int) -> str:
    """The ULID standing for the mock's id ``number`` (order kept)."""
    digits = []
    for _ in range(WIDTH):
        number, rest = divmod(number, 32)
        digits.append(CROCKFORD[rest])
    if number:
        raise ValueError("id too large for a ULID")
    return PREFIX + "".join(reversed(digits))


def from_ulid(ulid: str) -> int:
    """The mock's id behind a ULID this proxy handed out."""
    number = 0
    for char in ulid[len(PREFIX) :]:
        number = number * 32 + CROCKFORD.index(char)
    return number


def _is_number(value: object) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.isdigit())


def _is_id_key(key: str) -> bool:
    return key == "id" or key.endswith("_id")


class UlidProxy:
    """``UlidProxy(upstream_url).start()``; ``base_url`` is where the bot points."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self._http = httpx.Client(base_url=self.upstream, timeout=30.0)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._streams: set[httpx.Response] = set()
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> UlidProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            streams = list(self._streams)
        for response in streams:
            response.close()
        self._http.close()

    def client(self, token: str) -> Any:
        """A Mastodon.py client that talks to the mock through this proxy."""
        from mastodon import Mastodon

        return Mastodon(access_token=token, api_base_url=self.base_url)

    # -- rewriting ------------------------------------------------------------------

    def inward(self, raw: bytes) -> bytes:
        """ULIDs in a request back into the mock's numbers."""
        return _ULID_BYTES.sub(lambda m: str(from_ulid(m.group().decode())).encode(), raw)

    def outward(self, value: Any, key: str = "") -> Any:
        """The mock's ids in a JSON value into ULIDs (and its URLs into ours)."""
        if isinstance(value, dict):
            return {k: self.outward(v, k) for k, v in value.items()}
        if isinstance(value, list):
            item_key = "id" if key.endswith("_ids") else key
            return [self.outward(v, item_key) for v in value]
        if _is_id_key(key) and _is_number(value):
            return to_ulid(int(value))
        if isinstance(value, str):
            return self.url(value)
        return value

    def url(self, text: str) -> str:
        """A status URL (``/@alice/<id>``) carries its id too. The mock builds its
        URLs from the ``Host`` the proxy passes on, so they already name the proxy."""
        if not text.startswith(self.base_url):
            return text
        path = _URL_ID.sub(lambda m: "/" + to_ulid(int(m.group(1))), text[len(self.base_url) :])
        return self.base_url + path

    def link_header(self, value: str) -> str:
        return _LINK_ID.sub(lambda m: m.group(1) + to_ulid(int(m.group(2))), value)

    def event_line(self, line: bytes) -> bytes:
        """One line of the SSE stream: a ``data:`` payload is JSON or a bare id."""
        if not line.startswith(b"data:"):
            return line
        payload = line[len(b"data:") :].strip()
        try:
            value = json.loads(payload)
        except ValueError:
            return line
        if _is_number(value):
            rewritten: Any = to_ulid(int(value))
        else:
            rewritten = self.outward(value)
        return b"data: " + json.dumps(rewritten, ensure_ascii=False).encode()

    def track(self, response: httpx.Response, open_: bool) -> None:
        with self._lock:
            if open_:
                self._streams.add(response)
            else:
                self._streams.discard(response)


def _handler(proxy: UlidProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = proxy.inward(self.rfile.read(length)) if length else b""
            path = proxy.inward(self.path.encode()).decode()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Accept-Encoding"] = "identity"
            request = proxy._http.build_request(self.command, path, headers=headers, content=body)
            response = proxy._http.send(request, stream=True)
            proxy.track(response, True)
            try:
                if response.headers.get("content-type", "").startswith("text/event-stream"):
                    self._stream(response)
                else:
                    self._whole(response)
            finally:
                proxy.track(response, False)
                response.close()

        def _head(self, response: httpx.Response) -> None:
            self.send_response(response.status_code)
            for key, value in response.headers.multi_items():
                if key.lower() in _HOP_BY_HOP:
                    continue
                if key.lower() == "link":
                    value = proxy.link_header(value)
                self.send_header(key, value)

        def _whole(self, response: httpx.Response) -> None:
            content = response.read()
            if response.headers.get("content-type", "").startswith("application/json"):
                # A fault's malformed JSON passes through as it came.
                with contextlib.suppress(ValueError):
                    content = json.dumps(proxy.outward(json.loads(content))).encode()
            self._head(response)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def _stream(self, response: httpx.Response) -> None:
            self._head(response)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            pending = b""
            try:
                for chunk in response.iter_raw():
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    if lines:
                        out = b"".join(proxy.event_line(line) + b"\n" for line in lines)
                        self.wfile.write(out)
                        self.wfile.flush()
            except (httpx.HTTPError, OSError):
                return  # one side went away: the client reconnects, as from a real server

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    return Handler
