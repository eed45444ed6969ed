"""The bot on realistic chatter (``tests/data/eval/chatter.toml``, see
``chatter.py``): the right passage, or an honest prompt, link or silence —
never an arbitrary quote.

Measured when the evidence rule, the language of the text and the abstention
guards landed (``FILROUGE_MIN_EVIDENCE`` 4.0, chosen on the tuning half):

| half | n | top-1 acceptable | wrong quote | no quote |
|---|---|---|---|---|
| tune (before) | 63 | 0.683 | 0.302 | 0.016 |
| tune | 63 | 0.460 | 0.079 | 0.460 |
| held-out (before) | 62 | 0.726 | 0.274 | 0.000 |
| held-out | 62 | 0.532 | 0.097 | 0.371 |

With the vocabulary bridge (``bot.rank.expand``: familiar-register groups
at 0.5, thesaurus at 0.15, synonyms never counted as evidence words) and
``FILROUGE_MIN_EVIDENCE`` 5.0, both chosen on the tuning half:

| half | n | top-1 acceptable | wrong quote | no quote |
|---|---|---|---|---|
| tune | 63 | 0.524 | 0.079 | 0.397 |
| held-out | 62 | 0.565 | 0.097 | 0.339 |

With the bundled catalog's concepts (``[[concepts]]``: seven vocabularies
of how people say what a passage is about, written from the tuning half's
misses, each named by its quote and prompt):

| half | n | top-1 acceptable | wrong quote | no quote |
|---|---|---|---|---|
| tune | 63 | 0.825 | 0.095 | 0.079 |
| held-out | 62 | 0.613 | 0.081 | 0.306 |

Since commands such as ``why`` must stand alone (``alone = true``), "why
would I want a machine to…" gets a quote instead of the ``why`` answer:
tune 0.841 / 0.095 / 0.063; the held-out half is unchanged.

The conflation quote sets posters and disinformation side by side
(``joins = ["visuels", "desinformation"]``): when the thread names both, it
outranks the quote about posters. Tune 0.873 / 0.063 / 0.063 (two answers
change, both to the right quote); no answer of the held-out half changes.

A mention with no content word of its own (« hmm », "is it though", an
emoji; conversation fillers such as « mouais », « exactement », "though",
"agreed" are stop words) asks about the post it answers, which then weighs
as the mention would:

| half | n | top-1 acceptable | wrong quote | no quote |
|---|---|---|---|---|
| tune | 63 | 0.889 | 0.063 | 0.048 |
| held-out | 62 | 0.629 | 0.081 | 0.290 |

Quoted phrases in the disinformation concept (« "fausses photos" », "fake
images": matched whole, never « photos » alone): tune 0.905 / 0.048 / 0.048;
the held-out half is unchanged. A hammer for the tool quote (two tuning
mentions say it is a tool like a hammer): tune 0.921 / 0.048 / 0.032, the
held-out half unchanged.

A keyword of one function word that says something alone (« avant »,
"before", "yourself": ``bot.rank.words.ALONE``) is matched word for
word; it was never matched at all, and the quote about how we did before
had three such keywords. Tune unchanged (0.921 / 0.063 / 0.016); held-out
0.661 / 0.081 / 0.258 → 0.694 / 0.097 / 0.210 (three hits, and one wrong
quote: « avant l'IA les patrons nous disaient déjà… » gets the before-AI
quote, the bosses' being acceptable); second set 0.775 / 0.050 → 0.825 /
0.050.

A concept's words counting only when something names the essay
(``bot.decide.evidence.backed``) changed no answer of either half. Reading
each familiar word in its own language (the English "genai" is not the
French « gens ») and agreement words as fillers ("yep", « ouais ») changed
one: c098, "yep" under a post about a team replaced by Midjourney, gets the
reading prompt about jobs instead of nothing (held-out figures unchanged).

The tuning half rose far more than the held-out one: that gap is what
writing vocabulary next to the mentions buys, and why only the held-out
half is asserted. (Giving the conflation quote the words of posters too took
the tuning half to 0.889 with 0.048 wrong and the held-out half down to 0.597
with 0.097: dropped.)

Same run, held-out half: plain word overlap 0.387 top-1 with 0.613 wrong,
a random quote 0.081 with 0.919 wrong. Must-not-quote mentions: 25 of 25
without a quote (0 of 25 before), each for its own reason.

The figures below are floors and ceilings a change must keep, not targets:
the ranker still misses the vocabulary people use, and the abstentions are
where it does. Run with ``-s`` for the table.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.catalog.config import Config
from bot.catalog.load import load_config
from bot.decide.decision import decide
from bot.model.decision import Reply
from bot.settings import Settings
from tests.scenarios.chatter import (
    FIFTH,
    FOURTH,
    FRESH,
    NEGATIVES,
    SIXTH,
    THIRD,
    Answer,
    Figures,
    Item,
    answer,
    figures,
    inputs_for,
    load,
    overlap_choice,
    random_choice,
)

ITEMS = load()
#: The second set, out of sample whole (``tests/data/eval/chatter_fresh.toml``).
FRESH_ITEMS = load(FRESH)
#: Floors and ceilings on it (measured 0.825 and 0.050).
FRESH_HIT_FLOOR = 0.80
FRESH_WRONG_CEILING = 0.06
#: Floors and ceilings on the held-out half (measured 0.677 and 0.081). The
#: ceiling was 0.09 (0.081 measured) until the keywords of one function word
#: were matched: three more hits and one more wrong quote (c118), kept as
#: the better trade (0.694 and 0.097). Since a word its language uses
#: everywhere is no evidence from a passage's text (``bot.rank.common``),
#: c032 (« les gens qui font un visuel ») gets the link rather than the
#: passage that says « engager des gens », and c106 loses a hit that stood on
#: the essay being named by "whole" and "point": one wrong quote fewer, one
#: hit fewer, the floor one mention lower.
HIT_FLOOR = 0.66
WRONG_CEILING = 0.09
#: What a must-not-quote mention gets, by why it must not.
EXPECTED = {
    "empty": "reply:help",
    "punctuation": "reply:help",
    "insult": "skip:hostile",
    "spam": "skip:spam",
    "off-topic": "skip:off_topic",
    "other-language": "skip:other_language",
}
#: Mentions that end otherwise, and why. n23 is Dutch tagged English: the
#: language model is 0.54 sure of Dutch, under the 0.9 that a language no
#: template speaks needs (``bot.understand.language``), so the tag stands and
#: nothing in it speaks to the essay.
EXCEPTIONS = {"n23": "skip:off_topic"}


@pytest.fixture(scope="module")
def answers(bundled_config: Config, bundled_settings: Settings) -> dict[str, Answer]:
    return {item.id: answer(item, bundled_config, bundled_settings) for item in ITEMS}


def test_the_set_is_large_mixed_and_labelled(bundled_config: Config) -> None:
    quote_ids = {quote.id for quote in bundled_config.catalog.quotes}
    quoting = [item for item in ITEMS if item.none is None]
    silent = [item for item in ITEMS if item.none is not None]
    assert len(quoting) >= 120 and len(silent) >= 25
    assert sum(bool(item.thread) for item in quoting) >= len(quoting) / 4  # topic above
    assert sum(item.language == "en" for item in quoting) >= len(quoting) / 5
    assert len({item.id for item in ITEMS}) == len(ITEMS)
    for item in quoting:
        assert item.ok and item.ok <= quote_ids, item.id
    assert {item.none for item in silent} == set(EXPECTED)


def test_no_must_not_quote_mention_gets_a_quote(answers: dict[str, Answer]) -> None:
    got = {item.id: answers[item.id].what for item in ITEMS if item.none is not None}
    expected = {
        item.id: EXCEPTIONS.get(item.id, EXPECTED[item.none])
        for item in ITEMS
        if item.none is not None
    }
    assert got == expected
    assert all(answers[item.id].quote is None for item in ITEMS if item.none is not None)


def _against_overlap(
    name: str, items: list[Item], config: Config, settings: Settings
) -> tuple[dict[str, Answer], Figures, Figures]:
    """What the bot answers to each of ``items``, and the figures of its
    quotes and of plain word overlap on those it should quote (printed)."""
    got = {item.id: answer(item, config, settings) for item in items}
    quoting = [item for item in items if item.none is None]
    bot = figures(quoting, lambda i: got[i.id].quote)
    quotes = config.catalog.essays[0].quotes
    overlap = figures(quoting, lambda i: overlap_choice(i, quotes))
    print("\n" + bot.row(f"{name} | bot") + "\n" + overlap.row(f"{name} | word overlap"))
    return got, bot, overlap


def test_a_second_set_written_after_the_catalog(
    bundled_config: Config, bundled_settings: Settings
) -> None:
    """48 mentions written in one go after the first set's figures, which
    nothing of the catalog was written from: right or withheld as often as
    the held-out half or more, and every must-not-quote mention silent."""
    assert len({item.id for item in FRESH_ITEMS} | {item.id for item in ITEMS}) == len(
        FRESH_ITEMS
    ) + len(ITEMS)
    got, bot, overlap = _against_overlap("fresh", FRESH_ITEMS, bundled_config, bundled_settings)
    assert bot.hit / bot.n >= FRESH_HIT_FLOOR
    assert bot.wrong / bot.n <= FRESH_WRONG_CEILING
    assert bot.hit > overlap.hit and bot.wrong < overlap.wrong / 3
    silent = {item.id: got[item.id].what for item in FRESH_ITEMS if item.none is not None}
    assert silent == {item.id: EXPECTED[item.none] for item in FRESH_ITEMS if item.none}


#: Off-topic mentions quoted all the same, each on two words or a score
#: over the bar (``FILROUGE_MIN_EVIDENCE``) that the catalog shares with a
#: mention about something else: what the evidence rule cannot tell from
#: words alone. Measured when the set was added: 5 of 30 (3 of the 15
#: written before the bot was run on them). Since a concept's vocabulary
#: counts only when something names the essay (``bot.decide.evidence.backed``),
#: h06 ("learn", "piano"), h10 (« asso », « logo ») and h16 (« apprendre »,
#: « dessiner ») get none: 2 of 30.
QUOTED_NEGATIVES = {
    "h18": "ressources-finies",  # "electricity" and "bill" (« power bill »)
    "h20": "petites-voix",  # "graphic designer"
}


def test_off_topic_mentions_that_share_a_word_with_the_catalog(
    bundled_config: Config, bundled_settings: Settings
) -> None:
    """``chatter_negatives.toml``: a concert, a guitar, a photo, the water,
    a boss in mentions about something else. None should get a quote; those
    that do are named, so that one more (or one fewer) fails this test."""
    negatives = load(NEGATIVES)
    assert len(negatives) >= 30
    assert {item.none for item in negatives} == {"off-topic"}
    assert not {item.id for item in negatives} & {item.id for item in (*ITEMS, *FRESH_ITEMS)}
    got = {item.id: answer(item, bundled_config, bundled_settings) for item in negatives}
    quoted = {item_id: a.quote for item_id, a in got.items() if a.quote is not None}
    assert quoted == QUOTED_NEGATIVES
    assert all(a.what == "skip:off_topic" for i, a in got.items() if i not in quoted)


#: The third set (``chatter_third.toml``), read once when it was added:
#: 0.700 top-1 acceptable (42 of 60), 0.017 wrong (1), word overlap 0.183
#: and 0.817 in the same run. One mention fewer is allowed, no more. Then
#: 0.717: e014 names both concepts the conflation quote joins, which is now
#: evidence (``bot.decide.evidence.backed``), a rule written from that miss.
#: Then no wrong quote: e038 (« la première chose qu'ils coupent ») was
#: quoted « la première fois » until a word its language uses everywhere
#: was no evidence from a passage's text (``bot.rank.common``).
THIRD_HIT_FLOOR = 0.68
THIRD_WRONG_CEILING = 0.02
#: Its off-topic mentions that get something all the same: two quotes on
#: the passages' own words (« association » and « quartier »; "photographer"
#: and "photos"), and the essay's link three times, where the mention's
#: words name the essay. e079 (« les salaires des profs ») was quoted « au
#: profit des patrons » until « profit » stopped stemming as « profs »
#: (``STEM_OVERRIDES`` in ``bot.rank.words``).
THIRD_ANSWERED = {
    "e064": "reply:quote",
    "e065": "reply:quote",
    "e075": "reply:link",
    "e077": "reply:link",
    "e079": "reply:link",
}


#: The fourth set (``chatter_fourth.toml``), read once, after the changes
#: that followed the third: 0.825 top-1 acceptable (33 of 40), no wrong
#: quote, word overlap 0.325 and 0.675 in the same run; 10 of 10 off-topic
#: mentions without a quote, one given the essay's link until a French
#: « comment » stopped naming the essay as the English "comment".
FOURTH_HIT_FLOOR = 0.80
FOURTH_WRONG_CEILING = 0.03
#: The fifth set (``chatter_fifth.toml``), read once, after a word its
#: language uses everywhere stopped being evidence from a passage's text:
#: 0.680 top-1 acceptable (34 of 50), 0.100 wrong (5), word overlap 0.340
#: and 0.660, random 0.180 and 0.820 in the same run. The code before that
#: change posted the same quotes. 10 of its 12 off-topic mentions get
#: nothing; two are quoted on the passages' own words (« association » and
#: « bénévoles »; "team" and "work"). Then 0.660 and 0.080, once a text's
#: own function words were function words in either space (g004's "an AI
#: picture" was the French « an » of « deux ans »; g001 lost a hit that
#: stood on the essay named by the French « comment » read as English).
#: Then 0.660 and 0.060: g019's « ça me rend heureuse » had the
#: « rendement » of the productivity quote, until the stemmer was told
#: otherwise (``STEM_OVERRIDES``).
FIFTH_HIT_FLOOR = 0.64
FIFTH_WRONG_CEILING = 0.08
FIFTH_ANSWERED = {"g055": "reply:quote", "g062": "reply:quote"}
#: The sixth set (``chatter_sixth.toml``), read once, after a text's own
#: function words became function words in either space: 0.820 top-1
#: acceptable (41 of 50), 0.020 wrong (1), word overlap 0.360 and 0.640,
#: random 0.160 and 0.840 in the same run; the code of the day before
#: answers each mention the same. 9 of its 10 off-topic mentions get no
#: quote: two get the essay's link (« mon patron part à la retraite »; an
#: electricity provider), one a quote ("happy birthday to my favourite
#: artist").
SIXTH_HIT_FLOOR = 0.80
SIXTH_WRONG_CEILING = 0.04
SIXTH_ANSWERED = {"k053": "reply:link", "k056": "reply:link", "k060": "reply:quote"}


@dataclass(frozen=True)
class Later:
    """A set written after the catalog, read once: its size, the floors it
    keeps, and the off-topic mentions it answers all the same."""

    path: Path
    quoting: int
    silent: int
    hit_floor: float
    wrong_ceiling: float
    #: How many times plain word overlap's hits the bot's must be.
    over_overlap: int
    answered: dict[str, str]


LATER = [
    Later(THIRD, 60, 20, THIRD_HIT_FLOOR, THIRD_WRONG_CEILING, 3, THIRD_ANSWERED),
    Later(FOURTH, 40, 10, FOURTH_HIT_FLOOR, FOURTH_WRONG_CEILING, 2, {}),
    Later(FIFTH, 50, 12, FIFTH_HIT_FLOOR, FIFTH_WRONG_CEILING, 1, FIFTH_ANSWERED),
    Later(SIXTH, 50, 10, SIXTH_HIT_FLOOR, SIXTH_WRONG_CEILING, 2, SIXTH_ANSWERED),
]


@pytest.mark.parametrize("later", LATER, ids=lambda later: later.path.stem)
def test_the_sets_labelled_before_the_bot_was_run_on_them(
    later: Later, bundled_config: Config, bundled_settings: Settings
) -> None:
    """Mentions (a quarter or more in English, a third or more with the
    topic in the thread above) and off-topic ones that share a word with
    the catalog, none of which anything was tuned on before it was read."""
    items = load(later.path)
    quoting = [item for item in items if item.none is None]
    silent = [item for item in items if item.none is not None]
    assert (len(quoting), len(silent)) == (later.quoting, later.silent)
    assert {item.none for item in silent} == {"off-topic"}
    assert sum(item.language == "en" for item in quoting) >= len(quoting) / 4
    assert sum(bool(item.thread) for item in quoting) >= len(quoting) / 3
    name = later.path.stem.removeprefix("chatter_")
    got, bot, overlap = _against_overlap(name, items, bundled_config, bundled_settings)
    assert bot.hit / bot.n >= later.hit_floor
    assert bot.wrong / bot.n <= later.wrong_ceiling
    assert bot.hit > later.over_overlap * overlap.hit
    answered = {i.id: got[i.id].what for i in silent if got[i.id].what != "skip:off_topic"}
    assert answered == later.answered


def test_no_mention_is_in_two_sets() -> None:
    sets = [ITEMS, FRESH_ITEMS, load(NEGATIVES), *(load(later.path) for later in LATER)]
    ids = [item.id for items in sets for item in items]
    assert len(ids) == len(set(ids))


def _table(items: list[Item], answers: dict[str, Answer], config: Config) -> list[str]:
    quotes = config.catalog.essays[0].quotes
    rng = random.Random(7)
    rows = ["| half | who | n | top-1 | wrong | no quote |", "|---|---|---|---|---|---|"]
    for half in ("tune", "held-out"):
        part = [item for item in items if item.half == half]
        for who, chosen in (
            ("bot", lambda i: answers[i.id].quote),
            ("word overlap", lambda i: overlap_choice(i, quotes)),
            ("random", lambda i: random_choice(i, quotes, rng)),
        ):
            rows.append(figures(part, chosen).row(f"{half} | {who}"))
    return rows


def test_held_out_quotes_are_right_or_withheld(
    answers: dict[str, Answer], bundled_config: Config
) -> None:
    print("\n" + "\n".join(_table(ITEMS, answers, bundled_config)))
    held_out = [item for item in ITEMS if item.half == "held-out"]
    bot = figures(held_out, lambda i: answers[i.id].quote)
    quotes = bundled_config.catalog.essays[0].quotes
    overlap = figures(held_out, lambda i: overlap_choice(i, quotes))
    assert bot.hit / bot.n >= HIT_FLOOR
    assert bot.wrong / bot.n <= WRONG_CEILING
    assert bot.hit >= overlap.hit and bot.wrong < overlap.wrong / 3


def _bundled_without(
    key: str, bundled_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Config, Settings]:
    """The bundled catalog with every one-line ``key = [...]`` of its quotes
    and prompts removed, loaded, and the settings that point at it."""
    bundled = bundled_settings.catalog_path.read_text(encoding="utf-8")
    stripped = re.sub(rf"(?m)^{key} = \[.*\]\n", "", bundled)
    assert stripped != bundled
    path = tmp_path_factory.mktemp("catalog") / "catalog.toml"
    path.write_text(stripped, encoding="utf-8")
    settings = bundled_settings.model_copy(update={"catalog_path": path})
    return load_config(settings), settings


def test_the_catalog_concepts_add_held_out_hits_and_no_wrong_quote(
    answers: dict[str, Answer], bundled_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same set with the bundled catalog's quotes and prompts naming no
    concept: the concepts must find more acceptable quotes on the held-out
    half, post no more wrong ones, and quote no must-not-quote mention."""
    bare, bare_settings = _bundled_without("concepts", bundled_settings, tmp_path_factory)
    held_out = [item for item in ITEMS if item.half == "held-out"]
    with_them = figures(held_out, lambda i: answers[i.id].quote)
    without = figures(held_out, lambda i: answer(i, bare, bare_settings).quote)
    assert with_them.hit > without.hit
    assert with_them.wrong <= without.wrong
    assert not [i.id for i in ITEMS if i.none and answers[i.id].quote]


