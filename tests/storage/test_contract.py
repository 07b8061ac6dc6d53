"""The DocumentStore contract, checked against every backend (memory, SQLite, Azure Blob on Azurite)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from storage import MAX_KEY_LENGTH, DocumentStore, PreconditionFailed, Stored

from .conftest import Backend

TEAMS_KEY = "19:abc@thread.tacv2;messageid=1"
AWKWARD_KEYS = (
    TEAMS_KEY,
    "conversations/a:1;b@c=d/users/29:1x-Y_z",
    "a:19:meeting_NjA4@thread.v2;messageid=0|users/8:orgid:00000000-0000-0000-0000-000000000000",
    "cases/Contoso Ltd./été ∑ 中文 🚀",
    "slashes//double/and/trailing/",
    "/leading",
    "..",
    ".",
    "dot at end.",
    "back\\slash",
    "percent%2Fencoded%",
    "?query=1&x=#fragment",
    "tab\there\nnewline",
    "!bang!",
    " spaces ",
    "~tilde-_",
    "x" * MAX_KEY_LENGTH,
    ";" * MAX_KEY_LENGTH,  # 3,000 characters once percent-encoded
    "🚀" * MAX_KEY_LENGTH,  # 12,000 characters once percent-encoded
)
UNICODE_DOCUMENT: dict[str, Any] = {
    "company": "Société Générale — Zürich 株式会社 🚀",
    "ключ": ["значение", 1, 2.5, True, False, None],
    "nested": {"deep": {"deeper": [{"a": "\u0000\u001f\u2028"}]}, "empty": {}},
    "big": 2**62,
    "quote": "\"\\'",
}


# ---- Documents ----


async def test_read_missing_is_none(store: DocumentStore) -> None:
    assert await store.read("cases/nothing") is None


async def test_write_then_read(store: DocumentStore) -> None:
    etag = await store.write("cases/1", {"state": "new", "items": [1, 2]})
    assert isinstance(etag, str) and etag
    assert await store.read("cases/1") == Stored({"state": "new", "items": [1, 2]}, etag)


async def test_unconditional_write_replaces_and_changes_etag(store: DocumentStore) -> None:
    first = await store.write("cases/1", {"v": 1})
    second = await store.write("cases/1", {"v": 2})
    assert second != first
    assert await store.read("cases/1") == Stored({"v": 2}, second)


async def test_every_write_gets_a_new_etag_even_for_the_same_document(store: DocumentStore) -> None:
    etags = [await store.write("k", {"same": True}) for _ in range(5)]
    assert len(set(etags)) == 5


async def test_reads_return_copies(store: DocumentStore) -> None:
    document = {"list": [1]}
    await store.write("k", document)
    document["list"].append(2)  # changing the caller's dict after writing changes nothing stored
    stored = await store.read("k")
    assert stored is not None and stored.document == {"list": [1]}
    stored.document["list"].append(3)
    again = await store.read("k")
    assert again is not None and again.document == {"list": [1]}


async def test_read_many(store: DocumentStore) -> None:
    etag_a = await store.write("a", {"n": "a"})
    etag_c = await store.write("c", {"n": "c"})
    assert await store.read_many(["a", "b", "c", "a"]) == {
        "a": Stored({"n": "a"}, etag_a),
        "c": Stored({"n": "c"}, etag_c),
    }
    assert await store.read_many([]) == {}
    assert await store.read_many(["nope"]) == {}


async def test_read_many_many_keys(store: DocumentStore) -> None:
    keys = [f"users/{n:04d}" for n in range(120)]
    await asyncio.gather(*(store.write(key, {"n": n}) for n, key in enumerate(keys)))
    found = await store.read_many([*keys, "users/missing"])
    assert sorted(found) == keys
    assert all(found[key].document == {"n": n} for n, key in enumerate(keys))


async def test_delete(store: DocumentStore) -> None:
    await store.write("k", {})
    await store.delete("k")
    assert await store.read("k") is None
    await store.delete("k")  # missing key: no error


async def test_delete_if_match(store: DocumentStore) -> None:
    old = await store.write("k", {"v": 1})
    new = await store.write("k", {"v": 2})
    with pytest.raises(PreconditionFailed):
        await store.delete("k", if_match=old)
    assert await store.read("k") == Stored({"v": 2}, new)
    await store.delete("k", if_match=new)
    assert await store.read("k") is None
    await store.delete("k", if_match=new)  # gone either way: no error


async def test_list_keys_sorted_and_by_prefix(store: DocumentStore) -> None:
    for key in ("cases/b", "cases/a", "cases/c/1", "casesX", "audit/1", "cases"):
        await store.write(key, {})
    assert await store.list_keys("cases/") == ["cases/a", "cases/b", "cases/c/1"]
    assert await store.list_keys("cases") == ["cases", "cases/a", "cases/b", "cases/c/1", "casesX"]
    assert await store.list_keys("") == ["audit/1", "cases", "cases/a", "cases/b", "cases/c/1", "casesX"]
    assert await store.list_keys("nothing/") == []
    await store.delete("cases/a")
    assert await store.list_keys("cases/") == ["cases/b", "cases/c/1"]


# ---- Conditional writes ----


async def test_if_none_match_creates_only_once(store: DocumentStore) -> None:
    etag = await store.write("k", {"v": 1}, if_none_match=True)
    with pytest.raises(PreconditionFailed):
        await store.write("k", {"v": 2}, if_none_match=True)
    assert await store.read("k") == Stored({"v": 1}, etag)
    await store.delete("k")
    await store.write("k", {"v": 3}, if_none_match=True)  # deleted: creatable again


async def test_if_match_with_current_etag_writes(store: DocumentStore) -> None:
    first = await store.write("k", {"v": 1})
    second = await store.write("k", {"v": 2}, if_match=first)
    assert second != first
    third = await store.write("k", {"v": 3}, if_match=second)
    assert await store.read("k") == Stored({"v": 3}, third)


async def test_if_match_with_stale_etag_fails_and_writes_nothing(store: DocumentStore) -> None:
    stale = await store.write("k", {"v": 1})
    current = await store.write("k", {"v": 2})
    with pytest.raises(PreconditionFailed):
        await store.write("k", {"v": 3}, if_match=stale)
    assert await store.read("k") == Stored({"v": 2}, current)


async def test_if_match_on_missing_key_fails(store: DocumentStore) -> None:
    etag = await store.write("other", {})
    with pytest.raises(PreconditionFailed):
        await store.write("k", {"v": 1}, if_match=etag)
    assert await store.read("k") is None


async def test_if_match_and_if_none_match_together_is_an_error(store: DocumentStore) -> None:
    etag = await store.write("k", {})
    with pytest.raises(ValueError, match="not both"):
        await store.write("k", {}, if_match=etag, if_none_match=True)


async def test_twenty_concurrent_writers_from_one_etag_exactly_one_wins(store: DocumentStore) -> None:
    start = await store.write("case", {"owner": None})
    results = await asyncio.gather(*(store.write("case", {"owner": n}, if_match=start) for n in range(20)), return_exceptions=True)
    winners = [(n, result) for n, result in enumerate(results) if isinstance(result, str)]
    losers = [result for result in results if isinstance(result, PreconditionFailed)]
    assert len(winners) == 1 and len(losers) == 19, results
    [(owner, etag)] = winners
    assert await store.read("case") == Stored({"owner": owner}, etag)


async def test_twenty_concurrent_creators_exactly_one_wins(store: DocumentStore) -> None:
    results = await asyncio.gather(*(store.write("new", {"by": n}, if_none_match=True) for n in range(20)), return_exceptions=True)
    assert sum(isinstance(result, str) for result in results) == 1, results
    assert sum(isinstance(result, PreconditionFailed) for result in results) == 19


async def test_read_modify_write_loop_loses_no_update(store: DocumentStore) -> None:
    await store.write("counter", {"n": 0})

    async def increment() -> None:
        while True:
            stored = await store.read("counter")
            assert stored is not None
            try:
                await store.write("counter", {"n": stored.document["n"] + 1}, if_match=stored.etag)
                return
            except PreconditionFailed:
                continue

    await asyncio.gather(*(increment() for _ in range(10)))
    stored = await store.read("counter")
    assert stored is not None and stored.document == {"n": 10}


# ---- Keys and documents ----


@pytest.mark.parametrize("key", AWKWARD_KEYS, ids=lambda key: repr(key[:24]) + f"({len(key)})")
async def test_awkward_keys(store: DocumentStore, key: str) -> None:
    etag = await store.write(key, {"key": key})
    assert await store.read(key) == Stored({"key": key}, etag)
    assert await store.list_keys(key) == [key]
    assert await store.list_keys(key[: len(key) // 2]) == [key]
    assert await store.read_many([key]) == {key: Stored({"key": key}, etag)}
    await store.delete(key, if_match=etag)
    assert await store.read(key) is None
    assert await store.list_keys(key) == []


async def test_awkward_keys_together_stay_distinct(store: DocumentStore) -> None:
    etags = {key: await store.write(key, {"key": key}) for key in AWKWARD_KEYS}
    assert await store.list_keys("") == sorted(AWKWARD_KEYS)
    found = await store.read_many(list(AWKWARD_KEYS))
    assert {key: stored.document["key"] for key, stored in found.items()} == {key: key for key in AWKWARD_KEYS}
    assert {key: stored.etag for key, stored in found.items()} == etags


async def test_long_keys_sharing_a_long_prefix(store: DocumentStore) -> None:
    # Long keys are hashed into blob names; their shared prefix must still list them all, and only them.
    stem = "conversations/" + ";" * 600
    keys = [stem + suffix for suffix in ("a", "b", "é" * 300, ";" * 385)]
    for key in keys:
        await store.write(key, {"tail": key[len(stem) :]})
    await store.write(stem[:-1] + "x", {})
    assert await store.list_keys(stem) == sorted(keys)
    assert await store.list_keys(stem + "a") == [stem + "a"]
    assert await store.list_keys(stem + "é") == [stem + "é" * 300]


async def test_unicode_document_round_trips(store: DocumentStore) -> None:
    etag = await store.write("k", UNICODE_DOCUMENT)
    assert await store.read("k") == Stored(UNICODE_DOCUMENT, etag)


@pytest.mark.parametrize(
    ("key", "error"),
    [
        ("", ValueError),
        ("x" * (MAX_KEY_LENGTH + 1), ValueError),
        ("\ud800", ValueError),
        (b"bytes", TypeError),
        (None, TypeError),
    ],
)
async def test_bad_keys_are_refused(store: DocumentStore, key: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        await store.write(key, {})
    with pytest.raises(error):
        await store.read(key)
    with pytest.raises(error):
        await store.append(key, {})


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ([1, 2], TypeError),
        ("text", TypeError),
        ({"when": object()}, TypeError),
        ({"x": float("nan")}, ValueError),
        ({"s": {1}}, TypeError),
    ],
)
async def test_documents_must_be_json_objects(store: DocumentStore, document: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        await store.write("k", document)
    with pytest.raises(error):
        await store.append("audit", document)
    assert await store.read("k") is None
    assert await store.read_stream("audit") == []


# ---- Streams ----


async def test_append_numbers_from_one_and_reads_in_order(store: DocumentStore) -> None:
    numbers = [await store.append("audit/case-1", {"event": f"e{n}"}) for n in range(1, 6)]
    assert numbers == [1, 2, 3, 4, 5]
    assert await store.read_stream("audit/case-1") == [(n, {"event": f"e{n}"}) for n in range(1, 6)]
    assert await store.read_stream("audit/case-1", after=3) == [(4, {"event": "e4"}), (5, {"event": "e5"})]
    assert await store.read_stream("audit/case-1", after=5) == []
    assert await store.read_stream("audit/case-1", after=99) == []


async def test_streams_are_independent_of_each_other_and_of_documents(store: DocumentStore) -> None:
    assert await store.append("audit/a", {"n": 1}) == 1
    assert await store.append("audit/b", {"n": 1}) == 1
    assert await store.append("audit/a", {"n": 2}) == 2
    await store.write("audit/a", {"a": "document"})
    assert await store.read_stream("audit/a") == [(1, {"n": 1}), (2, {"n": 2})]
    assert await store.read_stream("audit/b") == [(1, {"n": 1})]
    assert await store.read_stream("audit/none") == []
    assert await store.list_keys("") == ["audit/a"]


async def test_fifty_concurrent_appends_no_gap_no_duplicate(store: DocumentStore) -> None:
    numbers = await asyncio.gather(*(store.append("audit", {"writer": n}) for n in range(50)))
    assert sorted(numbers) == list(range(1, 51))
    records = await store.read_stream("audit")
    assert [number for number, _ in records] == list(range(1, 51))
    # Each writer's record sits under the number it was given.
    assert {number: record["writer"] for number, record in records} == {number: n for n, number in enumerate(numbers)}


async def test_awkward_stream_names(store: DocumentStore) -> None:
    for name in (TEAMS_KEY, "🚀" * MAX_KEY_LENGTH, ";" * MAX_KEY_LENGTH, ";" * (MAX_KEY_LENGTH - 1) + "x"):
        assert await store.append(name, {"name": name}) == 1
        assert await store.append(name, UNICODE_DOCUMENT) == 2
        assert await store.read_stream(name) == [(1, {"name": name}), (2, UNICODE_DOCUMENT)]


async def test_records_are_copies(store: DocumentStore) -> None:
    record = {"list": [1]}
    await store.append("audit", record)
    record["list"].append(2)
    [(_, read)] = await store.read_stream("audit")
    read["list"].append(3)
    assert await store.read_stream("audit") == [(1, {"list": [1]})]


async def test_close_twice_is_harmless(backend: Backend) -> None:
    store = backend.open()
    await store.write("k", {})
    await store.close()
    await store.close()
