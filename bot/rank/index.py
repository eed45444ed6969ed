"""Relevance: which quote, prompt or essay speaks to what was just said.

Text is turned into terms by :func:`analyze` (folding, elisions, stop words,
Snowball stems) and documents are scored with BM25 (Robertson & Zaragoza,
"The Probabilistic Relevance Framework: BM25 and Beyond", 2009), in its
BM25F form: tags and keywords are fields whose term counts are boosted
before saturation.

Each indexed text is analysed in its own language, and the query is analysed
again for each language it is compared with. A post's ``language`` is often
the client's default rather than what was written, so the query's language
never decides which stemmer meets which text.

All the document side of BM25 is computed once in :meth:`Index.build`; a
query only sums precomputed weights over an inverted index, which keeps a
decision within a few milliseconds at ten thousand quotes.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import math
import re
import sys
import threading
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Protocol, cast

import snowballstemmer

from bot.model.catalog import Essay
from bot.text.fold import fold

__all__ = ["SCORE_DIGITS", "Index", "Query", "Scored", "analyze", "freeze_after_load"]

# -- tuning ------------------------------------------------------------------------

#: BM25 term-frequency saturation and length normalisation (the usual values).
K1 = 1.2
B = 0.75
#: How much a term in a quote's or prompt's tags and keywords counts, as
#: occurrences in its text: the admin put it there on purpose.
FIELD_BOOST = 2.5
#: Same, for an essay's title and hashtags when choosing an essay.
TITLE_BOOST = 2.0
#: Query weights: the mention is what the bot was asked about; the post it
#: answers counts half as much, and each older post 0.8 times the next one.
MENTION_WEIGHT = 1.0
NEAREST_WEIGHT = 0.5
THREAD_DECAY = 0.8
#: Older posts weigh less than this and are not read at all (the 9th
#: ancestor and beyond): a 200-post thread costs what a 9-post one does.
#: Reading three more (down to 0.05) changed no first choice in 300
#: synthetic 50-post threads over 10,000 quotes, for a sixth of the time.
MIN_WEIGHT = 0.1
#: At most this many query terms are scored, the most telling first
#: (weight x idf), as in Lucene's "more like this": long threads stay cheap
#: and a pile of common words cannot drown the rare one that matters.
MAX_QUERY_TERMS = 64
#: Scores are rounded to this many decimals before they are compared: equal
#: scores are equal whatever the summation order, so ties always fall to the
#: id. ``decide`` groups equal scores with the same rounding (its tie-break by
#: least recently used relies on the index listing a group by id).
SCORE_DIGITS = 6

# -- analysis ----------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(fold(word) for word in text.split())


#: French function words (folded), with the conjugations of être and avoir,
#: inclusive pronouns (iel, celleux) and chat fillers (genre, truc).
_STOP_FR = _words(
    """
    a à afin ah ai aie aient aies ait alors as au aucun aucune aujourd auquel aura aurai
    auraient aurais aurait auras aurez auriez aurions aurons auront aussi autre autres aux
    avaient avais avait avant avec avez aviez avions avoir avons ayant ayez ayons bah bas bon
    c ça car ce ceci cela celle celles celleux celui cependant certes ces cet cette ceux
    chaque chez ci comme comment d dans de déjà depuis des desquels dit dites donc dont du
    duquel elle elles en encore entre es est et étaient étais était étant étiez étions été
    être eu eue eues eûmes eurent eus eut eûtes eux fait faire fais faut fois font fûmes
    furent fus fut fûtes genre hein hui ici iel iels il ils j je jusqu l la là laquelle le
    lequel les lesquelles lesquels leur leurs lorsqu lui m ma mais me même mêmes mes moi mon
    n ne ni non nos notre nous o on ont or ou où oui par parce pas peu peut peuvent peux plus
    pour pourquoi puis puisqu qu quand que quel quelle quelles quels qui quoi quoiqu re rien
    s sa sans se sera serai seraient serais serait seras serez seriez serions serons seront
    ses si sinon soi soient sois soit sommes son sont sous soyez soyons suis sur t ta tant te
    tel telle tes toi ton tous tout toute toutes très trop truc tu un une va vais vas voilà
    vont vos votre vous vu y
    """
)
#: English function words (folded); contractions arrive split at the apostrophe.
_STOP_EN = _words(
    """
    a about above after again against all also am an and any are aren as at be because been
    before being below between both but by can cannot could couldn d did didn do does doesn
    doing don down during each even ever few for from further get gets got had hadn has hasn
    have haven having he her here hers herself him himself his how i if in into is isn it its
    itself just let ll m may me might more most much must mustn my myself no nor not now of
    off on once one only or other our ours ourselves out over own quite re really s same say
    says shall shan she should shouldn so some such t than that the their theirs them
    themselves then there these they this those through thus to too under until up upon us
    ve very was wasn we were weren what when where which while who whom why will with won
    would wouldn yes yet you your yours yourself yourselves
    """
)
#: Conversation words that say nothing about what a post discusses ("merci
#: pour le partage, je lis ça ce soir", "what do you think of this new
#: post?"): without them a polite remark can look like it is about an essay.
_CHATTER = _words(
    """
    article avis billet bonjour bonsoir coucou demain fil hier lien lire lis lit lu merci
    parle parlent parler parles parlez parlons partage partager pense penses pensez post
    poste question salut soir super texte thread trouve trouves trouvez trouvé vraiment
    actually article good great guess hello hi link lol maybe ok okay please post read
    reading share sharing stuff thank thanks thing things think thought today tomorrow
    tonight yeah yesterday new
    """
)
#: Words that are function words in one language but carry meaning in the
#: other ("ai" is French "j'ai" and English "AI"; "an" is a French year).
_KEEP_IN_FR = _words("an")
_KEEP_IN_EN = _words("ai car comment encore font genre mon non plus pour son ton")
_STOP_WORDS = {
    "fr": _STOP_FR | (_STOP_EN - _KEEP_IN_FR) | _CHATTER,
    "en": _STOP_EN | (_STOP_FR - _KEEP_IN_EN) | _CHATTER,
}
_STOP_ANY = _STOP_FR | _STOP_EN | _CHATTER

#: French elided articles and conjunctions, stripped from the word they lean on
#: (« l'IA » is « IA », « qu'on » is « on »).
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)'")
#: A word: letters and digits, possibly joined by apostrophes or hyphens.
_TOKEN = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
#: An @-handle: an ``@`` not after a word character or another ``@``. The
#: lookbehind comes after the ``@`` so that the engine scans for it first.
_HANDLE = re.compile(r"@(?<![\w@]@)[\w.-]+(?:@[\w-]+(?:\.[\w-]+)+)?")
#: French inclusive writing: « épouvanté·es », « vrai.e.s » read as the base word.
_INCLUSIVE = re.compile(
    # The lookbehinds come after the separator so that the engine scans for
    # the separator first instead of testing every position.
    r"[·‧⋅•](?<=[^\W\d_].)[^\W\d_]{1,5}(?:[·‧⋅•][^\W\d_]{1,5})?"
    r"|\.(?<=[^\W\d_].)(?:e|es|s|x|ne|nes|se|ses|le|les|rice|rices|trice|trices|euse|euses"
    r"|ive|ives|ere|eres|ère|ères|fe|fes)(?:\.(?:e|es|s|x))?(?![\w.])"
)
_HASHTAG = re.compile(r"#(\w+)")
#: Hyphenated compounds whose first part is one of these are also read as one
#: word (« ré-utiliser » is « réutiliser »).
_PREFIXES = _words(
    "anti auto co contre e extra hyper inter micro multi néo post pré pro ré semi super"
)

#: ISO 639-1 code → Snowball algorithm.
_SNOWBALL = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nl": "dutch",
    "no": "norwegian",
    "nb": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "tr": "turkish",
}


class _Stemmer(Protocol):
    def stemWord(self, word: str) -> str: ...


_STEMMERS: dict[str, _Stemmer | None] = {}
#: Pure-Python Snowball stemmers keep the word being stemmed on the object.
_STEM_LOCK = threading.Lock()


def _language(language: str) -> str:
    """``fr-CA``, ``en_US``, ``FR`` → ``fr``, ``en``, ``fr``."""
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]


#: :func:`bot.text.fold` of each character below U+0250 (ASCII, Latin-1 and
#: Latin Extended-A and B): on those, folding is character by character, and
#: a table beats the three Unicode normalisations ``fold`` runs.
_LATIN_FOLD = {code: fold(chr(code)) for code in range(0x250)}
_LATIN_END = "\u0250"


def _fold_word(word: str) -> str:
    """``fold(word)``, quicker for the words of Latin-script languages."""
    if word.isascii():
        return word.lower()
    if max(word) < _LATIN_END:
        return word.translate(_LATIN_FOLD)
    return fold(word)


#: Sizes of the analysis caches, per language of the catalog (texts are
#: read in the languages of the index, never in a post's). They hold what
#: recent threads said (the next mention in a thread reads the same posts
#: again; common words recur), and stay small: a bot runs for weeks, and full
#: caches of every text it has read would weigh more than the index.
STEM_CACHE = 1 << 13
TEXT_CACHE = 1024


def _stem(word: str, language: str) -> str:
    """Stem of a casefolded word that still has its accents, then folded.
    Not cached itself: its callers' caches hold the words it stems.

    The French Snowball stemmer reads accents (« générées » and
    « génératives » both give « géner »; without accents « generees » gives
    « genere »), so it sees them first. A trailing ``e`` left by the
    stemmer is dropped for French, which makes most words typed without
    accents meet their accented forms.
    """
    with _STEM_LOCK:
        stemmer = _STEMMERS.get(language, ...)
        if stemmer is ...:
            algorithm = _SNOWBALL.get(language)
            stemmer = snowballstemmer.stemmer(algorithm) if algorithm else None
            if hasattr(stemmer, "maxCacheSize"):
                # PyStemmer's own cache: this function's is enough, and
                # keeping both costs more than stemming a word again.
                stemmer.maxCacheSize = 0  # type: ignore[union-attr]
            _STEMMERS[language] = stemmer
        stem = stemmer.stemWord(word) if stemmer is not None else word
    stem = _fold_word(stem)
    if language == "fr":
        trimmed = stem.rstrip("e")
        if len(trimmed) >= 2:
            stem = trimmed
    return sys.intern(stem)


def _split_camel(match: re.Match[str]) -> str:
    """``#IAGénérative`` → ``IA Générative``: hashtags glue words by capitals."""
    tag = match.group(1)
    if tag.islower() or tag.isupper():
        return " " + tag
    out = [tag[0]]
    # zip stops at the shortest: every character after the first, with its neighbours.
    for previous, char, following in zip(tag, tag[1:], tag[2:] + " ", strict=False):
        if char.isupper() and (previous.islower() or (previous.isupper() and following.islower())):
            out.append(" ")
        out.append(char)
    return " " + "".join(out)


