"""Pacing of Partner Center calls: a request-rate limiter per partner tenant and resource family.

Partner Center throttles per tenant and per resource ("500 requests per minute per tenant
identifier" for customers, subscriptions and orders; ../shared/reference/partner-center-api.md §9). A removal fans out
over hundreds of subscriptions, so the client paces itself below that rate instead of learning
it from 429s, and bounds how many requests are in flight at once.

One :class:`PartnerLimits` exists per partner tenant (:class:`LimitsRegistry` hands them out),
shared by every client and background task of that tenant in the process.

The rate is a sliding window (at most N requests in *any* period), not a leaky bucket: a bucket
of N per minute lets through a burst of N plus N more drained in the same minute, twice what
Partner Center allows. aiolimiter is a leaky bucket, hence this small limiter of our own.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

__all__ = ("LimitsRegistry", "PartnerLimits", "RateSettings", "SlidingWindow", "resource_family")


@dataclass(frozen=True, slots=True)
class RateSettings:
    """How fast one partner tenant may call.

    Attributes:
        requests_per_period: requests allowed per resource family per period.
        period_seconds: the period (Partner Center documents a minute).
        max_concurrency: requests in flight at once, all families together.
    """

    requests_per_period: int = 500
    period_seconds: float = 60
    max_concurrency: int = 16


def resource_family(path: str) -> str:
    """The throttling bucket of a /v1 path: customers, subscriptions, orders or entitlements."""
    parts = [part for part in path.split("?")[0].split("/") if part and part != "v1"]
    if len(parts) >= 3 and parts[0] == "customers":
        if parts[2] in ("subscriptions", "orders", "entitlements"):
            return parts[2]
    return "customers"


class SlidingWindow:
    """Lets at most ``limit`` acquisitions happen in any ``period`` seconds (FIFO waiters).

    :param clock: seconds on a monotonic clock; ``sleep`` waits on the same clock. Tests pass a
        virtual clock to check the pacing exactly, without waiting.
    """

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a rate needs a positive limit and period")
        self._limit = limit
        self._period = period
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._starts and now - self._starts[0] >= self._period:
                    self._starts.popleft()
                if len(self._starts) < self._limit:
                    self._starts.append(now)
                    return
                await self._sleep(self._starts[0] + self._period - now)


class PartnerLimits:
    """The limiter of one partner tenant: a sliding window per family and a concurrency cap."""

    def __init__(self, settings: RateSettings) -> None:
        self.settings = settings
        self._windows: dict[str, SlidingWindow] = {}
        self._in_flight = asyncio.Semaphore(settings.max_concurrency)

    @asynccontextmanager
    async def slot(self, family: str) -> AsyncIterator[None]:
        """Hold a concurrency slot and a place in the family's rate window."""
        window = self._windows.get(family)
        if window is None:
            window = SlidingWindow(int(self.settings.requests_per_period), self.settings.period_seconds)
            self._windows[family] = window
        # Concurrency slot first, rate second: the request then leaves right after its rate
        # slot is stamped, so sends are never bunched closer than the window allows.
        async with self._in_flight:
            await window.acquire()
            yield


class LimitsRegistry:
    """Hands out the single :class:`PartnerLimits` of each partner tenant."""

    def __init__(self, settings: RateSettings | None = None) -> None:
        self._settings = settings or RateSettings()
        self._by_tenant: dict[str, PartnerLimits] = {}

    def for_tenant(self, partner_tenant: str) -> PartnerLimits:
        key = partner_tenant.lower()
        if key not in self._by_tenant:
            self._by_tenant[key] = PartnerLimits(self._settings)
        return self._by_tenant[key]
