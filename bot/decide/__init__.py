"""decide — the pure core: (mention, thread, essay, admin data, history,
``now``) → a ``Reply`` or a ``Skip``, with the trace ``explain`` prints.

No I/O, no clock reads, no randomness it was not handed. May import:
``bot.model``, ``bot.text``, ``bot.rank``, ``bot.catalog.config``. Never the
record, the Mastodon client, the web or the settings loader.
"""

from bot.decide.decision import decide
from bot.decide.policy import Policy
from bot.decide.trace import Inputs, Outcome

__all__ = ["Inputs", "Outcome", "Policy", "decide"]
