"""The audit trail: every request, decision, refusal and Partner Center write, append-only.

Each event goes to two streams of the document store: ``audit`` (everything, in order: the
export) and ``audit/customer/{tenant id}`` (one customer's history, read by key, never scanned;
each of its records names the ``audit`` record it copies as ``seq``). Records are never changed;
sequence numbers have no gaps.

The records of each stream are hash-chained: each carries, as ``prev_sha256``, the SHA-256 of the
record before it in its stream (the first carries :data:`GENESIS`), taken over its canonical JSON
(:func:`canonical`). The storage numbers a record right after the one it was linked to, whatever
other writers do (``append_linked``), so a record deleted or changed by hand breaks the chain,
and :meth:`AuditTrail.verify` says where. Deleting the newest records of a stream leaves no
trace in that stream; the customer streams' copies, checked against ``audit``, often do, and
immutable storage (README, "Audit trail") prevents it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from storage import DocumentStore

from .case import CaseItem, Person, RemovalCase

__all__ = (
    "GENESIS",
    "PREVIOUS",
    "AuditEvent",
    "AuditTrail",
    "ChainReport",
    "actor_of",
    "canonical",
    "check_chain",
    "check_copies",
    "item_of",
    "record_hash",
    "writes_without_outcome",
)

_ALL = "audit"
_CUSTOMER = "audit/customer/"
_INDEX = "auditindex/"

GENESIS = "0" * 64
"""What the first record of a stream carries as the previous record's hash."""
PREVIOUS = "prev_sha256"
"""The field holding the previous record's hash."""
_COPY_OF = "seq"  # in a customer's stream: the number of the ``audit`` record copied

