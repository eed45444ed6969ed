"""Text typed by a person (``preview``, a replayed line) read into a
:class:`PlainText`, and the tidying that reading HTML shares.
"""

from __future__ import annotations

import re

from bot.model.post import MentionRef, PlainText

# -- shared helpers ------------------------------------------------------------

#: Spaces that should read as a plain space: NBSP, narrow NBSP (French
#: typography puts one before « ; : ! ? »), figure/thin/hair spaces,
#: ideographic space.
_SPACES = {ord(c): " " for c in "\u00a0\u202f\u2007\u2000\u2001\u2002\u2003\u2004\u2005\u2006"}
_SPACES.update({ord(c): " " for c in "\u2008\u2009\u200a\u205f\u3000\t\f\v"})
INLINE_WS = re.compile(r"\s+")
_TRAILING_WS = re.compile(r"[ \t]+\n")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    """Normalise spaces and line ends: no trailing spaces, at most one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_SPACES)
    text = _TRAILING_WS.sub("\n", text)
    return _MANY_NEWLINES.sub("\n\n", text).strip()


def dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def dedupe_mentions(mentions: list[MentionRef]) -> tuple[MentionRef, ...]:
    """First mention of each account, in order (accounts compare case-insensitively)."""
    seen: dict[str, MentionRef] = {}
    for mention in mentions:
        seen.setdefault(mention.acct.casefold(), mention)
    return tuple(seen.values())


# -- typed text ------------------------------------------------------------------

_URL = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
#: Mastodon's own mention syntax: ``@user`` or ``@user@domain``; not inside
#: a word (an e-mail address) or a URL.
_MENTION = re.compile(
    r"(?<![\w@/.:])@([a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)"
    r"(?:@((?:[\w-]+\.)+[\w-]+))?",
    re.IGNORECASE,
)
#: A hashtag needs a letter, as on Mastodon (``#1`` is not a tag).
_HASHTAG = re.compile(r"(?<![\w/&#])#(\w*[^\W\d_]\w*)")
_URL_TRAILING = ".,;:!?…»«\"')]}*"


def _trim_url(url: str) -> str:
    """Drop trailing punctuation that belongs to the sentence, keeping a
    closing parenthesis the URL opened itself (Wikipedia links)."""
    while url and url[-1] in _URL_TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def plain_to_text(text: str) -> PlainText:
    """Text typed by a person (``filrouge preview``) → :class:`PlainText`.

    ``@user`` and ``@user@domain`` become mentions (url left empty: there
    is no server to ask), ``#tag`` hashtags, ``http(s)://`` URLs links.
    """
    text = tidy(text or "")
    links: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _URL.finditer(text):
        url = _trim_url(match.group())
        if "://" in url and len(url) > url.index("://") + 3:
            links.append(url)
            spans.append((match.start(), match.start() + len(url)))
    # Mentions and hashtags inside URLs ("…/@user", "page#part") are not ones.
    blanked = text
    for start, end in spans:
        blanked = blanked[:start] + " " * (end - start) + blanked[end:]
    mentions = [
        MentionRef(acct=f"{user}@{domain.lower()}" if domain else user)
        for user, domain in _MENTION.findall(blanked)
    ]
    return PlainText(
        text=text,
        mentions=dedupe_mentions(mentions),
        hashtags=dedupe(_HASHTAG.findall(blanked)),
        links=dedupe(links),
    )
