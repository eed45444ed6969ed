"""Mastodon's HTML to plain text.

Mastodon sends a status as sanitized HTML (``content``); remote posts have no
plain-text source. :func:`html_to_text` turns it into a :class:`PlainText`
whose ``text`` reads like the post did on screen and whose ``mentions``,
``hashtags`` and ``links`` keep the structure the markup carried. What the
server emits is described in docs.joinmastodon.org/spec/activitypub (the
"Sanitization" section) and ``app/lib/sanitize_ext/sanitize_config.rb``;
other servers (Akkoma, GoToSocial, Misskey…) send close variants, handled
here too.

Web pages are read by ``bot.text.page``; typed text by ``bot.text.plain``.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from bot.model.post import MentionRef, PlainText
from bot.text.plain import INLINE_WS, dedupe, dedupe_mentions, tidy

__all__ = ["MAX_HTML_CHARS", "acct_from_mention", "html_to_text"]

# -- HTML ---------------------------------------------------------------------

#: Mastodon accepts up to 500 characters by default, some servers 100,000; a
#: status's HTML longer than this is not a status anyone reads. Parsing is cut
#: there so that time stays bounded.
MAX_HTML_CHARS = 200_000


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


_VOID = _words("area base br col embed hr img input link meta param source track wbr")
#: Elements that start a new paragraph (Mastodon 4.2+ allows lists,
#: blockquote and pre; other servers send headings and divs).
_BLOCKS = _words(
    "p div blockquote pre ul ol dl dd dt h1 h2 h3 h4 h5 h6 table tr section"
    " article header footer aside figure figcaption details summary hr"
)
#: Elements whose content is never shown.
_HIDDEN = _words("script style template head title noscript iframe object svg math")
#: Block elements that implicitly close an open ``<p>`` (HTML's rule), used
#: to end a ``quote-inline`` paragraph that lacks its ``</p>``.
_CLOSES_P = _BLOCKS - {"dd", "dt", "tr", "summary", "figcaption"}

#: A ``<`` that is not followed by a ``>`` before the next ``<`` can never
#: open a tag. ``html.parser`` rescans from such a ``<`` to the end of the
#: input each time (quadratic: 100 KB of ``<a`` takes minutes), so they are
#: escaped first. ``[^<>]*`` stops at the next bracket, keeping this linear.
_STRAY_LT = re.compile(r"<(?=[^<>]*(?:<|\Z))")
#: Declarations, CDATA and processing instructions never occur in a sanitized
#: status, and the parser rescans unclosed ones too: shown as text instead.
_MARKUP_DECLARATION = re.compile(r"<(?=[!?])")
_TAGS = re.compile(r"<[^<>]*>")
_BLOCK_TAGS = re.compile(r"<\s*(?:br|/?p|/?div|/?li|/?blockquote)\b[^<>]*>", re.IGNORECASE)
_ELLIPSES = ("…", "...")
_EMOJI_ALT = re.compile(r"^:[\w+-]+:$")


@dataclass
class _Anchor:
    href: str
    kind: str  # "mention", "hashtag", "link" or "" (decided from the text at the end)
    parts: list[str] = field(default_factory=list)


def _classes(attrs: dict[str, str]) -> frozenset[str]:
    return frozenset(attrs.get("class", "").split())


def acct_from_mention(href: str, shown: str) -> str:
    """The ``user@domain`` a mention anchor points at.

    Mastodon shows only ``@user``; the domain comes from the link. Profile
    URLs differ between servers: ``/@user`` (Mastodon, Misskey, GoToSocial),
    ``/users/user`` (Akkoma, Pleroma), ``/u/user`` (Lemmy),
    ``/profile/user`` (Friendica). When the path does not name the account
    shown (``/users/<id>``, a blog's ``/author/x/``) the shown name wins.

    >>> acct_from_mention("https://mastodon.social/@maiwann", "@maiwann")
    'maiwann@mastodon.social'
    """
    shown = shown.strip().lstrip("@").strip()
    if "@" in shown:
        return shown
    try:
        parts = urlsplit(href)
        host = parts.hostname or ""
        segments = [unquote(s) for s in parts.path.split("/") if s]
    except ValueError:
        host, segments = "", []
    name = ""
    for segment in segments:
        if segment.startswith("@") and len(segment) > 1:
            name = segment[1:]
            if "@" in name:  # a server linking a remote account: /@user@domain
                return name
            break
    else:
        if len(segments) >= 2 and segments[-2] in {"users", "u", "user", "profile", "c"}:
            name = segments[-1]
        elif len(segments) == 1:
            name = segments[0]
    if shown and name.casefold() != shown.casefold():
        name = shown
    if not name:
        return ""
    return f"{name}@{host}" if host else name


class _Converter(HTMLParser):
    """Walks the HTML once, writing text and collecting structure.

    Constant work per event and no recursion: nesting depth costs nothing
    but one counter.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        #: Newlines owed before the next visible text (1: line, 2: paragraph).
        self.pending = 0
        self.skip_tag = ""
        self.skip_depth = 0
        self.anchor: _Anchor | None = None
        self.pre = 0
        self.bullet = False
        #: One flag per open <span>: is it an h-card (a mention's wrapper)?
        self.spans: list[bool] = []
        self.hcards = 0
        self.mentions: list[MentionRef] = []
        self.hashtags: list[str] = []
        self.links: list[str] = []

    # -- output

    def _write(self, text: str) -> None:
        if not self.pre:
            text = INLINE_WS.sub(" ", text)
        if not text or (text.isspace() and (self.pending or self._at_line_start())):
            return
        if self.pending:
            if self.out:
                self.out.append("\n" * min(self.pending, 2))
            self.pending = 0
            text = text.lstrip(" ") if not self.pre else text
        elif not self.pre and (self._at_line_start() or self.out[-1].endswith(" ")):
            # Spaces from neighbouring pieces (``a <img> b``) read as one.
            text = text.lstrip(" ")
        if self.bullet:
            self.out.append("- ")
            self.bullet = False
        self.out.append(text)

    def _at_line_start(self) -> bool:
        return not self.out or self.out[-1].endswith("\n")

    def _block(self) -> None:
        self.pending = max(self.pending, 2)

    # -- parser events

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_depth:
            if self.skip_tag == "p" and tag in _CLOSES_P:
                self._end_skip()  # HTML closes an open <p> here; fall through
            else:
                if tag == self.skip_tag and tag not in _VOID:
                    self.skip_depth += 1
                return
        values = {name: value or "" for name, value in attrs}
        classes = _classes(values)
        if tag in _HIDDEN or "quote-inline" in classes:
            # quote-inline: the "RE: <url>" line Mastodon 4.5+ prepends to quote
            # posts for clients without quote support; not the author's words.
            if tag not in _VOID:
                self.skip_tag, self.skip_depth = tag, 1
            return
        if tag == "br":
            if self.anchor is None:
                self.pending = min(self.pending + 1, 2) if self.out else 0
            return
        if tag in _BLOCKS:
            self._close_anchor()
            self._block()
            if tag == "pre":
                self.pre += 1
            return
        if tag == "li":
            self._close_anchor()
            self.pending = max(self.pending, 1)
            self.bullet = True
            return
        if tag == "span":
            hcard = "h-card" in classes
            self.spans.append(hcard)
            self.hcards += hcard
            return
        if tag == "a":
            self._open_anchor(values, classes)
            return
        if tag == "img" and ("emoji" in classes or _EMOJI_ALT.match(values.get("alt", ""))):
            # Some servers send custom emoji as <img alt=":name:">; Mastodon sends
            # the :shortcode: as text. Either way the text shows the shortcode.
            self._data(values.get("alt", ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br /> must count once; a self-closed non-void element (<p/>) opens and closes.
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip_depth:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if not self.skip_depth:
                    self._end_skip()
            return
        if tag == "a":
            self._close_anchor()
        elif tag == "span":
            if self.spans:
                self.hcards -= self.spans.pop()
        elif tag in _BLOCKS:
            self._close_anchor()
            self._block()
            if tag == "pre" and self.pre:
                self.pre -= 1
        elif tag == "li":
            self.pending = max(self.pending, 1)

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self._data(data)

    def _data(self, data: str) -> None:
        if self.anchor is not None:
            self.anchor.parts.append(data)
        else:
            self._write(data)

    def _end_skip(self) -> None:
        block = self.skip_tag in _BLOCKS
        self.skip_tag, self.skip_depth = "", 0
        if block:
            self._block()

    # -- anchors

    def _open_anchor(self, attrs: dict[str, str], classes: frozenset[str]) -> None:
        self._close_anchor()  # HTML does not nest anchors
        rel = frozenset(attrs.get("rel", "").split())
        if "hashtag" in classes or "tag" in rel:
            kind = "hashtag"
        elif "mention" in classes or "u-url" in classes or self.hcards:
            # Hashtags carry the "mention" class too, hence the order.
            kind = "mention"
        else:
            kind = ""
        self.anchor = _Anchor(href=attrs.get("href", "").strip(), kind=kind)

    def _close_anchor(self) -> None:
        anchor, self.anchor = self.anchor, None
        if anchor is None:
            return
        raw = INLINE_WS.sub(" ", "".join(anchor.parts))
        shown = raw.strip()
        kind = anchor.kind
        if not kind:
            kind = {"@": "mention", "#": "hashtag"}.get(shown[:1], "link")
        if kind == "mention":
            acct = acct_from_mention(anchor.href, shown)
            if acct:
                self.mentions.append(MentionRef(acct=acct, url=anchor.href))
        elif kind == "hashtag":
            tag = shown.lstrip("#").strip()
            if not tag:
                tag = unquote(anchor.href.rstrip("/").rpartition("/")[2])
            if tag:
                self.hashtags.append(tag)
        elif anchor.href.lower().startswith(("http://", "https://")):
            self.links.append(anchor.href)
            # Mastodon hides the scheme and the tail of long URLs with
            # invisible/ellipsis spans, and the text above already includes
            # them; other servers print a truncated URL ending in "…".
            if not shown or (shown.endswith(_ELLIPSES) and _looks_cut(shown, anchor.href)):
                shown = anchor.href
        # Spaces at the edges of the anchor's text separate it from its neighbours.
        self._write(raw[: len(raw) - len(raw.lstrip())] + shown + raw[len(raw.rstrip()) :])

    def finish(self) -> PlainText:
        self._close_anchor()
        return PlainText(
            text=tidy("".join(self.out)),
            mentions=dedupe_mentions(self.mentions),
            hashtags=dedupe(self.hashtags),
            links=dedupe(self.links),
        )


def _looks_cut(shown: str, href: str) -> bool:
    """Whether ``shown`` is ``href`` cut short (scheme and ``www.`` optional)."""
    stem = shown.rstrip(".…").strip()
    bare = re.sub(r"^[a-z][a-z0-9+.-]*://(www\.)?", "", href, flags=re.IGNORECASE)
    bare_stem = re.sub(r"^[a-z][a-z0-9+.-]*://(www\.)?", "", stem, flags=re.IGNORECASE)
    return bool(bare_stem) and bare.startswith(bare_stem)


def html_to_text(html: str) -> PlainText:
    """Mastodon status HTML → plain text plus its mentions, hashtags and links.

    ``<p>`` are separated by a blank line and ``<br>`` is a line break;
    mention anchors become ``MentionRef(acct="user@domain", url=href)``
    while the text keeps ``@user`` as shown; hashtags are listed without
    ``#``; links are listed by their full ``href`` and the text shows the full
    URL (Mastodon's ``invisible``/``ellipsis`` spans only hide parts of it).
    ``quote-inline`` paragraphs, scripts and styles are dropped; entities
    are decoded and non-breaking spaces read as spaces.

    Never raises, and takes time linear in the input (which is cut at
    :data:`MAX_HTML_CHARS`).
    """
    if not html:
        return PlainText(text="")
    html = _defuse(html[:MAX_HTML_CHARS])
    converter = _Converter()
    try:
        converter.feed(html)
        converter.close()
        return converter.finish()
    except Exception:  # the parser must never take the bot down
        return _crude_text(html)


def _defuse(html: str) -> str:
    """Rewrite what would make ``html.parser`` quadratic, in one linear pass each."""
    if "<!--" in html:
        # An unclosed comment hides the rest of the input, as in a browser.
        kept: list[str] = []
        position = 0
        while (start := html.find("<!--", position)) >= 0:
            kept.append(html[position:start])
            end = html.find("-->", start + 4)
            if end < 0:
                position = len(html)
                break
            position = end + 3
        kept.append(html[position:])
        html = "".join(kept)
    html = _MARKUP_DECLARATION.sub("&lt;", html)
    return _STRAY_LT.sub("&lt;", html)


def _crude_text(html: str) -> PlainText:
    """Last resort when the parser fails: keep the words, lose the structure."""
    try:
        text = _BLOCK_TAGS.sub("\n", html)
        return PlainText(text=tidy(_html.unescape(_TAGS.sub("", text))))
    except Exception:
        return PlainText(text="")
