"""``SqliteStore``: the contract in one SQLite file (stdlib ``sqlite3``, WAL mode).

Two connections per store, one for reads and one for writes, each used by one dedicated worker
thread: the event loop never blocks on disk, a connection is never shared between threads, and
in WAL mode reads go on while a write commits. Several
stores, in one process or several, may open the same file: WAL lets readers go on while one
writer writes, and ``busy_timeout`` makes a writer wait for another's transaction instead of failing.

Conditional writes and appends run in ``BEGIN IMMEDIATE`` transactions, which take the file's write
lock before reading: the ETag comparison and the write are one atomic step across processes.
Writes waiting while another commits share the next transaction (group commit, each in its own
savepoint): every commit waits for the disk, so a busy bot would otherwise queue behind fsyncs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, final

from ._codec import check_conditions, check_key, check_prefix, dumps, loads
from .base import PreconditionFailed, Stored
from .private_files import make_private

__all__ = ("SqliteStore",)

_T = TypeVar("_T")
_log = logging.getLogger(__name__)

_BUSY_TIMEOUT_SECONDS = 30.0
# Cases, conversation references and the audit trail: the bot's user alone reads them. SQLite
# gives its -wal and -shm files the database file's mode, so these cover those too.
# SQLite's default limit on "?" parameters is 32,766 since 3.32; stay far below it.
_KEYS_PER_QUERY = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    key      TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    etag     TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    stream   TEXT NOT NULL,
    number   INTEGER NOT NULL,
    record   TEXT NOT NULL,
    UNIQUE (stream, number)
);
"""


