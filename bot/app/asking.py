"""A mention typed by a person, made into what ``decide`` takes: the one
way ``filrouge preview``, ``explain`` and the console's preview box ask the
bot what it would answer, with nothing posted and no history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bot.app.wiring import policy_from_settings
from bot.decide.trace import Inputs
from bot.model.decision import History, Moderation
from bot.model.post import Account, Mention, Post, Thread, Visibility
from bot.text.plain import plain_to_text
from bot.understand.language import with_language
from bot.understand.thread import find_essay

if TYPE_CHECKING:
    from bot.catalog.config import Config
    from bot.settings import Settings


def typed_inputs(
    text: str,
    *,
    config: Config,
    settings: Settings,
    requester: Account,
    self_id: str,
    now: datetime,
    ancestors: Sequence[Post] = (),
    visibility: Visibility = "public",
    spoiler_text: str = "",
    language: str | None = None,
    moderation: Moderation | None = None,
) -> Inputs:
    """``decide``'s inputs for ``text`` posted now by ``requester`` below
    ``ancestors`` (oldest first). The text's language wins over ``language``
    when it is clear, as it does live; links are not resolved."""
    post = Post(
        id="preview",
        account=requester,
        content=plain_to_text(text),
        created_at=now,
        visibility=visibility,
        spoiler_text=spoiler_text,
        language=language,
        in_reply_to_id=ancestors[-1].id if ancestors else None,
    )
    mention = Mention(
        notification_id="preview", post=with_language(post, detect=settings.detect_language)
    )
    thread = Thread(tuple(ancestors))
    essay = find_essay(mention, thread, config, resolved={}, threshold=settings.essay_threshold)
    return Inputs(
        mention=mention,
        thread=thread,
        essay=essay,
        config=config,
        history=History(),
        policy=policy_from_settings(settings, self_id=self_id),
        now=now,
        moderation=moderation or Moderation(),
    )
