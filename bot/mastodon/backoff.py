"""Retries with jittered exponential backoff, as a small policy tests can
make reproducible (``rng``) and instant (``sleep``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.errors import RateLimited, TransientError

# -- retry policy ---------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """Jittered exponential backoff with a cap ("full jitter").

    ``delay(n)`` is the wait before attempt ``n + 1`` after ``n`` failures.
    ``rng`` is injectable so tests get reproducible delays; ``sleep`` is
    injectable so tests never wait.
    """

    base: float = 1.0
    cap: float = 300.0
    factor: float = 2.0
    #: In-call retries of a read before the error goes up to the caller.
    attempts: int = 3
    #: A longer wait (a rate-limit reset) is left to the caller to schedule.
    max_inline_wait: float = 10.0
    rng: random.Random = field(default_factory=random.Random, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failures (≥ 1)."""
        ceiling = min(self.cap, self.base * self.factor ** max(failures - 1, 0))
        # Half fixed, half random: never zero, never synchronised with other clients.
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def wait_for(self, error: TransientError, failures: int, *, now: float) -> float:
        """The wait before retrying after ``error``: the server's reset time when it gave one."""
        wait = self.delay(failures)
        if isinstance(error, RateLimited) and error.retry_at is not None:
            wait = max(wait, error.retry_at - now)
        return wait
