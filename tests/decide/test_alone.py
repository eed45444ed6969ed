"""Commands that must stand alone (``alone = true`` in the bundled rules: stop,
start, take back, why): « stop merci » opts out, « stop comparing posters to
propaganda » is an opinion about the thread and gets the essay. A mention
that answers one of the bot's own posts is addressed to the bot: a command
word opening it counts whatever follows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app.asking import typed_inputs
from bot.catalog.config import Config
from bot.decide.decision import decide
from bot.model.decision import Reply
from bot.model.post import Account, Post
from bot.settings import Settings
from bot.text.plain import plain_to_text
from bot.understand.request import body, command_alone

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SELF = Account(id="1", acct="filrouge", username="filrouge", bot=True)
READER = Account(id="2", acct="lecteur", username="lecteur")


def rule_for(text: str, config: Config, settings: Settings, *, answers_bot: bool) -> str:
    """The rule that answers ``text``; below the bot's quote when ``answers_bot``."""
    ancestors: tuple[Post, ...] = ()
    if answers_bot:
        asked = Post(
            id="10",
            account=READER,
            content=plain_to_text("@filrouge les affiches générées par IA ?"),
            created_at=NOW - timedelta(minutes=9),
        )
        reply = Post(
            id="11",
            account=SELF,
            content=plain_to_text("@lecteur Pour en revenir au texte : « … »"),
            created_at=NOW - timedelta(minutes=8),
            in_reply_to_id="10",
        )
        ancestors = (asked, reply)
    outcome = decide(
        typed_inputs(
            f"@filrouge {text}",
            config=config,
            settings=settings,
            requester=READER,
            self_id=SELF.id,
            now=NOW,
            ancestors=ancestors,
            language="en" if text.isascii() else "fr",
        )
    )
    decision = outcome.decision
    return decision.rule if isinstance(decision, Reply) else f"skip:{decision.reason}"


@pytest.mark.parametrize(
    ("text", "answers_bot", "rule"),
    [
        ("stop", False, "stop"),
        ("Stop !", False, "stop"),
        ("stop merci", False, "stop"),
        ("stop stop STOP", False, "stop"),
        ("stop spamming me please", False, "stop"),
        ("arrête de me répondre", False, "stop"),
        ("start again", False, "start"),
        ("pourquoi ce message ?", False, "pourquoi"),
        ("why this quote?", False, "pourquoi"),
        # The command opens a sentence about something else.
        ("stop comparing gig posters with state propaganda", False, "citation-par-defaut"),
        ("why would I want a machine to do the fun part, the writing is the point", False, ""),
        ("remove AI from every school and gig poster, now", False, ""),
        # Answering the bot's post, the same words are addressed to it.
        ("stop comparing gig posters with state propaganda", True, "stop"),
        ("pourquoi cette citation, elle n'a rien à voir avec le fil", True, "pourquoi"),
    ],
)
def test_a_command_that_must_stand_alone(
    text: str, answers_bot: bool, rule: str, bundled_config: Config, bundled_settings: Settings
) -> None:
    got = rule_for(text, bundled_config, bundled_settings, answers_bot=answers_bot)
    if rule:
        assert got == rule
    else:
        assert got not in ("stop", "start", "supprime", "pourquoi"), got


@pytest.mark.parametrize(
    ("text", "alone"),
    [
        ("stop", True),
        ("stop !!! 🙏", True),
        ("stop @filrouge", True),
        ("efface s'il te plaît", True),
        ("delete this please", True),
        ("stop, plus jamais de réponses stp", True),
        ("stop comparing posters", False),
        ("why would I want a machine", False),
        # Courtesy words, but a sentence of them.
        ("stop ça c'est pour moi aussi le message", False),
    ],
)
def test_what_may_follow_a_command_alone(text: str, alone: bool) -> None:
    folded = body(f"@filrouge {text}")
    assert command_alone(folded, folded.split()[0].strip("!,?")) is alone
