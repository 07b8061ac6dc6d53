"""Offboard's storage: one interface with ETags for removal cases, the audit trail and bot state.

``DocumentStore`` (in ``storage.base``) is the interface; three backends implement it:

- ``MemoryStore()``: in memory, for unit tests;
- ``SqliteStore(path)``: one SQLite file (WAL), for a single machine; several processes may share it;
- ``BlobStore(connection_string, container)``: an Azure Blob Storage container, for production.

Secrets (the MSAL token cache, the Partner Center app's credential) are not documents: they live in
Azure Key Vault, through ``KeyVaultSecrets`` (``storage.key_vault``).

Open one with the factory, which takes the backend's kind and its own settings as keywords (no URL
to parse: a storage connection string is full of ``;`` and ``=``)::

    open_store("memory")
    open_store("sqlite", sqlite_path=Path("/var/lib/offboard/state.sqlite3"))
    open_store("blob", blob_connection_string=connection_string, blob_container="offboard")
    open_store("blob", blob_account_url="https://offboard.blob.core.windows.net", blob_credential=DefaultAzureCredential())

Signature: ``open_store(kind: Literal["memory", "sqlite", "blob"], *, sqlite_path: Path | str | None
= None, blob_connection_string: str | None = None, blob_account_url: str | None = None, blob_credential:
AsyncTokenCredential | None = None, blob_container: str = "offboard") -> DocumentStore``.
Call ``await store.close()`` when done (an aiohttp ``cleanup_ctx`` is the place).

No botbuilder here: an adapter from ``DocumentStore`` to botbuilder's ``Storage`` belongs in ``bot/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .base import MAX_KEY_LENGTH, DocumentStore, PreconditionFailed, Stored
from .blob import DATA_ROLE, BlobAccessDenied, BlobStore
from .key_vault import KeyVaultAccessDenied, KeyVaultError, KeyVaultSecret, KeyVaultSecrets, KeyVaultUnavailable, StoredSecret
from .memory import MemoryStore
from .sqlite import SqliteStore

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

__all__ = (
    "DATA_ROLE",
    "MAX_KEY_LENGTH",
    "BlobAccessDenied",
    "BlobStore",
    "DocumentStore",
    "KeyVaultAccessDenied",
    "KeyVaultError",
    "KeyVaultSecret",
    "KeyVaultSecrets",
    "KeyVaultUnavailable",
    "MemoryStore",
    "PreconditionFailed",
    "SqliteStore",
    "StoreKind",
    "Stored",
    "StoredSecret",
    "open_store",
)

StoreKind = Literal["memory", "sqlite", "blob"]


def open_store(
    kind: StoreKind,
    *,
    sqlite_path: Path | str | None = None,
    blob_connection_string: str | None = None,
    blob_account_url: str | None = None,
    blob_credential: AsyncTokenCredential | None = None,
    blob_container: str = "offboard",
) -> DocumentStore:
    """Open a store of the given kind. Nothing is touched until the first call on it.

    :param kind: ``"memory"``, ``"sqlite"`` or ``"blob"``.
    :param sqlite_path: the SQLite file, required for ``"sqlite"``.
    :param blob_connection_string: the Azure Storage connection string (with a key), for ``"blob"``;
    :param blob_account_url: or the account's ``https://<account>.blob.core.windows.net`` with
        ``blob_credential`` (a managed identity's token credential, closed with the store): no key.
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
        if blob_account_url:
            if blob_connection_string or blob_credential is None:
                raise ValueError('open_store("blob") takes blob_account_url with blob_credential, and no blob_connection_string')
            return BlobStore.with_identity(blob_account_url, blob_credential, blob_container)
        if not blob_connection_string:
            raise ValueError('open_store("blob") needs blob_account_url and blob_credential, or blob_connection_string')
        return BlobStore(blob_connection_string, blob_container)
    raise ValueError(f"unknown storage kind {kind!r}: use 'memory', 'sqlite' or 'blob'")
