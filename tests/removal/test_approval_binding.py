"""A decision is bound to what was decided (the action and its targets), not to the item's key;
and the primitives four-eyes on irreversible decisions is built on (security review, rows 5-6)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from partner_center.blockers import Action, Blocker, BlockerKind, RemovalPlan
from partner_center.models import AzureEntitlement, Customer
from removal import CaseState, Decision, ItemError, Outcome, Person, RemovalCase
from removal.case import CaseItem, Proposal
from removal.executor import execute_approved
from removal.lease import Lease
from removal.store import CaseStore
from storage import MemoryStore

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ANN = Person(id="29:ann", name="Ann")
BOB = Person(id="29:bob", name="Bob")
_CUSTOMER = Customer.model_validate({"id": "c-1", "companyProfile": {"companyName": "Wingtip Toys"}})
_PLAN_KEY = "azure_plan:plan-1"


def _azure_plan(*azure_subscriptions: str) -> Blocker:
    """An Azure plan: suspend it when no Azure subscription is active, else cancel them first."""
    if not azure_subscriptions:
        return Blocker(BlockerKind.AZURE_PLAN, Action.SUSPEND, "plan-1", "Azure plan", status="active")
    return Blocker(
        BlockerKind.AZURE_PLAN,
        Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN,
        "plan-1",
        "Azure plan",
        status="active",
        azure_subscription_ids=azure_subscriptions,
    )


def _legacy(n: int = 0) -> Blocker:
    return Blocker(BlockerKind.LEGACY_SUBSCRIPTION, Action.SUSPEND, f"s-{n}", f"Office 365 E3 #{n}", quantity=25)


def _nce_inside(n: int = 0) -> Blocker:
    return Blocker(
        BlockerKind.NCE_INSIDE_WINDOW,
        Action.CANCEL_SUBSCRIPTION,
        f"nce-{n}",
        "Microsoft 365 Business Premium",
        window_ends=NOW + timedelta(days=3),
    )


def _nce_past(action: Action) -> Blocker:
    return Blocker(BlockerKind.NCE_PAST_WINDOW, action, "nce-9", "Microsoft 365 E5", term_ends=NOW + timedelta(days=40))


def _order() -> Blocker:
    return Blocker(
        BlockerKind.SOFTWARE_INSIDE_WINDOW, Action.CANCEL_ORDER, "order-1", "Windows Server 2022", window_ends=NOW + timedelta(days=9)
    )


def _plan(*blockers: Blocker) -> RemovalPlan:
    return RemovalPlan(_CUSTOMER, blockers, NOW)


def _approved(*blockers: Blocker) -> RemovalCase:
    case = RemovalCase.open(_plan(*blockers), requested_by=ANN, at=NOW)
    case.approve_all_remaining(by=BOB, at=NOW)
    return case


def _plan_item(case: RemovalCase) -> CaseItem:
    item = case.item(_PLAN_KEY)
    assert item is not None
    return item


# ---- What a decision records ----


def test_a_decision_records_the_action_and_the_targets_it_was_about() -> None:
    case = RemovalCase.open(_plan(_azure_plan("az-2", "az-1"), _legacy()), requested_by=ANN, at=NOW)
    case.decide(_PLAN_KEY, Decision.APPROVED, by=BOB, at=NOW)
    plan_item = _plan_item(case)
    assert plan_item.decided_on == Proposal(
        action=Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN, azure_subscription_ids=("az-1", "az-2")
    )
    assert plan_item.decision_stands
    legacy = case.item("legacy_subscription:s-0")
    assert legacy is not None and legacy.decided_on is None and not legacy.decision_stands  # still pending
    case.decide(legacy.key, Decision.SKIPPED, by=ANN, at=NOW)
    assert legacy.decided_on == Proposal(action=Action.SUSPEND) and legacy.decision_stands


def test_approve_all_remaining_records_what_each_approval_was_about() -> None:
    case = _approved(_azure_plan("az-1"), _legacy())
    assert [item.decided_on for item in case.items] == [
        Proposal(action=Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN, azure_subscription_ids=("az-1",)),
        Proposal(action=Action.SUSPEND),
    ]


def test_a_case_stored_before_decisions_recorded_what_they_were_about_is_still_read() -> None:
    stored = _approved(_legacy()).model_dump(mode="json")
    for item in stored["items"]:
        del item["decided_on"]
    case = RemovalCase.model_validate(stored)
    [item] = case.items
    assert item.decision is Decision.APPROVED and item.decided_on is None
    # What that approval was about cannot be known: it carries nothing out.
    assert not item.decision_stands and item.approved_work() is None


def test_the_work_is_built_from_the_approval() -> None:
    case = _approved(_azure_plan("az-1"))
    item = _plan_item(case)
    work = item.approved_work()
    assert work is not None and work.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN
    assert work.azure_subscription_ids == ("az-1",) and work.key == _PLAN_KEY
    # What the item shows changed without a re-read having asked again (it cannot happen through
    # refresh): nothing is built from it.
    item.azure_subscription_ids = ("az-1", "az-new")
    assert item.approved_work() is None
    item.azure_subscription_ids = ("az-1",)
    item.action = Action.SUSPEND
    assert item.approved_work() is None


# ---- A fresh read that changes what an approval was about ----


def test_an_approved_suspension_that_becomes_a_cancellation_asks_again_marked_changed() -> None:
    case = _approved(_azure_plan(), _legacy())
    case.move_to(CaseState.EXECUTING)
    # The customer created an Azure subscription since: the plan now needs it cancelled first.
    case.refresh(_plan(_azure_plan("az-new"), _legacy()))
    item = _plan_item(case)
    assert item.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN and item.azure_subscription_ids == ("az-new",)
    assert (item.decision, item.decided_by, item.decided_at, item.decided_on) == (Decision.PENDING, None, None, None)
    assert item.since_plan == "changed" and item.approved_work() is None
    assert case.next_pending is item
    assert _plan_item(case) not in case.approved
    legacy = case.item("legacy_subscription:s-0")
    assert legacy is not None and legacy.decision is Decision.APPROVED and legacy.since_plan == ""


def test_the_same_action_on_a_new_target_asks_again() -> None:
    case = _approved(_azure_plan("az-1"))
    case.refresh(_plan(_azure_plan("az-1", "az-2")))
    item = _plan_item(case)
    assert item.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN
    assert item.decision is Decision.PENDING and item.since_plan == "changed" and item.decided_by is None


def test_fewer_targets_is_a_change_too() -> None:
    # Approved: cancel az-1 and az-2; az-2 cancelled in the portal meanwhile. Still asked again:
    # what is approved is exactly a list of targets, nothing more and nothing less.
    case = _approved(_azure_plan("az-1", "az-2"))
    case.refresh(_plan(_azure_plan("az-1")))
    assert _plan_item(case).decision is Decision.PENDING and _plan_item(case).since_plan == "changed"


def test_an_unchanged_item_keeps_its_approval() -> None:
    case = _approved(_azure_plan("az-1", "az-2"), _legacy())
    decided = [item.model_copy(deep=True) for item in case.items]
    # Same action, same targets (listed in another order: the order means nothing).
    case.refresh(_plan(_azure_plan("az-2", "az-1"), _legacy()))
    for before, after in zip(decided, case.items, strict=False):
        assert (after.decision, after.decided_by, after.decided_at, after.decided_on) == (
            Decision.APPROVED,
            BOB,
            NOW,
            before.decided_on,
        )
        assert after.since_plan == "" and after.approved_work() is not None


def test_a_skipped_item_whose_action_changes_is_asked_about_again() -> None:
    case = RemovalCase.open(_plan(_azure_plan()), requested_by=ANN, at=NOW)
    case.decide(_PLAN_KEY, Decision.SKIPPED, by=ANN, at=NOW)
    case.refresh(_plan(_azure_plan("az-new")))
    item = _plan_item(case)
    assert item.decision is Decision.PENDING and item.since_plan == "changed" and item.decided_by is None


def test_an_item_that_failed_then_changed_starts_afresh() -> None:
    # The review's path: the suspension was refused (the new Azure subscription is active).
    case = _approved(_azure_plan())
    item = _plan_item(case)
    item.outcome = Outcome.FAILED
    item.error = ItemError(description="Azure plan cannot be moved to suspended state", status=403)
    case.refresh(_plan(_azure_plan("az-new")))
    assert (item.decision, item.outcome, item.error, item.since_plan) == (Decision.PENDING, Outcome.NOT_STARTED, None, "changed")


def test_a_failed_item_whose_proposal_did_not_change_keeps_its_approval() -> None:
    case = _approved(_legacy())
    [item] = case.items
    item.outcome = Outcome.FAILED
    case.refresh(_plan(_legacy()))
    assert item.decision is Decision.APPROVED and item.outcome is Outcome.FAILED and item.since_plan == ""


def test_done_items_are_not_touched_by_a_changed_action() -> None:
    # Auto-renew turned off by the bot: the item now waits for its term end. Done is done.
    case = _approved(_nce_past(Action.TURN_OFF_AUTO_RENEW))
    [item] = case.items
    item.outcome = Outcome.DONE
    case.refresh(_plan(_nce_past(Action.WAIT_FOR_TERM_END)))
    assert (item.decision, item.decided_by, item.outcome, item.since_plan) == (Decision.APPROVED, BOB, Outcome.DONE, "")
    assert item.decided_on == Proposal(action=Action.TURN_OFF_AUTO_RENEW)
    assert item.action is Action.WAIT_FOR_TERM_END


def test_an_approval_recorded_before_this_rule_is_asked_about_again_at_the_next_read() -> None:
    stored = _approved(_azure_plan("az-1"), _legacy()).model_dump(mode="json")
    for item in stored["items"]:
        del item["decided_on"]
    stored["items"][1]["decision"] = "skipped"
    case = RemovalCase.model_validate(stored)
    case.refresh(_plan(_azure_plan("az-1"), _legacy()))
    approved, skipped = case.items
    # Nobody knows what the old approval was about: asked again. The skip touched nothing: kept.
    assert approved.decision is Decision.PENDING and approved.since_plan == "changed"
    assert skipped.decision is Decision.SKIPPED and skipped.since_plan == ""


# ---- The executor carries out only what was approved ----


class _RecordingClient:
    """Partner Center's writes the executor may make, recorded (no Partner Center needed)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def suspend_subscription(self, customer_id: str, subscription_id: str) -> None:
        self.calls.append(("suspend", subscription_id))

    async def cancel_subscription(self, customer_id: str, subscription_id: str) -> None:
        self.calls.append(("cancel", subscription_id))

    async def turn_off_auto_renew(self, customer_id: str, subscription_id: str) -> None:
        self.calls.append(("auto_renew_off", subscription_id))

    async def list_azure_entitlements(self, customer_id: str, plan_id: str) -> list[AzureEntitlement]:
        # The Azure plan's subscriptions; a cancel shows at once here (the real ~10 minutes are
        # in tests/dialogs/test_azure_plan.py): carry_out reads them before and after its cancels.
        cancelled = {call[2] for call in self.calls if call[0] == "cancel_azure"}
        return [AzureEntitlement.model_validate({"id": i, "status": "inactive" if i in cancelled else "active"}) for i in ("az-1", "az-2")]

    async def cancel_azure_entitlement(self, customer_id: str, plan_id: str, entitlement_id: str) -> None:
        self.calls.append(("cancel_azure", plan_id, entitlement_id))

    async def cancel_order(self, customer_id: str, order_id: str) -> None:
        self.calls.append(("cancel_order", order_id))


