"""The moderators' read-only console (``FILROUGE_CONSOLE``): ``bot.console.app``."""
