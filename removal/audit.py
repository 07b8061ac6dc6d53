"""The audit trail: every request, decision, refusal and Partner Center write, append-only.

Each event goes to two streams of the document store: ``audit`` (everything, in order: the
export) and ``audit/customer/{tenant id}`` (one customer's history, read by key, never scanned).
Records are never changed; sequence numbers have no gaps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from storage import DocumentStore

from .case import CaseItem, Person, RemovalCase

__all__ = ("AuditEvent", "AuditTrail", "actor_of", "item_of")

_ALL = "audit"
_INDEX = "auditindex/"


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
        return cls(at=at, action=action, actor=actor, customer_id=case.customer.id, customer_name=case.customer.name, case_id=case.id, **fields)

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


class AuditTrail:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def record(self, event: AuditEvent) -> int:
        record = event.to_record()
        number = await self._store.append(_ALL, record)
        if event.customer_id:
            await self._store.append(f"audit/customer/{event.customer_id}", {**record, "seq": number})
            # Removed customers leave Partner Center's customer list; this lets `history`
            # still find them by name.
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
        return [record for _, record in await self._store.read_stream(f"audit/customer/{customer_id}")]

    async def everything(self, *, after: int = 0) -> list[tuple[int, dict[str, Any]]]:
        return await self._store.read_stream(_ALL, after=after)