async def _execute(case: RemovalCase) -> tuple[RemovalCase, _RecordingClient]:
    case.move_to(CaseState.EXECUTING)
    store = CaseStore(MemoryStore())
    await store.create(case)
    client = _RecordingClient()

    async def shown(_: RemovalCase) -> None:
        pass

    run = await execute_approved(case.id, client=client, store=store, lease=Lease(case.id), on_progress=shown)  # type: ignore[arg-type]
    return run.case, client


async def test_the_executor_carries_out_exactly_the_approved_action_on_the_approved_targets() -> None:
    case, client = await _execute(_approved(_azure_plan("az-2", "az-1"), _legacy()))
    assert sorted(client.calls) == [
        ("cancel_azure", "plan-1", "az-1"),
        ("cancel_azure", "plan-1", "az-2"),
        ("suspend", "plan-1"),
        ("suspend", "s-0"),
    ]
    assert all(item.outcome is Outcome.DONE for item in case.items)


async def test_the_executor_writes_nothing_for_an_item_that_is_not_what_was_approved(caplog: pytest.LogCaptureFixture) -> None:
    # Approved: suspend the plan. What the stored item shows now (as the old refresh left it):
    # cancel an Azure subscription nobody approved, then suspend.
    case = _approved(_azure_plan(), _legacy())
    item = _plan_item(case)
    item.action = Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN
    item.azure_subscription_ids = ("az-new",)
    with caplog.at_level(logging.WARNING, logger="removal.executor"):
        case, client = await _execute(case)
    assert client.calls == [("suspend", "s-0")]
    plan_item = _plan_item(case)
    assert plan_item.outcome is Outcome.NOT_STARTED and plan_item.error is None
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert _PLAN_KEY in warning.getMessage() and "az-new" in warning.getMessage()