def _stems(text: str, language: str) -> list[str]:
    """The stem of each content word of ``text``, in order. Catalog texts are
    read once, so this keeps them out of the per-text cache that queries use
    (:func:`_analyze_cached`)."""
    terms = _token_terms_of(language)
    # Interned: the index keeps each document's stems, and ten thousand
    # quotes share a few tens of thousands of them.
    return [sys.intern(stem) for token in _split(text) for stem, _ in _pairs(terms(token))]


def _split(text: str) -> tuple[str, ...]:
    """The words of ``text``, casefolded with their accents."""
    # Each pass only runs when its trigger character is there: most posts
    # have no hashtag, handle or URL, and analysis runs on every thread post.
    if "#" in text:
        text = _HASHTAG.sub(_split_camel, text)
    text = fold(text, keep_accents=True)
    if "://" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _HANDLE.sub(" ", text)
    text = _INCLUSIVE.sub("", text)
    return tuple(_TOKEN.findall(text))


#: Joins the parts of what the analysis caches keep: no token, stem or word has it.
_SEP = "\0"


def _token_terms(token: str, language: str) -> str:
    """The terms of one token: elision stripped, split at apostrophes and
    hyphens, stop words dropped; as ``"stem\0word\0stem\0word"``, ``""``
    for none (read with :func:`_pairs`).

    One string rather than a tuple of pairs: the caches keep one per token
    and per text, and a string is nothing the garbage collector walks. New
    tuples are walked until a collection finds they hold only strings, and
    that collection comes every few hundred mentions, in the middle of one,
    with thousands of them.
    """
    stop = _STOP_WORDS.get(language, _STOP_ANY)
    if "'" not in token and "-" not in token:
        # Most tokens are one plain word: no elision, nothing to split.
        if len(token) < 2 or _fold_word(token) in stop:
            return ""
        return _stem(token, language) + _SEP + token
    terms: list[str] = []
    for piece in _ELISION.sub("", token).split("'"):
        parts = piece.split("-")
        kept = [part for part in parts if len(part) >= 2 and _fold_word(part) not in stop]
        for part in kept:
            terms.extend((_stem(part, language), part))
        if len(parts) > 1 and kept and (parts[0] in kept or _fold_word(parts[0]) in _PREFIXES):
            terms.extend((_stem("".join(parts), language), piece))
    return _SEP.join(terms)


