"""act — carry a decision out: post once (record, idempotency key, post,
record, recover), the admins' commands by direct message, and the notices
to moderators.

May import: ``bot.understand``, ``bot.decide``, ``bot.mastodon``,
``bot.record``, ``bot.ops``, ``bot.model``, ``bot.text``, ``bot.errors``.
"""
