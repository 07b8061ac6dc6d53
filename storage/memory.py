"""``MemoryStore``: the whole contract in a process's memory, for unit tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, final

from ._codec import check_conditions, check_key, check_prefix, dumps, loads
from .base import PreconditionFailed, Stored

__all__ = ("MemoryStore",)


@final
class MemoryStore:
    """A ``DocumentStore`` in memory: nothing survives the object.

    Documents are kept as JSON text, so it accepts and returns exactly what the durable backends do
    (a document that is not JSON fails here too) and no caller can change a stored document by
    keeping a reference to it. Each method runs without awaiting, so each is atomic in asyncio.
    """

    def __init__(self) -> None:
        self._documents: dict[str, tuple[str, str]] = {}  # key -> (JSON text, etag)
        self._streams: dict[str, list[str]] = {}  # stream -> JSON texts, sequence number = index + 1

    async def read(self, key: str) -> Stored | None:
        found = self._documents.get(check_key(key))
        return None if found is None else Stored(loads(found[0]), found[1])

    async def read_many(self, keys: Sequence[str]) -> dict[str, Stored]:
        return {key: stored for key in keys if (stored := await self.read(key)) is not None}

    async def etag(self, key: str) -> str | None:
        found = self._documents.get(check_key(key))
        return None if found is None else found[1]

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
        current = self._documents.get(key)
        if if_none_match and current is not None:
            raise PreconditionFailed(f"{key!r} already exists")
        if if_match is not None and (current is None or current[1] != if_match):
            raise PreconditionFailed(f"{key!r} is not at ETag {if_match!r}")
        etag = uuid.uuid4().hex
        self._documents[key] = (text, etag)
        return etag

    async def delete(self, key: str, *, if_match: str | None = None) -> None:
        current = self._documents.get(check_key(key))
        if current is None:
            return
        if if_match is not None and current[1] != if_match:
            raise PreconditionFailed(f"{key!r} is not at ETag {if_match!r}")
        del self._documents[key]

    async def list_keys(self, prefix: str) -> list[str]:
        prefix = check_prefix(prefix)
        return sorted(key for key in self._documents if key.startswith(prefix))

    async def append(self, stream: str, record: dict[str, Any]) -> int:
        text = dumps(record, what="record")
        records = self._streams.setdefault(check_key(stream, what="stream name"), [])
        records.append(text)
        return len(records)

    async def append_linked(self, stream: str, link: Callable[[tuple[int, dict[str, Any]] | None], dict[str, Any]]) -> int:
        records = self._streams.setdefault(check_key(stream, what="stream name"), [])
        last = (len(records), loads(records[-1])) if records else None
        text = dumps(link(last), what="record")  # no await since reading `last`: nobody can slip in
        records.append(text)
        return len(records)

    async def read_stream(self, stream: str, *, after: int = 0) -> list[tuple[int, dict[str, Any]]]:
        records = self._streams.get(check_key(stream, what="stream name"), [])
        start = max(after, 0)
        return [(number, loads(text)) for number, text in enumerate(records[start:], start=start + 1)]

    async def close(self) -> None:
        pass
