"""understand — a Mastodon status and its thread, read into ``bot.model``
values: plain text, mentions, the essay the thread is about.

May import: ``bot.model``, ``bot.text``, ``bot.rank``, ``bot.catalog.config``,
``bot.web`` (to resolve an aggregator's link), ``bot.errors``.
"""
