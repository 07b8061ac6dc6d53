"""Failed attempts are counted on the case and end in "needs a person"; an intent is audited before
each Partner Center write; the removal PATCH is not sent by an instance whose lease is lost.

Partner Center is the sandbox over HTTP (its request log is the witness of what was written);
cases live in a real SQLite file.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from botbuilder.core.adapters import TestAdapter

from bot.case_display import TeamsCaseDisplay
from bot.case_messages import CaseMessageBook
from bot.case_notices import TeamsCaseNotices
from bot.messenger import AdapterMessenger
from partner_center import PartnerCenterClient, Relationship, plan_removal
from pc_sandbox import SandboxOptions
from removal import CaseState, InvalidTransition, Person, RemovalCase
from removal.audit import AuditTrail
from removal.background import BackgroundTasks
from removal.case import NEEDS_PERSON
from removal.lease import Leases
from removal.notifications import CaseNotifications
from removal.store import CaseStore
from removal.workflow import RemovalWorkflow
from storage import SqliteStore
from tests._helpers import customer_named, sandbox_requests

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ANN = Person(id="29:ann", name="Ann Admin")
# Where the case was asked (TestAdapter takes any reference).
CONVERSATION = {
    "conversation": {"id": "convo-1", "tenantId": "t-1"},
    "channelId": "msteams",
    "serviceUrl": "https://teams.invalid",
    "bot": {"id": "28:offboard", "name": "Offboard"},
    "user": {"id": "29:ann", "name": "Ann Admin"},
}


@pytest.fixture
def sandbox_options() -> SandboxOptions:
    # Slow enough that a lease can be lost while the removal reads Partner Center.
    return SandboxOptions(latency_ms=150)


class Announced:
    """The Teams edge's Announcer, reduced to what it was asked to deliver."""

    def __init__(self) -> None:
        self.cards: list[dict[str, Any]] = []

    async def announce(self, card: dict[str, Any], *, text: str, requester: Person | None, tenant_id: str, service_url: str) -> int:
        self.cards.append(card)
        return 1


def _workflow(
    client: PartnerCenterClient, documents: Any, *, audit: AuditTrail, leases: Leases, announced: Announced, max_attempts: int = 5
) -> RemovalWorkflow:
    clock = lambda: datetime.now(UTC)  # noqa: E731
    store = CaseStore(documents)
    return RemovalWorkflow(
        client=client,
        store=store,
        display=_display(documents, store, clock, announced),
        audit=audit,
        leases=leases,
        background=BackgroundTasks(),
        clock=clock,
        notifications=CaseNotifications(TeamsCaseNotices(announced, clock=clock)),
        max_attempts=max_attempts,
    )


def _display(documents: Any, store: CaseStore, clock: Any, announced: Announced | None = None) -> TeamsCaseDisplay:
    """The Teams edge over botbuilder's TestAdapter (it takes any conversation reference)."""
    return TeamsCaseDisplay(AdapterMessenger(TestAdapter(), ""), CaseMessageBook(documents), cases=store, clock=clock, announcer=announced)


async def _case(client: PartnerCenterClient, store: CaseStore, name: str, state: CaseState) -> RemovalCase:
    plan = await plan_removal(client, await customer_named(client, name), now=NOW)
    case = RemovalCase.open(plan, requested_by=ANN, at=NOW)
    case.conversation = CONVERSATION
    case.approve_all_remaining(by=ANN, at=NOW)
    if state is CaseState.REMOVING:
        case.move_to(CaseState.READY)
    case.move_to(state)
    return await store.create(case)


async def _writes(http: aiohttp.ClientSession, sandbox: Any, customer_id: str) -> list[dict[str, Any]]:
    return [r for r in await sandbox_requests(http, sandbox) if r["method"] != "GET" and customer_id in r["path"]]


# ---- Counting on the case ----


def _retry_in(seconds: float) -> Any:
    return lambda count: NOW + timedelta(seconds=seconds * count)


def test_the_same_failure_again_counts_up_and_another_kind_or_progress_starts_again() -> None:
    case = RemovalCase(customer={"id": "c-1", "name": "Contoso"}, requested_by=ANN, requested_at=NOW, state=CaseState.EXECUTING)
    assert case.note_failed_attempt("unavailable", "503", retry_at=_retry_in(10)) == 1
    assert case.note_failed_attempt("unavailable", "503", retry_at=_retry_in(10)) == 2
    assert case.failed_attempts.retry_at == NOW + timedelta(seconds=20) and case.failed_attempts.detail == "503"
    assert case.note_failed_attempt("error:OSError", "disk", retry_at=_retry_in(10)) == 1, "another kind starts again"
    assert case.note_failed_attempt("error:OSError", "disk", retry_at=_retry_in(10), progressed=True) == 1, "progress starts again"
    case.clear_failed_attempts()
    assert case.failed_attempts.count == 0 and case.failed_attempts.retry_at is None
    # Failures that alternate between two kinds still count, at half rate: the bound holds.
    counts = [case.note_failed_attempt(kind, "x", retry_at=_retry_in(10)) for kind in ["unavailable", "error:OSError"] * 5]
    assert counts[-1] == 5 and counts == sorted(counts)
    case.clear_failed_attempts()
    # Stored with the case: another instance, or this one after a restart, counts on.
    case.note_failed_attempt("unavailable", "503", retry_at=_retry_in(10))
    assert RemovalCase.model_validate(case.model_dump(mode="json")).failed_attempts.count == 1


