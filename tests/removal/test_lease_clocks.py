"""Leases do not depend on each instance's clock (security review, finding 16): instances whose
clocks disagree by minutes still keep out of each other's live leases, a dead holder's lease is
still taken over, and a holder whose renewal hangs stops before anyone else can take over."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from removal.lease import Leases, LeaseTaken
from storage import DocumentStore, MemoryStore
from tests._azurite import Azurite, azurite  # noqa: F401  (the session fixture, for pytest to find)
from tests.removal._documents import Delegating
from tests.storage.conftest import ALL_BACKENDS, Backend, make_backend

SKEW = 5 * 60.0  # seconds between the two instances' clocks, each way from the true time


@pytest.fixture(params=ALL_BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    made = make_backend(request.param, request, tmp_path)
    yield made
    await made.close_all()


def _behind() -> float:
    return time.time() - SKEW


def _ahead() -> float:
    return time.time() + SKEW


async def test_an_instance_whose_clock_is_minutes_ahead_cannot_take_a_live_lease(backend: Backend) -> None:
    seconds = 3.0  # renewals every second, trusted 2.25 s: room for slow writes on a loaded machine
    holder = Leases(backend.open(), owner="holder", seconds=seconds, clock=_behind)
    other = Leases(backend.open(), owner="other", seconds=seconds, clock=_ahead)
    async with holder.hold("case-1") as lease:
        deadline = time.monotonic() + 1.5 * seconds  # more than a lease duration, several renewals
        while time.monotonic() < deadline:
            assert not await other.is_free("case-1")
            assert not await other.acquire("case-1")
            with pytest.raises(LeaseTaken):
                async with other.hold("case-1"):
                    pass
            await asyncio.sleep(seconds / 6)
        assert not lease.lost
    assert await other.is_free("case-1") and await other.acquire("case-1")  # released: free at once


async def test_a_lease_is_taken_over_once_watched_unchanged_for_its_duration(backend: Backend) -> None:
    now = [1_000_000.0]  # the other instance's clock, moved by hand; the holder's is minutes off
    holder = Leases(backend.open(), owner="holder", seconds=30, clock=_ahead)
    other = Leases(backend.open(), owner="other", seconds=30, clock=lambda: now[0])
    assert await holder.acquire("case-1")
    assert not await other.is_free("case-1")  # first seen now
    now[0] += 20
    assert await holder.acquire("case-1")  # renewed: a new version, watched afresh
    now[0] += 20  # 40 s since the other first looked: but it sees the renewed lease only now
    assert not await other.is_free("case-1") and not await other.acquire("case-1")
    # The holder dies: nobody renews any more; the other counts from when it saw the renewal.
    now[0] += 29.9
    assert not await other.is_free("case-1") and not await other.acquire("case-1")
    now[0] += 0.1
    assert await other.is_free("case-1") and await other.acquire("case-1")
    assert not await holder.acquire("case-1")  # back from the dead: the lease is someone else's


class _RenewalsHang(Delegating):
    """Storage that takes the first write and then hangs on every later one (a stuck request)."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.writes = 0

    async def write(self, key: str, document: dict[str, Any], *, if_match: str | None = None, if_none_match: bool = False) -> str:
        self.writes += 1
        if self.writes > 1:
            await asyncio.Event().wait()
        return await super().write(key, document, if_match=if_match, if_none_match=if_none_match)


async def test_a_holder_whose_renewal_hangs_stops_before_another_instance_can_take_over() -> None:
    documents = MemoryStore()
    seconds = 0.4
    holder = Leases(_RenewalsHang(documents), owner="holder", seconds=seconds)
    other = Leases(documents, owner="other", seconds=seconds)
    async with holder.hold("case-1") as lease:
        lost_at_takeover: bool | None = None
        deadline = time.monotonic() + 5 * seconds
        while time.monotonic() < deadline:
            holder_had_stopped = lease.lost  # read before trying: the takeover must come after it
            if await other.acquire("case-1"):
                lost_at_takeover = holder_had_stopped
                break
            await asyncio.sleep(0.02)
        assert lost_at_takeover is True, "another instance took the lease while its holder still worked"
