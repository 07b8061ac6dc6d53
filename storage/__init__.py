"""Offboard's storage: one interface with ETags for removal cases, the audit trail and bot state.

``DocumentStore`` (in ``storage.base``) is the interface; three backends implement it:

- ``MemoryStore()``: in memory, for unit tests;
- ``SqliteStore(path)``: one SQLite file (WAL), for a single machine; several processes may share it;
- ``BlobStore(connection_string, container)``: an Azure Blob Storage container, for production.

Open one with the factory, which takes the backend's kind and its own settings as keywords (no URL
to parse: a storage connection string is full of ``;`` and ``=``)::

    open_store("memory")
    open_store("sqlite", sqlite_path=Path("/var/lib/offboard/state.sqlite3"))
    open_store("blob", blob_connection_string=connection_string, blob_container="offboard")

Signature: ``open_store(kind: Literal["memory", "sqlite", "blob"], *, sqlite_path: Path | str | None
= None, blob_connection_string: str | None = None, blob_container: str = "offboard") -> DocumentStore``.
Call ``await store.close()`` when done (an aiohttp ``cleanup_ctx`` is the place).

No botbuilder here: an adapter from ``DocumentStore`` to botbuilder's ``Storage`` belongs in ``bot/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from .base import MAX_KEY_LENGTH, DocumentStore, PreconditionFailed, Stored
from .blob import BlobStore
from .memory import MemoryStore
from .sqlite import SqliteStore

__all__ = (
    "MAX_KEY_LENGTH",
    "BlobStore",
    "DocumentStore",
    "MemoryStore",
    "PreconditionFailed",
    "SqliteStore",
    "StoreKind",
    "Stored",
    "open_store",
)

StoreKind = Literal["memory", "sqlite", "blob"]


def open_store(
    kind: StoreKind,
    *,
    sqlite_path: Path | str | None = None,
    blob_connection_string: str | None = None,
    blob_container: str = "offboard",
) -> DocumentStore:
    """Open a store of the given kind. Nothing is touched until the first call on it.

    :param kind: ``"memory"``, ``"sqlite"`` or ``"blob"``.
    :param sqlite_path: the SQLite file, required for ``"sqlite"``.
    :param blob_connection_string: the Azure Storage connection string, required for ``"blob"``.
    :param blob_container: the container for ``"blob"``, created if missing.
    :raises ValueError: an unknown kind, or the kind's required setting is missing.
    """
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        if sqlite_path is None:
            raise ValueError('open_store("sqlite") needs sqlite_path')
        return SqliteStore(Path(sqlite_path))
    if kind == "blob":
        if not blob_connection_string:
            raise ValueError('open_store("blob") needs blob_connection_string')
        return BlobStore(blob_connection_string, blob_container)
    raise ValueError(f"unknown storage kind {kind!r}: use 'memory', 'sqlite' or 'blob'")
