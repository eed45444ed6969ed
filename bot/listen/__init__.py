"""listen — mentions in: the stream (a thread that only enqueues), the REST
catch-up after every gap, and polling where the server does not stream;
``intake`` records each notification as pending, once, in the worker thread.

May import: ``bot.mastodon``, ``bot.record``, ``bot.ops``, ``bot.model``,
``bot.errors``.
"""
