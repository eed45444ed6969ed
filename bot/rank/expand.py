"""The vocabulary bridge: the words a query did not use but meant.

People write « fric », « le taf », « ils ont viré tout le monde »; the catalog
says « argent », « travail », « licenciements ». Each query stem is looked up
in two tables and the words found are scored as query terms at a discount:

- the familiar-register groups (``bot/data/lexicon/familiar.toml``, curated:
  « fric », « thune », « money », « cash » are one group), in both languages,
  which is also how an English mention reaches a French quote; weight
  :data:`FAMILIAR`;
- the thesaurus (LibreOffice's, derived by ``bot.catalog.thesaurus``), in the
  space's language; weight :data:`THESAURUS`, low enough that a synonym never
  beats a direct match: a thesaurus lists every sense of a word, and only one
  is meant.

Only words the index knows are kept (a space drops the others), a stem the
query already has keeps its direct weight, and the word of an expanded term
is written ``source→target``: evidence counts it as its source word, so one
word of the mention cannot pass for two (``bot.decide.evidence``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from bot.rank.analysis import analyze_cached, stem_language, term_pairs

#: Discounts of an expanded term against the word the query used.
FAMILIAR = 0.5
THESAURUS = 0.15
#: Joins an expanded term's source word and the word it reached: through
#: the familiar groups, through the thesaurus.
ARROW = "→"
NEAR = "≈"
#: Thesaurus synonyms per query stem, after the curated ones.
PER_STEM = 16
#: Lookups remembered per language (a thread repeats its words).
CACHE = 1 << 13


class Table(Protocol):
    """Stem → its synonyms, ``|``-separated (the thesaurus files' lines)."""

    def get(self, stem: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Expansion:
    stem: str
    word: str
    weight: float
    #: :data:`ARROW` (a familiar group) or :data:`NEAR` (the thesaurus).
    joiner: str = ARROW


def source_of(word: str) -> str:
    """The query word a matched word came from (itself if not expanded)."""
    return word.partition(ARROW)[0].partition(NEAR)[0]


def is_expanded(word: str) -> bool:
    """Whether a matched word is a synonym of one the query used."""
    return ARROW in word or NEAR in word


def is_near(word: str) -> bool:
    """Whether a matched word came through the thesaurus only."""
    return NEAR in word


@dataclass(eq=False)
class Lexicon:
    """The familiar groups and the thesaurus of each language, ready to expand
    query stems. Immutable once built; lookups are cached per language."""

    #: Each group's words, in any language (fr and en mixed).
    groups: tuple[tuple[str, ...], ...] = ()
    #: A group word → the languages whose list has it (none listed: every
    #: language's). A word is reached under its own language's stem: the
    #: English "genai" is not the French « gens » (both « gen » in French).
    languages: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Language → its thesaurus table.
    thesauri: Mapping[str, Table] = field(default_factory=dict)
    #: Whether the thesaurus's synonyms are reached (its senses); without,
    #: it still tells a verb's plural from a word of its own (``base_form``).
    senses: bool = True
    _cached: dict[str, Callable[[str, str | None, bool], tuple[Expansion, ...]]] = field(
        default_factory=dict, repr=False
    )
    _group_index: dict[str, tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]] = field(
        default_factory=dict, repr=False
    )

    def __getstate__(self) -> dict[str, object]:
        # The caches are rebuilt on first use (a pickled configuration).
        return {
            "groups": self.groups,
            "languages": self.languages,
            "thesauri": self.thesauri,
            "senses": self.senses,
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self.groups = state["groups"]  # type: ignore[assignment]
        self.languages = state.get("languages", {})  # type: ignore[assignment]
        self.thesauri = state["thesauri"]  # type: ignore[assignment]
        self.senses = bool(state.get("senses", True))
        self._cached = {}
        self._group_index = {}

    def words_only(self) -> Lexicon:
        """This lexicon without the thesaurus's senses: the familiar groups,
        and the French plurals of verbs."""
        return Lexicon(self.groups, self.languages, self.thesauri, senses=False)

    def base_form(self, stem: str, language: str) -> str | None:
        """The stem a French verb's third person plural means, or None.

        Snowball leaves « -ent » on (« ils remplacent » → « remplacent », not
        « remplac »): the ending is a plural verb's as often as a word's own
        (« argent », « moment », « client »). The thesaurus tells them apart:
        a stem it has no entry for, whose stem without « ent » it has, is the
        verb (« remplacent » → « remplac », « virent » → « vir »); « argent »
        has its own entry and stays itself.
        """
        if len(stem) < 6 or not stem.endswith("ent") or stem_language(language) != "fr":
            return None
        table = self.thesauri.get("fr")
        if table is None or table.get(stem) is not None:
            return None
        base = stem[:-3]
        return base if table.get(base) is not None else None

    def expand(
        self, stem: str, language: str, other: str | None = None, *, thesaurus: bool = True
    ) -> tuple[Expansion, ...]:
        """What a query word reaches, best first: ``stem`` is its stem read in
        ``language``, ``other`` its stem in the other bundled language (the
        key of the group words of that language only). ``thesaurus`` False:
        the word is of a text in another language, whose words ``language``'s
        thesaurus does not list (an English "person" is not « personne »)."""
        cached = self._cached.get(language)
        if cached is None:
            # One cache per language; a race builds two, and one is kept.
            cached = self._cached.setdefault(
                language,
                lru_cache(maxsize=CACHE)(lambda s, o, t: self._expand(s, o, language, t)),
            )
        return cached(stem, other, thesaurus)

    def _groups_of(
        self, language: str
    ) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
        """Stem → groups, for the words of ``language`` (by their stem in it)
        and for the words of the other language only (by theirs)."""
        index = self._group_index.get(language)
        if index is None:
            native: dict[str, list[int]] = {}
            foreign: dict[str, list[int]] = {}
            for number, words in enumerate(self.groups):
                for word in words:
                    own = self._language_of(word, language)
                    found = native if own == language else foreign
                    # A phrase (« plan social ») is reached, never a key: its
                    # « plan » alone means something else.
                    stems = [stem for stem, _ in term_pairs(analyze_cached(word, own))]
                    if len(stems) == 1 and number not in found.setdefault(stems[0], []):
                        found[stems[0]].append(number)
            index = (
                {stem: tuple(numbers) for stem, numbers in native.items()},
                {stem: tuple(numbers) for stem, numbers in foreign.items()},
            )
            self._group_index[language] = index
        return index

    def _language_of(self, word: str, language: str) -> str:
        """The language to read a group word in, in a space of ``language``:
        that one if the word is of it, else the word's own."""
        own = self.languages.get(word)
        if not own or stem_language(language) in own:
            return language
        return min(own)

    def _expand(
        self, stem: str, other: str | None, language: str, thesaurus: bool = True
    ) -> tuple[Expansion, ...]:
        out: dict[str, Expansion] = {}

        def add(words: Iterable[str], weight: float, joiner: str, limit: int) -> None:
            for word in words:
                for target, _ in term_pairs(
                    analyze_cached(word, self._language_of(word, language))
                ):
                    if target != stem and target not in out and len(out) < limit:
                        out[target] = Expansion(target, word, weight, joiner)

        # Every word of the curated groups (a stem may be in two: « bosser »
        # and « boss » share one in French), then the thesaurus's first.
        native, foreign = self._groups_of(language)
        numbers = (*native.get(stem, ()), *(foreign.get(other, ()) if other else ()))
        for number in dict.fromkeys(numbers):
            add(self.groups[number], FAMILIAR, ARROW, len(out) + len(self.groups[number]))
        table = self.thesauri.get(stem_language(language)) if self.senses and thesaurus else None
        line = table.get(stem) if table is not None else None
        if line:
            add(line.split("|"), THESAURUS, NEAR, len(out) + PER_STEM)
        return tuple(out.values())
