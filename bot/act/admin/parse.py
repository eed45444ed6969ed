"""Reading an admin's command from a direct message (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.text.fold import fold
from bot.understand.request import without_handles

if TYPE_CHECKING:
    pass


# -- reading a command (pure) -----------------------------------------------------------


class Verb(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    STATUS = "status"
    RELOAD = "reload"
    MUTE = "mute"
    UNMUTE = "unmute"
    OPTOUT = "optout"
    #: In reply to one of the bot's posts: which passage would have been
    #: better (``mieux <id>``), or that none fitted (``aucune``).
    BETTER = "better"
    NONE = "none"


#: Command words, folded (accents and case removed), to the command.
WORDS: Mapping[str, Verb] = {
    "pause": Verb.PAUSE,
    "resume": Verb.RESUME,
    "reprendre": Verb.RESUME,
    "reprise": Verb.RESUME,
    "status": Verb.STATUS,
    "statut": Verb.STATUS,
    "etat": Verb.STATUS,
    "reload": Verb.RELOAD,
    "recharger": Verb.RELOAD,
    "mute": Verb.MUTE,
    "sourdine": Verb.MUTE,
    "unmute": Verb.UNMUTE,
    "optout": Verb.OPTOUT,
    "opt-out": Verb.OPTOUT,
    "mieux": Verb.BETTER,
    "better": Verb.BETTER,
    "aucune": Verb.NONE,
    "aucun": Verb.NONE,
    "none": Verb.NONE,
}

#: Commands that take exactly one argument; the others take none.
WITH_ARGUMENT = frozenset({Verb.MUTE, Verb.UNMUTE, Verb.OPTOUT, Verb.BETTER})

_PUNCTUATION = ".,;:!?…"


@dataclass(frozen=True, slots=True)
class Command:
    verb: Verb
    argument: str = ""
    #: Set when the first word is a command but the rest does not fit it.
    problem: str = ""

    @property
    def well_formed(self) -> bool:
        return not self.problem


def parse(text: str) -> Command | None:
    """The admin command ``text`` (a status's plain text) opens with, if any.

    The argument keeps its case (status ids of other servers are case-sensitive).
    """
    rest = without_handles(text)
    words = [w for w in rest.split() if w.strip(_PUNCTUATION)]
    if not words:
        return None
    verb = WORDS.get(fold(words[0]).strip(_PUNCTUATION))
    if verb is None:
        return None
    arguments = [w.rstrip(_PUNCTUATION) if not is_url(w) else w for w in words[1:]]
    if verb in WITH_ARGUMENT:
        if len(arguments) != 1:
            what = {Verb.OPTOUT: "an account", Verb.BETTER: "a quote or prompt id"}.get(
                verb, "a status URL or id"
            )
            return Command(verb, problem=f"{verb} takes {what}")
        return Command(verb, arguments[0])
    if arguments:
        return Command(verb, problem=f"{verb} takes nothing after it")
    return Command(verb)


def is_url(word: str) -> bool:
    return word.startswith(("https://", "http://"))
