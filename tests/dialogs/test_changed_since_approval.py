"""An approval is bound to what was approved (security review, row 6), end to end: through the
bot, against the real sandbox, whose operator endpoints change the world mid-case.

Wingtip Toys has an Azure plan whose only Azure subscription is cancelled (the bot proposes to
suspend the plan) and a software purchase inside its window (cancel the order).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bench.buttons import button_data
from partner_center import PartnerCenterClient, Relationship
from partner_center.blockers import Action
from removal import CaseState, Decision, Outcome
from tests._helpers import operator, sandbox_requests
from tests.dialogs.harness import BOB, Conversation, card_text

_NEW_AZURE_SUBSCRIPTION = "9e1f0000-0000-4000-8000-00000000a2b1"
_CHANGED = "Changed in Partner Center since it was approved or skipped"


@pytest.fixture
def chat(client: PartnerCenterClient, sandbox: Any) -> Conversation:
    return Conversation(client, clock=sandbox.clock.now)


def _azure_cancels(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for r in requests
        if r["method"] == "POST" and "/azureentitlements/" in r["path"].lower() and r["path"].lower().endswith("/cancel")
    ]


async def test_an_approved_suspension_never_becomes_an_unapproved_cancellation(
    chat: Conversation, client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    await chat.say("remove Wingtip Toys")
    case = await chat.store.current_for("Convo1")
    assert case is not None
    [plan_item] = [item for item in case.items if item.kind.value == "azure_plan"]
    [order] = [item for item in case.items if item.action is Action.CANCEL_ORDER]
    assert plan_item.action is Action.SUSPEND and not plan_item.azure_subscription_ids

    # Ann approves suspending the Azure plan: nothing else.
    await chat.click("decide", {"caseId": case.id, "itemKey": plan_item.key, "decision": "approve"})
    # Meanwhile the customer creates an Azure subscription under the plan (in the Azure portal).
    await operator(
        http,
        sandbox,
        f"customers/{case.customer.id}/subscriptions/{plan_item.item_id}/azureEntitlements",
        {"id": _NEW_AZURE_SUBSCRIPTION, "friendlyName": "Wingtip Analytics"},
    )
    # Bob approves the last item: the execution starts. Partner Center refuses to suspend a plan
    # with an active Azure subscription; the re-check that follows finds the plan's new proposal.
    await chat.click("decide", {"caseId": case.id, "itemKey": order.key, "decision": "approve"}, user=BOB)
    posted = await chat.settle()

    case = await chat.store.get(case.id)
    assert case is not None and case.state is CaseState.AWAITING_APPROVAL
    plan_item = case.item(plan_item.key)
    assert plan_item is not None
    assert plan_item.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN
    assert plan_item.azure_subscription_ids == (_NEW_AZURE_SUBSCRIPTION,)
    assert (plan_item.decision, plan_item.decided_by, plan_item.since_plan) == (Decision.PENDING, None, "changed")
    assert plan_item.outcome is Outcome.NOT_STARTED and plan_item.error is None
    assert case.item(order.key).outcome is Outcome.DONE  # type: ignore[union-attr]
    # The bot asks again, and says why.
    question = posted[-1].attachments[0].content
    assert _CHANGED in card_text(question)
    assert button_data(question, "decide", itemKey=plan_item.key, decision="approve")
    assert not _azure_cancels(await sandbox_requests(http, sandbox))

    # Another re-check (the scheduler's, say) carries out nothing on the old approval.
    case = await chat.workflow.recheck(case.id)
    await chat.settle()
    assert case.state is CaseState.AWAITING_APPROVAL and case.item(plan_item.key).decision is Decision.PENDING  # type: ignore[union-attr]
    assert not _azure_cancels(await sandbox_requests(http, sandbox))

    # Once someone approves what is proposed now, it is carried out: the cancel is sent, and (was:
    # the plan suspended at once) the case waits the ~10 minutes Azure takes to apply it
    # (developer/cancel-an-azure-subscription), then the soon re-check suspends the plan.
    await chat.click("decide", {"caseId": case.id, "itemKey": plan_item.key, "decision": "approve"}, user=BOB)
    await chat.settle()
    case = await chat.store.get(case.id)
    assert case is not None and case.state is CaseState.WAITING
    assert case.item(plan_item.key).outcome is Outcome.NOT_STARTED  # type: ignore[union-attr]
    await operator(http, sandbox, "clock", {"advanceHours": 10 / 60})
    chat.workflow._azure_recheck_seconds = 0  # the soon re-check is due at once (else minutes of wall time)
    assert await chat.workflow.resume() == 1
    posted = await chat.settle()
    case = await chat.store.get(case.id)
    assert case is not None and case.state is CaseState.READY
    plan_item = case.item(plan_item.key)
    assert plan_item is not None and plan_item.outcome is Outcome.DONE and plan_item.decided_by.name == "Bob Approver"  # type: ignore[union-attr]
    [cancel] = _azure_cancels(await sandbox_requests(http, sandbox))
    assert _NEW_AZURE_SUBSCRIPTION in cancel["path"].lower()
    assert "confirm_removal" in str(posted[-1].attachments[0].content)
    assert await client.read_relationship(case.customer.id) is Relationship.RESELLER  # nothing removed unasked
