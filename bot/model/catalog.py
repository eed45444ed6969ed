"""The admin data as values: essays, quotes, prompts and rules.

``bot.catalog`` loads and checks the files into these; the rest of the
bot only reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.model.post import Visibility

# -- the catalog (admin data) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quote:
    id: str
    essay_id: str
    text: str
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    #: A link to the passage (an anchor in the essay), if the admin gave one.
    anchor_url: str | None = None
    #: Where the quote is defined, for error messages.
    line: int = 0
    #: Ids of the catalog's concepts it is about.
    concepts: tuple[str, ...] = ()
    #: The passage around it in the essay, indexed at a lower weight.
    context: str | None = None
    #: Ids of concepts it sets side by side: the thread naming each of them
    #: raises its score (``bot.rank.index``).
    joins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Concept:
    """A vocabulary the curator writes once (``[[concepts]]``) and quotes and
    prompts name: its terms count as keywords of each of them."""

    id: str
    #: Terms per language code.
    terms: Mapping[str, tuple[str, ...]]
    line: int = 0

    def all_terms(self) -> tuple[str, ...]:
        return tuple(term for terms in self.terms.values() for term in terms)


@dataclass(frozen=True, slots=True)
class Prompt:
    """A reading prompt: an invitation to read a passage before replying."""

    id: str
    essay_id: str
    #: Text per language code (``fr``, ``en``, …).
    texts: Mapping[str, str]
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    line: int = 0
    concepts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Essay:
    id: str
    title: str
    author: str
    url: str
    language: str
    aliases: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    quotes: tuple[Quote, ...] = ()
    prompts: tuple[Prompt, ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class EssayMatch:
    """Which essay a thread is about, and how that was found."""

    essay: Essay | None
    #: ``link``, ``alias``, ``card``, ``resolved``, ``hashtag``, ``text`` or ``none``.
    how: str = "none"
    #: The URL, hashtag or matched terms that decided it.
    evidence: str = ""
    score: float = 0.0


# -- the rules (admin data) ---------------------------------------------------


class Action(StrEnum):
    QUOTE = "quote"
    PROMPT = "prompt"
    LINK = "link"
    HELP = "help"
    STOP = "stop"
    START = "start"
    WHY = "why"
    DEESCALATE = "deescalate"
    #: Delete one of the bot's replies, asked in answer to it (``supprime``).
    TAKE_BACK = "take_back"


class Mode(StrEnum):
    LIVE = "live"
    #: Decide and record, never post.
    OBSERVE = "observe"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class Conditions:
    """All given conditions must hold (AND); within one list, any item (OR)."""

    #: Command words, matched as whole words, accent- and case-folded.
    commands: tuple[str, ...] = ()
    #: True: the command word must be all the mention asks, but for courtesy
    #: and pointing words (« stop merci », "why this?"): « stop comparing
    #: posters to propaganda » is no request to opt out.
    alone: bool = False
    #: Keywords in the mention text (folded, whole words or phrases).
    keywords: tuple[str, ...] = ()
    #: Keywords anywhere in the thread (ancestors and mention).
    thread_keywords: tuple[str, ...] = ()
    #: Regexes (already validated) searched in the mention text.
    regex: tuple[str, ...] = ()
    thread_regex: tuple[str, ...] = ()
    #: Keywords that veto the rule when found in the mention.
    not_keywords: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    essays: tuple[str, ...] = ()
    visibilities: tuple[Visibility, ...] = ()
    min_depth: int | None = None
    max_depth: int | None = None
    #: Heat score bounds (see ``bot.decide.heat``).
    min_heat: float | None = None
    max_heat: float | None = None
    #: True: only a mention that says nothing but its @-mentions (punctuation
    #: and emoji aside); False: only one that says something.
    empty: bool | None = None


#: Names of the replies no rule asks for; a rule of that name only supplies wording.
SPECIAL_TEMPLATES = frozenset({"unknown_essay", "why_nothing", "other_language"})


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    action: Action
    conditions: Conditions
    #: Template per language code, with ``{placeholder}`` fields.
    templates: Mapping[str, str]
    #: Quote or prompt ids this rule may use (empty: any of the essay's).
    quotes: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()
    #: Restrict candidates to those carrying one of these tags.
    tags: tuple[str, ...] = ()
    mode: Mode = Mode.LIVE
    #: Also hand the thread to the moderators (see ``bot.act``).
    notify_moderators: bool = False
    #: The evidence a quote, a prompt or the essay needs before this rule posts
    #: it (``bot.decide.evidence``); None: the policy's default for a rule
    #: without command words, none for a rule someone asked for by name.
    min_evidence: float | None = None
    line: int = 0
