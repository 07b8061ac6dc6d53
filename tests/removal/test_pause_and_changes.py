"""Pausing when Partner Center is silent, items undone or added in the portal, and a lease that
one instance cannot take twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from partner_center.blockers import Action, Blocker, BlockerKind, RemovalPlan
from partner_center.models import Customer
from removal import CaseState, Decision, InvalidTransition, ItemError, Outcome, Person, RemovalCase
from removal.lease import Leases, LeaseTaken
from removal.store import CaseStore
from storage import MemoryStore
from tests._helpers import operator, sandbox_requests
from tests.dialogs.harness import Conversation, card_text

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ANN = Person(id="29:ann", name="Ann")
_CUSTOMER = Customer.model_validate({"id": "c-1", "companyProfile": {"companyName": "Contoso Ltd"}})
_SILENCE = ItemError(description="Partner Center did not answer: ServerDisconnectedError", correlation_id="c-1")


def _legacy(n: int) -> Blocker:
    return Blocker(BlockerKind.LEGACY_SUBSCRIPTION, Action.SUSPEND, f"s-{n}", f"Office 365 E3 #{n}")


def _nce_past(action: Action) -> Blocker:
    return Blocker(BlockerKind.NCE_PAST_WINDOW, action, "nce-1", "Microsoft 365 Business Premium", term_ends=NOW + timedelta(days=40))


def _case(*blockers: Blocker, state: CaseState = CaseState.EXECUTING) -> RemovalCase:
    case = RemovalCase.open(RemovalPlan(_CUSTOMER, blockers or (_legacy(0),), NOW), requested_by=ANN, at=NOW)
    case.approve_all_remaining(by=ANN, at=NOW)
    case.move_to(CaseState.EXECUTING)
    if state is CaseState.REMOVING:
        case.move_to(CaseState.READY)
        case.move_to(CaseState.REMOVING)
    return case


# ---- Paused ----


def test_a_paused_execution_goes_back_to_executing_or_is_cancelled() -> None:
    case = _case()
    case.pause_for(_SILENCE, at=NOW)
    assert case.state is CaseState.PAUSED and case.is_open
    assert case.pause is not None and case.pause.resume_to is CaseState.EXECUTING and case.pause.since == NOW
    assert case.may_move_to(CaseState.CANCELLED) and not case.may_move_to(CaseState.REMOVING)
    with pytest.raises(InvalidTransition):
        case.move_to(CaseState.READY)
    assert case.unpause() is CaseState.EXECUTING
    assert case.state is CaseState.EXECUTING and case.pause is None


def test_a_paused_removal_only_goes_back_to_removing_and_cannot_be_cancelled() -> None:
    case = _case(state=CaseState.REMOVING)
    case.pause_for(_SILENCE, at=NOW)
    assert not case.may_move_to(CaseState.CANCELLED)  # the PATCH may have reached Partner Center
    assert not case.may_move_to(CaseState.EXECUTING)
    assert case.may_move_to(CaseState.FAILED)
    assert case.unpause() is CaseState.REMOVING
    with pytest.raises(InvalidTransition):
        case.unpause()  # not paused any more


def test_only_executing_and_removing_cases_pause() -> None:
    for state in (CaseState.AWAITING_APPROVAL, CaseState.WAITING, CaseState.READY):
        case = _case()
        case.state = state
        with pytest.raises(InvalidTransition):
            case.pause_for(_SILENCE, at=NOW)


async def test_interrupted_items_are_journaled_and_counted_not_failed() -> None:
    store = CaseStore(MemoryStore())
    case = await store.create(_case(_legacy(0), _legacy(1)))
    await store.record_outcome(case.id, "legacy_subscription:s-0", Outcome.DONE)
    await store.record_interruption(case.id, "legacy_subscription:s-1")
    await store.record_interruption(case.id, "legacy_subscription:s-1")
    stored = await store.get(case.id)
    assert stored is not None
    done, interrupted = stored.items
    assert done.outcome is Outcome.DONE
    assert interrupted.outcome is Outcome.NOT_STARTED and interrupted.error is None and interrupted.interruptions == 2
    assert not stored.failed


# ---- Partner Center changed since the plan ----


def test_an_item_done_that_blocks_again_is_asked_about_again_and_a_new_blocker_is_marked_new() -> None:
    case = _case(_legacy(0), _legacy(1))
    for item in case.items:
        item.outcome = Outcome.DONE
    # s-0 reactivated in the portal, s-9 bought since; s-1 stays suspended.
    case.refresh(RemovalPlan(_CUSTOMER, (_legacy(0), _legacy(9)), NOW))
    back, gone, new = case.items
    assert (back.decision, back.outcome, back.since_plan, back.decided_by) == (Decision.PENDING, Outcome.NOT_STARTED, "back", None)
    assert gone.cleared and gone.outcome is Outcome.DONE and gone.decision is Decision.APPROVED
    assert new.since_plan == "new" and new.decision is Decision.PENDING
    assert [item.key for item in case.to_decide if item.decision is Decision.PENDING] == [back.key, new.key]
    # New blockers after execution: back to approvals (the transition exists).
    assert case.may_move_to(CaseState.AWAITING_APPROVAL)


def test_auto_renew_turned_off_then_waiting_for_the_term_end_is_not_undone() -> None:
    case = _case(_nce_past(Action.TURN_OFF_AUTO_RENEW))
    [item] = case.items
    item.outcome = Outcome.DONE
    case.refresh(RemovalPlan(_CUSTOMER, (_nce_past(Action.WAIT_FOR_TERM_END),), NOW))
    assert item.outcome is Outcome.DONE and item.since_plan == "" and item.action is Action.WAIT_FOR_TERM_END
    # ...but auto-renew turned back on in the portal is asked about again.
    case.refresh(RemovalPlan(_CUSTOMER, (_nce_past(Action.TURN_OFF_AUTO_RENEW),), NOW))
    assert item.since_plan == "back" and item.decision is Decision.PENDING


def test_a_removing_case_can_go_back_to_approvals() -> None:
    case = _case(state=CaseState.REMOVING)
    case.move_to(CaseState.AWAITING_APPROVAL)
    assert case.state is CaseState.AWAITING_APPROVAL


# ---- Leases ----


async def test_one_instance_cannot_hold_a_case_twice_at_once() -> None:
    leases = Leases(MemoryStore(), owner="instance-1", seconds=30)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with leases.hold("case-1"):
            entered.set()
            await release.wait()

    task = asyncio.create_task(first())
    await entered.wait()
    assert not await leases.is_free("case-1")
    with pytest.raises(LeaseTaken):  # e.g. the resume sweep, while a click's task holds it
        async with leases.hold("case-1"):
            pass
    release.set()
    await task
    assert await leases.is_free("case-1")
    async with leases.hold("case-1"):  # free again for the next holder
        pass


async def test_two_tasks_racing_for_a_free_lease_get_it_once() -> None:
    leases = Leases(MemoryStore(), owner="instance-1", seconds=30)
    holders: list[int] = []

    async def hold(n: int) -> None:
        try:
            async with leases.hold("case-1"):
                holders.append(n)
                await asyncio.sleep(0.05)
        except LeaseTaken:
            pass

    await asyncio.gather(hold(1), hold(2))
    assert len(holders) == 1


# ---- A waiting case re-checked while Partner Center is down ----


async def test_a_waiting_case_rechecked_during_an_outage_keeps_waiting_and_says_nothing(
    client: Any, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    chat = Conversation(client, clock=sandbox.clock.now)
    await chat.say("remove Adatum Corporation")  # a reservation: the case waits
    case = await chat.store.current_for("Convo1")
    assert case is not None and case.state is CaseState.WAITING
    await chat.settle()
    await operator(http, sandbox, "outage", {"on": True})
    rechecked = await chat.workflow.recheck(case.id)
    assert rechecked.state is CaseState.WAITING and rechecked.error is None
    assert await chat.settle() == []  # no error card, no notification
    await operator(http, sandbox, "outage", {"on": False})
    assert (await chat.workflow.recheck(case.id)).state is CaseState.WAITING


async def test_a_resumed_removal_whose_patch_had_landed_sends_no_second_patch(
    client: Any, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    """The instance died (or Partner Center went silent) after the removal PATCH landed: the
    resumed removal reads the relationship as gone and records the removal without writing."""
    chat = Conversation(client, clock=sandbox.clock.now)
    await chat.say("remove Fabrikam Inc")  # nothing blocks: straight to the final confirmation
    case = await chat.store.current_for("Convo1")
    assert case is not None and case.state is CaseState.READY
    await chat.settle()
    await client.remove_relationship(case.customer.id)  # the PATCH that landed
    await chat.store.update(case.id, lambda c: c.move_to(CaseState.REMOVING))
    before = len(await sandbox_requests(http, sandbox))
    removed = await chat.workflow.remove(case.id)
    assert removed is not None and removed.state is CaseState.REMOVED and removed.relationship_request_url
    writes = [r for r in (await sandbox_requests(http, sandbox))[before:] if r["method"] != "GET"]
    assert writes == []
    await chat.settle()
    assert "Fabrikam Inc" in card_text(chat.updates[-1])  # the "removing…" card became the result card
