"""How heated a thread is, from rules anyone can read.

``heat(mention, thread, now)`` looks at the words of the mention (an insult and
contempt lexicon per language, second-person attacks, shouting, runs of ``!``
and ``?``), at the words of the thread's last posts (a calm "@filrouge help"
in a thread where two people trade insults is a call to calm things down),
and at the shape of the thread (how fast replies arrive, how many people take
part), turns each into a signal in [0, 1] and combines them with the weights
in ``WEIGHTS``.

Lexicon entries are written in their base form; plural and feminine endings
(``ridicules``, ``débiles``, ``abrutie``) and an elided article before them
(``espèce d'abruti``, ``l'imbécile``) match too. The score is what rules compare with ``min_heat``
and ``max_heat``; every signal is shown by ``explain``.

Pure: no clock (``now`` is handed in), no I/O, no model. The lexicons are short
and curated on purpose: the score must be explainable word by word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from bot.model.post import Post, Thread
from bot.text.fold import fold

# -- lexicons (folded: lower case, no accents, straight apostrophes) -----------


def _words(*lines: str) -> frozenset[str]:
    """A lexicon written as ``|``-separated entries (phrases may contain spaces)."""
    return frozenset(word.strip() for line in lines for word in line.split("|") if word.strip())


#: Insults and swearing aimed at people. Each occurrence counts.
INSULTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "fr": _words(
            "abruti|abrutie|abrutis|andouille|blaireau|bouffon|bouffonne|connard|connards",
            "connasse|con|conne|cons|cretin|cretine|cretins|debile|debiles|enfoire|enfoires",
            "idiot|idiote|idiots|imbecile|imbeciles|minable|minables|ordure|ordures|salaud",
            "salauds|merde|putain|pauvre con|pauvre type|pauvre tache|tocard|guignol|gogol",
        ),
        "en": _words(
            "idiot|idiots|moron|morons|stupid|dumb|dumbass|imbecile|asshole|assholes|jerk",
            "loser|losers|clown|clowns|fool|fools|bastard|fuck|fucking|shit|bullshit",
            "scumbag|dipshit|halfwit",
        ),
    }
)

#: Contempt and dismissal: phrases that end a conversation rather than insult.
CONTEMPT: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "fr": _words(
            "ta gueule|ferme la|ferme-la|n'importe quoi|pathetique|ridicule|lamentable",
            "risible|degage|va te faire|rien compris|tu comprends rien|tu sais pas lire",
            "mdr ok|laisse tomber|on s'en fout|osef",
        ),
        "en": _words(
            "shut up|pathetic|ridiculous|laughable|clueless|nonsense|get lost|no idea what",
            "you know nothing|grow up|lol ok|who cares|give me a break|get a life",
        ),
    }
)

#: Words that are ordinary opinions on their own ("c'est nul") but an attack
#: after "tu es" / "you are".
AT_PERSON: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "fr": _words(
            "nul|nulle|nuls|ignorant|ignorante|ignorants|naif|naive|malhonnete|malhonnetes",
            "bete|betes|fou|folle|aveugle|de mauvaise foi|hors sujet|ridicule",
        ),
        "en": _words(
            "wrong|ignorant|naive|dishonest|delusional|clueless|insane|blind|a joke",
            "out of your mind|ridiculous",
        ),
    }
)

#: "tu es", "t'es", "vous êtes", "you are", "you're"…
_SECOND_PERSON_PHRASES = {
    "fr": ("tu es", "t'es", "t es", "vous etes"),
    "en": ("you are", "you're", "youre", "u r", "you r"),
}
#: …each optionally followed by an intensifier and an article ("t'es vraiment
#: un", "you are such a").
_INTENSIFIERS = {
    "fr": r"(?:\s+(?:vraiment|completement|totalement|juste|trop|tellement|grave|qu'une?"
    r"|une?|des|de la|du))*",
    "en": r"(?:\s+(?:really|so|such|just|totally|completely|an?))*",
}
_SECOND_PERSON = {
    lang: "(?:" + "|".join(map(re.escape, phrases)) + ")" + _INTENSIFIERS[lang]
    for lang, phrases in _SECOND_PERSON_PHRASES.items()
}

# -- weights ------------------------------------------------------------------

#: How much each signal (in [0, 1]) adds to the score; the sum is capped at 1.
#: Words aimed at a person weigh most; tone and thread shape only tip the balance,
#: so a fast, crowded but civil thread stays under the default threshold (0.6).
WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "insults": 0.45,
        "contempt": 0.30,
        "attacks": 0.40,
        "shouting": 0.25,
        "punctuation": 0.15,
        "reply_rate": 0.15,
        "participants": 0.10,
        # The most hostile of the thread's last posts: enough on its own to cross
        # the default threshold when the post just above is a heated one.
        "thread": 0.70,
    }
)

#: The thread's last posts read for hostility, newest first…
THREAD_POSTS = 5
#: …if posted within this window before the mention: an old quarrel has cooled.
THREAD_WINDOW = timedelta(minutes=30)
#: Each post further up counts this much less than the one below it.
THREAD_DECAY = 0.8
#: A post whose own words score this much is fully hostile for the thread signal
#: (the default heat threshold: a post that would be de-escalated on its own).
THREAD_HOSTILE = 0.6
#: The signals read from a post's words (the rest describe the thread).
WORD_SIGNALS = ("insults", "contempt", "attacks", "shouting", "punctuation")

#: Replies newer than this count towards the reply rate.
RATE_WINDOW = timedelta(minutes=15)
#: Posts per minute at which the reply-rate signal saturates.
RATE_SATURATION = 1.0
#: Participants at which the signal starts (a two-person exchange is normal) and saturates.
PARTICIPANTS_CALM = 2
PARTICIPANTS_SATURATION = 8
#: Shouting: capitals ratio below this is normal writing, above the second it saturates.
SHOUTING_FLOOR = 0.25
SHOUTING_CEILING = 0.8
#: Fewer letters than this (in words of 3+ letters) is too little to call shouting.
SHOUTING_MIN_LETTERS = 8


@dataclass(frozen=True, slots=True)
class Heat:
    """The score in [0, 1] and every signal (each in [0, 1]) it was made of."""

    score: float
    signals: Mapping[str, float]
    #: The lexicon entries and patterns found, for ``explain``.
    matched: tuple[str, ...] = ()


_SKIP_TOKEN = re.compile(r"(?:https?://\S+|[@#][\w.@-]+)", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")
_LONG_WORD = re.compile(r"[^\W\d_]{3,}")
_PUNCT_RUN = re.compile(r"[!?¿¡]{2,}")


def _languages(language: str | None) -> tuple[str, ...]:
    code = (language or "").lower().replace("_", "-").split("-")[0]
    # Both lexicons when the language is unknown: "con" is only an insult in
    # French, so a known language narrows the list.
    return (code,) if code in INSULTS else tuple(INSULTS)


#: A word starts here: not inside a word, not after an apostrophe ("aujourd'hui",
#: "n'importe") unless that apostrophe elides an article ("d'abruti", "l'imbécile").
_START = r"(?:(?<![\w'])|(?<=\b[dl]')|(?<=\bqu'))"
#: Plural and feminine endings; only after a final word of 4+ letters, so a
#: short entry does not swallow other words ("con" + e is "cone").
_ENDINGS = r"(?:e|s|es|x)?"
_MIN_INFLECTED = 4


def _entry(phrase: str) -> str:
    last = phrase.rsplit(" ", 1)[-1]
    ending = _ENDINGS if len(last) >= _MIN_INFLECTED and last.isalpha() else ""
    return re.escape(phrase) + ending


def _alternatives(phrases: Iterable[str]) -> str:
    # Longest first, so "pauvre con" wins over "con".
    return "|".join(_entry(p) for p in sorted(phrases, key=len, reverse=True))


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    return re.compile(_START + "(?:" + _alternatives(phrases) + r")(?![\w'])")


_INSULT_RE = {lang: _phrase_pattern(words) for lang, words in INSULTS.items()}
_CONTEMPT_RE = {lang: _phrase_pattern(words) for lang, words in CONTEMPT.items()}
_ATTACK_RE = {
    lang: re.compile(
        _START
        + _SECOND_PERSON[lang]
        + r"\s+(?:"
        + _alternatives(INSULTS[lang] | CONTEMPT[lang] | AT_PERSON[lang])
        + r")(?![\w'])"
    )
    for lang in INSULTS
}


def _keys(phrases: Iterable[str]) -> frozenset[str]:
    """Words one of which any match of ``phrases`` has, whole, among its words.

    The longest run of letters of each phrase, with the endings a final word
    may take: a match starts a word (``_START``) and each run of the phrase
    is bounded by what bounds it in the phrase, so the text has that run as
    a word of its own, or with an ending when it is the phrase's last.
    """
    keys: set[str] = set()
    for phrase in phrases:
        key = max(_WORD.findall(phrase), key=len)
        keys.update(key + ending for ending in ("", "e", "s", "es", "x"))
    return frozenset(keys)


@dataclass(frozen=True, slots=True)
class _Gate:
    """Which of a language's patterns can match a text, told by its words: most
    posts have none of the lexicon's words, and a set intersection costs far
    less than running the three patterns over the text."""

    insults: frozenset[str]
    contempt: frozenset[str]
    #: What "tu es" / "you are" has, and what may follow it.
    second_person: frozenset[str]
    at_person: frozenset[str]


_GATES = {
    lang: _Gate(
        insults=_keys(INSULTS[lang]),
        contempt=_keys(CONTEMPT[lang]),
        second_person=_keys(_SECOND_PERSON_PHRASES[lang]),
        at_person=_keys(INSULTS[lang] | CONTEMPT[lang] | AT_PERSON[lang]),
    )
    for lang in INSULTS
}


def _saturate(count: int) -> float:
    """0 for none, 0.5 for one, 0.75 for two…: each occurrence adds, never past 1."""
    return 1.0 - 0.5**count


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def _strip_tokens(text: str) -> str:
    """The text without URLs, @-mentions and #hashtags, which are not words."""
    return _SKIP_TOKEN.sub(" ", text)


