"""Partner Center throttling: a sliding window per (partner tenant, resource family).

Partner Center documents "500 requests per minute per tenant" for the customer,
subscription and order resources (reference §9); the sandbox makes the number
and window configurable. The window uses real monotonic time, not the sandbox
clock: jumping the clock 8 days ahead must not reset a client's throttling.
"""

from __future__ import annotations

import math
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable

__all__ = ("SlidingWindowLimiter", "resource_family")

_SUBRESOURCE = re.compile(r"^/v1/customers/[^/]+/(subscriptions|orders|entitlements)(?:/|$)", re.IGNORECASE)


def resource_family(path: str) -> str:
    """``customers``, ``subscriptions``, ``orders``, ``entitlements`` (or ``other``)."""
    match = _SUBRESOURCE.match(path)
    if match:
        return match.group(1).lower()
    if path.lower().startswith("/v1/customers"):
        return "customers"
    return "other"


class SlidingWindowLimiter:
    """Allows ``limit`` requests per ``window_seconds`` per key; 0 = unlimited."""

    def __init__(self, *, limit: int, window_seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._window = window_seconds
        self._monotonic = monotonic
        self._hits: defaultdict[tuple[str, str], deque[float]] = defaultdict(deque)

    def check(self, key: tuple[str, str]) -> int | None:
        """Record a request; ``None`` if allowed, else seconds to wait (integer, >= 1).

        Refused requests are not recorded: a throttled client that waits
        ``Retry-After`` seconds must get through.
        """
        if self._limit <= 0:
            return None
        now = self._monotonic()
        hits = self._hits[key]
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        if len(hits) >= self._limit:
            return max(1, math.ceil(hits[0] + self._window - now))
        hits.append(now)
        return None
