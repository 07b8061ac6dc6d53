"""Pacing of Partner Center calls: a request-rate limiter per partner tenant and resource family.

Partner Center throttles per tenant and per resource ("500 requests per minute per tenant
identifier" for customers, subscriptions and orders; partner-center-api.md §9). A removal fans out
over hundreds of subscriptions, so the client paces itself below that rate instead of learning
it from 429s, and bounds how many requests are in flight at once.

One :class:`PartnerLimits` exists per partner tenant (:class:`LimitsRegistry` hands them out),
shared by every client and background task of that tenant in the process.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator

from aiolimiter import AsyncLimiter

__all__ = ("LimitsRegistry", "PartnerLimits", "RateSettings", "resource_family")


@dataclass(frozen=True, slots=True)
class RateSettings:
    """How fast one partner tenant may call.

    Attributes:
        requests_per_period: requests allowed per resource family per period.
        period_seconds: the period (Partner Center documents a minute).
        max_concurrency: requests in flight at once, all families together.
    """

    requests_per_period: float = 500
    period_seconds: float = 60
    max_concurrency: int = 16


def resource_family(path: str) -> str:
    """The throttling bucket of a /v1 path: customers, subscriptions, orders or entitlements."""
    parts = [part for part in path.split("?")[0].split("/") if part and part != "v1"]
    if len(parts) >= 3 and parts[0] == "customers":
        if parts[2] in ("subscriptions", "orders", "entitlements"):
            return parts[2]
    return "customers"


class PartnerLimits:
    """The limiter of one partner tenant: a leaky bucket per family and a concurrency cap."""

    def __init__(self, settings: RateSettings) -> None:
        self.settings = settings
        self._buckets: dict[str, AsyncLimiter] = {}
        self._in_flight = asyncio.Semaphore(settings.max_concurrency)

    @asynccontextmanager
    async def slot(self, family: str) -> AsyncIterator[None]:
        """Wait for the family's rate and a concurrency slot, then hold the slot."""
        bucket = self._buckets.get(family)
        if bucket is None:
            bucket = AsyncLimiter(self.settings.requests_per_period, self.settings.period_seconds)
            self._buckets[family] = bucket
        await bucket.acquire()
        async with self._in_flight:
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