def _pairs(terms: str) -> Iterator[tuple[str, str]]:
    """(stem, word) of the terms of :func:`_token_terms` or :func:`_analyze_cached`."""
    if not terms:
        return iter(())
    parts = iter(terms.split(_SEP))
    return zip(parts, parts, strict=False)


def _joined_tokens(text: str) -> str:
    """``_split(text)`` joined with ``_SEP``: what the cache keeps (see _token_terms)."""
    return _SEP.join(_split(text))


#: The same for every language, so a query read in two languages is split once.
_tokens = lru_cache(maxsize=TEXT_CACHE)(_joined_tokens)

#: Per language: token → its terms, and text → its terms. One cache per
#: language keyed by the string alone: a cache keyed by (string, language)
#: keeps a key tuple per entry besides.
_TOKEN_TERMS: dict[str, Callable[[str], str]] = {}
_TEXT_TERMS: dict[str, Callable[[str], str]] = {}
_CACHES_LOCK = threading.Lock()


def _token_terms_of(language: str) -> Callable[[str], str]:
    """:func:`_token_terms` in ``language``, cached (a thread repeats its words)."""
    cached = _TOKEN_TERMS.get(language)
    if cached is None:
        terms = partial(_token_terms, language=language)
        cached = _add_cache(_TOKEN_TERMS, language, STEM_CACHE, terms)
    return cached


def _analyze_cached(text: str, language: str) -> str:
    """The terms of ``text`` as :func:`_token_terms` gives a token's, cached
    per language: the next mention in a thread reads the same posts again."""
    cached = _TEXT_TERMS.get(language)
    if cached is None:
        text_terms = partial(_text_terms, terms=_token_terms_of(language))
        cached = _add_cache(_TEXT_TERMS, language, TEXT_CACHE, text_terms)
    return cached(text)


