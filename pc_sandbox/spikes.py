"""Latency spikes: a fraction of requests is slow (a few seconds), the rest answer as usual.

Random spikes (``spike_rate``, reproducible with ``random_seed``) and spikes an operator queues
for matching requests (``POST /_sandbox/spikes``). A client must not time out or give up on a
write because one answer took two seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

__all__ = ("LatencySpikes", "QueuedSpike")

# Apart from the fault injector's stream: turning spikes on must not move which requests fault.
_SEED_OFFSET = 0x5F1CE


@dataclass(slots=True)
class QueuedSpike:
    remaining: int
    milliseconds: float
    path_contains: str | None = None
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method == method.upper())
            and (self.path_contains is None or self.path_contains in path)
        )

    def to_json(self) -> dict[str, Any]:
        return {"count": self.remaining, "ms": self.milliseconds, "pathContains": self.path_contains, "method": self.method}


class LatencySpikes:
    def __init__(self, *, rate: float, milliseconds: float, random_seed: int) -> None:
        self._rate = rate
        self._milliseconds = milliseconds
        self._random = random.Random(random_seed + _SEED_OFFSET)
        self._queued: list[QueuedSpike] = []

    def queue(self, spike: QueuedSpike) -> None:
        self._queued.append(spike)

    def queued(self) -> list[QueuedSpike]:
        return [spike for spike in self._queued if spike.remaining > 0]

    def clear(self) -> None:
        self._queued.clear()

    def take(self, method: str, path: str) -> float:
        """Milliseconds of spike for this request (0 = none); consumes a queued spike."""
        for spike in self._queued:
            if spike.matches(method, path):
                spike.remaining -= 1
                self._queued = self.queued()
                return spike.milliseconds
        if self._rate > 0 and self._random.random() < self._rate:
            return self._milliseconds
        return 0.0
