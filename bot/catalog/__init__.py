"""catalog — the admin data: ``config`` holds the compiled objects the rest
of the bot reads; ``load`` reads and checks the TOML files (every problem
with file, line, id and a hint); ``importer`` drafts a catalog from an
essay's web page.

May import: ``bot.model``, ``bot.text``, ``bot.rank``, ``bot.web``,
``bot.settings``, ``bot.errors``.
"""
