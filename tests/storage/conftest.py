"""Fixtures for the storage tests: each backend, opened as often as a test likes on the same data."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storage import BlobStore, DocumentStore, MemoryStore, SqliteStore
from tests._azurite import Azurite, azurite  # noqa: F401  (the session fixture, for pytest to find)

ALL_BACKENDS = ("memory", "sqlite", "blob")
SHARED_BACKENDS = ("sqlite", "blob")  # where two store objects can share one set of data


@dataclass
class Backend:
    """One backend under test. ``open()`` gives a new store object on this backend's data."""

    name: str
    factory: Callable[[], DocumentStore]
    _opened: list[DocumentStore] = field(default_factory=list)
    sqlite_path: Path | None = None
    blob_container: str | None = None
    azurite: Azurite | None = None

    def open(self) -> DocumentStore:
        store = self.factory()
        self._opened.append(store)
        return store

    async def close_all(self) -> None:
        for store in self._opened:
            await store.close()


def make_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if name == "memory":
        shared = MemoryStore()  # one in-memory store: "opening it again" gives the same object
        return Backend(name, lambda: shared)
    if name == "sqlite":
        path = tmp_path / "store.sqlite3"
        return Backend(name, lambda: SqliteStore(path), sqlite_path=path)
    if name == "blob":
        emulator: Azurite = request.getfixturevalue("azurite")  # started only when a blob test runs
        container = f"test-{uuid.uuid4().hex[:20]}"
        return Backend(
            name,
            lambda: BlobStore(emulator.connection_string, container),
            blob_container=container,
            azurite=emulator,
        )
    raise AssertionError(name)


@pytest.fixture(params=ALL_BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    made = make_backend(request.param, request, tmp_path)
    yield made
    await made.close_all()


@pytest.fixture(params=SHARED_BACKENDS)
async def shared_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    made = make_backend(request.param, request, tmp_path)
    yield made
    await made.close_all()


@pytest.fixture
def store(backend: Backend) -> DocumentStore:
    return backend.open()
