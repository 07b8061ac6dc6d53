"""Replay of writes by ``MS-RequestId`` (Partner Center's idempotency key, reference §9).

A client that lost the answer to a PATCH or POST retries with the same
``MS-RequestId``; the sandbox answers with the stored response instead of
applying the write twice. Only answers below 500 are stored: a 5xx means
nothing was decided, so a retry is processed normally.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

__all__ = ("IdempotencyStore", "StoredResponse")

_MAX_ENTRIES = 5_000


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes
    content_type: str | None


@dataclass(slots=True)
class _KeyLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class IdempotencyStore:
    def __init__(self, *, max_entries: int = _MAX_ENTRIES) -> None:
        self._responses: OrderedDict[tuple[str, str, str], StoredResponse] = OrderedDict()
        self._max_entries = max_entries
        self._locks: dict[tuple[str, str, str], _KeyLock] = {}

    @asynccontextmanager
    async def exclusive(self, key: tuple[str, str, str]) -> AsyncIterator[None]:
        """Serialises concurrent duplicates: the second waits, then replays."""
        entry = self._locks.setdefault(key, _KeyLock())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._locks[key]

    def get(self, key: tuple[str, str, str]) -> StoredResponse | None:
        return self._responses.get(key)

    def put(self, key: tuple[str, str, str], response: StoredResponse) -> None:
        self._responses[key] = response
        self._responses.move_to_end(key)
        while len(self._responses) > self._max_entries:
            self._responses.popitem(last=False)

    def clear(self) -> None:
        self._responses.clear()