async def test_the_executor_writes_nothing_for_an_approval_that_does_not_say_what_it_approved() -> None:
    stored = _approved(_azure_plan("az-1"), _legacy()).model_dump(mode="json")
    del stored["items"][0]["decided_on"]  # stored before approvals recorded what they approved
    case, client = await _execute(RemovalCase.model_validate(stored))
    assert client.calls == [("suspend", "s-0")]
    assert _plan_item(case).outcome is Outcome.NOT_STARTED


# ---- Primitives for four-eyes on irreversible decisions ----


@pytest.mark.parametrize(
    ("action", "irreversible"),
    [
        (Action.SUSPEND, False),
        (Action.CANCEL_SUBSCRIPTION, True),
        (Action.TURN_OFF_AUTO_RENEW, False),
        (Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN, True),
        (Action.CANCEL_ORDER, True),
        (Action.WAIT_FOR_TERM_END, False),
        (Action.CANCEL_IN_AZURE_PORTAL, False),
        (Action.REPORT_ONLY, False),
    ],
)
def test_cancellations_are_irreversible_and_nothing_else_is(action: Action, irreversible: bool) -> None:
    assert action.is_irreversible is irreversible
    assert all(a.is_automatic for a in Action if a.is_irreversible)  # only what the bot does itself


def test_an_item_is_irreversible_when_its_action_is() -> None:
    case = RemovalCase.open(
        _plan(_legacy(), _nce_inside(), _azure_plan("az-1"), _azure_plan_suspended(), _order()), requested_by=ANN, at=NOW
    )
    assert [item.irreversible for item in case.items] == [False, True, True, False, True]
    # It follows the action: the same Azure plan with nothing left to cancel is a suspension.
    item = _plan_item(case)
    case.refresh(_plan(_legacy(), _nce_inside(), _azure_plan(), _azure_plan_suspended(), _order()))
    assert not item.irreversible


