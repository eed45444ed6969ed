"""Heat: calm posts stay low, heated ones go high, and every signal only pushes up."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.decide.heat import (
    THREAD_POSTS,
    WEIGHTS,
    combine,
    heat,
    participants,
    punctuation,
    reply_rate,
    shouting,
)
from bot.model.post import Account, PlainText, Post, Thread

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def post(
    text: str, *, language: str | None = "fr", who: str = "alice", minutes_ago: float = 0
) -> Post:
    return Post(
        id=f"{who}-{minutes_ago}-{len(text)}",
        account=Account(id=who, acct=who, username=who),
        content=PlainText(text),
        created_at=NOW - timedelta(minutes=minutes_ago),
        language=language,
    )


CALM = [
    # the seed mention: an opinion, "nul" about a practice, not a person
    (
        "@filrouge Pour les spectacles par exemple. Je trouve ça nul de faire des affiches"
        " générées par IA quand on peut juste ré-utiliser des photos",
        "fr",
    ),
    # disagreement without contempt
    ("@bob Je ne suis pas d'accord, le texte parle surtout des ressources.", "fr"),
    # a question with one question mark
    ("@filrouge source ?", "fr"),
    # English, calm
    ("@bob I think the essay makes a fair point about visuals.", "en"),
    # "cons" and "con artist" in English are not the French insult
    ("The pros and cons of AI, and the con of it all", "en"),
    # an acronym and a hashtag in capitals are not shouting
    ("@bob L'IA de l'ONU et #NoAI, https://EXAMPLE.ORG/ABC", "fr"),
    # unknown language, calm
    ("Merci pour le lien, je lis ça ce soir", None),
]

HEATED = [
    # insult aimed at a person, contempt, exclamation run
    ("@bob T'es vraiment qu'un abruti !!! Tu comprends rien", "fr"),
    # English: attack, insult, contempt
    ("@bob you are such an idiot, shut up!!!", "en"),
    # shouting plus insults
    ("@bob ESPÈCE DE CRÉTIN, TU ES UN IMBÉCILE", "fr"),
    # accents and typographic apostrophe are folded
    ("@bob T’es débile ou quoi ?!?! Ta gueule.", "fr"),
    # unknown language: both lexicons apply
    ("you're a moron, ferme-la connard", None),
]


@pytest.mark.parametrize(("text", "language"), CALM)
def test_calm_posts_stay_low(text: str, language: str | None) -> None:
    assert heat(post(text, language=language), Thread(), NOW).score < 0.3


@pytest.mark.parametrize(("text", "language"), HEATED)
def test_heated_posts_go_high(text: str, language: str | None) -> None:
    result = heat(post(text, language=language), Thread(), NOW)
    assert result.score >= 0.6, result
    assert result.matched


# Inflected forms and elisions hit the lexicon entries.
INFLECTED = [
    # plural of a contempt entry, and an attack on two people at once
    ("vous êtes ridicules tous les deux", "fr", "contempt"),
    ("vous êtes ridicules tous les deux", "fr", "attacks"),
    # plural insult
    ("des arguments débiles", "fr", "insults"),
    # feminine
    ("quelle abrutie", "fr", "insults"),
    ("t'es vraiment une idiote finie", "fr", "attacks"),
    # elided article: "espèce d'abruti", "l'imbécile"
    ("Ferme-la, espèce d'abruti", "fr", "insults"),
    ("encore l'imbécile de service", "fr", "insults"),
    # English plural
    ("you are all clowns", "en", "insults"),
]


@pytest.mark.parametrize(("text", "language", "signal"), INFLECTED)
def test_inflected_forms_hit_the_lexicon(text: str, language: str, signal: str) -> None:
    assert heat(post(text, language=language), Thread(), NOW).signals[signal] > 0, text


# Words that only look like an entry with an ending added.
NOT_INFLECTED = [
    # "cône" is not "con" + e
    ("un cône de glace", "fr"),
    # "cons" in English is not the French insult
    ("the pros and cons", "en"),
    # "idiome" is not "idiot"
    ("un idiome régional", "fr"),
]


@pytest.mark.parametrize(("text", "language"), NOT_INFLECTED)
def test_near_words_stay_calm(text: str, language: str) -> None:
    result = heat(post(text, language=language), Thread(), NOW)
    assert result.signals["insults"] == 0 and result.signals["contempt"] == 0, result.matched


# -- the thread's recent posts --------------------------------------------------

QUARREL = (
    post("Un texte qui fait réfléchir sur les visuels générés.", who="maiwann", minutes_ago=130),
    post(
        "MAIS TU LIS CE QUE TU ÉCRIS ??? C'est complètement débile, t'es ridicule !!!",
        who="bob",
        minutes_ago=2,
    ),
    post("Ferme-la, espèce d'abruti, tu comprends rien !!!", who="alice", minutes_ago=1),
)
BYSTANDER = post("@filrouge vous pouvez nous ramener au texte ?", who="carol")


def test_a_calm_mention_in_a_quarrel_is_heated() -> None:
    result = heat(BYSTANDER, Thread(QUARREL), NOW)
    assert result.signals["thread"] >= 0.8
    assert result.score >= 0.6, result
    # what made it hot is shown
    assert any(word.startswith("thread: ") for word in result.matched)
    # the same mention alone is calm
    assert heat(BYSTANDER, Thread(), NOW).score < 0.3


def test_an_old_quarrel_has_cooled_down() -> None:
    old = Thread(
        tuple(dataclasses.replace(p, created_at=p.created_at - timedelta(hours=3)) for p in QUARREL)
    )
    result = heat(BYSTANDER, old, NOW)
    assert result.signals["thread"] == 0
    assert result.score < 0.3


def test_a_quarrel_further_up_weighs_less() -> None:
    calm = [post(f"un avis de plus, numéro {i}", who=f"p{i}", minutes_ago=0.5) for i in range(3)]
    near = heat(BYSTANDER, Thread((*QUARREL, *calm[:1])), NOW).signals["thread"]
    far = heat(BYSTANDER, Thread((*QUARREL, *calm)), NOW).signals["thread"]
    assert 0 < far < near
    # beyond the last THREAD_POSTS posts it no longer counts
    many = [post(f"un avis, numéro {i}", who="p", minutes_ago=0.5) for i in range(THREAD_POSTS)]
    assert heat(BYSTANDER, Thread((*QUARREL, *many)), NOW).signals["thread"] == 0


def test_a_more_hostile_ancestor_never_lowers_the_score() -> None:
    ladder = [
        "je ne suis pas d'accord",
        "n'importe quoi",
        "n'importe quoi, abruti",
        "T'ES VRAIMENT QU'UN ABRUTI, n'importe quoi !!!",
    ]
    scores = [
        heat(BYSTANDER, Thread((post(text, who="bob", minutes_ago=1),)), NOW) for text in ladder
    ]
    signals = [r.signals["thread"] for r in scores]
    assert signals == sorted(signals) and signals[0] < signals[-1]
    assert [r.score for r in scores] == sorted(r.score for r in scores)


def test_second_person_attack_needs_a_target() -> None:
    # "tu es" alone is ordinary; "tu es nul" is an attack though "nul" alone is not
    assert heat(post("tu es là ce soir ?"), Thread(), NOW).signals["attacks"] == 0
    assert heat(post("c'est nul"), Thread(), NOW).signals["attacks"] == 0
    assert heat(post("tu es nul"), Thread(), NOW).signals["attacks"] == 1
    assert heat(post("vous êtes de mauvaise foi"), Thread(), NOW).signals["attacks"] == 1
    assert heat(post("You're delusional", language="en"), Thread(), NOW).signals["attacks"] == 1


def test_signals_and_score_are_in_range() -> None:
    for text, language in CALM + HEATED:
        result = heat(post(text, language=language), Thread(), NOW)
        assert 0 <= result.score <= 1
        assert set(result.signals) == set(WEIGHTS)
        assert all(0 <= value <= 1 for value in result.signals.values())


# -- monotonic in each signal --------------------------------------------------

MORE_OF_EACH = [
    # insults: one, then two
    ("insults", ["tu as lu ?", "abruti", "abruti et crétin"]),
    # contempt: none, one, two
    ("contempt", ["tu as lu ?", "n'importe quoi", "n'importe quoi, ridicule"]),
    # shouting: calm, half capitals, all capitals
    ("shouting", ["Je ne suis pas d'accord", "Je ne suis PAS D'ACCORD", "JE NE SUIS PAS D'ACCORD"]),
    # punctuation: one mark, a short run, a long run
    ("punctuation", ["Vraiment ?", "Vraiment ?!", "Vraiment ?!?!?!"]),
]


@pytest.mark.parametrize(("signal", "texts"), MORE_OF_EACH)
def test_more_of_a_signal_never_lowers_the_score(signal: str, texts: list[str]) -> None:
    results = [heat(post(text), Thread(), NOW) for text in texts]
    values = [r.signals[signal] for r in results]
    scores = [r.score for r in results]
    assert values == sorted(values) and values[0] < values[-1]
    assert scores == sorted(scores) and scores[0] < scores[-1]


def test_reply_rate_and_participants_raise_the_score() -> None:
    mention = post("Je ne suis pas d'accord")
    slow = Thread(tuple(post("un avis", who="bob", minutes_ago=60 * (i + 1)) for i in range(4)))
    fast = Thread(tuple(post("un avis", who="bob", minutes_ago=i) for i in range(12)))
    crowded = Thread(tuple(post("un avis", who=f"p{i}", minutes_ago=i) for i in range(12)))
    a, b, c = (heat(mention, t, NOW) for t in (slow, fast, crowded))
    assert a.signals["reply_rate"] < b.signals["reply_rate"]
    assert b.signals["participants"] < c.signals["participants"]
    assert a.score < b.score < c.score
    # a fast, crowded but civil thread is not heated on its own
    assert c.score < 0.6


def test_reply_rate_ignores_posts_outside_the_window_and_future() -> None:
    old = [post("x", minutes_ago=16), post("x", minutes_ago=120)]
    assert reply_rate(old, NOW) == 0
    assert reply_rate([post("x", minutes_ago=-5)], NOW) == 0


def test_helpers() -> None:
    assert shouting("OK") == 0  # too few letters to tell
    assert shouting("@BOB #TAG https://X.ORG/ABCDEF je pense") == 0
    assert shouting("ARRÊTEZ DE DIRE N'IMPORTE QUOI") == 1
    assert punctuation("bien. oui!") == 0
    assert punctuation("quoi?!?!?") == 1
    assert participants([post("a", who="a"), post("b", who="b")]) == 0


@pytest.mark.parametrize("name", sorted(WEIGHTS))
def test_combine_is_monotonic_in_each_signal(name: str) -> None:
    base = dict.fromkeys(WEIGHTS, 0.2)
    previous = combine(base)
    for value in (0.3, 0.5, 0.8, 1.0):
        current = combine({**base, name: value})
        assert current >= previous
        previous = current
    assert combine({**base, name: 1.0}) > combine(base)
    assert combine(dict.fromkeys(WEIGHTS, 1.0)) == 1.0
    assert combine(dict.fromkeys(WEIGHTS, 0.0)) == 0.0


# -- the word gate ----------------------------------------------------------------------
#
# ``_word_signals`` runs a lexicon's patterns only when the post has one of its
# words. The gate must never hide a match: whatever it lets through or not,
# what is found is what running every pattern over the text finds.


def _every_pattern(text: str, language: str | None) -> list[str]:
    from bot.decide.heat import _ATTACK_RE, _CONTEMPT_RE, _INSULT_RE, _languages, _strip_tokens
    from bot.text.fold import fold

    words = fold(_strip_tokens(text))
    found: list[str] = []
    for lang in _languages(language):
        for patterns in (_INSULT_RE, _CONTEMPT_RE, _ATTACK_RE):
            found.extend(patterns[lang].findall(words))
    return found


def _lexicon_pieces() -> list[str]:
    from bot.decide.heat import _SECOND_PERSON_PHRASES, AT_PERSON, CONTEMPT, INSULTS

    pieces: list[str] = []
    for lexicon in (INSULTS, CONTEMPT, AT_PERSON):
        for entries in lexicon.values():
            for entry in sorted(entries):
                pieces.extend(entry + ending for ending in ("", "e", "s", "es", "x", "ment"))
                pieces.extend((entry.upper(), "d'" + entry, "l'" + entry, "aujourd'" + entry))
    for phrases in _SECOND_PERSON_PHRASES.values():
        pieces.extend(phrases)
    return pieces


PIECES = st.sampled_from(
    [
        *_lexicon_pieces(),
        *("vraiment", "un", "une", "such a", "so", "de la", "qu'une", "\u00e9t\u00e9s", "T'ES"),
        *("@bob@example.social", "#con", "https://example.org/idiot", "lire", "texte", "l'essai"),
    ]
)
SEPARATORS = st.sampled_from([" ", "  ", ", ", "! ", "\n", "'", "-", "", "_", "2"])


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.tuples(PIECES, SEPARATORS), max_size=8).map(
        lambda parts: "".join(piece + sep for piece, sep in parts)
    ),
    st.sampled_from(["fr", "en", None, "de"]),
)
def test_the_word_gate_never_hides_a_match(text: str, language: str | None) -> None:
    from bot.decide.heat import _word_signals

    _, matched = _word_signals(post(text, language=language))
    assert matched == _every_pattern(text, language)
