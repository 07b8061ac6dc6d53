"""The Partner Center rate window on a virtual clock: exact times, no waiting."""

from __future__ import annotations

import pytest

from partner_center.limits import SlidingWindow
from tests._virtual_time import VirtualTime


async def _acquire_at(window: SlidingWindow, time: VirtualTime, *, after: float = 0.0) -> float:
    await time.sleep(after)
    await window.acquire()
    return time.now


async def test_at_most_limit_acquisitions_in_any_period_first_come_first_served() -> None:
    time = VirtualTime()
    window = SlidingWindow(3, 10.0, clock=time.clock, sleep=time.sleep)

    granted = await time.run(*(_acquire_at(window, time) for _ in range(7)))

    assert granted == [0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 20.0]


async def test_the_window_slides_from_each_acquisition_not_in_fixed_minutes() -> None:
    time = VirtualTime()
    window = SlidingWindow(2, 10.0, clock=time.clock, sleep=time.sleep)

    granted = await time.run(
        _acquire_at(window, time, after=0.0),
        _acquire_at(window, time, after=4.0),
        _acquire_at(window, time, after=5.0),
        _acquire_at(window, time, after=6.0),
    )

    # A leaky bucket or a fixed minute would let the third in at 5 or at 10; the window waits
    # until the first acquisition is a full period old, and the fourth until the second is.
    assert granted == [0.0, 4.0, 10.0, 14.0]


async def test_an_idle_window_lets_a_full_burst_through_again() -> None:
    time = VirtualTime()
    window = SlidingWindow(2, 10.0, clock=time.clock, sleep=time.sleep)

    first = await time.run(*(_acquire_at(window, time) for _ in range(2)))
    later = await time.run(*(_acquire_at(window, time, after=25.0) for _ in range(3)))

    assert first == [0.0, 0.0]
    assert later == [25.0, 25.0, 35.0]


@pytest.mark.parametrize(("limit", "period"), [(0, 1.0), (1, 0.0), (1, -1.0)])
def test_a_window_needs_a_positive_limit_and_period(limit: int, period: float) -> None:
    with pytest.raises(ValueError, match="positive limit and period"):
        SlidingWindow(limit, period)