Numbered = tuple[int, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One thing that happened.

    Attributes:
        at: when (UTC).
        action: what, e.g. ``removal.requested``, ``item.approved``, ``item.done``,
            ``item.failed``, ``removal.done``, ``refused.not_approver``, ``refused.tenant``.
        actor: who (Teams name and Entra object id), or ``offboard`` for the bot's own work.
        customer_id, customer_name, case_id: what it concerns ("" when unknown).
        item: the subscription, order or reservation concerned, when there is one.
        result: ``ok``, ``refused``, ``failed`` ...
        detail: free text (the Partner Center error, the reason for a refusal).
        correlation_id: Partner Center's MS-CorrelationId, when a call was made.
    """

    at: datetime
    action: str
    actor: str
    customer_id: str = ""
    customer_name: str = ""
    case_id: str = ""
    item: str = ""
    result: str = "ok"
    detail: str = ""
    correlation_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def about(cls, case: RemovalCase, *, at: datetime, action: str, actor: str, **fields: Any) -> AuditEvent:
        """An event concerning ``case`` (its customer and id filled in)."""
        return cls(
            at=at, action=action, actor=actor, customer_id=case.customer.id, customer_name=case.customer.name, case_id=case.id, **fields
        )

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["at"] = self.at.isoformat()
        return record


def actor_of(person: Person) -> str:
    """How a person appears in the trail: Teams name and Entra object id (Teams id without one)."""
    return f"{person.name} ({person.aad_object_id or person.id})"


def item_of(item: CaseItem) -> str:
    """How an item appears in the trail: the action, the item's name and its Partner Center id."""
    return f"{item.action.value} {item.name} ({item.item_id})"


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes a record's hash is taken over: JSON with sorted keys and no spaces, UTF-8.

    The same record gives the same bytes whoever wrote it and whichever store kept it (the
    stores keep JSON text, whose key order and spacing are theirs).
    """
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def record_hash(record: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of a record as stored, ``prev_sha256`` included."""
    return hashlib.sha256(canonical(record)).hexdigest()


def _linked(record: dict[str, Any]) -> Callable[[Numbered | None], dict[str, Any]]:
    """``record`` carrying the hash of whichever record the storage finds last in the stream."""

    def link(last: Numbered | None) -> dict[str, Any]:
        return {**record, PREVIOUS: GENESIS if last is None else record_hash(last[1])}

    return link


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What checking one stream found.

    Attributes:
        stream: the stream checked (``audit`` or ``audit/customer/{id}``).
        records: how many records it holds.
        last: the number of its last record (0 for an empty stream).
        head: the SHA-256 of its last record ("" for an empty stream): written down elsewhere
            (a ticket, a SIEM), it shows later whether the records up to there were rewritten.
        unchained: records at the start written before the chain existed (nothing to check).
        problems: each gap and each broken link, naming the records (empty: the chain holds).
    """

    stream: str
    records: int
    last: int
    head: str
    unchained: int = 0
    problems: tuple[str, ...] = ()

    @property
    def intact(self) -> bool:
        return not self.problems


def check_chain(stream: str, records: Sequence[Numbered]) -> ChainReport:
    """Check a stream's records (in order, as ``read_stream`` returns them): numbers without a
    gap from 1, and each record carrying the hash of the one before it."""
    problems: list[str] = []
    previous: Numbered | None = None
    unchained, chained = 0, False
    for number, record in records:
        expected = previous[0] + 1 if previous is not None else 1
        if number > expected:
            problems.append(_gap(expected, number))
        if PREVIOUS not in record:
            # Every record Offboard writes is chained (it has not run live before the chain), so
            # a record without its link was altered: stripping the links must not pass as "old".
            unchained += 1
            if chained:
                problems.append(f"record {number} carries no hash of the record before it, as the records before it do: it was replaced")
            else:
                problems.append(
                    f"record {number} carries no hash of the record before it: it was altered, or written by a version of Offboard before records were chained"
                )
        else:
            chained = True
            # After a gap the record it links to is missing: the gap is the report.
            broken = _broken_link(number, record[PREVIOUS], previous) if number == expected else None
            if broken:
                problems.append(broken)
        previous = (number, record)
    last, head = (previous[0], record_hash(previous[1])) if previous is not None else (0, "")
    return ChainReport(stream, len(records), last, head, unchained, tuple(problems))


def _broken_link(number: int, carried: object, previous: Numbered | None) -> str | None:
    """What is wrong with record ``number`` carrying ``carried`` after ``previous`` (None: all well)."""
    if previous is None:
        if carried == GENESIS:
            return None
        return f"record {number} is the first, but carries the hash of a record before it instead of the genesis value"
    if carried == record_hash(previous[1]):
        return None
    return (
        f"record {number} does not follow record {previous[0]}: the hash it carries is not record "
        f"{previous[0]}'s (record {previous[0]} was changed or replaced after it was written, or record {number} was)"
    )


def _gap(expected: int, found: int) -> str:
    missing = f"record {expected} is" if found == expected + 1 else f"records {expected} to {found - 1} are"
    where = f"the stream starts at {found}" if expected == 1 else f"the stream goes from {expected - 1} to {found}"
    return f"{missing} missing ({where})"


def check_copies(customer_id: str, copies: Sequence[Numbered], originals: Mapping[int, dict[str, Any]]) -> list[str]:
    """Each record of a customer's stream against the ``audit`` record it copies (its ``seq``):
    a change to either, or an ``audit`` record deleted, shows here even at the end of a stream."""
    problems = []
    for number, copy in copies:
        seq = copy.get(_COPY_OF)
        if not isinstance(seq, int):
            continue
        original = originals.get(seq)
        if original is None:
            problems.append(f"customer {customer_id}'s record {number} copies audit record {seq}, which is missing")
        elif _content(copy, PREVIOUS, _COPY_OF) != _content(original, PREVIOUS):
            problems.append(
                f"customer {customer_id}'s record {number} differs from audit record {seq}, which it copies: one of them was changed"
            )
    return problems


def writes_without_outcome(records: Sequence[Numbered]) -> list[str]:
    """Intent records (result ``intent``: ``item.started``, ``removal.started``) that no outcome
    of the same write follows: the process stopped between the two, or the write is under way.
    Whether Partner Center changed is then to be read there, not in the trail."""
    open_intents: dict[tuple[str, str, str], list[Numbered]] = {}
    for number, record in records:
        kind = str(record.get("action", "")).partition(".")[0]
        key = (kind, str(record.get("case_id", "")), str(record.get("item", "")))
        if record.get("result") == "intent":
            open_intents.setdefault(key, []).append((number, record))
        elif key in open_intents:
            del open_intents[key]  # an outcome answers every intent of the same write before it
    return [
        f"record {number} ({record.get('action')} {record.get('item') or ''} in case {record.get('case_id')}, "
        f"{record.get('customer_name') or record.get('customer_id')}) has no outcome after it: "
        "check in Partner Center whether the write happened"
        for intents in open_intents.values()
        for number, record in intents
    ]


def _content(record: Mapping[str, Any], *left_out: str) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name not in left_out}


class AuditTrail:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def record(self, event: AuditEvent) -> int:
        record = event.to_record()
        number = await self._store.append_linked(_ALL, _linked(record))
        if event.customer_id:
            await self._store.append_linked(f"{_CUSTOMER}{event.customer_id}", _linked({**record, _COPY_OF: number}))
            # Removed customers leave Partner Center's customer list; this lets `history`
            # still find them by name. A record that does not know the name (a Partner Center
            # event names only the customer's id) keeps the one known.
            if event.customer_name:
                await self._store.write(f"{_INDEX}{event.customer_id}", {"id": event.customer_id, "name": event.customer_name})
        return number

    async def customers_named(self, query: str) -> list[dict[str, str]]:
        """Customers the trail knows whose name starts with ``query`` (or whose id it is)."""
        wanted = query.strip().lower()
        keys = await self._store.list_keys(_INDEX)
        found = await self._store.read_many(keys)
        return [
            stored.document
            for stored in found.values()
            if stored.document["name"].lower().startswith(wanted) or stored.document["id"].lower() == wanted
        ]

    async def history(self, customer_id: str) -> list[dict[str, Any]]:
        """One customer's events, oldest first."""
        return [record for _, record in await self._store.read_stream(f"{_CUSTOMER}{customer_id}")]

    async def everything(self, *, after: int = 0) -> list[tuple[int, dict[str, Any]]]:
        return await self._store.read_stream(_ALL, after=after)

    async def verify(self, everything: Sequence[Numbered] | None = None) -> list[ChainReport]:
        """Check every stream: ``audit`` first (``everything``, when already read), then each
        customer's, against its own chain and against ``audit``. Customers are those the index
        or the ``audit`` records name (either may have lost one)."""
        records = list(everything) if everything is not None else await self.everything()
        reports = [check_chain(_ALL, records)]
        originals = dict(records)
        indexed = {key.removeprefix(_INDEX) for key in await self._store.list_keys(_INDEX)}
        named = {str(record.get("customer_id")) for _, record in records if record.get("customer_id")}
        for customer_id in sorted(indexed | named):
            stream = f"{_CUSTOMER}{customer_id}"
            copies = await self._store.read_stream(stream)
            report = check_chain(stream, copies)
            reports.append(replace(report, problems=report.problems + tuple(check_copies(customer_id, copies, originals))))
        return reports
