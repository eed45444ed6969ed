"""Getting the page: fetched over HTTP (timeout, size cap, bounded redirects)
or read from a saved file, decoded by its declared or sniffed charset.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote, urlsplit

import httpx

#: A web page is read up to this many bytes; essays are far smaller, but
#: newsletter archives inline their styles and scripts.
MAX_PAGE_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
#: Shorter passages rarely stand on their own as a quote.
MIN_QUOTE_LENGTH = 60
#: The overhead assumed when the rules file cannot be read: the bundled
#: ``citation`` rule's wording.
TYPICAL_TEMPLATE = "{requester} Ce qu’en dit le texte :\n\n« {quote} »\n— {author}\n{quote_url}"

_HTML_TYPES = ("text/html", "application/xhtml+xml")


class ImportFailed(Exception):
    """The page could not be fetched or holds no article: the message says why."""


# -- progress -------------------------------------------------------------------


class Progress:
    """One status line on stderr for long work.

    On a terminal each update rewrites the line (``\\r``); elsewhere (a log, a
    pipe, a test) only stage changes are printed, one per line, so the output
    stays readable. ``quiet`` turns it off.
    """

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._open = False

    def stage(self, message: str) -> None:
        """A new step of the work: always shown."""
        if self.quiet:
            return
        self.end()
        if self._tty:
            self.stream.write(message)
            self._open = True
        else:
            self.stream.write(message + "\n")
        self.stream.flush()

    def update(self, message: str) -> None:
        """Progress within a step: shown only where it can overwrite itself."""
        if self.quiet or not self._tty:
            return
        self.stream.write("\r\x1b[K" + message)
        self._open = True
        self.stream.flush()

    def done(self, message: str) -> None:
        self.stage(message)
        self.end()

    def end(self) -> None:
        """Finish the current line, before printing something else."""
        if self._open:
            self.stream.write("\n")
            self._open = False


# -- fetching -------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A page's HTML and where it came from (the URL after redirects, or a file)."""

    html: str
    source: str
    #: The http(s) URL the page was served from; None for a local file.
    url: str | None = None


def is_local(target: str) -> bool:
    """True for ``file://`` URLs and plain paths, False for http(s) URLs."""
    scheme = urlsplit(target).scheme.lower()
    # A one-letter "scheme" is a Windows drive (C:\...).
    return scheme in ("", "file") or len(scheme) == 1


def load_page(
    target: str,
    *,
    user_agent: str,
    timeout: float,
    max_bytes: int = MAX_PAGE_BYTES,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Page:
    """The page at ``target``: an http(s) URL, a ``file://`` URL or a path."""
    if is_local(target):
        return read_local(target, max_bytes=max_bytes, progress=progress)
    return fetch(
        target,
        user_agent=user_agent,
        timeout=timeout,
        max_bytes=max_bytes,
        progress=progress,
        transport=transport,
    )


def read_local(
    target: str, *, max_bytes: int = MAX_PAGE_BYTES, progress: Progress | None = None
) -> Page:
    parts = urlsplit(target)
    path = Path(unquote(parts.path)) if parts.scheme.lower() == "file" else Path(target)
    if progress:
        progress.stage(f"reading {path}…")
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        raise ImportFailed(f"{path}: cannot read: {error.strerror or error}") from error
    if len(data) > max_bytes:
        raise ImportFailed(f"{path}: larger than {max_bytes} bytes; is it a web page?")
    return Page(html=decode_html(data, None), source=str(path))


def fetch(
    url: str,
    *,
    user_agent: str,
    timeout: float,
    max_bytes: int = MAX_PAGE_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Page:
    """GET ``url`` and return its HTML, or raise :class:`ImportFailed`.

    Redirects are followed up to ``max_redirects``; the body is read as a
    stream and abandoned past ``max_bytes``; ``timeout`` bounds each
    connect/read. Only HTML is accepted.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ImportFailed(f"{url}: only http(s) URLs, file:// URLs and paths can be imported")
    if progress:
        progress.stage(f"fetching {url}…")
    try:
        with (
            httpx.Client(
                transport=transport,
                follow_redirects=True,
                max_redirects=max_redirects,
                timeout=httpx.Timeout(timeout),
                headers={
                    "User-Agent": user_agent,
                    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                },
            ) as client,
            client.stream("GET", url) as response,
        ):
            if not response.is_success:
                raise ImportFailed(f"{url}: the server answered HTTP {response.status_code}")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind and kind not in _HTML_TYPES:
                raise ImportFailed(f"{url}: not a web page (content type {kind})")
            received = bytearray()
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) > max_bytes:
                    raise ImportFailed(f"{url}: page larger than {max_bytes} bytes")
                if progress:
                    progress.update(f"fetching {url}… {len(received) / 1000:.1f} kB")
            final = str(response.url)
            charset = response.charset_encoding
    except httpx.TooManyRedirects as error:
        raise ImportFailed(f"{url}: more than {max_redirects} redirects") from error
    except httpx.TimeoutException as error:
        raise ImportFailed(f"{url}: no answer within {timeout:g} s") from error
    except httpx.HTTPError as error:
        raise ImportFailed(f"{url}: {type(error).__name__}: {error}") from error
    return Page(html=decode_html(bytes(received), charset), source=final, url=final)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def decode_html(data: bytes, charset: str | None) -> str:
    """Bytes to text: the HTTP charset, else a ``<meta charset>`` near the top,
    else UTF-8, else Windows-1252 (which decodes any byte)."""
    candidates: list[str] = []
    if charset:
        candidates.append(charset)
    if data.startswith(b"\xef\xbb\xbf"):
        candidates.append("utf-8-sig")
    if match := _META_CHARSET.search(data[:4096]):
        candidates.append(match.group(1).decode("ascii"))
    candidates += ["utf-8", "cp1252"]
    for name in candidates:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")
