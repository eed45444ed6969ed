"""Import an essay from its web page into a draft catalog entry.

``filrouge catalog import URL`` is the admin's starting point for a new
essay: it fetches the page, keeps the article and drops the rest (menus,
share buttons, comments, footers), and writes a TOML draft with the essay's
metadata and candidate quotes. The bot never posts the draft as it is: the
admin keeps the quotes that stand on their own, tags them, and writes the
reading prompts — no text here is generated, every candidate is a verbatim
run of whole sentences from the page.

The steps, each a function a test can call on its own:

1. :func:`fetch` (httpx: timeout, size cap, bounded redirects) or
   :func:`read_local` (a saved page, for offline use) → :class:`Page`;
2. :func:`extract` → :class:`Article` (title, author, canonical URL,
   language, date, main-text paragraphs), by ``trafilatura``, a maintained
   main-content extractor, with the page's own ``<html lang>`` and ``og:``
   metadata as fallbacks;
3. :func:`quote_budget` → how long a quote may be so that a status made from
   the rules' quote templates still fits ``max_characters``, measured with
   :func:`bot.render.status_length` exactly as the bot counts its replies;
4. :func:`candidate_quotes` → sentence-bounded passages within that budget;
5. :func:`draft_toml` → the draft, which :func:`bot.catalog.load_catalog`
   accepts as it is.

Fetching is the admin's own request for a page they chose, not a stranger's
link, so it is not held to the resolver's address policy (``bot.links``);
it still has a timeout, a size cap and at most five redirects.
"""

from __future__ import annotations

import re
import sys
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TextIO
from urllib.parse import quote as percent_encode
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx

from bot.catalog.fit import ASSUMED_REQUESTER
from bot.model.catalog import Essay
from bot.text.language import language_code
from bot.text.page import PageHead
from bot.text.render import (
    PLACEHOLDERS,
    neutralise_mentions,
    parse_template,
    render,
    sentence_ends,
    status_length,
)
from bot.text.urls import normalize_url

#: A web page is read up to this many bytes; essays are far smaller, but
#: newsletter archives inline their styles and scripts.
MAX_PAGE_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
#: Shorter passages rarely stand on their own as a quote.
MIN_QUOTE_LENGTH = 60
#: The overhead assumed when the rules file cannot be read: the bundled
#: ``citation`` rule's wording.
TYPICAL_TEMPLATE = "{requester} Ce qu’en dit le texte :\n\n« {quote} »\n— {author}\n{quote_url}"

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
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


# -- extracting -----------------------------------------------------------------


@dataclass(frozen=True)
class Article:
    title: str
    #: None when the page names no author.
    author: str | None
    #: The canonical URL (``<link rel=canonical>``, ``og:url``), else where it was read.
    url: str | None
    #: An ISO 639 code (``fr``), None when the page does not say.
    language: str | None
    #: The publication date as the page gives it (ISO ``YYYY-MM-DD``), if any.
    published: str | None
    #: The main text, one paragraph per item, headings left out.
    paragraphs: tuple[str, ...]
    site_name: str | None = None


def _absolute_http(url: str | None, base: str | None) -> str | None:
    if not url:
        return None
    if base:
        url = urljoin(base, url)
    return url if urlsplit(url).scheme.lower() in ("http", "https") else None


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def extract(page: Page) -> Article:
    """The article in ``page``, or :class:`ImportFailed` when there is none."""
    try:
        import trafilatura
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportFailed(
            "catalog import needs the trafilatura package: pip install 'fil-rouge[import]'"
        ) from error

    head = PageHead()
    try:
        head.feed(page.html)
        head.close()
    except (AssertionError, ValueError):  # pragma: no cover - html.parser is forgiving
        pass
    document = trafilatura.bare_extraction(
        page.html,
        url=page.url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        favor_precision=True,
    )
    if document is None or isinstance(document, dict):
        raise ImportFailed(f"{page.source}: no article found in the page")
    paragraphs = _paragraphs(document.body)
    if not paragraphs:
        raise ImportFailed(f"{page.source}: no article text found in the page")
    meta = head.first
    title = _clean(document.title or meta("og:title") or "")
    url = (
        _absolute_http(next(iter(head.canonicals), None), page.url)
        or _absolute_http(meta("og:url"), page.url)
        or _absolute_http(document.url, page.url)
        or page.url
    )
    language = (
        language_code(head.lang)
        or language_code(meta("content-language"))
        or language_code(meta("og:locale"))
        or language_code(document.language)
    )
    return Article(
        title=title,
        author=_clean(document.author or meta("author") or "") or None,
        url=url,
        language=language,
        published=document.date or None,
        paragraphs=paragraphs,
        site_name=_clean(document.sitename or meta("og:site_name") or "") or None,
    )


