"""A virtual monotonic clock for pacing tests: ``sleep`` waits on it, and :meth:`VirtualTime.run`
moves it forward to the next sleeper's wake-up once every task is stuck, so a test checks the
exact times a limiter lets things through without waiting for any of them."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ("VirtualTime",)

_T = TypeVar("_T")
# Enough loop turns for a lock or condition hand-over to settle (each takes two or three).
_SETTLE_TURNS = 50


class VirtualTime:
    """Seconds that pass only when every task waits for them."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake_up: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), wake_up))
        await wake_up

    async def run(self, *work: Coroutine[Any, Any, _T]) -> list[_T]:
        """Run ``work`` to the end, moving the clock forward whenever all of it waits on the clock."""
        tasks = [asyncio.create_task(coroutine) for coroutine in work]
        while True:
            for _ in range(_SETTLE_TURNS):
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                return [task.result() for task in tasks]
            while self._sleepers and self._sleepers[0][2].done():  # cancelled alarms
                heapq.heappop(self._sleepers)
            if not self._sleepers:
                for task in tasks:
                    task.cancel()
                raise AssertionError("the tasks wait for something no clock brings")
            when, _, wake_up = heapq.heappop(self._sleepers)
            self.now = when
            wake_up.set_result(None)
