"""An approved Azure plan while Azure applies the cancellation of its Azure subscriptions.

"Expect about 10 mins for the status to be reflected (that is, active to inactive)"
(learn.microsoft.com/partner-center/developer/cancel-an-azure-subscription): the executor leaves
the item not started (not failed), and approving "cancel them, then suspend the plan" covers the
suspension that the fresh read proposes once none is active. A skip does not, and nothing covers
the reverse (tests/removal/test_approval_binding.py).
"""

from __future__ import annotations

from partner_center.actions import AZURE_CANCELLING
from partner_center.blockers import Action
from partner_center.models import AzureEntitlement
from removal import CaseState, Decision, ItemError, Outcome, RemovalCase
from removal.executor import execute_approved
from removal.lease import Lease
from removal.store import CaseStore
from removal.workflow import _state_after
from storage import MemoryStore
from tests.removal.test_approval_binding import ANN, BOB, NOW, _approved, _azure_plan, _legacy, _plan, _plan_item, _RecordingClient


class _AzureStillApplying(_RecordingClient):
    """Partner Center accepts the cancels; the Azure subscriptions still read active."""

    async def list_azure_entitlements(self, customer_id: str, plan_id: str) -> list[AzureEntitlement]:
        return [AzureEntitlement.model_validate({"id": i, "status": "active"}) for i in ("az-1", "az-2")]


async def test_the_executor_leaves_the_plan_waiting_not_failed_and_sends_no_suspension() -> None:
    case = _approved(_azure_plan("az-1", "az-2"), _legacy())
    case.move_to(CaseState.EXECUTING)
    store = CaseStore(MemoryStore())
    await store.create(case)
    client = _AzureStillApplying()

    async def shown(_: RemovalCase) -> None:
        pass

    run = await execute_approved(case.id, client=client, store=store, lease=Lease(case.id), on_progress=shown)  # type: ignore[arg-type]
    item = _plan_item(run.case)
    assert item.outcome is Outcome.NOT_STARTED and item.error is not None and item.error.reason == AZURE_CANCELLING
    assert not run.case.failed and run.unavailable is None
    assert sorted(client.calls) == [("cancel_azure", "plan-1", "az-1"), ("cancel_azure", "plan-1", "az-2"), ("suspend", "s-0")]
    # Partner Center still shows them active: the case waits (it does not execute again yet).
    assert _state_after(run.case, can_remove_now=False) is CaseState.WAITING


def test_an_approval_to_cancel_then_suspend_covers_the_suspension_once_none_is_active() -> None:
    case = _approved(_azure_plan("az-1", "az-2"), _legacy())
    item = _plan_item(case)
    item.error = _waiting()
    case.refresh(_plan(_azure_plan(), _legacy()))  # Azure applied the cancellation
    item = _plan_item(case)
    assert item.action is Action.SUSPEND and item.decision is Decision.APPROVED and item.since_plan == ""
    work = item.approved_work()
    assert work is not None and work.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN
    assert _state_after(case, can_remove_now=False) is CaseState.EXECUTING


def test_a_skip_of_the_cancellation_does_not_cover_suspending_the_plan() -> None:
    case = RemovalCase.open(_plan(_azure_plan("az-1"), _legacy()), requested_by=ANN, at=NOW)
    case.decide("azure_plan:plan-1", Decision.SKIPPED, by=BOB, at=NOW)
    case.refresh(_plan(_azure_plan(), _legacy()))  # the customer moved them away (billing transfer)
    item = _plan_item(case)
    assert item.decision is Decision.PENDING and item.since_plan == "changed"


def _waiting() -> ItemError:
    return ItemError(description="Azure is applying the cancellation", reason=AZURE_CANCELLING)
