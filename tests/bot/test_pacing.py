"""Teams pacing by arrival on a virtual clock: a send holds its place from its start until a full
period after it ends, so the exact times each send may start are known."""

from __future__ import annotations

import pytest

from bot.pacing import ArrivalWindow
from tests._virtual_time import VirtualTime


async def _send(window: ArrivalWindow, time: VirtualTime, *, lasting: float, after: float = 0.0) -> float:
    """One send through the window that takes ``lasting`` seconds; returns when it started."""
    await time.sleep(after)
    async with window.slot():
        started = time.now
        await time.sleep(lasting)
    return started


async def test_a_send_keeps_its_place_for_a_full_period_after_it_ends() -> None:
    time = VirtualTime()
    window = ArrivalWindow(2, 1.0, clock=time.clock, sleep=time.sleep)

    started = await time.run(*(_send(window, time, lasting=0.25) for _ in range(5)))

    # The first two end at 0.25 and hold their places until 1.25; so do the next two, until 2.5.
    assert started == [0.0, 0.0, 1.25, 1.25, 2.5]


async def test_a_send_in_flight_counts_however_long_it_takes() -> None:
    time = VirtualTime()
    window = ArrivalWindow(2, 1.0, clock=time.clock, sleep=time.sleep)

    started = await time.run(
        _send(window, time, lasting=5.0),
        _send(window, time, lasting=0.25),
        _send(window, time, lasting=0.25),
        _send(window, time, lasting=0.25),
    )

    # The slow send holds one place throughout: the others go one at a time, each a period after
    # the previous one ended (a window stamped at the start would let them in at 0 and 1).
    assert started == [0.0, 0.0, 1.25, 2.5]


async def test_a_slow_send_that_ends_frees_its_place_a_period_later() -> None:
    time = VirtualTime()
    window = ArrivalWindow(1, 1.0, clock=time.clock, sleep=time.sleep)

    started = await time.run(
        _send(window, time, lasting=3.0),
        _send(window, time, lasting=0.5, after=0.5),
    )

    assert started == [0.0, 4.0]


async def test_sends_spread_out_over_time_pass_without_waiting() -> None:
    time = VirtualTime()
    window = ArrivalWindow(1, 1.0, clock=time.clock, sleep=time.sleep)

    started = await time.run(*(_send(window, time, lasting=0.5, after=2.0 * n) for n in range(3)))

    assert started == [0.0, 2.0, 4.0]


@pytest.mark.parametrize(("limit", "period"), [(0, 1.0), (1, 0.0)])
def test_a_window_needs_a_positive_limit_and_period(limit: int, period: float) -> None:
    with pytest.raises(ValueError, match="positive limit and period"):
        ArrivalWindow(limit, period)
