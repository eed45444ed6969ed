"""text — pure functions on text: folding for comparison, Mastodon's HTML
to plain text, URL normalisation, and the template language with the
server's way of counting a post's length.

May import: ``bot.model``.
"""
