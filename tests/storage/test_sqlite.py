"""SqliteStore beyond the contract: the file itself, reopening, and several processes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest

from storage import PreconditionFailed, SqliteStore, Stored

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_survives_closing_and_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = SqliteStore(path)
    etag = await store.write("19:abc@thread.tacv2;messageid=1", {"dialog": "é"})
    await store.append("audit", {"n": 1})
    await store.close()

    reopened = SqliteStore(path)
    try:
        assert await reopened.read("19:abc@thread.tacv2;messageid=1") == Stored({"dialog": "é"}, etag)
        assert await reopened.append("audit", {"n": 2}) == 2
        assert await reopened.read_stream("audit") == [(1, {"n": 1}), (2, {"n": 2})]
    finally:
        await reopened.close()


async def test_the_file_is_wal_and_holds_plain_json(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = SqliteStore(path)
    await store.write("k", {"name": "Zürich"})
    await store.append("audit", {"event": "created"})
    await store.close()

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        [(key, text, etag)] = db.execute("SELECT key, document, etag FROM documents").fetchall()
        [(stream, number, record)] = db.execute("SELECT stream, number, record FROM records").fetchall()
    db.close()
    assert (key, json.loads(text), len(etag)) == ("k", {"name": "Zürich"}, 32)
    assert (stream, number, json.loads(record)) == ("audit", 1, {"event": "created"})


async def test_writes_made_at_once_are_each_kept_or_refused_on_their_own(tmp_path: Path) -> None:
    """Writes arriving together share a commit (group commit); a refused condition in the middle
    of the group undoes that write only, and a caller that stops waiting loses nothing for others."""
    store = SqliteStore(tmp_path / "state.sqlite3")
    try:
        taken = await store.write("taken", {"n": 0})
        writes = [store.write(f"doc/{n}", {"n": n}) for n in range(100)]
        refused = store.write("taken", {"n": 1}, if_none_match=True)
        stale = store.write("taken", {"n": 2}, if_match="not-the-etag")
        appends = [store.append("audit", {"n": n}) for n in range(100)]
        abandoned = asyncio.ensure_future(store.write("abandoned", {"n": 3}))
        abandoned.cancel()
        results = await asyncio.gather(*writes, refused, stale, *appends, return_exceptions=True)
        assert all(isinstance(etag, str) for etag in results[:100])
        assert all(isinstance(error, PreconditionFailed) for error in results[100:102])
        assert sorted(results[102:]) == list(range(1, 101))  # each append its own number
        assert (await store.read("taken")) == Stored({"n": 0}, taken)
        stored = await store.read_many([f"doc/{n}" for n in range(100)])
        assert [stored[f"doc/{n}"].document for n in range(100)] == [{"n": n} for n in range(100)]
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "state.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM records").fetchone() == (100,)
    db.close()


async def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.sqlite3")
    await store.close()
    with pytest.raises(RuntimeError, match="closed"):
        await store.read("k")


async def test_opening_creates_nothing_until_first_use(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = SqliteStore(path)
    assert not path.exists()
    await store.list_keys("")
    assert path.exists()
    await store.close()


_OTHER_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from storage import PreconditionFailed, SqliteStore

    async def main() -> None:
        store = SqliteStore(Path(sys.argv[1]))
        try:
            for n in range(40):
                await store.append("audit", {"process": "child", "n": n})
                while True:
                    stored = await store.read("counter")
                    await asyncio.sleep(0.002)  # leave the other process time to write in between
                    try:
                        await store.write("counter", {"n": stored.document["n"] + 1}, if_match=stored.etag)
                        break
                    except PreconditionFailed:
                        pass
        finally:
            await store.close()

    asyncio.run(main())
    """
)


async def test_two_processes_append_and_update_one_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = SqliteStore(path)
    await store.write("counter", {"n": 0})
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", _OTHER_PROCESS, str(path), cwd=REPO_ROOT)
    try:
        while not await store.read_stream("audit"):  # start once the child is writing, so both overlap
            assert child.returncode is None
            await asyncio.sleep(0.01)
        for n in range(40):
            await store.append("audit", {"process": "parent", "n": n})
            while True:
                stored = await store.read("counter")
                assert stored is not None
                await asyncio.sleep(0.002)
                try:
                    await store.write("counter", {"n": stored.document["n"] + 1}, if_match=stored.etag)
                    break
                except PreconditionFailed:
                    pass
        assert await asyncio.wait_for(child.wait(), timeout=60) == 0
        records = await store.read_stream("audit")
        assert [number for number, _ in records] == list(range(1, 81))
        for process in ("parent", "child"):  # each process's records kept their own order
            assert [r["n"] for _, r in records if r["process"] == process] == list(range(40))
        counter = await store.read("counter")
        assert counter is not None and counter.document == {"n": 80}
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        await store.close()


async def test_several_stores_creating_one_new_file_at_once(tmp_path: Path) -> None:
    # Switching a new file to WAL needs it to itself; the stores must take turns, not fail.
    for attempt in range(5):
        path = tmp_path / f"state-{attempt}.sqlite3"
        stores = [SqliteStore(path) for _ in range(8)]
        try:
            numbers = await asyncio.gather(*(store.append("audit", {"n": n}) for n, store in enumerate(stores)))
            assert sorted(numbers) == list(range(1, 9))
        finally:
            for store in stores:
                await store.close()
