"""Where removal cases live: JSON documents with ETags, shared by every bot instance.

Layout in the :class:`storage.DocumentStore` (a SQLite file by default, Azure Blob when scaled
out, memory in tests)::

    cases/{id}                  the case; every change is an ETag-checked read-modify-write
    caseprogress/{id}           stream: one record per Partner Center write (or per item that
                                Partner Center's silence interrupted), appended as it happens
                                (cheap, never conflicts) and folded into the case later
    opencase/{customer id}      the customer's one open case (claimed with if-none-match)
    conversations/{conv id}     the conversation's current case (for typed status / cancel)
    accessending/{id}           a removed case whose GDAP termination Microsoft is completing
                                (:attr:`RemovalCase.access_ending`): its customer and those
                                relationships, so that Partner Center's GDAP events (and a sweep)
                                find it once its customer has no open case any more

Why a journal: a 1,000-item case is ~0.5 MB of JSON; rewriting it after every Partner Center
write would cost more than the write itself. Progress is saved after each write as a small
record; :meth:`CaseStore.get` replays the records the case document has not folded in yet.

The case's state has one home, ``cases/{id}``. The executor asks for it before every Partner
Center write (:meth:`CaseStore.state_of`), and reading 0.5 MB each time is what the journal is
there to avoid, so it asks for the document's ETag alone (a HEAD on Blob, one column on SQLite)
and reads the document again only when the ETag is not one whose state it already knows.
(Earlier versions kept a copy of the state in a second document, ``casestate/{id}``, written after
the case: two writes can land in either order, and a late copy said "executing" for a case
people had been shown as cancelled. Such documents may remain in old stores; nothing reads them.)
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from storage import DocumentStore, MemoryStore, PreconditionFailed

from .case import CaseState, ItemError, Outcome, RemovalCase

__all__ = ("CaseAlreadyOpen", "CaseStore", "ConcurrentUpdates", "MemoryCaseStore", "StoredCase", "Unchanged")

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_MAX_ATTEMPTS = 50
_ENDING = "accessending/"
_KNOWN_STATES = 1_024  # (ETag, state) pairs remembered: the cases being worked on, with room to spare


class CaseAlreadyOpen(Exception):
    """The customer already has an open case; ``case`` is that one."""

    def __init__(self, case: RemovalCase) -> None:
        super().__init__(f"customer {case.customer.id} already has open case {case.id}")
        self.case = case


class Unchanged(Exception):
    """Raised by an update's ``change`` that decides to change nothing: nothing is written, and
    ``result`` is what the update returns."""

    def __init__(self, result: Any = None) -> None:
        super().__init__(result)
        self.result = result


@dataclass(frozen=True, slots=True)
class StoredCase:
    """A case as read, with the ETag of the version it was read from (:meth:`CaseStore.read`)."""

    case: RemovalCase
    etag: str


class ConcurrentUpdates(RuntimeError):
    """A case kept changing under us (:data:`_MAX_ATTEMPTS` conflicts in a row)."""


class CaseStore:
    def __init__(self, documents: DocumentStore) -> None:
        self._documents = documents
        # case id -> (ETag, state of the case at that ETag): an ETag names one version, so a pair
        # stays true for ever; a newer version has another ETag and is read again.
        self._states: OrderedDict[str, tuple[str, CaseState]] = OrderedDict()

    # ---- Reading ----

    async def get(self, case_id: str) -> RemovalCase | None:
        loaded = await self._load(case_id)
        return loaded[0] if loaded else None

    async def read(self, case_id: str) -> StoredCase | None:
        """The case and the version it was read from: hand it to :meth:`update` (as ``read``) to
        change it without reading it again."""
        loaded = await self._load(case_id)
        return StoredCase(*loaded) if loaded else None

    async def state_of(self, case_id: str) -> CaseState | None:
        """The state of the case as stored now, from the case document itself.

        Costs one ETag read while the case is unchanged since this store last read or wrote it;
        the whole document is read only after someone else changed it (a cancel, a decision).
        """
        etag = await self._documents.etag(f"cases/{case_id}")
        if etag is None:
            self._states.pop(case_id, None)
            return None
        known = self._states.get(case_id)
        if known is not None and known[0] == etag:
            return known[1]
        stored = await self._documents.read(f"cases/{case_id}")
        if stored is None:
            return None
        state = CaseState(stored.document["state"])
        self._know(case_id, stored.etag, state)
        return state

    async def open_for_customer(self, customer_id: str) -> RemovalCase | None:
        stored = await self._documents.read(f"opencase/{customer_id}")
        case = await self.get(stored.document["caseId"]) if stored else None
        return case if case is not None and case.is_open else None

    async def open_cases(self) -> list[RemovalCase]:
        """Every open case, through the per-customer index (open cases are few; closed ones are not)."""
        keys = await self._documents.list_keys("opencase/")
        found = await self._documents.read_many(keys)
        cases = [await self.get(stored.document["caseId"]) for stored in found.values()]
        return [case for case in cases if case is not None and case.is_open]

    async def with_access_ending(self) -> list[RemovalCase]:
        """Every removed case whose result says some GDAP access is still ending (few: each
        leaves the index once a read shows its relationships ended)."""
        keys = await self._documents.list_keys(_ENDING)
        found = await self._documents.read_many(keys)
        cases = [await self.get(stored.document["caseId"]) for stored in found.values()]
        return [case for case in cases if case is not None and _ending(case)]

    async def current_for(self, conversation_id: str) -> RemovalCase | None:
        stored = await self._documents.read(f"conversations/{conversation_id}")
        return await self.get(stored.document["caseId"]) if stored else None

    # ---- Writing ----

    async def create(self, case: RemovalCase) -> RemovalCase:
        """Store a new case and make it its customer's open case.

        :raises CaseAlreadyOpen: the customer has another open case (two people asking at once
            in two conversations: exactly one of them creates it).
        """
        index = f"opencase/{case.customer.id}"
        while True:
            try:
                await self._documents.write(index, {"caseId": case.id}, if_none_match=True)
                break
            except PreconditionFailed:
                stored = await self._documents.read(index)
                if stored is None:
                    continue  # closed meanwhile: try again
                other = await self.get(stored.document["caseId"])
                if other is not None and other.is_open and other.id != case.id:
                    raise CaseAlreadyOpen(other) from None
                try:  # a stale entry (its case closed, the index not yet cleared): take it over
                    await self._documents.write(index, {"caseId": case.id}, if_match=stored.etag)
                    break
                except PreconditionFailed:
                    continue
        etag = await self._documents.write(f"cases/{case.id}", case.model_dump(mode="json"), if_none_match=True)
        self._know(case.id, etag, case.state)
        return case

    async def update(self, case_id: str, change: Callable[[RemovalCase], _T], *, read: StoredCase | None = None) -> tuple[RemovalCase, _T]:
        """Read the case, apply ``change``, write it back only if nobody wrote in between.

        On a conflict the case is read again and ``change`` applied again to the fresh copy, so
        ``change`` must look at the case it is given (not at an earlier copy). It may raise
        :class:`Unchanged` to write nothing and return a result, or any other exception (e.g.
        :class:`InvalidTransition`) to refuse: nothing is written. Returns the case as stored
        and what ``change`` returned on the attempt that was written.

        ``read``: the case as the caller already read it (:meth:`read`), used for the first
        attempt instead of reading it again; it is handed over (``change`` changes it). Its ETag
        guards the write as a fresh read's would, so a change in between is never overwritten.
        """
        given = (read.case, read.etag) if read is not None and read.case.id == case_id else None
        for _ in range(_MAX_ATTEMPTS):
            loaded, given = given or await self._load(case_id), None
            if loaded is None:
                raise KeyError(case_id)
            case, etag = loaded
            was_open = case.is_open
            ending_before = _ending(case)
            try:
                result = change(case)
            except Unchanged as unchanged:
                return case, unchanged.result
            try:
                written = await self._documents.write(f"cases/{case_id}", case.model_dump(mode="json"), if_match=etag)
            except PreconditionFailed:
                continue
            self._know(case_id, written, case.state)
            if was_open and not case.is_open:
                await self._release_customer(case)
            if _ending(case) != ending_before:
                await self._index_ending(case)
            return case, result
        raise ConcurrentUpdates(case_id)

    async def record_outcome(self, case_id: str, key: str, outcome: Outcome, error: ItemError | None = None) -> None:
        """Journal one Partner Center write's result (folded into the case on the next update)."""
        record: dict[str, Any] = {"key": key, "outcome": outcome.value}
        if error is not None:
            record["error"] = error.model_dump(mode="json")
        await self._documents.append(f"caseprogress/{case_id}", record)

    async def record_interruption(self, case_id: str, key: str) -> None:
        """Journal that Partner Center stopped answering while an item ran (it runs again later)."""
        await self._documents.append(f"caseprogress/{case_id}", {"key": key, "outcome": Outcome.NOT_STARTED.value, "interrupted": True})

    async def attach(self, conversation_id: str, case_id: str | None) -> None:
        if case_id is None:
            await self._documents.delete(f"conversations/{conversation_id}")
        else:
            await self._documents.write(f"conversations/{conversation_id}", {"caseId": case_id})

    # ---- Inside ----

    async def _load(self, case_id: str) -> tuple[RemovalCase, str] | None:
        stored = await self._documents.read(f"cases/{case_id}")
        if stored is None:
            return None
        case = RemovalCase.model_validate(stored.document)
        for number, record in await self._documents.read_stream(f"caseprogress/{case_id}", after=case.progress_seq):
            if record.get("interrupted"):
                case.record_interruption(record["key"])
            else:
                error = ItemError.model_validate(record["error"]) if record.get("error") else None
                case.record_outcome(record["key"], Outcome(record["outcome"]), error)
            case.progress_seq = number
        self._know(case_id, stored.etag, case.state)
        return case, stored.etag

    def _know(self, case_id: str, etag: str, state: CaseState) -> None:
        self._states[case_id] = (etag, state)
        self._states.move_to_end(case_id)
        while len(self._states) > _KNOWN_STATES:
            self._states.popitem(last=False)

    async def _index_ending(self, case: RemovalCase) -> None:
        """Keep ``accessending/{id}`` in step with the case (a failure is logged: the index only
        saves the events a wait for the next read)."""
        key = _ENDING + case.id
        relationships = _ending(case)
        try:
            if relationships:
                await self._documents.write(key, {"caseId": case.id, "customerId": case.customer.id, "relationships": list(relationships)})
            else:
                await self._documents.delete(key)
        except Exception:  # noqa: BLE001
            _log.exception("could not update the access-ending index of case %s", case.id)

    async def _release_customer(self, case: RemovalCase) -> None:
        index = f"opencase/{case.customer.id}"
        stored = await self._documents.read(index)
        if stored is not None and stored.document.get("caseId") == case.id:
            try:
                await self._documents.delete(index, if_match=stored.etag)
            except PreconditionFailed:
                _log.info("open-case index of %s changed meanwhile; left as is", case.customer.id)


def _ending(case: RemovalCase) -> tuple[str, ...]:
    """The GDAP relationships a removed case shows as ending (none for any other case)."""
    if case.state is not CaseState.REMOVED:
        return ()
    return tuple(sorted(item.item_id for item in case.access_ending))


class MemoryCaseStore(CaseStore):
    """The same store over a dict (tests)."""

    def __init__(self) -> None:
        self.documents = MemoryStore()
        super().__init__(self.documents)