def _azure_plan_suspended() -> Blocker:
    return Blocker(BlockerKind.AZURE_PLAN, Action.SUSPEND, "plan-2", "Azure plan (Europe)", status="active")


def test_approve_all_remaining_approves_only_what_it_is_told_to() -> None:
    case = RemovalCase.open(_plan(_legacy(0), _nce_inside(), _legacy(1), _order(), _azure_plan("az-1")), requested_by=ANN, at=NOW)
    case.decide("legacy_subscription:s-1", Decision.SKIPPED, by=ANN, at=NOW)
    approved = case.approve_all_remaining(by=BOB, at=NOW, only=lambda item: not item.irreversible)
    assert approved == 1
    decisions = {item.key: item.decision for item in case.items}
    assert decisions == {
        "legacy_subscription:s-0": Decision.APPROVED,
        "nce_inside_window:nce-0": Decision.PENDING,
        "legacy_subscription:s-1": Decision.SKIPPED,  # decided already: untouched
        "software_inside_window:order-1": Decision.PENDING,
        _PLAN_KEY: Decision.PENDING,
    }
    assert case.item("legacy_subscription:s-0").decided_by == BOB  # type: ignore[union-attr]
    # Without ``only``, everything still pending, as before.
    assert case.approve_all_remaining(by=ANN, at=NOW) == 3
    assert case.next_pending is None
    assert {item.key for item in case.approved} == set(decisions) - {"legacy_subscription:s-1"}


def test_approve_all_remaining_with_nothing_selected_approves_nothing() -> None:
    case = RemovalCase.open(_plan(_legacy(0), _legacy(1)), requested_by=ANN, at=NOW)
    assert case.approve_all_remaining(by=BOB, at=NOW, only=lambda item: item.irreversible) == 0
    assert all(item.decision is Decision.PENDING for item in case.items)
