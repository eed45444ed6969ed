"""listen — mentions in: the stream (a thread that only enqueues), the REST
catch-up after every gap, and polling where the server does not stream.

May import: ``bot.mastodon``, ``bot.ops``, ``bot.model``, ``bot.errors``.
"""
