"""What a mention asks: its words after the leading @-mentions, the command
word that opens them, phrases and patterns found in it (pure).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.text.fold import fold

if TYPE_CHECKING:
    pass


# -- reading the mention ------------------------------------------------------

# The @-mentions a composer puts in front of a reply, then separators.
LEADING_MENTIONS = re.compile(r"^\s*(?:@[\w.-]+(?:@[\w.-]+)?[\s,:;]*)*")
# Opening quotation marks too: the bot's own replies say « mentionnez-moi avec
# le mot « start » » / "the word “stop”", and people copy the word with its quotes.
_LEADING_PUNCT = re.compile(r"^[\s,:;.!?\-–—«“„‹\"]+")


def without_handles(text: str) -> str:
    """``text`` without the block of @-mentions a composer puts in front of it."""
    return LEADING_MENTIONS.sub("", text, count=1)


def body(text: str) -> str:
    """The mention's words after the leading @-mentions, folded."""
    return _LEADING_PUNCT.sub("", fold(without_handles(text))).strip()


def request_words(text: str, commands: Iterable[str]) -> str:
    """The mention's words without the leading @-mentions and the command word
    that opens them, folded: what the request is about rather than who it
    addresses or what it asks for."""
    rest = body(text)
    command = command_in(rest, commands)
    if command is not None:
        rest = _LEADING_PUNCT.sub("", rest[len(fold(command).strip()) :])
    return rest


#: What may follow a command that must stand alone (folded): courtesy, words
#: that point at the bot's post or at the bot itself ("stop spamming me",
#: « arrête de me répondre »), "for me", "again". Nothing that says something
#: of its own.
_COURTESY = """
    stp svp s il te vous plait merci please pls plz thanks thank you thx
    ca cela ce cette ces c est le la les this that it these those the
    message messages post posts reponse reponses reply replies citation citations
    quote quotes pouet toot pour moi me m nous us for now maintenant encore again
    aussi too tout de suite bien sur ok oui yes plus jamais never ever
    spam spams spammer spamming spamme repondre reponds replying answering responding
    pinging messaging bothering mentioning harceler deranger mentions notifications
    bot robot filrouge
"""
COURTESY = frozenset(_COURTESY.split())
#: At most this many such words: a sentence made of them is still a sentence.
COURTESY_WORDS = 6
_WORDS = re.compile(r"[^\W_]+")


def command_alone(text_body: str, command: str) -> bool:
    """Whether ``command`` (opening ``text_body``, folded) is all the mention
    asks: what follows is punctuation, emoji, @-mentions and at most
    :data:`COURTESY_WORDS` courtesy or pointing words."""
    word = fold(command).strip()
    rest = re.sub(r"@[\w.-]+(?:@[\w.-]+)?", " ", text_body[len(word) :])
    # The command said again (« stop stop STOP ») is the command.
    words = [w for w in _WORDS.findall(rest) if w != word]
    return len(words) <= COURTESY_WORDS and all(w in COURTESY for w in words)


@lru_cache(maxsize=1024)
def _command_re(command: str) -> re.Pattern[str]:
    # A command is the first word (or words) of the body; what follows must not
    # continue the word: "sources" is not "source", "lien" mid-sentence is nothing.
    return re.compile(r"^" + re.escape(fold(command).strip()) + r"(?![\w'’-])")


@lru_cache(maxsize=4096)
def _phrase_re(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])" + re.escape(fold(phrase).strip()) + r"(?![\w])")


@lru_cache(maxsize=1024)
def compiled(pattern: str) -> re.Pattern[str]:
    # Validated at load time; compiled once per process.
    return re.compile(pattern)


def command_in(text_body: str, commands: Iterable[str]) -> str | None:
    """The first of ``commands`` that opens ``text_body`` (already folded), if any."""
    for command in commands:
        if command.strip() and _command_re(command).match(text_body):
            return command
    return None


def phrase_in(folded: str, phrases: Iterable[str]) -> str | None:
    for phrase in phrases:
        if phrase.strip() and _phrase_re(phrase).search(folded):
            return phrase
    return None
