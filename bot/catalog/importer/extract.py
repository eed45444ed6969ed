"""The article in a page: title, author, canonical URL, language, date and
main-text paragraphs, by ``trafilatura`` with the page's own head as fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from bot.catalog.importer.page import ImportFailed, Page
from bot.text.language import language_code
from bot.text.page import PageHead

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
