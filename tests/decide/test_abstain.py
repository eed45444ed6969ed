"""Mentions that are no request about the essay (``bot.decide.abstain``)."""

from __future__ import annotations

import pytest

from bot.decide.abstain import hostile, spam
from bot.model.post import Account, Post
from bot.text.plain import plain_to_text
from tests.decide.test_decision import NOW


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("ta gueule le robot", "ta gueule"),  # a dismissal, whoever it is said to
        ("t'es vraiment un bot débile", "debile"),  # an insult said of the bot
        ("shut up you stupid bot", "shut up"),
        ("nobody asked you, useless machine", "nobody asked"),
        ("go away, bot", "go away"),
        ("Dégage sale bot de merde", "degage"),
        # not hostile: about the topic, or not said of the bot
        ("c'est débile de payer un graphiste quand on a zéro budget", None),
        ("ce débat est débile", None),
        ("à quelle heure ferme la piscine ?", None),  # "ferme la" opens nothing here
        ("un peu nul ce texte", None),
        ("", None),
        # long: an insult in passing is not all the mention says
        ("t'es débile si tu crois que les affiches générées par IA c'est pareil que l'art", None),
    ],
)
def test_hostile(body: str, why: str | None) -> None:
    assert hostile(body) == why


def post(text: str) -> Post:
    return Post(
        id="1",
        account=Account(id="a", acct="x@example.org", username="x"),
        content=plain_to_text(text),
        created_at=NOW,
    )


KNOWN = {"mail.paulineharmange.fr", "app.flus.fr"}


@pytest.mark.parametrize(
    ("text", "spammy"),
    [
        ("@filrouge Gagnez 500€ par jour ! Cliquez https://argent.example/promo", True),
        ("@filrouge Buy followers cheap! https://growth.example/deal", True),
        ("@filrouge New crypto token, 100x guaranteed https://moon.example", True),
        # a link to the essay, whatever the wording
        ("@filrouge offre gratuite: https://mail.paulineharmange.fr/archive/ia-probleme/", False),
        # one cue is not enough: people share articles about free software
        ("@filrouge un article sur le logiciel libre et gratuit https://news.example/a", False),
        # wording without a link
        ("@filrouge promo -50% sur les GPU, la planète dit merci", False),
    ],
)
def test_spam(text: str, spammy: bool) -> None:
    assert (spam(post(text), KNOWN) is not None) is spammy
