"""The storage interface: JSON documents under string keys, with ETags, plus append-only streams.

Every backend (``MemoryStore``, ``SqliteStore``, ``BlobStore``) follows the same contract, which
``tests/storage/test_contract.py`` checks against all three:

- A *document* is a plain JSON object (``dict`` with ``str`` keys and JSON values). It is stored as
  JSON text, never pickled, and every read returns a fresh copy.
- Every write gives the document a new opaque *ETag*. Optimistic concurrency: read, change, then
  write with ``if_match=stored.etag``; if someone else wrote in between, the write raises
  ``PreconditionFailed`` and the caller reads again.
- A *key* is any string of 1 to 1,000 characters (Teams conversation ids contain ``:;@=``);
  each backend encodes keys safely for itself.
- A *stream* is an append-only log (the audit trail): records get the sequence numbers 1, 2, 3 …
  with no gap and no duplicate, even with several writers in several processes.

Exceptions::

    PreconditionFailed   an if_match / if_none_match condition did not hold
    ValueError           a key or stream name that is empty or longer than 1,000 characters
    TypeError            a key that is not a str, a document that is not a JSON object
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ("MAX_KEY_LENGTH", "DocumentStore", "PreconditionFailed", "Stored")

MAX_KEY_LENGTH = 1_000
"""The longest key or stream name, in characters."""


class PreconditionFailed(Exception):
    """The document changed (or exists / does not exist) since you read it."""


@dataclass(frozen=True, slots=True)
class Stored:
    """A document and its current ETag.

    Attributes:
        document: The document, a plain JSON-able dict (a copy: changing it changes nothing stored).
        etag: The ETag of this version; pass it as ``if_match`` to write over exactly this version.
    """

    document: dict[str, Any]
    etag: str


@runtime_checkable
class DocumentStore(Protocol):
    """JSON documents with ETags, and append-only streams.

    Example::

        stored = await store.read("cases/42")
        case = stored.document if stored else {"state": "new"}
        case["state"] = "approved"
        try:
            await store.write("cases/42", case, if_match=stored.etag if stored else None,
                              if_none_match=stored is None)
        except PreconditionFailed:
            ...  # someone else changed the case: read it again and decide
    """

    async def read(self, key: str) -> Stored | None:
        """The document under ``key`` and its ETag, or None if there is none."""
        ...

    async def read_many(self, keys: Sequence[str]) -> dict[str, Stored]:
        """The documents under ``keys`` that exist; missing keys are absent from the result."""
        ...

    async def etag(self, key: str) -> str | None:
        """The document's current ETag without its content (a HEAD), or None if there is none.

        For watching a large document cheaply: read it again only when its ETag changed.
        """
        ...

    async def write(
        self,
        key: str,
        document: dict[str, Any],
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        """Write and return the new ETag.

        :param if_match: only if the current ETag equals it (a missing document fails too).
        :param if_none_match: only if the key does not exist.
        With neither, the write is unconditional. Giving both is a ``ValueError``.
        :raises PreconditionFailed: the condition did not hold; nothing was written.
        """
        ...

    async def delete(self, key: str, *, if_match: str | None = None) -> None:
        """Delete the document; a missing key is no error (even with ``if_match``: it is gone).

        :raises PreconditionFailed: the document exists with another ETag than ``if_match``.
        """
        ...

    async def list_keys(self, prefix: str) -> list[str]:
        """The keys starting with ``prefix``, sorted. For small indexes only: it may scan."""
        ...

    async def append(self, stream: str, record: dict[str, Any]) -> int:
        """Append-only log (the audit trail): returns the record's sequence number (1, 2, ...); records never change."""
        ...

    async def append_linked(self, stream: str, link: Callable[[tuple[int, dict[str, Any]] | None], dict[str, Any]]) -> int:
        """Append the record ``link(last)``, numbered right after ``last``; return its number.

        ``last`` is the stream's last record as ``(number, record)``, or None for an empty stream.
        When another writer appends first, ``link`` is called again with that writer's record:
        the record written always follows the one it was made from (a hash chain relies on it).
        ``link`` must be quick and pure (it may run in a storage thread, and more than once).
        """
        ...

    async def read_stream(self, stream: str, *, after: int = 0) -> list[tuple[int, dict[str, Any]]]:
        """The records with a sequence number above ``after``, in order, as ``(number, record)``."""
        ...

    async def close(self) -> None:
        """Release connections and threads. Closing twice is harmless."""
        ...
