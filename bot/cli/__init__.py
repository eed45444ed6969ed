"""cli — the ``filrouge`` command: ``main`` parses, each command is one module
with ``configure(parser)`` and ``run(args) -> int``.

May import everything; nothing imports ``bot.cli``.
"""
