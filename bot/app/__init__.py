"""app — the running bot wired from the stages (``runner``), the embedded
demo, and ``replay`` of recorded mentions through today's admin data.

May import every package above it; nothing imports ``bot.app`` but ``bot.cli``.
"""