def shouting(text: str) -> float:
    """Share of capitals among the letters of words of 3+ letters, as a signal."""
    return _shouting(_strip_tokens(text))


def _shouting(words: str) -> float:
    """``shouting`` of a text already without URLs, mentions and hashtags."""
    # A run of 3+ letters is found from its first letter, so these are
    # exactly the words of 3+ letters.
    joined = "".join(_LONG_WORD.findall(words))
    letters = len(joined)
    if letters < SHOUTING_MIN_LETTERS or joined.islower():
        return 0.0
    # Counted in C: a generator step per character was a third of the heat's time.
    upper = sum(map(str.isupper, joined))
    ratio = upper / letters
    return _clamp((ratio - SHOUTING_FLOOR) / (SHOUTING_CEILING - SHOUTING_FLOOR))


def punctuation(text: str) -> float:
    """Runs like ``!!``, ``?!?``: each extra mark beyond the first adds a quarter."""
    extra = sum(len(run) - 1 for run in _PUNCT_RUN.findall(text))
    return _clamp(extra / 4)


def reply_rate(posts: Iterable[Post], now: datetime) -> float:
    """Posts per minute over the last ``RATE_WINDOW``, as a signal."""
    since = now - RATE_WINDOW
    recent = sum(1 for post in posts if since <= post.created_at <= now)
    per_minute = recent / (RATE_WINDOW.total_seconds() / 60)
    return _clamp(per_minute / RATE_SATURATION)