def _paragraphs(body: object) -> tuple[str, ...]:
    """Paragraph texts from trafilatura's body tree: ``<p>``, block quotes and
    list items; headings are left out (they rarely stand as a quote)."""
    found: list[str] = []
    iterate = getattr(body, "iter", None)
    if iterate is None:
        return ()
    for element in iterate():
        tag = getattr(element, "tag", None)
        if tag not in ("p", "item", "quote"):
            continue
        # A block quote or list item holding <p>s is read through them, so
        # each text is kept once; one holding bare text is a paragraph itself.
        if tag != "p" and any(child.tag == "p" for child in element):
            continue
        text = _clean("".join(element.itertext()))
        if text:
            found.append(text)
    return tuple(dict.fromkeys(found))


# -- the quote budget -------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """How long a candidate quote may be, and where that figure comes from."""

    max_length: int
    max_characters: int
    overhead: int
    #: ``rule (language)`` of the template that set the overhead, or a note.
    template: str


def quote_templates(rules_path: Path | None) -> list[tuple[str, str]]:
    """``(label, source)`` of each template in the rules file that shows a
    quote; empty when the file cannot be read (the caller falls back)."""
    if rules_path is None:
        return []
    try:
        data = tomllib.loads(rules_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    found: list[tuple[str, str]] = []
    rules = data.get("rules")
    if not isinstance(rules, list):
        return []
    for rule in rules:
        if not isinstance(rule, dict) or not isinstance(rule.get("templates"), dict):
            continue
        for language, source in rule["templates"].items():
            if not isinstance(source, str):
                continue
            try:
                template = parse_template(source, language)
            except ValueError:
                continue
            if "quote" in template.fields:
                found.append((f"{rule.get('name', '?')} ({language})", source))
    return found


def quote_budget(
    *,
    max_characters: int,
    url_length: int,
    author: str,
    title: str,
    url: str,
    templates: Sequence[tuple[str, str]] = (),
) -> Budget:
    """The longest quote that fits every quote template within ``max_characters``.

    Each template is rendered with an empty quote, a 30-character handle and
    this essay's author, title and URL, and measured as the server counts it;
    the largest of those is the overhead.
    """
    sources = list(templates) or [("typical template", TYPICAL_TEMPLATE)]
    values = dict.fromkeys(PLACEHOLDERS, "")
    values.update(
        requester=ASSUMED_REQUESTER,
        author=author,
        essay_title=title,
        essays=title,
        essay_url=url,
        quote_url=url,
        rules_url=url,
    )
    worst = ("", 0)
    for label, source in sources:
        length = status_length(render(parse_template(source, "fr"), values), url_length=url_length)
        if length > worst[1]:
            worst = (label, length)
    return Budget(
        max_length=max(0, max_characters - worst[1]),
        max_characters=max_characters,
        overhead=worst[1],
        template=worst[0],
    )


# -- candidate quotes -------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    id: str
    text: str
    #: 1-based number of the paragraph it comes from.
    paragraph: int
    length: int


@dataclass(frozen=True)
class Passages:
    candidates: tuple[Candidate, ...]
    #: Sentences that do not fit the budget even alone (they are left out).
    too_long: tuple[str, ...] = ()
    #: Paragraphs (or their leftovers) shorter than the minimum.
    too_short: int = 0


def _balanced(text: str) -> bool:
    """False when a « or “ is left open: ending a passage there would misquote."""
    return text.count("«") <= text.count("»") and text.count("“") <= text.count("”")


def sentences(paragraph: str) -> list[str]:
    """The paragraph cut at sentence ends that close every quotation mark
    opened before them (so a passage never ends inside a quotation)."""
    pieces: list[str] = []
    start = 0
    for end in sentence_ends(paragraph):
        if not _balanced(paragraph[:end]):
            continue
        piece = paragraph[start:end].strip()
        if piece:
            pieces.append(piece)
        start = end
    rest = paragraph[start:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def _pack(
    lengths: Sequence[int], limit: int, join: Callable[[int, int], int]
) -> list[tuple[int, int]]:
    """Split sentences ``0..n`` into runs ``(i, j)`` that each fit ``limit``.

    The fewest runs, and among those the most even ones (the longest run as
    short as possible), so a paragraph yields passages of similar weight rather
    than one full passage and a scrap. ``join(i, j)`` is the length of
    sentences ``i..j-1`` together. A sentence longer than ``limit`` breaks the
    paragraph in two around it.
    """
    n = len(lengths)
    # best[i] = (runs, longest run) for sentences i..n-1, with the cut after.
    infinite = (n + 1, 1 << 30)
    best: list[tuple[int, int]] = [infinite] * n + [(0, 0)]
    cut: list[int] = [n] * (n + 1)
    for i in range(n - 1, -1, -1):
        if lengths[i] > limit:
            # Cannot be quoted: whatever follows is packed on its own.
            best[i], cut[i] = best[i + 1], i + 1
            continue
        for j in range(i + 1, n + 1):
            if j > i + 1 and lengths[j - 1] > limit:
                break
            length = join(i, j)
            if length > limit:
                break
            runs, longest = best[j]
            option = (runs + 1, max(longest, length))
            if option < best[i]:
                best[i], cut[i] = option, j
    packed: list[tuple[int, int]] = []
    i = 0
    while i < n:
        j = cut[i]
        if lengths[i] <= limit:
            packed.append((i, j))
        i = j
    return packed


def _length(text: str, url_length: int) -> int:
    """A quote's length as posted: ``bot.decide`` neutralises its mentions
    (a zero-width space after each ``@``), which the server counts."""
    return status_length(neutralise_mentions(text), url_length=url_length)


def candidate_quotes(
    paragraphs: Sequence[str],
    *,
    max_length: int,
    url_length: int = 23,
    min_length: int = MIN_QUOTE_LENGTH,
    prefix: str = "",
    taken: Iterable[str] = (),
) -> Passages:
    """Verbatim passages of whole sentences, each at most ``max_length`` as the
    server counts it, at least ``min_length`` long, never crossing a paragraph.

    Ids are ``<prefix>-<first words>``, ASCII, unique, none in ``taken``.
    """
    used = set(taken)
    candidates: list[Candidate] = []
    too_long: list[str] = []
    too_short = 0
    for number, paragraph in enumerate(paragraphs, start=1):
        pieces = sentences(paragraph)
        lengths = [_length(piece, url_length) for piece in pieces]
        too_long += [
            piece for piece, length in zip(pieces, lengths, strict=True) if length > max_length
        ]

        def join(i: int, j: int, pieces: list[str] = pieces) -> int:
            return _length(" ".join(pieces[i:j]), url_length)

        for i, j in _pack(lengths, max_length, join):
            text = " ".join(pieces[i:j])
            length = join(i, j)
            if length < min_length:
                too_short += 1
                continue
            quote_id = _unique(_slug_words(text, prefix), used)
            used.add(quote_id)
            candidates.append(Candidate(quote_id, text, number, length))
    return Passages(tuple(candidates), tuple(too_long), too_short)


# -- ids ----------------------------------------------------------------------------

#: Words that make poor ids: articles, pronouns, auxiliaries (fr and en).
_FILLER_WORDS = (
    "le la les un une des du de d l au aux et ou mais donc or ni car que qu qui quoi"
    " ce cet cette ces c ca se s sa son ses leur leurs nous vous ils elles il elle on"
    " je j me m te t tu y en ne n pas plus est sont a ont etait etre avoir fait dans"
    " sur par pour avec sans sous chez tout tous toute toutes tres bien aussi comme"
    " ai avait avons avez"
    " the a an of to in on at by for with and or but not is are was were be been it"
    " its this that these those i you he she we they my your our their as from"
)
_FILLER = frozenset(_FILLER_WORDS.split(" "))


def ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def _slug_words(text: str, prefix: str, words: int = 3) -> str:
    # Elided words (n’ai, l’énergie) are split at the apostrophe first, so
    # that the article or negation falls away instead of gluing on.
    spaced = re.sub(r"['’ʼ]", " ", text)
    kept = [w for w in ascii_slug(spaced).split("-") if len(w) > 2 and w not in _FILLER][:words]
    slug = "-".join(kept) or "passage"
    return f"{prefix}-{slug}" if prefix else slug


def _unique(candidate: str, used: set[str]) -> str:
    if candidate not in used:
        return candidate
    number = 2
    while f"{candidate}-{number}" in used:
        number += 1
    return f"{candidate}-{number}"


def essay_id_for(article: Article, *, taken: Iterable[str] = ()) -> str:
    """A slug for the essay: the last segment of its URL when that reads like
    one (``…/archive/ia-probleme/``), else the first words of its title."""
    used = set(taken)
    segment = ""
    if article.url:
        path = urlsplit(article.url).path.rstrip("/")
        segment = re.sub(r"\.(html?|php|aspx?)$", "", path.rsplit("/", 1)[-1], flags=re.I)
        segment = ascii_slug(unquote(segment))
    if not re.search(r"[a-z]", segment) or len(segment) > 40:
        segment = "-".join(ascii_slug(article.title).split("-")[:5])
    return _unique(segment or "essai", used)


def valid_id(value: str) -> bool:
    return bool(_ID.match(value))


# -- the draft ------------------------------------------------------------------------


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string (control characters escaped)."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def text_fragment(url: str, text: str, words: int = 5) -> str:
    """A link that scrolls to ``text`` in browsers that support text fragments
    (``#:~:text=``); the others open the page. ``-``, ``,`` and ``&`` are
    percent-encoded because the fragment syntax gives them a meaning."""
    start = " ".join(text.split()[:words])
    encoded = percent_encode(start, safe="").replace("-", "%2D")
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, f":~:text={encoded}"))


