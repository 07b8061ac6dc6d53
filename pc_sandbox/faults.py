"""Injected server errors: random ones and ones an operator queues.

Two moments matter to a client: a 5xx *before* processing (nothing happened;
retrying is safe) and a 5xx *after* processing (the write happened but the
answer was lost; only a retry with the same ``MS-RequestId`` is safe, which the
idempotency store makes work). Random faults come at ``fault_rate`` before and
``fault_after_rate`` after processing, from one seeded stream.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from . import errors
from .errors import ApiFault

__all__ = ("FAULT_STATUSES", "FaultInjector", "QueuedFault")

FAULT_STATUSES = (500, 502, 503, 504)
_RANDOM_STATUSES = (500, 503)
_DESCRIPTION = "Injected fault"


@dataclass(slots=True)
class QueuedFault:
    remaining: int
    status: int
    when: str  # "before" | "after"
    path_contains: str | None = None
    method: str | None = None

    def matches(self, method: str, path: str, when: str) -> bool:
        return (
            self.remaining > 0
            and self.when == when
            and (self.method is None or self.method == method.upper())
            and (self.path_contains is None or self.path_contains in path)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.remaining,
            "status": self.status,
            "when": self.when,
            "pathContains": self.path_contains,
            "method": self.method,
        }


class FaultInjector:
    def __init__(self, *, rate: float, random_seed: int, after_rate: float = 0.0) -> None:
        self._rate = rate
        self._after_rate = after_rate
        self._random = random.Random(random_seed)  # reproducible runs for a given seed
        self._queued: list[QueuedFault] = []

    def queue(self, fault: QueuedFault) -> None:
        self._queued.append(fault)

    def queued(self) -> list[QueuedFault]:
        return [fault for fault in self._queued if fault.remaining > 0]

    def clear(self) -> None:
        self._queued.clear()

    def take(self, method: str, path: str, when: str) -> ApiFault | None:
        """The fault to answer this request with at this moment, if any (consumes it)."""
        for fault in self._queued:
            if fault.matches(method, path, when):
                fault.remaining -= 1
                self._queued = [queued for queued in self._queued if queued.remaining > 0]
                return _fault(fault.status)
        rate = self._rate if when == "before" else self._after_rate
        if rate > 0 and self._random.random() < rate:
            return _fault(self._random.choice(_RANDOM_STATUSES))
        return None


def _fault(status: int) -> ApiFault:
    return ApiFault(status, errors.UNEXPECTED, _DESCRIPTION)
