"""Where removal cases live between turns.

The dialogs, the card-action routing and the background executor all read and write cases
through this interface, by case id, and find a conversation's current case by conversation id.
:class:`DocumentCaseStore` keeps them in the configured document store (a SQLite file by
default); :class:`MemoryCaseStore` is for tests.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from storage import DocumentStore

from .case import CaseState, RemovalCase

__all__ = ("CaseStore", "DocumentCaseStore", "MemoryCaseStore")


class CaseStore(Protocol):
    async def get(self, case_id: str) -> RemovalCase | None: ...

    async def save(self, case: RemovalCase) -> None: ...

    async def current_for(self, conversation_id: str) -> RemovalCase | None: ...

    async def state_of(self, case_id: str) -> CaseState | None:
        """The stored case's state, without reading the whole case (checked per item)."""
        ...

    async def attach(self, conversation_id: str, case_id: str | None) -> None: ...


class MemoryCaseStore:
    """Cases in a dict, copied in and out so callers never share a mutable object."""

    def __init__(self) -> None:
        self._cases: dict[str, dict] = {}
        self._current: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def get(self, case_id: str) -> RemovalCase | None:
        async with self._lock:
            stored = self._cases.get(case_id)
        return RemovalCase.model_validate(stored) if stored else None

    async def save(self, case: RemovalCase) -> None:
        async with self._lock:
            self._cases[case.id] = case.model_dump(mode="json")

    async def state_of(self, case_id: str) -> CaseState | None:
        async with self._lock:
            stored = self._cases.get(case_id)
        return CaseState(stored["state"]) if stored else None

    async def current_for(self, conversation_id: str) -> RemovalCase | None:
        async with self._lock:
            case_id = self._current.get(conversation_id)
        return await self.get(case_id) if case_id else None

    async def attach(self, conversation_id: str, case_id: str | None) -> None:
        async with self._lock:
            if case_id is None:
                self._current.pop(conversation_id, None)
            else:
                self._current[conversation_id] = case_id


class DocumentCaseStore:
    """Cases as JSON documents in a :class:`storage.DocumentStore` (SQLite, Azure Blob, memory).

    Layout: ``cases/{id}`` the case; ``casestate/{id}`` its state alone (read per executed item,
    so it must stay small); ``conversations/{conversation id}`` the conversation's current case.
    Writes are last-writer-wins for now; the durable-cases work adds ETag checks to callers.
    """

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def get(self, case_id: str) -> RemovalCase | None:
        stored = await self._store.read(f"cases/{case_id}")
        return RemovalCase.model_validate(stored.document) if stored else None

    async def save(self, case: RemovalCase) -> None:
        await self._store.write(f"cases/{case.id}", case.model_dump(mode="json"))
        await self._store.write(f"casestate/{case.id}", {"state": case.state.value})

    async def state_of(self, case_id: str) -> CaseState | None:
        stored = await self._store.read(f"casestate/{case_id}")
        return CaseState(stored.document["state"]) if stored else None

    async def current_for(self, conversation_id: str) -> RemovalCase | None:
        stored = await self._store.read(f"conversations/{conversation_id}")
        return await self.get(stored.document["caseId"]) if stored else None

    async def attach(self, conversation_id: str, case_id: str | None) -> None:
        if case_id is None:
            await self._store.delete(f"conversations/{conversation_id}")
        else:
            await self._store.write(f"conversations/{conversation_id}", {"caseId": case_id})