def _add_cache(
    caches: dict[str, Callable[[str], str]],
    language: str,
    size: int,
    function: Callable[[str], str],
) -> Callable[[str], str]:
    """``function`` with a cache of ``size``, kept as ``caches[language]``
    unless another thread got there first."""
    with _CACHES_LOCK:
        return caches.setdefault(language, lru_cache(maxsize=size)(function))


def _text_terms(text: str, terms: Callable[[str], str]) -> str:
    # The loop runs in C: a thread's texts are hundreds of words per decision.
    return _SEP.join(filter(None, map(terms, _tokens(text).split(_SEP))))


def analyze(text: str, language: str) -> list[str]:
    """The terms of ``text`` as the index sees them: folded, elisions and
    stop words (French and English) removed, stemmed with Snowball.

    ``language`` is an ISO 639-1 code (``fr``, ``en``, also ``fr-CA``).
    Languages Snowball knows are stemmed with it; others are not stemmed
    and lose both French and English stop words.

    >>> analyze("Des affiches générées par l'IA", "fr")
    ['affich', 'gener', 'ia']
    """
    return [stem for stem, _ in _pairs(_analyze_cached(text, _language(language)))]


# -- values ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Query:
    """What the bot is asked about: the mention and the thread above it.

    ``thread`` is oldest first, as in :class:`bot.model.Thread`.
    ``language`` is the mention's language; scoring reads every text in its
    own language whatever this says (see the module docstring).
    """

    mention: str
    thread: tuple[str, ...] = ()
    language: str = "fr"

    def sources(self) -> list[tuple[str, float]]:
        """(text, weight): the mention, then ancestors nearest first, until
        their weight drops below :data:`MIN_WEIGHT`."""
        sources = [(self.mention, MENTION_WEIGHT)]
        weight = NEAREST_WEIGHT
        for text in reversed(self.thread):
            if weight < MIN_WEIGHT:
                break
            sources.append((text, weight))
            weight *= THREAD_DECAY
        return sources


@dataclass(frozen=True, slots=True)
class Scored:
    """A document's relevance to a query.

    ``score`` is a BM25 sum (0.0: nothing in common); ``matched`` holds the
    query's words that contributed, as written (casefolded), the most
    telling first.
    """

    id: str
    score: float
    matched: tuple[str, ...] = ()


# -- the index ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _View:
    """One language's text of a document: a quote has one, a prompt one per
    language. A document has at most one view per language."""

    doc: int
    language: str
    #: Groups documents whose lengths are compared (quotes with quotes).
    kind: str
    body: tuple[str, ...]
    #: Tags, keywords, a title: counted ``boost`` times each, not length-normalised.
    fields: tuple[str, ...]
    boost: float


@dataclass(frozen=True, slots=True)
class _Term:
    stem: str
    weight: float
    word: str


