"""A DocumentStore wrapper for tests that hold some storage calls back (a slow request, a
stuck renewal, a journal that fails) while the real backend does the work."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from storage import DocumentStore, Stored

__all__ = ("Delegating",)


class Delegating:
    """A DocumentStore that passes everything to another one (subclasses hold some calls back)."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner

    async def read(self, key: str) -> Stored | None:
        return await self.inner.read(key)

    async def read_many(self, keys: Sequence[str]) -> dict[str, Stored]:
        return await self.inner.read_many(keys)

    async def etag(self, key: str) -> str | None:
        return await self.inner.etag(key)

    async def write(self, key: str, document: dict[str, Any], *, if_match: str | None = None, if_none_match: bool = False) -> str:
        return await self.inner.write(key, document, if_match=if_match, if_none_match=if_none_match)

    async def delete(self, key: str, *, if_match: str | None = None) -> None:
        await self.inner.delete(key, if_match=if_match)

    async def list_keys(self, prefix: str) -> list[str]:
        return await self.inner.list_keys(prefix)

    async def append(self, stream: str, record: dict[str, Any]) -> int:
        return await self.inner.append(stream, record)

    async def append_linked(self, stream: str, link: Callable[[tuple[int, dict[str, Any]] | None], dict[str, Any]]) -> int:
        return await self.inner.append_linked(stream, link)

    async def read_stream(self, stream: str, *, after: int = 0) -> list[tuple[int, dict[str, Any]]]:
        return await self.inner.read_stream(stream, after=after)

    async def close(self) -> None:
        await self.inner.close()
