"""mastodon — the port to the server: the Mastodon.py client with one place
that translates its errors, backoff, paging, and ``register`` (OAuth).

May import: ``bot.model``, ``bot.settings``, ``bot.errors``.
"""
