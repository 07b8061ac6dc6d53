"""``CaseStore.state_of``: the state of the case document itself, for the price of an ETag read
while the case is unchanged (the executor asks before every Partner Center write)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from partner_center.blockers import Action, Blocker, BlockerKind, RemovalPlan
from partner_center.models import Customer
from removal import CaseState, Person, RemovalCase
from removal.store import CaseStore
from storage import MemoryStore, Stored
from tests.removal._documents import Delegating

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ANN = Person(id="29:ann", name="Ann")


class _Counting(Delegating):
    """Counts full reads and ETag reads per key."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.reads: Counter[str] = Counter()
        self.etags: Counter[str] = Counter()

    async def read(self, key: str) -> Stored | None:
        self.reads[key] += 1
        return await super().read(key)

    async def etag(self, key: str) -> str | None:
        self.etags[key] += 1
        return await super().etag(key)


def _case(items: int) -> RemovalCase:
    customer = Customer.model_validate({"id": "c-1", "companyProfile": {"companyName": "Contoso Ltd"}})
    blockers = tuple(Blocker(BlockerKind.LEGACY_SUBSCRIPTION, Action.SUSPEND, f"s-{n}", f"E3 #{n}") for n in range(items))
    case = RemovalCase.open(RemovalPlan(customer, blockers, NOW), requested_by=ANN, at=NOW)
    case.approve_all_remaining(by=ANN, at=NOW)
    case.move_to(CaseState.EXECUTING)
    return case


async def test_an_unchanged_case_costs_an_etag_read_and_a_changed_one_is_read_once() -> None:
    documents = MemoryStore()
    counting = _Counting(documents)
    executor_side = CaseStore(counting)
    case = await executor_side.create(_case(items=1_000))
    key = f"cases/{case.id}"
    for _ in range(100):  # a hundred stop checks
        assert await executor_side.state_of(case.id) is CaseState.EXECUTING
    assert counting.reads[key] == 0 and counting.etags[key] == 100
    await executor_side.update(case.id, lambda c: None)  # its own fold: it knows what it wrote
    reads_after_fold = counting.reads[key]
    assert await executor_side.state_of(case.id) is CaseState.EXECUTING
    assert counting.reads[key] == reads_after_fold

    await CaseStore(documents).update(case.id, lambda c: c.move_to(CaseState.CANCELLED))  # another instance
    assert await executor_side.state_of(case.id) is CaseState.CANCELLED
    assert await executor_side.state_of(case.id) is CaseState.CANCELLED
    assert counting.reads[key] == reads_after_fold + 1


async def test_a_state_copy_left_by_an_older_version_is_not_believed() -> None:
    documents = MemoryStore()
    store = CaseStore(documents)
    case = await store.create(_case(items=2))
    await store.update(case.id, lambda c: c.move_to(CaseState.CANCELLED))
    # What the review's probe P7 left: the old second document, written late, says "executing".
    await documents.write(f"casestate/{case.id}", {"state": "executing"})
    assert await CaseStore(documents).state_of(case.id) is CaseState.CANCELLED
    assert await CaseStore(documents).state_of("no-such-case") is None