class _Space:
    """The BM25 index of every view in one language, keyed by document number.

    Laid out to stay small at tens of thousands of documents: the postings of
    every stem sit end to end in two arrays (document numbers, weights), and
    a document keeps only the tuple of its stems.
    """

    def __init__(self, language: str, views: Sequence[_View]) -> None:
        self.language = language
        #: Document number → its stems, sorted.
        self.stems: dict[int, tuple[str, ...]] = {}
        # Per view, in order: how often each of its stems is in its body and
        # in its fields, end to end in two arrays, and its length, until the
        # collection's statistics are known. Flat arrays rather than a pair
        # per view: ten thousand views' worth of small objects is megabytes.
        body_counts: array[int] = array("I")
        field_counts: array[int] = array("I")
        view_lengths: array[int] = array("I")
        document_frequency: dict[str, int] = defaultdict(int)
        lengths: dict[str, list[int]] = defaultdict(list)
        for view in views:
            body: dict[str, int] = defaultdict(int)
            length = 0
            for text in view.body:
                for stem in _stems(text, language):
                    body[stem] += 1
                    length += 1
            fields: dict[str, int] = defaultdict(int)
            for text in view.fields:
                for stem in _stems(text, language):
                    fields[stem] += 1
            stems = tuple(sorted(body.keys() | fields.keys()))
            body_counts.extend(body.get(stem, 0) for stem in stems)
            field_counts.extend(fields.get(stem, 0) for stem in stems)
            view_lengths.append(length)
            lengths[view.kind].append(length)
            for stem in stems:
                document_frequency[stem] += 1
            self.stems[view.doc] = stems
        #: Views in this space: with a stem's number of postings (its
        #: document frequency), what its idf is computed from (``idf``).
        self.total = len(views)
        average = {kind: (sum(ls) / len(ls)) or 1.0 for kind, ls in lengths.items()}
        #: Stem → where its postings are in ``docs`` and ``weights``: first
        #: index << 32 | count (one int rather than a pair: there are tens of
        #: thousands of stems).
        self.postings: dict[str, int] = {}
        size = 0
        for stem in sorted(document_frequency):
            # The count starts at 0 and is counted up as the postings are
            # laid out: the entry is its own cursor, no other table is built.
            self.postings[stem] = size << 32
            size += document_frequency[stem]
        #: Document numbers, stem after stem; within a stem in increasing
        #: order (views come in document order), which ``weight`` bisects.
        self.docs = array("i", bytes(4 * size))
        #: The BM25 weight of each posting: the whole document side of the
        #: formula, so a query only multiplies and adds.
        self.weights = array("d", bytes(8 * size))
        # The idf of each document frequency met: a few hundred values, where
        # a table per stem would be tens of thousands.
        idf_of_df: dict[int, float] = {}
        bodies, boosted = iter(body_counts), iter(field_counts)
        for view, length in zip(views, view_lengths, strict=True):
            # Body counts are length-normalised; field counts are not (tags
            # are a few words, their length says nothing).
            norm = 1.0 - B + B * length / average[view.kind]
            # ``stems`` first: zip stops there, before taking the next view's counts.
            for stem, body_count, field_count in zip(
                self.stems[view.doc], bodies, boosted, strict=False
            ):
                tf = body_count / norm + field_count * view.boost
                df = document_frequency[stem]
                idf = idf_of_df.get(df)
                if idf is None:
                    idf = idf_of_df[df] = self._idf(df)
                packed = self.postings[stem]
                at = (packed >> 32) + (packed & _COUNT)
                self.postings[stem] = packed + 1
                self.docs[at] = view.doc
                self.weights[at] = idf * tf * (K1 + 1.0) / (tf + K1)
        #: Documents that also have a view in another space (set by _Corpus).
        self.shared: frozenset[int] = frozenset()
        #: The last query and its terms: ``decide`` asks about the same query
        #: more than once (the candidates used before, then more of the rest).
        self._last: tuple[Query, list[_Term]] | None = None

    def _idf(self, df: int) -> float:
        return math.log(1.0 + (self.total - df + 0.5) / (df + 0.5))

    def idf(self, stem: str) -> float:
        """The idf of a stem of this space: computed again rather than kept,
        which would be one more entry per stem (tens of thousands)."""
        return self._idf(self.postings[stem] & _COUNT)

    def span(self, stem: str) -> tuple[int, int]:
        """Where the postings of ``stem`` start and end in ``docs``/``weights``."""
        packed = self.postings[stem]
        start = packed >> 32
        return start, start + (packed & _COUNT)

    def weight(self, stem: str, doc: int) -> float | None:
        """The weight of ``stem`` in ``doc``, if it is there."""
        start, end = self.span(stem)
        at = bisect_left(self.docs, doc, start, end)
        return self.weights[at] if at < end and self.docs[at] == doc else None

    def common(self, doc: int, terms: Sequence[_Term], order: Mapping[str, int]) -> list[int]:
        """The positions in ``terms`` of the stems ``doc`` has, in order."""
        stems = self.stems[doc]
        if len(stems) <= 4 * len(terms):
            return sorted(map(order.__getitem__, order.keys() & stems))
        # A long document (an essay's whole text): look each term up instead.
        return [n for n, term in enumerate(terms) if self.weight(term.stem, doc) is not None]

    def query_terms(self, query: Query) -> list[_Term]:
        """The query's terms found in this space, most telling first: each
        stem weighs what its heaviest source does (mention 1.0, posts less).
        The list is shared: callers do not change it."""
        last = self._last
        if last is not None and (last[0] is query or last[0] == query):
            return last[1]
        terms = self._query_terms(query)
        # One assignment: another thread reads either pair whole.
        self._last = (query, terms)
        return terms

    def _query_terms(self, query: Query) -> list[_Term]:
        weights: dict[str, float] = {}
        words: dict[str, str] = {}
        postings = self.postings
        for text, weight in query.sources():
            for stem, word in _pairs(_analyze_cached(text, self.language)):
                seen = weights.get(stem)
                if seen is None:
                    if stem in postings:
                        weights[stem] = weight
                        words[stem] = word
                elif weight > seen:
                    weights[stem] = weight
        # idf (as ``idf`` computes it) inlined: this runs for every stem a
        # thread shares with the space, hundreds per decision.
        total, log = self.total, math.log
        telling = sorted(
            (-weight * log(1.0 + (total - df + 0.5) / (df + 0.5)), stem)
            for stem, weight in weights.items()
            for df in (postings[stem] & _COUNT,)
        )
        return [_Term(stem, weights[stem], words[stem]) for _, stem in telling[:MAX_QUERY_TERMS]]


