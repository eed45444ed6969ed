"""When the bot says nothing, or only that it cannot help: mentions that are
not requests about the essay at all.

- **hostile**: a short mention that only insults or dismisses the bot;
- **spam**: links to hosts the catalog does not know, with promotional wording;
- **other language**: written in a language no template speaks (skipped, or
  answered with one line of help in English when the policy says so).

Each is a ``Skip`` with its reason, decided before any rule: a quote posted
in answer to any of them would be a wrong quote. Consent commands (``stop``,
``start``) are never held back by these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.model.post import Post
from bot.text.fold import fold
from bot.text.urls import url_host

#: Phrases that dismiss whoever they are said to: aimed at the bot when they
#: open a short mention (« à quelle heure ferme la piscine » dismisses nobody).
DISMISSALS = frozenset(
    {
        # fr
        "ta gueule",
        "ferme-la",
        "la ferme",
        "degage",
        "casse toi",
        "casse-toi",
        "tais toi",
        "tais-toi",
        "on t'a rien demande",
        "personne t'a sonne",
        "fous le camp",
        # en
        "shut up",
        "go away",
        "get lost",
        "fuck off",
        "piss off",
        "screw you",
        "nobody asked",
        "no one asked",
    }
)
#: Insults, counted when they are said of the bot (a word below names it).
INSULTS = frozenset(
    {
        # fr
        "debile",
        "con",
        "connard",
        "conne",
        "cretin",
        "abruti",
        "idiot",
        "nul",
        "merde",
        "inutile",
        "stupide",
        # en
        "stupid",
        "dumb",
        "useless",
        "moron",
        "trash",
        "garbage",
        "pathetic",
    }
)
BOT_WORDS = frozenset({"bot", "robot", "machine", "toi", "tu", "t'es", "you", "you're", "your"})
#: A hostile mention says little else.
HOSTILE_MAX_WORDS = 8

#: Promotional wording; two cues (a price or a percentage counts as one)
#: beside a link to an unknown host make spam.
PROMOTION = frozenset(
    {
        # fr
        "gagnez",
        "gagner",
        "gratuit",
        "gratuite",
        "promo",
        "promotion",
        "offre",
        "cliquez",
        "achetez",
        "reduction",
        "remise",
        "limitee",
        "exceptionnelle",
        "formation",
        "formations",
        # en
        "buy",
        "cheap",
        "free",
        "discount",
        "offer",
        "deal",
        "click",
        "earn",
        "guaranteed",
        "followers",
        "limited",
        "crypto",
        "token",
        "bitcoin",
        "launching",
        "join",
        "price",
    }
)
_PRICE = re.compile(r"\d\s*(?:%|€|\$|x\b)|[€$]\s*\d")
SPAM_CUES = 2

_WORD = re.compile(r"[\w'’-]+")


def _words(text: str) -> list[str]:
    return [w.replace("’", "'") for w in _WORD.findall(fold(text))]


def hostile(body: str) -> str | None:
    """The words that make ``body`` (a mention after its @-mentions) an insult
    to the bot and nothing more, else None."""
    words = _words(body)
    if not words or len(words) > HOSTILE_MAX_WORDS:
        return None
    joined = " ".join(words)
    dismissal = next(
        (d for d in sorted(DISMISSALS) if re.search(rf"(?<!\w){re.escape(d)}(?!\w)", joined)), None
    )
    if dismissal is not None:
        return dismissal
    insult = next((w for w in words if w in INSULTS), None)
    if insult is not None and any(w in BOT_WORDS for w in words):
        return insult
    return None


def spam(post: Post, known_hosts: Iterable[str]) -> str | None:
    """Why ``post`` is spam (its unknown hosts and promotional cues), else None."""
    known = set(known_hosts)
    hosts = sorted({h for link in post.content.links if (h := url_host(link)) is not None} - known)
    if not hosts:
        return None
    words = _words(post.text)
    cues = sorted({w for w in words if w in PROMOTION})
    if _PRICE.search(post.text):
        cues.append("a price")
    if len(cues) < SPAM_CUES:
        return None
    return f"links to {', '.join(hosts)} with {', '.join(cues)}"
