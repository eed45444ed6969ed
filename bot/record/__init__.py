"""record — SQLite (WAL): the cursor, one outcome per mention, history for
cooldowns and no-repeat, consent, moderation state, the link cache and the
audit that ``explain``, ``log`` and ``stats`` read. Schema changes are named
migrations.

May import: ``bot.model``, ``bot.errors``.
"""
