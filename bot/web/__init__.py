"""web — fetching a link safely (allowlisted hosts, no private addresses,
bounded time, redirects and size) to learn where an aggregator's link leads.

May import: ``bot.text``, ``bot.settings``.
"""
