"""What the running bot and the offline commands (``preview``, ``explain``,
``replay``) derive from the settings: the pure core's policy, the stream's reader."""

from __future__ import annotations

from bot.decide.policy import Policy, handle_key, host_of
from bot.listen.stream import StreamReader
from bot.listen.transport import reader_for
from bot.settings import Settings
from bot.text.fold import fold


def policy_from_settings(
    settings: Settings,
    *,
    self_id: str,
    max_characters: int | None = None,
    url_length: int | None = None,
) -> Policy:
    """The policy for ``settings``; the instance's own limits win when given."""
    return Policy(
        self_id=self_id,
        default_visibility=settings.default_visibility,
        default_language=settings.language,
        max_characters=max_characters or settings.max_characters,
        url_length=url_length or settings.characters_per_url,
        max_mention_age=settings.max_mention_age,
        thread_reply_limit=settings.thread_reply_limit,
        thread_cooldown=settings.thread_cooldown,
        account_cooldown=settings.account_cooldown,
        bot_allowlist=frozenset(handle_key(item) for item in settings.bot_allowlist),
        blocked=frozenset(handle_key(item) for item in settings.blocked),
        nobot_tags=tuple(fold(tag).lstrip("#") for tag in settings.nobot_tags),
        heat_threshold=settings.heat_threshold,
        min_evidence=settings.min_evidence,
        other_language=settings.other_language,
        unknown_essay=settings.unknown_essay,
        rules_url=settings.rules_url,
        admins=tuple(settings.admins),
        instance_domain=host_of(settings.instance_url),
    )


def stream_reader(settings: Settings, streaming_url: str) -> StreamReader:
    """The listener's reader of one connection, with the configured protocol."""
    return reader_for(
        settings.stream_protocol,
        streaming_url,
        settings.access_token.get_secret_value(),
        stall_timeout=settings.stream_stall_timeout,
        connect_timeout=settings.request_timeout,
        user_agent=settings.user_agent,
    )
