"""What a web page says about itself, read from its HTML with the standard
library's parser: its language, its ``<meta>`` values, its canonical URL, a
``<meta http-equiv=refresh>`` target, and the links inside ``<h1>``.

The link resolver reads the canonical URL, ``og:url``, a refresh (shorteners
answer browsers with one) and the heading links (an aggregator's page about
a link carries the link in its title); ``catalog import`` reads the
language and the ``og:`` values that main-content extraction does not give.
Status content from Mastodon is another kind of HTML: ``bot.text.html``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_REFRESH_URL = re.compile(r"""url\s*=\s*['"]?([^'"\s]+)""", re.IGNORECASE)


class PageHead(HTMLParser):
    """Feed it the page (in pieces if need be); read the attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        #: ``<html lang>``, the first one.
        self.lang: str | None = None
        #: ``<meta>`` contents by ``property`` or ``name`` (lower case), in page
        #: order; ``http-equiv=content-language`` as ``content-language``.
        self.meta: dict[str, list[str]] = {}
        #: ``<link rel="canonical">`` targets, in page order.
        self.canonicals: list[str] = []
        #: ``<meta http-equiv=refresh>`` targets.
        self.refresh: list[str] = []
        #: Links inside ``<h1>``.
        self.heading_links: list[str] = []
        self._h1_depth = 0

    def first(self, name: str) -> str | None:
        """The first ``<meta>`` content named ``name``."""
        values = self.meta.get(name)
        return values[0] if values else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        if tag == "html":
            if values.get("lang") and self.lang is None:
                self.lang = values["lang"]
        elif tag == "meta":
            self._meta(values)
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split():
            if values.get("href"):
                self.canonicals.append(values["href"])
        elif tag == "h1":
            self._h1_depth += 1
        elif tag == "a" and self._h1_depth and values.get("href"):
            self.heading_links.append(values["href"])

    def _meta(self, values: dict[str, str]) -> None:
        content = values.get("content", "")
        equiv = values.get("http-equiv", "").lower()
        if equiv == "refresh":
            if match := _REFRESH_URL.search(content):
                self.refresh.append(match.group(1))
            return
        name = "content-language" if equiv == "content-language" else ""
        name = name or (values.get("property") or values.get("name") or "").lower()
        if name and content:
            self.meta.setdefault(name, []).append(content)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1" and self._h1_depth:
            self._h1_depth -= 1
