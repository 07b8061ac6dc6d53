"""``SqliteStore``: the contract in one SQLite file (stdlib ``sqlite3``, WAL mode).

One connection per store, used by one dedicated worker thread: every call runs there in turn, so
the event loop never blocks on disk and the connection is never shared between threads. Several
stores, in one process or several, may open the same file: WAL lets readers go on while one
writer writes, and ``busy_timeout`` makes a writer wait for another's transaction instead of failing.

Conditional writes and appends run in ``BEGIN IMMEDIATE`` transactions, which take the file's write
lock before reading: the ETag comparison and the write are one atomic step across processes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, final

from ._codec import check_conditions, check_key, check_prefix, dumps, loads
from .base import PreconditionFailed, Stored

__all__ = ("SqliteStore",)

_T = TypeVar("_T")

_BUSY_TIMEOUT_SECONDS = 30.0
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
    """A ``DocumentStore`` in an SQLite file, created if missing.

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
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._connection: sqlite3.Connection | None = None  # opened and used in the worker thread only
        self._closed = False

    def __repr__(self) -> str:
        return f"SqliteStore({str(self._path)!r})"

    # ---- Documents ----

    async def read(self, key: str) -> Stored | None:
        check_key(key)
        row = await self._run(
            lambda db: db.execute("SELECT document, etag FROM documents WHERE key = ?", (key,)).fetchone()
        )
        return None if row is None else Stored(loads(row[0]), row[1])

    async def read_many(self, keys: Sequence[str]) -> dict[str, Stored]:
        wanted = list(dict.fromkeys(check_key(key) for key in keys))

        def select(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
            rows: list[tuple[str, str, str]] = []
            for start in range(0, len(wanted), _KEYS_PER_QUERY):
                chunk = wanted[start : start + _KEYS_PER_QUERY]
                marks = ",".join("?" * len(chunk))
                rows += db.execute(
                    f"SELECT key, document, etag FROM documents WHERE key IN ({marks})", chunk
                ).fetchall()
            return rows

        rows = await self._run(select) if wanted else []
        found = {key: Stored(loads(text), etag) for key, text, etag in rows}
        return {key: found[key] for key in wanted if key in found}

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
            with _transaction(db):
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

        return await self._run(write)

    async def delete(self, key: str, *, if_match: str | None = None) -> None:
        check_key(key)
        check_conditions(if_match, False)

        def delete(db: sqlite3.Connection) -> None:
            with _transaction(db):
                if if_match is not None:
                    row = db.execute("SELECT etag FROM documents WHERE key = ?", (key,)).fetchone()
                    if row is not None and row[0] != if_match:
                        raise PreconditionFailed(f"{key!r} is not at ETag {if_match!r}")
                db.execute("DELETE FROM documents WHERE key = ?", (key,))

        await self._run(delete)

    async def list_keys(self, prefix: str) -> list[str]:
        prefix = check_prefix(prefix)
        # substr counts characters, as len() does; LIKE would need escaping and ignores case.
        rows = await self._run(
            lambda db: db.execute(
                "SELECT key FROM documents WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)
            ).fetchall()
        )
        return sorted(row[0] for row in rows)

    # ---- Streams ----

    async def append(self, stream: str, record: dict[str, Any]) -> int:
        check_key(stream, what="stream name")
        text = dumps(record, what="record")

        def append(db: sqlite3.Connection) -> int:
            # The write lock is held from BEGIN IMMEDIATE: no other writer can take the same number.
            with _transaction(db):
                (number,) = db.execute(
                    "SELECT COALESCE(MAX(number), 0) + 1 FROM records WHERE stream = ?", (stream,)
                ).fetchone()
                db.execute("INSERT INTO records (stream, number, record) VALUES (?, ?, ?)", (stream, number, text))
            return int(number)

        return await self._run(append)

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
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._disconnect)
        self._executor.shutdown(wait=True)

    async def _run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, work)

    def _call(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        if self._connection is None:
            self._connection = _connect(self._path)
        return work(self._connection)

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; each write says BEGIN IMMEDIATE itself.
    connection = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_SECONDS * 1000)}")
        _use_wal(connection)
        connection.execute("PRAGMA synchronous = FULL")  # a committed removal case survives power loss
        with _transaction(connection):
            for statement in _statements(_SCHEMA):
                connection.execute(statement)
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


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
