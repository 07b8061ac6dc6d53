"""Cases in the document store: ETag-checked changes, one open case per customer, the progress
journal, leases, and a SQLite file that keeps it all across a restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from partner_center.blockers import Action, Blocker, BlockerKind, RemovalPlan
from partner_center.models import Customer
from removal import CaseState, Decision, InvalidTransition, ItemError, Outcome, Person, RemovalCase
from removal.lease import Leases, LeaseTaken
from removal.store import CaseAlreadyOpen, CaseStore, Unchanged
from storage import MemoryStore, PreconditionFailed, SqliteStore

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ANN, BOB = Person(id="29:ann", name="Ann"), Person(id="29:bob", name="Bob")


def _case(customer_id: str = "c-1", items: int = 1) -> RemovalCase:
    customer = Customer.model_validate(
        {"id": customer_id, "companyProfile": {"companyName": "Contoso Ltd", "domain": "contoso.onmicrosoft.com"}}
    )
    blockers = tuple(
        Blocker(BlockerKind.LEGACY_SUBSCRIPTION, Action.SUSPEND, f"s-{n}", f"Office 365 E3 #{n}", quantity=25) for n in range(items)
    )
    return RemovalCase.open(RemovalPlan(customer, blockers, NOW), requested_by=ANN, at=NOW)


async def test_a_case_survives_closing_and_reopening_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "offboard.db"
    first = SqliteStore(path)
    case = await CaseStore(first).create(_case())
    await CaseStore(first).update(case.id, lambda c: c.decide("legacy_subscription:s-0", Decision.APPROVED, by=BOB, at=NOW))
    await CaseStore(first).attach("19:thread@thread.tacv2;messageid=1", case.id)
    await first.close()

    second = SqliteStore(path)
    reopened = CaseStore(second)
    found = await reopened.current_for("19:thread@thread.tacv2;messageid=1")
    assert found is not None and found.id == case.id
    assert found.items[0].decided_by.name == "Bob"
    assert await reopened.state_of(case.id) is CaseState.AWAITING_APPROVAL
    assert [c.id for c in await reopened.open_cases()] == [case.id]
    await reopened.attach("19:thread@thread.tacv2;messageid=1", None)
    assert await reopened.current_for("19:thread@thread.tacv2;messageid=1") is None
    await second.close()


def test_transitions_are_explicit_and_invalid_ones_are_refused() -> None:
    case = _case()
    case.move_to(CaseState.EXECUTING)
    case.move_to(CaseState.READY)
    case.move_to(CaseState.REMOVING)
    with pytest.raises(InvalidTransition):
        case.move_to(CaseState.CANCELLED)  # the PATCH may already be on its way
    case.move_to(CaseState.REMOVED)
    for state in CaseState:
        if state is not CaseState.REMOVED:
            with pytest.raises(InvalidTransition):
                case.move_to(state)
    with pytest.raises(InvalidTransition):
        _case().move_to(CaseState.REMOVING)  # never straight from approvals to removal


async def test_concurrent_changes_are_all_kept_none_overwritten() -> None:
    store = CaseStore(MemoryStore())
    case = await store.create(_case(items=30))

    async def approve(key: str) -> None:
        await store.update(case.id, lambda c: c.decide(key, Decision.APPROVED, by=BOB, at=NOW))

    await asyncio.gather(*(approve(item.key) for item in case.items))
    stored = await store.get(case.id)
    assert stored is not None and len(stored.approved) == 30


async def test_a_cancel_racing_the_executor_wins_and_is_never_overwritten() -> None:
    documents = MemoryStore()
    store = CaseStore(documents)
    case = await store.create(_case(items=3))
    await store.update(case.id, lambda c: c.move_to(CaseState.EXECUTING))
    # The executor read the case; meanwhile someone cancels it; then the executor saves.
    stale = await documents.read(f"cases/{case.id}")
    await store.update(case.id, lambda c: c.move_to(CaseState.CANCELLED))
    with pytest.raises(PreconditionFailed):
        await documents.write(f"cases/{case.id}", stale.document, if_match=stale.etag)
    with pytest.raises(InvalidTransition):
        await store.update(case.id, lambda c: c.move_to(CaseState.READY))
    assert (await store.get(case.id)).state is CaseState.CANCELLED
    assert await store.state_of(case.id) is CaseState.CANCELLED


async def test_unchanged_writes_nothing() -> None:
    documents = MemoryStore()
    store = CaseStore(documents)
    case = await store.create(_case())
    before = (await documents.read(f"cases/{case.id}")).etag

    def refuse(_: RemovalCase) -> None:
        raise Unchanged("nothing to do")

    _, result = await store.update(case.id, refuse)
    assert result == "nothing to do" and (await documents.read(f"cases/{case.id}")).etag == before


async def test_one_open_case_per_customer_until_it_closes() -> None:
    store = CaseStore(MemoryStore())
    first = await store.create(_case("c-1"))
    with pytest.raises(CaseAlreadyOpen) as raised:
        await store.create(_case("c-1"))
    assert raised.value.case.id == first.id
    await store.create(_case("c-2"))  # another customer is not affected
    await store.update(first.id, lambda c: c.move_to(CaseState.CANCELLED))
    assert await store.open_for_customer("c-1") is None
    second = await store.create(_case("c-1"))
    assert (await store.open_for_customer("c-1")).id == second.id


async def test_two_people_asking_at_once_open_exactly_one_case() -> None:
    store = CaseStore(MemoryStore())
    results = await asyncio.gather(*(store.create(_case("c-1")) for _ in range(10)), return_exceptions=True)
    created = [r for r in results if isinstance(r, RemovalCase)]
    pointed = [r for r in results if isinstance(r, CaseAlreadyOpen)]
    assert len(created) == 1 and len(pointed) == 9
    assert {p.case.id for p in pointed} == {created[0].id}


async def test_progress_is_journaled_per_write_and_folded_into_the_case() -> None:
    documents = MemoryStore()
    store = CaseStore(documents)
    case = await store.create(_case(items=3))
    error = ItemError(description="Service unavailable", status=503, correlation_id="corr-1")
    await store.record_outcome(case.id, "legacy_subscription:s-0", Outcome.DONE)
    await store.record_outcome(case.id, "legacy_subscription:s-1", Outcome.FAILED, error)
    # A fresh reader (another instance, or this one after a crash) sees both outcomes.
    seen = await CaseStore(documents).get(case.id)
    assert [i.outcome for i in seen.items] == [Outcome.DONE, Outcome.FAILED, Outcome.NOT_STARTED]
    assert seen.items[1].error.correlation_id == "corr-1"
    folded, _ = await store.update(case.id, lambda c: None)
    assert folded.progress_seq == 2
    await store.record_outcome(case.id, "legacy_subscription:s-2", Outcome.DONE)
    assert [i.outcome for i in (await store.get(case.id)).items] == [Outcome.DONE, Outcome.FAILED, Outcome.DONE]


async def test_a_lease_keeps_a_second_instance_out_until_it_expires() -> None:
    documents, now = MemoryStore(), [1000.0]
    first = Leases(documents, owner="first", seconds=30, clock=lambda: now[0])
    second = Leases(documents, owner="second", seconds=30, clock=lambda: now[0])
    assert await first.acquire("case-1")
    assert not await second.acquire("case-1") and not await second.is_free("case-1")
    now[0] += 31  # the first instance died without releasing
    assert await second.is_free("case-1") and await second.acquire("case-1")
    assert not await first.acquire("case-1")
    await second.release("case-1")
    assert await first.acquire("case-1")


async def test_holding_a_lease_renews_it_and_releases_it_at_the_end() -> None:
    documents = MemoryStore()
    holder = Leases(documents, owner="holder", seconds=0.3)
    other = Leases(documents, owner="other", seconds=0.3)
    async with holder.hold("case-1") as lease:
        await asyncio.sleep(0.5)  # longer than the lease: renewed meanwhile
        assert not lease.lost
        with pytest.raises(LeaseTaken):
            async with other.hold("case-1"):
                pass
    assert await other.acquire("case-1")