def participants(posts: Iterable[Post]) -> float:
    """Distinct authors, past the two of an ordinary exchange, as a signal."""
    count = len({post.account.id for post in posts})
    span = PARTICIPANTS_SATURATION - PARTICIPANTS_CALM
    return _clamp((count - PARTICIPANTS_CALM) / span)


def combine(signals: Mapping[str, float]) -> float:
    """The weighted sum of the signals, capped at 1. Non-decreasing in each signal."""
    total = sum(WEIGHTS[name] * _clamp(value) for name, value in signals.items() if name in WEIGHTS)
    return round(_clamp(total), 4)


def _word_signals(post: Post) -> tuple[dict[str, float], list[str]]:
    """The signals read from one post's words, and the entries found."""
    stripped = _strip_tokens(post.text)
    words = fold(stripped)
    present = frozenset(_WORD.findall(words))
    matched: list[str] = []
    insults = contempt = attacks = 0
    for lang in _languages(post.language):
        gate = _GATES[lang]
        if not present.isdisjoint(gate.insults):
            found = _INSULT_RE[lang].findall(words)
            insults += len(found)
            matched.extend(found)
        if not present.isdisjoint(gate.contempt):
            found = _CONTEMPT_RE[lang].findall(words)
            contempt += len(found)
            matched.extend(found)
        if not (present.isdisjoint(gate.second_person) or present.isdisjoint(gate.at_person)):
            found = _ATTACK_RE[lang].findall(words)
            attacks += len(found)
            matched.extend(found)
    signals = {
        "insults": _saturate(insults),
        "contempt": _saturate(contempt),
        # One attack on a person is already the whole signal.
        "attacks": 1.0 if attacks else 0.0,
        "shouting": _shouting(stripped),
        "punctuation": punctuation(post.text),
    }
    return signals, matched


def hostility(post: Post) -> float:
    """How hostile one post's words are, in [0, 1]: their weighted signals,
    ``THREAD_HOSTILE`` and above counting as fully hostile."""
    signals, _ = _word_signals(post)
    return _clamp(combine(signals) / THREAD_HOSTILE)


def thread_hostility(ancestors: Sequence[Post], now: datetime) -> tuple[float, list[str]]:
    """The most hostile of the last ``THREAD_POSTS`` ancestors posted within
    ``THREAD_WINDOW``, each post further up weighed ``THREAD_DECAY`` less; and
    the entries found in the post that gave it.

    A maximum, not a sum: one heated exchange just above the mention is what
    matters, and more hostility anywhere can only raise it.
    """
    best, words = 0.0, []
    since = now - THREAD_WINDOW
    for distance, post in enumerate(reversed(ancestors[-THREAD_POSTS:])):
        if not since <= post.created_at <= now:
            continue
        signals, matched = _word_signals(post)
        value = _clamp(combine(signals) / THREAD_HOSTILE) * THREAD_DECAY**distance
        if value > best:
            best, words = value, matched
    return best, words


def heat(mention: Post, thread: Thread, now: datetime) -> Heat:
    """How heated the mention and its thread are (see the module docstring)."""
    signals, matched = _word_signals(mention)
    upthread, found = thread_hostility(thread.ancestors, now)
    posts = (*thread.ancestors, mention)
    signals.update(
        reply_rate=reply_rate(posts, now),
        participants=participants(posts),
        thread=upthread,
    )
    matched.extend(f"thread: {word}" for word in found)
    rounded = {name: round(value, 4) for name, value in signals.items()}
    return Heat(score=combine(rounded), signals=MappingProxyType(rounded), matched=tuple(matched))