def test_giving_up_fails_the_case_for_a_person_and_only_an_open_case() -> None:
    case = RemovalCase(customer={"id": "c-1", "name": "Contoso"}, requested_by=ANN, requested_at=NOW, state=CaseState.REMOVING)
    case.give_up("Partner Center did not answer on 5 attempts in a row")
    assert case.state is CaseState.FAILED and case.error is not None and case.error.reason == NEEDS_PERSON
    with pytest.raises(InvalidTransition):
        case.give_up("again")  # once
    stored_before = RemovalCase(customer={"id": "c-1", "name": "Contoso"}, requested_by=ANN, requested_at=NOW).model_dump(mode="json")
    del stored_before["failed_attempts"], stored_before["conversation_gone_at"]
    assert RemovalCase.model_validate(stored_before).conversation_gone_at is None  # cases stored before these fields


# ---- Through the workflow ----


async def test_the_removal_is_not_sent_by_an_instance_that_lost_the_lease(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession, documents: SqliteStore
) -> None:
    announced = Announced()
    audit = AuditTrail(documents)
    # Renewed every 0.1 s: the renewal after another instance took the lease finds it lost.
    leases = Leases(documents, owner="this-instance", seconds=0.3)
    workflow = _workflow(client, documents, audit=audit, leases=leases, announced=announced)
    case = await _case(client, CaseStore(documents), "Fabrikam Inc", CaseState.REMOVING)

    removal = asyncio.create_task(workflow.remove(case.id))

    async def ours() -> Any:
        while (stored := await documents.read(f"leases/{case.id}")) is None:
            await asyncio.sleep(0.01)
        return stored

    stored = await asyncio.wait_for(ours(), timeout=5)
    # Another instance (whose clock runs ahead, say) takes the case over while this one reads.
    await documents.write(
        f"leases/{case.id}", {"owner": "other-instance", "seconds": 60, "expires": time.time() + 60}, if_match=stored.etag
    )
    result = await asyncio.wait_for(removal, timeout=30)

    assert result is not None and result.state is CaseState.REMOVING, "left to the instance that holds it"
    assert not await _writes(http, sandbox, case.customer.id), "no PATCH from an instance without the lease"
    assert await client.read_relationship(case.customer.id) is not Relationship.NONE
    actions = [record["action"] for _, record in await audit.everything()]
    assert "removal.started" not in actions and "removal.done" not in actions


async def test_an_intent_is_audited_before_the_removal_and_the_outcome_after(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession, documents: SqliteStore
) -> None:
    audit = AuditTrail(documents)
    workflow = _workflow(client, documents, audit=audit, leases=Leases(documents, owner="me"), announced=Announced())
    case = await _case(client, CaseStore(documents), "Fabrikam Inc", CaseState.REMOVING)
    removed = await workflow.remove(case.id)
    assert removed is not None and removed.state is CaseState.REMOVED
    records = [record for _, record in await audit.everything()]
    assert [r["action"] for r in records] == ["removal.started", "removal.done"]
    assert records[0]["result"] == "intent" and records[1]["result"] == "ok" and records[1]["correlation_id"]


async def test_a_write_whose_intent_cannot_be_audited_is_not_sent_and_the_case_ends_needing_a_person(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession, documents: SqliteStore, tmp_path: Path
) -> None:
    # The audit's storage is gone (a real SQLite store, closed): every record fails.
    broken = SqliteStore(tmp_path / "audit.db")
    await broken.close()
    announced = Announced()
    workflow = _workflow(
        client, documents, audit=AuditTrail(broken), leases=Leases(documents, owner="me"), announced=announced, max_attempts=3
    )
    case = await _case(client, CaseStore(documents), "Tailwind Traders", CaseState.EXECUTING)
    assert case.approved

    for attempt in (1, 2):
        after = await workflow.execute(case.id)
        assert after is not None and after.state is CaseState.EXECUTING
        assert after.failed_attempts.count == attempt and after.failed_attempts.kind.startswith("error:")
    assert await workflow.resume() == 1  # no backoff configured here: the sweep tries at once
    await workflow._background.drain()  # noqa: SLF001

    case = await CaseStore(documents).get(case.id)
    assert case is not None and case.state is CaseState.FAILED
    assert case.error is not None and case.error.reason == NEEDS_PERSON and "3 attempts in a row" in case.error.description
    assert not await _writes(http, sandbox, case.customer.id), "no Partner Center write without its intent on record"
    assert len(announced.cards) == 1, "announced once"
    assert await workflow.resume() == 0 and await workflow.execute(case.id) is not None
    assert len(announced.cards) == 1


async def test_the_sweep_backs_off_after_a_failed_attempt(client: PartnerCenterClient, documents: SqliteStore, tmp_path: Path) -> None:
    broken = SqliteStore(tmp_path / "audit.db")
    await broken.close()
    wall = [time.time()]
    clock = lambda: datetime.now(UTC)  # noqa: E731
    announced = Announced()
    store = CaseStore(documents)
    workflow = RemovalWorkflow(
        client=client,
        store=store,
        display=_display(documents, store, clock),
        audit=AuditTrail(broken),
        leases=Leases(documents, owner="me"),
        background=BackgroundTasks(),
        clock=clock,
        notifications=CaseNotifications(TeamsCaseNotices(announced, clock=clock)),
        max_attempts=5,
        backoff_initial=30,
        backoff_max=100,
        wall_clock=lambda: wall[0],
    )
    case = await _case(client, CaseStore(documents), "Tailwind Traders", CaseState.EXECUTING)
    waits = []
    for _ in range(4):
        failed = await workflow.execute(case.id)
        assert failed is not None and failed.failed_attempts.retry_at is not None
        waits.append(failed.failed_attempts.retry_at.timestamp() - wall[0])
        assert await workflow.resume() == 0, "not before its time"
        wall[0] = failed.failed_attempts.retry_at.timestamp()
    assert [round(w) for w in waits] == [30, 60, 100, 100]  # doubling, capped
    assert await workflow.resume() == 1
    await workflow._background.drain()  # noqa: SLF001
