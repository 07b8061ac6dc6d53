"""``append_linked``: each record is made from the stream's last one and numbered right after it,
on every backend, with writers racing in one process or in two store objects on the same data
(what a hash-chained audit trail relies on)."""

from __future__ import annotations

import asyncio
from typing import Any

from storage import DocumentStore

from .conftest import Backend


def _after(writer: int) -> Any:
    """A record naming the number of the record it was made from (0: none), and its writer."""

    def link(last: tuple[int, dict[str, Any]] | None) -> dict[str, Any]:
        return {"after": 0 if last is None else last[0], "writer": writer}

    return link


def _assert_each_follows_the_one_it_was_made_from(records: list[tuple[int, dict[str, Any]]], count: int) -> None:
    assert [number for number, _ in records] == list(range(1, count + 1))
    assert [record["after"] for _, record in records] == list(range(count))
    assert sorted(record["writer"] for _, record in records) == list(range(count))


async def test_the_first_record_is_made_from_nothing_and_each_next_from_the_last(store: DocumentStore) -> None:
    seen: list[Any] = []

    def link(last: tuple[int, dict[str, Any]] | None) -> dict[str, Any]:
        seen.append(last)
        return {"n": len(seen)}

    assert await store.append_linked("audit", link) == 1
    assert await store.append_linked("audit", link) == 2
    assert seen == [None, (1, {"n": 1})]
    assert await store.read_stream("audit") == [(1, {"n": 1}), (2, {"n": 2})]


async def test_thirty_concurrent_linked_appends_each_follow_their_link(store: DocumentStore) -> None:
    numbers = await asyncio.gather(*(store.append_linked("audit", _after(n)) for n in range(30)))
    assert sorted(numbers) == list(range(1, 31))
    _assert_each_follows_the_one_it_was_made_from(await store.read_stream("audit"), 30)


async def test_two_store_objects_on_the_same_data_keep_the_links(shared_backend: Backend) -> None:
    one, two = shared_backend.open(), shared_backend.open()
    await asyncio.gather(*((one if n % 2 else two).append_linked("audit/customer/c-1", _after(n)) for n in range(20)))
    _assert_each_follows_the_one_it_was_made_from(await one.read_stream("audit/customer/c-1"), 20)


async def test_plain_and_linked_appends_share_the_numbers(store: DocumentStore) -> None:
    assert await store.append("audit", {"plain": 1}) == 1
    assert await store.append_linked("audit", lambda last: {"after": last[0] if last else 0}) == 2
    assert await store.append("audit", {"plain": 3}) == 3
    assert await store.append_linked("audit", lambda last: {"after": last[0] if last else 0}) == 4
    assert [record for _, record in await store.read_stream("audit")] == [{"plain": 1}, {"after": 1}, {"plain": 3}, {"after": 3}]
