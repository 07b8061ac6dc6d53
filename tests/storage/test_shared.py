"""Two store objects on the same data (two SqliteStores on one file, two BlobStores on one container)."""

from __future__ import annotations

import asyncio

import pytest

from storage import PreconditionFailed, Stored

from .conftest import Backend


async def test_each_sees_the_others_writes(shared_backend: Backend) -> None:
    first, second = shared_backend.open(), shared_backend.open()
    etag = await first.write("cases/1", {"state": "new"})
    assert await second.read("cases/1") == Stored({"state": "new"}, etag)
    assert await second.list_keys("cases/") == ["cases/1"]
    await second.delete("cases/1", if_match=etag)
    assert await first.read("cases/1") is None


async def test_a_stale_etag_from_the_other_fails(shared_backend: Backend) -> None:
    first, second = shared_backend.open(), shared_backend.open()
    etag = await first.write("cases/1", {"v": 1})
    seen_by_second = await second.read("cases/1")
    assert seen_by_second is not None
    newer = await first.write("cases/1", {"v": 2}, if_match=etag)
    with pytest.raises(PreconditionFailed):
        await second.write("cases/1", {"v": 3}, if_match=seen_by_second.etag)
    with pytest.raises(PreconditionFailed):
        await second.write("cases/1", {"v": 3}, if_none_match=True)
    with pytest.raises(PreconditionFailed):
        await second.delete("cases/1", if_match=seen_by_second.etag)
    assert await second.read("cases/1") == Stored({"v": 2}, newer)


async def test_concurrent_writers_split_between_two_stores_one_wins(shared_backend: Backend) -> None:
    stores = [shared_backend.open(), shared_backend.open()]
    start = await stores[0].write("case", {"owner": None})
    results = await asyncio.gather(*(stores[n % 2].write("case", {"owner": n}, if_match=start) for n in range(20)), return_exceptions=True)
    assert sum(isinstance(result, str) for result in results) == 1, results
    assert sum(isinstance(result, PreconditionFailed) for result in results) == 19


async def test_concurrent_appends_split_between_two_stores(shared_backend: Backend) -> None:
    stores = [shared_backend.open(), shared_backend.open()]
    numbers = await asyncio.gather(*(stores[n % 2].append("audit", {"writer": n}) for n in range(50)))
    assert sorted(numbers) == list(range(1, 51))
    assert await stores[1].read_stream("audit") == await stores[0].read_stream("audit")
    assert [number for number, _ in await stores[0].read_stream("audit")] == list(range(1, 51))


async def test_data_outlives_the_store_object(shared_backend: Backend) -> None:
    first = shared_backend.open()
    etag = await first.write("cases/1", {"state": "approved"})
    await first.append("audit", {"event": "approved"})
    await first.close()
    again = shared_backend.open()
    assert await again.read("cases/1") == Stored({"state": "approved"}, etag)
    assert await again.append("audit", {"event": "done"}) == 2
    assert await again.read_stream("audit") == [(1, {"event": "approved"}), (2, {"event": "done"})]
