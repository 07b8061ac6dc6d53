"""Bursts of 429s: moments when Partner Center's gateway refuses every request.

The sliding-window limiter (``ratelimit``) throttles a client that calls too fast; a burst
throttles everyone, whatever their rate, the way the real service does when "limits are
adjusted dynamically" (reference §9). Bursts come on a schedule (every ``every`` seconds of real
time, for ``seconds``) and on demand (``POST /_sandbox/throttle``). Each 429 carries the seconds
left in the burst as ``Retry-After``, so a client that honours it gets through right after.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ("ThrottleBursts",)


class ThrottleBursts:
    """Says whether a request arriving now falls in a burst, and for how long it lasts."""

    def __init__(self, *, every: float, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._every = every
        self._seconds = seconds
        self._monotonic = monotonic
        self._started = monotonic()
        self._until = 0.0  # end of a burst started by the operator

    def start(self, seconds: float) -> None:
        """Throttle every request from now for ``seconds`` (the operator's burst)."""
        self._until = max(self._until, self._monotonic() + seconds)

    def clear(self) -> None:
        self._until = 0.0

    def retry_after(self) -> int | None:
        """``None`` outside a burst; inside, the whole seconds until it ends (>= 1)."""
        now = self._monotonic()
        left = self._until - now
        if self._every > 0:
            # Each period is quiet first, then throttled for its last `seconds`.
            phase = (now - self._started) % self._every
            if phase >= self._every - self._seconds:
                left = max(left, self._every - phase)
        return max(1, math.ceil(left)) if left > 0 else None
