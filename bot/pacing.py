"""Pacing sends to Teams by when they *arrive*, which is what Teams counts.

Teams allows a bot at most so many messages per conversation in any window (7 a second, 60 in
30 seconds: ../shared/reference/teams-and-peers.md §3.5). Stamping a window when a send *starts* is not enough: the
time between starting a send and its arrival varies (a busy event loop, a new connection), so
sends started a full window apart can arrive closer together than that, and a loaded machine
then trips Teams' limit. :class:`ArrivalWindow` holds a send's place from when it starts until a
full period after it ends: a send arrives somewhere between the two, so at most ``limit`` sends
can arrive within any ``period``, whatever each one's latency.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

__all__ = ("ArrivalWindow",)


class ArrivalWindow:
    """At most ``limit`` sends arriving in any ``period`` seconds (first come, first served).

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
        self._in_flight = 0
        self._ends: deque[float] = deque()  # when recent sends ended, oldest first
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a place for one send for the block (the send), and ``period`` after it."""
        async with self._changed:
            while True:
                now = self._clock()
                while self._ends and now - self._ends[0] >= self._period:
                    self._ends.popleft()
                if self._in_flight + len(self._ends) < self._limit:
                    self._in_flight += 1
                    break
                # Wait for the oldest ended send to leave the window, or for one in flight to end.
                await self._wait_for_change(self._ends[0] + self._period - now if self._ends else None)
        try:
            yield
        finally:
            async with self._changed:
                self._in_flight -= 1
                self._ends.append(self._clock())
                self._changed.notify_all()

    async def _wait_for_change(self, seconds: float | None) -> None:
        """Wait (holding the lock, as ``Condition.wait`` wants) for a notification, or ``seconds``.

        The timeout is an alarm task that sleeps on the injected clock, then notifies: waiters
        re-check the window whenever they wake, so an early or shared wake-up costs nothing.
        """
        if seconds is None:
            await self._changed.wait()
            return
        alarm = asyncio.create_task(self._notify_after(seconds))
        try:
            await self._changed.wait()
        finally:
            alarm.cancel()

    async def _notify_after(self, seconds: float) -> None:
        await self._sleep(seconds)
        async with self._changed:
            self._changed.notify_all()
