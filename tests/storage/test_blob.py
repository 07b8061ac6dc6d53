"""BlobStore beyond the contract: what lies in the container, and how appends recover."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from azure.storage.blob.aio import ContainerClient

from storage import BlobStore, PreconditionFailed
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
    """The container seen through the Azure SDK directly, as another program would see it."""
    client = ContainerClient.from_connection_string(azurite.connection_string, container_name)
    yield client
    await client.close()


async def test_the_container_is_created_on_first_use(store: BlobStore, raw: ContainerClient) -> None:
    assert not await raw.exists()
    assert await store.read("k") is None
    assert await raw.exists()


async def test_an_existing_container_is_used_as_it_is(azurite: Azurite, raw: ContainerClient) -> None:
    await raw.create_container()
    await raw.upload_blob("unrelated.txt", b"not ours")
    store = BlobStore(azurite.connection_string, raw.container_name)
    try:
        await store.write("k", {"v": 1})
        assert await store.list_keys("") == ["k"]
    finally:
        await store.close()


async def test_every_blob_is_plain_json(store: BlobStore, raw: ContainerClient) -> None:
    await store.write("19:abc@thread.tacv2;messageid=1", {"dialogState": {"stack": ["remove"]}, "name": "Zürich"})
    await store.write(";" * 1000, {"long": True})
    await store.append("audit/case-1", {"event": "approved", "by": "Åsa"})
    names = [name async for name in raw.list_blob_names()]
    assert len(names) == 4  # two documents, one record, one counter
    for name in names:
        downloader = await raw.download_blob(name)
        text = (await downloader.readall()).decode("utf-8")
        assert downloader.properties.content_settings.content_type.startswith("application/json")
        document = json.loads(text)
        assert isinstance(document, dict)
        assert "py/object" not in text and "py/" not in "".join(document)  # no jsonpickle markers
    teams = await raw.download_blob("documents/19%3Aabc%40thread%2Etacv2%3Bmessageid%3D1")
    assert json.loads(await teams.readall()) == {"dialogState": {"stack": ["remove"]}, "name": "Zürich"}


async def test_the_etag_is_the_blobs_etag(store: BlobStore, raw: ContainerClient) -> None:
    etag = await store.write("k", {"v": 1})
    properties = await raw.get_blob_client("documents/k").get_blob_properties()
    assert properties.etag == etag


async def test_a_change_made_outside_the_store_fails_a_stale_write(store: BlobStore, raw: ContainerClient) -> None:
    etag = await store.write("k", {"v": 1})
    await raw.upload_blob("documents/k", b'{"v": "outside"}', overwrite=True)
    with pytest.raises(PreconditionFailed):
        await store.write("k", {"v": 2}, if_match=etag)
    stored = await store.read("k")
    assert stored is not None and stored.document == {"v": "outside"}


async def test_blob_names_stay_within_azure_limits(store: BlobStore, raw: ContainerClient) -> None:
    for key in ("🚀" * 1000, ";" * 1000, "x" * 1000):
        await store.write(key, {})
        await store.append(key, {})
    names = [name async for name in raw.list_blob_names()]
    assert names and max(len(name) for name in names) <= 1024


async def test_append_recovers_when_the_counter_lags(store: BlobStore, raw: ContainerClient) -> None:
    for n in range(1, 4):
        assert await store.append("audit", {"n": n}) == n
    # A writer that died after creating its record but before moving the counter leaves it behind.
    await raw.delete_blob("counters/audit.json")
    assert await store.append("audit", {"n": 4}) == 4
    assert await store.append("audit", {"n": 5}) == 5
    assert [number for number, _ in await store.read_stream("audit")] == [1, 2, 3, 4, 5]
    counter = await raw.download_blob("counters/audit.json")
    assert json.loads(await counter.readall()) == {"last": 5}


async def test_records_are_never_overwritten(store: BlobStore, raw: ContainerClient) -> None:
    await store.append("audit", {"n": 1})
    await raw.upload_blob("counters/audit.json", b'{"last": 0}', overwrite=True)  # a counter gone backwards
    assert await store.append("audit", {"n": 2}) == 2
    assert await store.read_stream("audit") == [(1, {"n": 1}), (2, {"n": 2})]


# ---- append_linked: the hash-chained streams find their last record whatever the counter says ----


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
