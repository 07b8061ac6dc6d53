"""Where removal cases live between turns.

The dialogs, the card-action routing and the background executor all read and write cases
through this interface, by case id, and find a conversation's current case by conversation id.
This first store keeps them in memory; durable stores with ETags replace it without changing
its callers.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from .case import CaseState, RemovalCase

__all__ = ("CaseStore", "MemoryCaseStore")


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