@dataclass(frozen=True, slots=True)
class _Wanted:
    """The documents a list of ids names, resolved once per list."""

    #: Document numbers; None for every document.
    docs: frozenset[int] | None
    #: The ids the index does not know (they score 0.0), sorted.
    unknown: tuple[str, ...]
    #: Per space, whether it holds any of the documents: a space that holds
    #: none is not read at all (quotes in French leave the English prompts be).
    spaces: tuple[bool, ...]
    #: Per space, its documents that are not wanted when they are few (an
    #: essay's quotes without its prompts): dropped from the scores one by
    #: one rather than every score checked. None: check every score.
    unwanted: tuple[frozenset[int] | None, ...] = ()


#: Lists of ids remembered by :meth:`_Corpus.want` (an archive's essays, two
#: kinds of candidates each); past that the memory starts afresh.
WANTED_MEMO = 256


class _Corpus:
    """Documents (by id) spread over per-language spaces."""

    def __init__(self, ids: Sequence[str], views: Sequence[_View]) -> None:
        self.ids = list(ids)
        self.number = {doc_id: n for n, doc_id in enumerate(self.ids)}
        #: Documents in id order, to list zero scores without sorting them.
        self.by_id = sorted(range(len(self.ids)), key=self.ids.__getitem__)
        by_language: dict[str, list[_View]] = defaultdict(list)
        for view in views:
            by_language[view.language].append(view)
        self.spaces = [_Space(lang, by_language[lang]) for lang in sorted(by_language)]
        #: The space of each document's first view: its only one, for most.
        self.home: dict[int, int] = {}
        spaces_per_doc: dict[int, int] = defaultdict(int)
        for number, space in enumerate(self.spaces):
            for doc in space.stems:
                self.home.setdefault(doc, number)
                spaces_per_doc[doc] += 1
        for space in self.spaces:
            space.shared = frozenset(doc for doc in space.stems if spaces_per_doc[doc] > 1)
        self._wanted: dict[int, tuple[Sequence[str], _Wanted]] = {}

    def want(self, ids: Sequence[str]) -> _Wanted:
        """The documents ``ids`` names. A tuple is remembered (by identity: it
        cannot change), so that the candidates of an essay, asked about at
        every mention, are looked up once rather than id by id each time."""
        memo = self._wanted.get(id(ids))
        if memo is not None and memo[0] is ids:
            return memo[1]
        unique = dict.fromkeys(ids)
        numbers = list(map(self.number.get, unique))
        unknown: tuple[str, ...] = ()
        if None in numbers:
            unknown = tuple(sorted(i for i, n in zip(unique, numbers, strict=True) if n is None))
        known = cast(set[int], set(numbers) - {None})
        docs = None if len(known) == len(self.ids) else frozenset(known)
        spaces = tuple(
            docs is None or not space.stems.keys().isdisjoint(docs) for space in self.spaces
        )
        unwanted: list[frozenset[int] | None] = []
        for space in self.spaces:
            others = None
            if docs is not None and len(space.stems) - len(docs) <= len(space.stems) // 8:
                others = frozenset(space.stems.keys() - docs)
                others = others if len(others) <= len(space.stems) // 8 else None
            unwanted.append(others)
        wanted = _Wanted(docs, unknown, spaces, tuple(unwanted))
        if isinstance(ids, tuple):
            if len(self._wanted) >= WANTED_MEMO:
                self._wanted.clear()
            # The tuple is kept with its entry, so its id cannot be reused.
            self._wanted[id(ids)] = (ids, wanted)
        return wanted

    def best(
        self, wanted: _Wanted | None, query: Query, *, masks_of_all: bool = True
    ) -> tuple[dict[int, float], dict[int, int], dict[int, int], list[list[_Term]]]:
        """Each document's best score above zero; the query terms it shares
        (a bit mask over that space's terms; only for some documents unless
        ``masks_of_all``); for documents in several spaces, the space that
        gave it; the query's terms per space. ``wanted`` None means every
        document."""
        docs = None if wanted is None else wanted.docs
        found: dict[int, float] = {}
        shared_terms: dict[int, int] = {}
        where: dict[int, int] = {}
        all_terms: list[list[_Term]] = []
        for number, space in enumerate(self.spaces):
            if wanted is not None and not wanted.spaces[number]:
                all_terms.append([])
                continue
            terms = space.query_terms(query)
            all_terms.append(terms)
            if not terms:
                continue
            cost = sum(space.postings[term.stem] & _COUNT for term in terms)
            if docs is not None and len(docs) * 8 < cost:
                # Few candidates: look each one up rather than walk postings.
                values, masks = _score_documents(space, docs, terms)
            else:
                values, masks = _score_postings(space, terms, masks=masks_of_all)
                others = None if wanted is None else wanted.unwanted[number]
                if others is not None:
                    for doc in others:
                        values.pop(doc, None)
                        masks.pop(doc, None)
                elif docs is not None:
                    values = {doc: value for doc, value in values.items() if doc in docs}
            # Few documents are shared: look them up rather than go through
            # every score (a frozenset intersected with a dict walks the dict).
            for doc in [doc for doc in space.shared if doc in values]:
                if doc not in found or values[doc] > found[doc]:
                    where[doc] = number
                else:  # an earlier language scored it at least as high
                    values[doc] = found[doc]
                    if doc in shared_terms:
                        masks[doc] = shared_terms[doc]
                    else:
                        masks.pop(doc, None)
            if found:
                found.update(values)
                shared_terms.update(masks)
            else:  # the first space read: taken whole rather than copied
                found, shared_terms = values, masks
        return found, shared_terms, where, all_terms

    def ranked(
        self,
        wanted: _Wanted | None,
        query: Query,
        *,
        limit: int | None = None,
        unknown: Sequence[str] = (),
        exclude: Collection[int] = frozenset(),
    ) -> list[Scored]:
        """Scored for the documents wanted (every one if None) but those in
        ``exclude``, and the ``unknown`` ids (scored 0.0, given sorted): best
        first, ties by id, at most ``limit``."""
        if limit is not None and limit <= 0:
            return []
        docs = None if wanted is None else wanted.docs
        # With a limit, the few documents listed have their shared words
        # found afterwards rather than every document's while scoring.
        found, masks, where, terms = self.best(wanted, query, masks_of_all=limit is None)
        for doc in exclude:
            found.pop(doc, None)
        ids = self.ids
        items: Iterable[tuple[int, float]] = found.items()
        if limit is not None and len(found) > limit:
            # Only what can reach the first `limit` places is sorted; the
            # margin keeps every score that rounds to the cut-off value. A
            # few more than asked are taken first, which holds them unless
            # more scores than that are tied at the cut-off.
            # Sorting the scores and picking by them both run in C.
            cutoff = heapq.nlargest(limit, found.values())[-1] - _MARGIN
            items = list(itertools.compress(found.items(), map(cutoff.__le__, found.values())))
        keyed = sorted((-round(value, SCORE_DIGITS), ids[doc], doc) for doc, value in items)[:limit]
        words: dict[tuple[int, int], tuple[str, ...]] = {}
        orders: dict[int, dict[str, int]] = {}
        out = []
        for negative, doc_id, doc in keyed:
            space = where.get(doc, self.home[doc])
            mask = masks.get(doc)
            if mask is None:
                order = orders.get(space)
                if order is None:
                    orders[space] = order = {term.stem: n for n, term in enumerate(terms[space])}
                ranks = self.spaces[space].common(doc, terms[space], order)
                mask = sum(1 << n for n in ranks)
            # Many documents share the same few query words: decode each set once.
            key = (space, mask)
            matched = words.get(key)
            if matched is None:
                words[key] = matched = _words_of(terms[key[0]], key[1])
            out.append(Scored(doc_id, -negative, matched))
        room = None if limit is None else limit - len(out)
        if room is not None and room <= 0:
            return out
        # The rest score zero, by id. With a limit only its first few are
        # built: walking the documents in id order stops there, where sorting
        # every wanted id would cost as much as listing them all.
        zero: Iterable[str]
        if docs is None:
            zero = (ids[doc] for doc in self.by_id if doc not in found and doc not in exclude)
        elif room is not None and len(docs) * 4 >= len(ids):
            zero = (
                ids[doc]
                for doc in self.by_id
                if doc in docs and doc not in found and doc not in exclude
            )
        else:
            zero = sorted(ids[doc] for doc in docs if doc not in found and doc not in exclude)
        if unknown:
            zero = heapq.merge(zero, unknown)
        out.extend(Scored(doc_id, 0.0) for doc_id in itertools.islice(zero, room))
        return out