def test_a_quote_about_two_things_wins_when_the_thread_names_both(
    answers: dict[str, Answer], bundled_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same set with no quote's ``joins``: they must find more acceptable
    quotes and post fewer wrong ones on the tuning half (the mentions that
    compare a concert poster with state disinformation), and change nothing
    for the worse on the held-out half."""
    bare, bare_settings = _bundled_without("joins", bundled_settings, tmp_path_factory)
    for half in ("tune", "held-out"):
        part = [item for item in ITEMS if item.half == half]
        with_them = figures(part, lambda i: answers[i.id].quote)
        without = figures(part, lambda i: answer(i, bare, bare_settings).quote)
        if half == "tune":
            assert with_them.hit > without.hit and with_them.wrong < without.wrong
        assert with_them.hit >= without.hit and with_them.wrong <= without.wrong, half


def test_explain_says_which_concepts_the_thread_named(
    bundled_config: Config, bundled_settings: Settings
) -> None:
    text = "@filrouge comparer mon flyer de concert à de la désinfo d'état, ça va pas ?"
    outcome = decide(inputs_for(text, (), "fr", bundled_config, bundled_settings))
    assert isinstance(outcome.decision, Reply) and outcome.decision.quote_id == "meme-panier"
    trace = outcome.trace.to_text()
    assert "the thread names visuels and desinformation" in trace


def test_the_lexicon_adds_hits_and_no_wrong_quote(
    answers: dict[str, Answer], bundled_settings: Settings
) -> None:
    """The same set without the vocabulary bridge: the bridge must find more
    acceptable quotes on each half and post no more wrong ones."""
    bare_settings = bundled_settings.model_copy(update={"lexicon": False})
    bare = load_config(bare_settings)
    for half in ("tune", "held-out"):
        part = [item for item in ITEMS if item.half == half]
        with_it = figures(part, lambda i: answers[i.id].quote)
        without = figures(part, lambda i: answer(i, bare, bare_settings).quote)
        assert with_it.hit > without.hit, half
        assert with_it.wrong <= without.wrong, half