@final
class SqliteStore:
    """A ``DocumentStore`` in an SQLite file, created if missing; the file is made 0600 and its
    folder 0700 (unless the folder is shared, like /tmp, or another user's) when first opened.

    Example::

        store = SqliteStore(Path("/var/lib/offboard/state.sqlite3"))
        try:
            etag = await store.write("cases/42", {"state": "new"}, if_none_match=True)
        finally:
            await store.close()

    :param path: the database file; its folder must exist.
    """

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        # Reads on a connection of their own: in WAL mode they need not wait behind a commit.
        self._reader = _Worker(self._path, "sqlite-read")
        self._writer = _Worker(self._path, "sqlite-write")
        self._closed = False
        self._waiting_writes: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"SqliteStore({str(self._path)!r})"

    # ---- Documents ----

    async def read(self, key: str) -> Stored | None:
        check_key(key)
        row = await self._run(lambda db: db.execute("SELECT document, etag FROM documents WHERE key = ?", (key,)).fetchone())
        return None if row is None else Stored(loads(row[0]), row[1])

    async def read_many(self, keys: Sequence[str]) -> dict[str, Stored]:
        wanted = list(dict.fromkeys(check_key(key) for key in keys))

        def select(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
            rows: list[tuple[str, str, str]] = []
            for start in range(0, len(wanted), _KEYS_PER_QUERY):
                chunk = wanted[start : start + _KEYS_PER_QUERY]
                marks = ",".join("?" * len(chunk))
                rows += db.execute(f"SELECT key, document, etag FROM documents WHERE key IN ({marks})", chunk).fetchall()
            return rows

        rows = await self._run(select) if wanted else []
        found = {key: Stored(loads(text), etag) for key, text, etag in rows}
        return {key: found[key] for key in wanted if key in found}

    async def etag(self, key: str) -> str | None:
        check_key(key)
        row = await self._run(lambda db: db.execute("SELECT etag FROM documents WHERE key = ?", (key,)).fetchone())
        return None if row is None else str(row[0])

    async def write(
        self,
        key: str,
        document: dict[str, Any],
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        check_key(key)
        check_conditions(if_match, if_none_match)
        text = dumps(document)
        etag = uuid.uuid4().hex

        def write(db: sqlite3.Connection) -> str:
            if if_match is not None or if_none_match:
                row = db.execute("SELECT etag FROM documents WHERE key = ?", (key,)).fetchone()
                if if_none_match and row is not None:
                    raise PreconditionFailed(f"{key!r} already exists")
                if if_match is not None and (row is None or row[0] != if_match):
                    raise PreconditionFailed(f"{key!r} is not at ETag {if_match!r}")
            db.execute(
                "INSERT INTO documents (key, document, etag) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET document = excluded.document, etag = excluded.etag",
                (key, text, etag),
            )
            return etag

        return await self._write(write)

    async def delete(self, key: str, *, if_match: str | None = None) -> None:
        check_key(key)
        check_conditions(if_match, False)

        def delete(db: sqlite3.Connection) -> None:
            if if_match is not None:
                row = db.execute("SELECT etag FROM documents WHERE key = ?", (key,)).fetchone()
                if row is not None and row[0] != if_match:
                    raise PreconditionFailed(f"{key!r} is not at ETag {if_match!r}")
            db.execute("DELETE FROM documents WHERE key = ?", (key,))

        await self._write(delete)

    async def list_keys(self, prefix: str) -> list[str]:
        prefix = check_prefix(prefix)
        # substr counts characters, as len() does; LIKE would need escaping and ignores case.
        rows = await self._run(
            lambda db: db.execute("SELECT key FROM documents WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)).fetchall()
        )
        return sorted(row[0] for row in rows)

    # ---- Streams ----

    async def append(self, stream: str, record: dict[str, Any]) -> int:
        check_key(stream, what="stream name")
        text = dumps(record, what="record")

        def append(db: sqlite3.Connection) -> int:
            # The write lock is held from BEGIN IMMEDIATE: no other writer can take the same number.
            (number,) = db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM records WHERE stream = ?", (stream,)).fetchone()
            db.execute("INSERT INTO records (stream, number, record) VALUES (?, ?, ?)", (stream, number, text))
            return int(number)

        return await self._write(append)

    async def append_linked(self, stream: str, link: Callable[[tuple[int, dict[str, Any]] | None], dict[str, Any]]) -> int:
        check_key(stream, what="stream name")

        def append(db: sqlite3.Connection) -> int:
            # Under the write lock (BEGIN IMMEDIATE): the last record read is still the last one
            # when the new one is inserted, in this process or any other.
            row = db.execute("SELECT number, record FROM records WHERE stream = ? ORDER BY number DESC LIMIT 1", (stream,)).fetchone()
            last = None if row is None else (int(row[0]), loads(row[1]))
            number = 1 if last is None else last[0] + 1
            text = dumps(link(last), what="record")
            db.execute("INSERT INTO records (stream, number, record) VALUES (?, ?, ?)", (stream, number, text))
            return number

        return await self._write(append)

    async def read_stream(self, stream: str, *, after: int = 0) -> list[tuple[int, dict[str, Any]]]:
        check_key(stream, what="stream name")
        rows = await self._run(
            lambda db: db.execute(
                "SELECT number, record FROM records WHERE stream = ? AND number > ? ORDER BY number",
                (stream, after),
            ).fetchall()
        )
        return [(int(number), loads(text)) for number, text in rows]

    # ---- Lifecycle ----

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._committer is not None:
            await asyncio.shield(self._committer)  # writes already accepted are committed first
        await self._reader.close()
        await self._writer.close()

    async def _run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        return await self._reader.run(work)

    async def _write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` in a write transaction, committed together with the writes waiting beside it.

        Group commit: with ``synchronous = FULL`` every COMMIT waits for the disk, and one
        worker thread commits one transaction at a time. Writes that arrive while a commit is
        under way wait for the next one and share it, each in its own savepoint (a refused
        condition undoes only that write). Each caller is answered once its write is on disk.
        """
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        done: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._waiting_writes.append((work, done))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_waiting_writes())
        return await done

    async def _commit_waiting_writes(self) -> None:
        try:
            while self._waiting_writes:
                group, self._waiting_writes = self._waiting_writes, []
                works = [work for work, _ in group]
                try:
                    outcomes = await self._writer.run(functools.partial(_commit_group, works=works))
                except BaseException as error:  # noqa: BLE001 (BEGIN or COMMIT failed: none of the group is written, and every caller hears why)
                    outcomes = [(False, error)] * len(group)
                for (_, done), (succeeded, value) in zip(group, outcomes, strict=True):
                    if done.done():
                        continue  # its caller gave up waiting; the write stands (or not) all the same
                    if succeeded:
                        done.set_result(value)
                    else:
                        done.set_exception(value)
        finally:
            self._committer = None


class _Worker:
    """One connection to the file and the one thread that uses it (opened at first use)."""

    def __init__(self, path: Path, name: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._connection: sqlite3.Connection | None = None  # used in the worker thread only

    async def run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._call, work)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._disconnect)
        self._executor.shutdown(wait=True)

    def _call(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        if self._connection is None:
            self._connection = _connect(self._path)
        return work(self._connection)

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _connect(path: Path) -> sqlite3.Connection:
    make_private(path)
    # isolation_level=None: no implicit transactions; each group of writes says BEGIN IMMEDIATE itself.
    connection = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_SECONDS * 1000)}")
        _use_wal(connection)
        connection.execute("PRAGMA synchronous = FULL")  # a committed removal case survives power loss
        [(created, error)] = _commit_group(connection, [lambda db: [db.execute(statement) for statement in _statements(_SCHEMA)]])
        if not created:
            raise error
    except BaseException:
        connection.close()
        raise
    return connection


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch the file to WAL (a lasting property of the file), waiting for other connections.

    The switch needs the file to itself and SQLite answers "database is locked" at once rather than
    calling the busy handler, so two processes creating the same file must take turns here.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_SECONDS
    while True:
        try:
            (mode,) = connection.execute("PRAGMA journal_mode = WAL").fetchone()
        except sqlite3.OperationalError as error:
            busy = getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
            continue
        if str(mode).lower() == "wal":
            return
        raise sqlite3.OperationalError(f"cannot use WAL for this file: journal_mode stays {mode!r}")


def _statements(script: str) -> Iterator[str]:
    # executescript() would COMMIT the open transaction first; run the statements one by one instead.
    return (statement for statement in script.split(";") if statement.strip())


def _commit_group(db: sqlite3.Connection, works: list[Callable[[sqlite3.Connection], Any]]) -> list[tuple[bool, Any]]:
    """One transaction, one savepoint per write; (succeeded, result or exception) per write."""
    outcomes: list[tuple[bool, Any]] = []
    db.execute("BEGIN IMMEDIATE")
    try:
        for work in works:
            db.execute("SAVEPOINT one_write")
            try:
                outcomes.append((True, work(db)))
            except Exception as error:  # noqa: BLE001 (a refused write is its caller's error, not the group's)
                db.execute("ROLLBACK TO one_write")
                outcomes.append((False, error))
            db.execute("RELEASE one_write")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return outcomes