#: Below the rounding of :data:`SCORE_DIGITS`: a score this close to the
#: cut-off may round to the same value.
_MARGIN = 10.0**-SCORE_DIGITS


def _words_of(terms: Sequence[_Term], mask: int) -> tuple[str, ...]:
    """The words of the terms whose bits are set, in query order."""
    words: dict[str, None] = {}
    while mask:
        low = mask & -mask
        words[terms[low.bit_length() - 1].word] = None
        mask ^= low
    return tuple(words)


#: The count bits of a packed span (see ``_Space.postings``).
_COUNT = (1 << 32) - 1


def _score_documents(
    space: _Space, docs: Iterable[int], terms: Sequence[_Term]
) -> tuple[dict[int, float], dict[int, int]]:
    """Intersect each document's terms with the query's."""
    order = {term.stem: n for n, term in enumerate(terms)}
    values: dict[int, float] = {}
    masks: dict[int, int] = {}
    for doc in docs:
        if doc not in space.stems:
            continue
        ranks = space.common(doc, terms, order)
        if ranks:
            # Summed in query order, as _score_postings does: the same float
            # whichever path scored it, and in every process.
            values[doc] = sum(
                terms[n].weight * cast(float, space.weight(terms[n].stem, doc)) for n in ranks
            )
            masks[doc] = sum(1 << n for n in ranks)
    return values, masks


