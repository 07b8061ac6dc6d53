"""``etag(key)``: a document's current ETag without its content, on every backend (the executor
asks for it before every Partner Center write to see whether the case changed)."""

from __future__ import annotations

import pytest

from storage import DocumentStore


async def test_etag_follows_every_write_and_delete(store: DocumentStore) -> None:
    assert await store.etag("cases/1") is None
    first = await store.write("cases/1", {"state": "executing"})
    assert await store.etag("cases/1") == first
    stored = await store.read("cases/1")
    assert stored is not None and stored.etag == first  # the same ETag a read gives, usable as if_match
    second = await store.write("cases/1", {"state": "cancelled"}, if_match=first)
    assert await store.etag("cases/1") == second != first
    await store.delete("cases/1")
    assert await store.etag("cases/1") is None


async def test_etag_of_a_key_too_long_for_a_blob_name(store: DocumentStore) -> None:
    key = "cases/" + "é" * 900  # encoded past the blob-name limit: hashed, key kept in metadata
    etag = await store.write(key, {"state": "executing"})
    assert await store.etag(key) == etag
    assert await store.etag(key[:-1]) is None


async def test_etag_refuses_what_read_refuses(store: DocumentStore) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        await store.etag("")
    with pytest.raises(TypeError):
        await store.etag(42)  # type: ignore[arg-type]