@dataclass(frozen=True)
class Draft:
    essay_id: str
    article: Article
    author: str
    language: str
    url: str
    budget: Budget
    passages: Passages
    source: str
    #: Things the admin must look at first, one line each.
    warnings: tuple[str, ...] = field(default=())


def make_draft(
    article: Article,
    *,
    source: str,
    max_characters: int,
    url_length: int,
    default_language: str,
    rules_path: Path | None = None,
    essay_id: str | None = None,
    max_quote_length: int | None = None,
    existing: ExistingCatalog | None = None,
) -> Draft:
    """Everything the draft says, decided; :func:`draft_toml` only writes it."""
    existing = existing or ExistingCatalog()
    warnings: list[str] = []
    url = article.url
    if url is None:
        raise ImportFailed(
            f"{source}: the page names no canonical URL; import it from its web address instead"
        )
    if owner := existing.essay_at(url):
        warnings.append(f'the catalog already has this URL, as essay "{owner}"')
    author = article.author
    if not author:
        author = article.site_name or urlsplit(url).hostname or "?"
        warnings.append(f'no author found on the page: "{author}" is the site\'s name')
    language = article.language
    if not language:
        language = default_language
        warnings.append(f'the page does not give its language: "{language}" is assumed')
    if not article.title:
        warnings.append("the page has no title")
    chosen_id = essay_id or essay_id_for(article, taken=existing.essay_ids)
    if chosen_id in existing.essay_ids:
        warnings.append(f'the catalog already has an essay "{chosen_id}"')
    if max_quote_length is not None:
        budget = Budget(max_quote_length, max_characters, 0, "--max-quote-length")
    else:
        budget = quote_budget(
            max_characters=max_characters,
            url_length=url_length,
            author=author,
            title=article.title,
            url=url,
            templates=quote_templates(rules_path),
        )
    passages = candidate_quotes(
        article.paragraphs,
        max_length=budget.max_length,
        url_length=url_length,
        taken=existing.item_ids,
    )
    if not passages.candidates:
        raise ImportFailed(
            f"{source}: no passage of whole sentences fits {budget.max_length} characters"
            f" ({len(article.paragraphs)} paragraphs read); try --max-quote-length"
        )
    return Draft(
        essay_id=chosen_id,
        article=article,
        author=author,
        language=language,
        url=url,
        budget=budget,
        passages=passages,
        source=source,
        warnings=tuple(warnings),
    )