def _score_postings(
    space: _Space, terms: Sequence[_Term], *, masks: bool = True
) -> tuple[dict[int, float], dict[int, int]]:
    """Walk each query term's postings: cheaper when most documents are wanted.
    Without ``masks``, only the scores (the walk is most of a decision's time
    at ten thousand quotes, and the masks half of the walk)."""
    values: dict[int, float] = {}
    shared: dict[int, int] = {}
    get, bits = values.get, shared.get
    for n, term in enumerate(terms):
        start, end = space.span(term.stem)
        docs, weights = space.docs[start:end], space.weights[start:end]
        weight, bit = term.weight, 1 << n
        if masks:
            for doc, posting in zip(docs, weights, strict=True):
                values[doc] = get(doc, 0.0) + weight * posting
                shared[doc] = bits(doc, 0) | bit
        else:
            for doc, posting in zip(docs, weights, strict=True):
                values[doc] = get(doc, 0.0) + weight * posting
    return values, shared


class Index:
    """Quotes and prompts (by id) and essays, ready to be scored.

    Built once per catalog load; immutable and safe to share between threads.
    """

    def __init__(self, documents: _Corpus, essays: _Corpus) -> None:
        self._documents = documents
        self._essays = essays

    @classmethod
    def build(cls, essays: Sequence[Essay]) -> Index:
        """Index every quote and prompt of ``essays``, and the essays themselves.

        A quote is read in its essay's language; a prompt in each language
        it has a text for (its score is its best language's). Tags and
        keywords count :data:`FIELD_BOOST` times. The first of two
        documents with the same id wins.
        """
        ids: list[str] = []
        seen: set[str] = set()
        views: list[_View] = []
        for essay in essays:
            language = _language(essay.language)
            for quote in essay.quotes:
                if quote.id in seen:
                    continue
                seen.add(quote.id)
                fields = (*quote.tags, *quote.keywords)
                views.append(_View(len(ids), language, "quote", (quote.text,), fields, FIELD_BOOST))
                ids.append(quote.id)
            for prompt in essay.prompts:
                if prompt.id in seen:
                    continue
                seen.add(prompt.id)
                fields = (*prompt.tags, *prompt.keywords)
                for lang, text in sorted(prompt.texts.items()):
                    views.append(
                        _View(len(ids), _language(lang), "prompt", (text,), fields, FIELD_BOOST)
                    )
                ids.append(prompt.id)
        return cls(_Corpus(ids, views), _essay_corpus(essays))

    def __len__(self) -> int:
        return len(self._documents.ids)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._documents.number

    def score(
        self,
        ids: Sequence[str],
        query: Query,
        *,
        limit: int | None = None,
        exclude: Collection[str] = (),
    ) -> list[Scored]:
        """One :class:`Scored` per distinct id given and not in ``exclude``,
        best first, ties by id.

        Ids the index does not know score 0.0. With ``limit``, only the
        first ``limit`` of that list are built: the same entries, much
        faster when thousands of ids are given. Give the same tuple of ids
        again (an essay's candidates) and it is not looked up again; leave
        a few of them out with ``exclude`` rather than by a new list.
        """
        corpus = self._documents
        wanted = corpus.want(ids)
        unknown: Sequence[str] = wanted.unknown
        skip: frozenset[int] = frozenset()
        if exclude:
            unknown = [doc_id for doc_id in unknown if doc_id not in exclude]
            numbers = map(corpus.number.get, exclude)
            skip = frozenset(n for n in numbers if n is not None)
        return corpus.ranked(wanted, query, limit=limit, unknown=unknown, exclude=skip)

    def essay_scores(self, query: Query, *, limit: int | None = None) -> list[Scored]:
        """Relevance of each essay (id = essay id): its title and hashtags
        (boosted), quotes, prompts, tags and keywords. Best first, ties by id."""
        return self._essays.ranked(None, query, limit=limit)


def _essay_corpus(essays: Sequence[Essay]) -> _Corpus:
    ids: list[str] = []
    seen: set[str] = set()
    views: list[_View] = []
    for essay in essays:
        if essay.id in seen:
            continue
        seen.add(essay.id)
        language = _language(essay.language)
        texts: dict[str, list[str]] = defaultdict(list)
        for quote in essay.quotes:
            texts[language].extend((quote.text, *quote.tags, *quote.keywords))
        for prompt in essay.prompts:
            for lang, text in prompt.texts.items():
                texts[_language(lang)].extend((text, *prompt.tags, *prompt.keywords))
        texts.setdefault(language, [])
        fields = (essay.title, *essay.hashtags)
        for lang in sorted(texts):
            views.append(_View(len(ids), lang, "essay", tuple(texts[lang]), fields, TITLE_BOOST))
        ids.append(essay.id)
    return _Corpus(ids, views)


def freeze_after_load() -> None:
    """Keep the garbage collector off what is loaded so far: call it once the
    configuration is loaded (``load_config``), at start-up and after a reload.

    An index of ten thousand quotes is a few million objects that live as
    long as the process: each full collection would walk them all, in the
    middle of a decision, for nothing (they hold no reference cycles to
    free). ``gc.freeze`` moves them to a generation the collector never
    scans; reference counting still frees them when a reload drops them.
    The collection first leaves only live objects to freeze.
    """
    gc.collect()
    gc.freeze()
