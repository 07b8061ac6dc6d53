"""SqliteStore beyond the contract: the file itself, reopening, and several processes."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
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


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_database_and_the_files_sqlite_adds_beside_it_are_readable_by_the_bot_alone(tmp_path: Path) -> None:
    """Cases, conversation references and the audit trail: 0600 files in a 0700 folder, whatever
    the process's umask would have given (here the usual 022: 0644 files)."""
    folder = tmp_path / "offboard"
    folder.mkdir(mode=0o755)
    path = folder / "state.sqlite3"
    previous = os.umask(0o022)
    store = SqliteStore(path)
    try:
        await store.write("cases/1", {"customer": "Contoso Ltd"})
        await store.append("audit", {"event": "created"})
        # Open, so SQLite's write-ahead log and shared-memory index exist beside the database.
        beside = sorted(entry.name for entry in folder.iterdir())
        assert beside == ["state.sqlite3", "state.sqlite3-shm", "state.sqlite3-wal"]
        assert {name: _mode(folder / name) for name in beside} == dict.fromkeys(beside, 0o600)
        assert _mode(folder) == 0o700
    finally:
        await store.close()
        os.umask(previous)


async def test_a_database_that_came_with_a_wider_mode_is_made_private(tmp_path: Path) -> None:
    """A database restored from a backup, or copied by a deploy step, keeps the mode it came with."""
    folder = tmp_path / "offboard"
    folder.mkdir()
    path = folder / "state.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE earlier (n INTEGER)")
    db.close()
    os.chmod(path, 0o644)
    os.chmod(folder, 0o755)

    store = SqliteStore(path)
    try:
        await store.write("cases/1", {"customer": "Contoso Ltd"})
        assert (_mode(path), _mode(folder)) == (0o600, 0o700)
        assert _mode(folder / "state.sqlite3-wal") == 0o600
    finally:
        await store.close()


async def test_the_configured_store_creates_its_folder_0700(tmp_path: Path) -> None:
    from bot.settings import Settings, open_configured_store

    path = tmp_path / "data" / "offboard" / "offboard.db"
    store = open_configured_store(Settings(_env_file=None, storage="sqlite", sqlite_path=path))
    try:
        assert _mode(path.parent) == 0o700  # before anything is written into it
        await store.write("cases/1", {"customer": "Contoso Ltd"})
        assert _mode(path) == 0o600
    finally:
        await store.close()