@dataclass(frozen=True)
class ExistingCatalog:
    """The ids and URLs the draft must not collide with."""

    essay_ids: frozenset[str] = frozenset()
    item_ids: frozenset[str] = frozenset()
    #: Normalised canonical and alias URL → essay id.
    urls: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, essays: Iterable[Essay]) -> ExistingCatalog:
        known = tuple(essays)
        return cls(
            essay_ids=frozenset(e.id for e in known),
            item_ids=frozenset(q.id for e in known for q in e.quotes)
            | frozenset(p.id for e in known for p in e.prompts),
            urls={normalize_url(u): e.id for e in known for u in (e.url, *e.aliases)},
        )

    def essay_at(self, url: str) -> str | None:
        return self.urls.get(normalize_url(url))


def draft_toml(draft: Draft, *, today: date) -> str:
    """The draft entry: TOML that ``load_catalog`` accepts, with comments that
    tell the admin what to review."""
    article = draft.article
    budget = draft.budget
    passages = draft.passages
    lines = [
        f"# DRAFT catalog entry, written by `filrouge catalog import` on {today.isoformat()}",
        f"# from {draft.source}",
        "#",
        "# Nothing here is posted until you append it to the catalog",
        "# (FILROUGE_CATALOG_PATH). Before that, review it:",
        "#   1. title, author, url and language: check them against the page;",
        "#   2. aliases: add other links that lead to the essay (an aggregator or",
        "#      newsletter link); hashtags: any the essay's readers use;",
        "#   3. quotes: KEEP ONLY those that stand on their own and speak to what",
        "#      threads argue about; delete the others. Never edit the words: a",
        "#      quote is verbatim. Then give each one tags (for rules) and keywords",
        "#      (French and English words a reply might use);",
        "#   4. reading prompts: write them yourself (example at the end);",
        "#   5. run `filrouge check-config`.",
        "#",
        f"# {len(passages.candidates)} candidate quotes from {len(article.paragraphs)} paragraphs.",
        f"# Each fits {budget.max_length} characters: {_budget_note(budget)}.",
    ]
    if passages.too_long:
        lines.append(
            f"# {len(passages.too_long)} sentence(s) longer than that were left out; quote"
            " them by hand if they matter (the bot cuts quotes only at sentence ends)."
        )
    for warning in draft.warnings:
        lines.append(f"# REVIEW: {warning}")
    lines += [
        "",
        "[[essays]]",
        f"id = {toml_string(draft.essay_id)}",
        f"title = {toml_string(article.title or draft.url)}",
        f"author = {toml_string(draft.author)}",
        f"url = {toml_string(draft.url)}",
        f"language = {toml_string(draft.language)}",
        "aliases = []",
        "hashtags = []",
    ]
    if article.published:
        lines.append(f"# published {article.published} (for the record; the catalog has no date)")
    for candidate in passages.candidates:
        lines += [
            "",
            f"# paragraph {candidate.paragraph} · {candidate.length}/{budget.max_length}"
            " characters",
            "[[essays.quotes]]",
            f"id = {toml_string(candidate.id)}",
            f"text = {toml_string(candidate.text)}",
            "tags = []",
            "keywords = []",
            f"anchor_url = {toml_string(text_fragment(draft.url, candidate.text))}",
        ]
    lines += [
        "",
        "# Reading prompts send a reader back to one passage. Write them yourself:",
        "# the bot posts only what people wrote. For example:",
        "#",
        "# [[essays.prompts]]",
        f'# id = "{draft.essay_id}-q-…"',
        '# tags = ["…"]',
        '# keywords = ["…", "…"]',
        "# [essays.prompts.text]",
        '# fr = "Avant de répondre : que dit le texte de … ? Relisez le passage sur « … »."',
        '# en = "Before replying: what does the essay say about …? Reread the passage on « … »."',
        "",
    ]
    return "\n".join(lines)


def _budget_note(budget: Budget) -> str:
    if budget.template == "--max-quote-length":
        return "the limit given with --max-quote-length"
    return (
        f"{budget.max_characters} per status minus {budget.overhead} for the longest"
        f" quote template, {budget.template}, with a 30-character handle"
    )


# -- writing ------------------------------------------------------------------------------


def write_new(path: Path, text: str, *, force: bool) -> None:
    """Write ``text`` to ``path``; an existing file is replaced only with ``force``
    (and then atomically, so a failure leaves the old file whole)."""
    if not force:
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError as error:
            raise FileExistsError(f"{path} exists; use --force to replace it") from error
        return
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
