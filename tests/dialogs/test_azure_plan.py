"""An Azure-plan customer end to end, with the sandbox's default 10-minute Azure cancellation, on
the sandbox clock (fidelity audit #1, #2, #3; issue 17 "Azure plans").

Microsoft: the cancel's body is ``{"cancellationReason": "compromise"}`` and it needs an admin
agent who is Global Admin; "Expect about 10 mins for the status to be reflected (that is, active
to inactive)"; meanwhile suspending the plan answers 403/900115
(learn.microsoft.com/partner-center/developer/cancel-an-azure-subscription, developer/error-codes).

Before: the plan was suspended right after the cancels, Partner Center answered 403/900115 and
the item failed. Now: approve → the cancels are sent → the case waits and says why → a re-check a
few minutes later (the resume sweep, not the hourly one) suspends the plan once the Azure
subscriptions read inactive. No item fails.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bench.buttons import button_data, buttons
from partner_center import PartnerCenterClient, SubscriptionStatus
from partner_center.actions import AZURE_CANCELLING
from partner_center.blockers import Action, is_azure_plan
from removal import CaseState, Outcome
from tests._helpers import customer_named, operator, sandbox_requests
from tests.dialogs.harness import BOB, Conversation, card_text

_WHY = "Azure is applying the cancellation"


@pytest.fixture
def chat(client: PartnerCenterClient, sandbox: Any) -> Conversation:
    return Conversation(client, clock=sandbox.clock.now)


def _plan_writes(requests: list[dict[str, Any]], plan_id: str) -> list[dict[str, Any]]:
    return [r for r in requests if r["method"] == "PATCH" and r["path"].lower().endswith(plan_id.lower())]


def _cancels(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in requests if r["method"] == "POST" and r["path"].lower().endswith("/cancel")]


async def test_approve_then_the_plan_is_suspended_only_once_azure_shows_the_cancellation(
    chat: Conversation, client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    wall = [1_000_000.0]
    chat.workflow._wall_clock = lambda: wall[0]  # the soon re-check counts wall time: controlled here
    contoso = await customer_named(client, "Contoso Ltd")
    [plan] = [s for s in await client.list_subscriptions(contoso.id) if is_azure_plan(s)]

    turn = await chat.say("remove Contoso Ltd")
    card = turn.cards[1]
    seen_azure_question = False
    while "decide" in {b["verb"] for b in buttons(card).values()}:
        text = card_text(card)
        if "Azure subscriptions, then suspend" in text:
            seen_azure_question = True
            # The documented choices, stated plainly: transfer (Skip), or cancel (destructive).
            assert "billing transfer" in text and "choose Skip" in text
            assert "stops the customer's workloads" in text and "deletes their data" in text
            assert '"compromise"' in text and "Global Administrator and Admin agent" in text
            assert "about 10 minutes" in text
        card = (await chat.click("decide", button_data(card, "decide", decision="approve"), user=BOB)).invoke_card
    assert seen_azure_question
    posted = await chat.settle()

    # The cancels went out; the plan was not touched; the case waits and says why; nothing failed.
    case = await chat.store.current_for("Convo1")
    assert case is not None and case.state is CaseState.WAITING
    [azure] = [item for item in case.items if item.kind.value == "azure_plan"]
    assert azure.outcome is Outcome.NOT_STARTED and azure.error is not None and azure.error.reason == AZURE_CANCELLING
    assert not case.failed
    assert all(item.outcome is Outcome.DONE for item in case.approved if item.key != azure.key)
    requests = await sandbox_requests(http, sandbox)
    assert len(_cancels(requests)) == 2 and all(r["status"] == 202 for r in _cancels(requests))
    assert _plan_writes(requests, plan.id) == []
    said = " ".join(card_text(a.attachments[0].content) for a in posted if a.attachments)
    assert _WHY in said and "Offboard checks again and suspends" in said  # the "still blocked" card
    assert any(_WHY in card_text(update) for update in chat.updates)  # the status card's line
    assert (await client.get_subscription(contoso.id, plan.id)).status is SubscriptionStatus.ACTIVE

    # Not due yet: nothing is re-checked before a few minutes of wall time have passed.
    assert await chat.workflow.resume() == 0
    # Five minutes on (sandbox and wall): re-checked; Azure still shows them active: still waiting,
    # no PATCH sent, and no new card (the last one says why).
    await operator(http, sandbox, "clock", {"advanceHours": 5 / 60})
    wall[0] += 180
    assert await chat.workflow.resume() == 0
    assert await chat.settle() == []
    case = await chat.store.get(case.id)
    assert case.state is CaseState.WAITING and not case.failed
    assert _plan_writes(await sandbox_requests(http, sandbox), plan.id) == []

    # Ten minutes after the cancels: inactive; the next soon re-check suspends the plan.
    await operator(http, sandbox, "clock", {"advanceHours": 5 / 60})
    wall[0] += 180
    assert await chat.workflow.resume() == 1
    posted = await chat.settle()
    case = await chat.store.get(case.id)
    assert case.state is CaseState.READY and not case.failed
    assert case.item(azure.key).outcome is Outcome.DONE and case.item(azure.key).error is None  # type: ignore[union-attr]
    assert {e.status for e in await client.list_azure_entitlements(contoso.id, plan.id)} == {"inactive"}
    assert (await client.get_subscription(contoso.id, plan.id)).status is SubscriptionStatus.SUSPENDED
    [suspended] = _plan_writes(await sandbox_requests(http, sandbox), plan.id)
    assert suspended["status"] == 200  # one PATCH, never a 403/900115
    assert len(_cancels(await sandbox_requests(http, sandbox))) == 2  # the cancels were not sent again
    assert "confirm_removal" in {b["verb"] for b in buttons(posted[-1].attachments[0].content).values()}


async def test_skip_leaves_the_azure_subscriptions_alone_and_a_transfer_clears_the_plan_on_re_check(
    chat: Conversation, client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    # Skip = the customer moves them away (billing transfer): nothing is cancelled.
    turn = await chat.say("remove Contoso Ltd")
    card = turn.cards[1]
    while "decide" in {b["verb"] for b in buttons(card).values()}:
        decision = "skip" if "Azure subscriptions, then suspend" in card_text(card) else "approve"
        card = (await chat.click("decide", {**button_data(card, "decide", decision="approve"), "decision": decision}, user=BOB)).invoke_card
    await chat.settle()
    case = await chat.store.current_for("Convo1")
    assert case is not None and case.state is CaseState.WAITING and not case.failed
    assert _cancels(await sandbox_requests(http, sandbox)) == []
    [azure] = [item for item in case.items if item.kind.value == "azure_plan"]
    assert azure.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN
    # The customer transfers both Azure subscriptions away; the re-check sees them gone and asks
    # about suspending the now empty plan (the skip was about cancelling them, not about this).
    for entitlement_id in azure.azure_subscription_ids:
        sandbox.world.transfer_azure_entitlement(case.customer.id, azure.item_id, entitlement_id)
    case = await chat.workflow.recheck(case.id)
    azure = case.item(azure.key)
    assert azure is not None and azure.action is Action.SUSPEND and not azure.azure_subscription_ids
    assert case.state is CaseState.AWAITING_APPROVAL and azure.since_plan == "changed"
    assert _cancels(await sandbox_requests(http, sandbox)) == []
