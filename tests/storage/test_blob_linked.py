"""BlobStore's ``append_linked`` finds the stream's last record whatever state the counter is in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from azure.storage.blob.aio import ContainerClient

from storage import BlobStore
from tests._azurite import Azurite


@pytest.fixture
def container_name() -> str:
    return f"test-{uuid.uuid4().hex[:20]}"


@pytest.fixture
async def store(azurite: Azurite, container_name: str) -> AsyncIterator[BlobStore]:
    opened = BlobStore(azurite.connection_string, container_name)
    yield opened
    await opened.close()


@pytest.fixture
async def raw(azurite: Azurite, container_name: str) -> AsyncIterator[ContainerClient]:
    client = ContainerClient.from_connection_string(azurite.connection_string, container_name)
    yield client
    await client.close()


def _after(last: tuple[int, dict[str, Any]] | None) -> dict[str, Any]:
    return {"after": 0 if last is None else last[0]}


async def _five(store: BlobStore) -> None:
    for n in range(1, 6):
        assert await store.append("audit", {"n": n}) == n


async def test_no_counter_the_listing_finds_the_last_record(store: BlobStore, raw: ContainerClient) -> None:
    await _five(store)
    await raw.delete_blob("counters/audit.json")
    assert await store.append_linked("audit", _after) == 6
    assert (await store.read_stream("audit", after=5)) == [(6, {"after": 5})]


async def test_a_lagging_counter_is_walked_past(store: BlobStore, raw: ContainerClient) -> None:
    await _five(store)
    await raw.upload_blob("counters/audit.json", b'{"last": 2}', overwrite=True)
    assert await store.append_linked("audit", _after) == 6
    assert (await store.read_stream("audit", after=5)) == [(6, {"after": 5})]


async def test_the_counters_record_deleted_by_hand_the_listing_finds_the_last(store: BlobStore, raw: ContainerClient) -> None:
    await _five(store)
    await raw.upload_blob("counters/audit.json", b'{"last": 3}', overwrite=True)
    await raw.delete_blob("streams/audit/000000000003.json")
    assert await store.append_linked("audit", _after) == 6
    assert [number for number, _ in await store.read_stream("audit")] == [1, 2, 4, 5, 6]
