"""A click on a card drawn before a re-check changed what it asks about approves nothing.

The decide buttons carry the fingerprint of the proposal they show (action and targets), and
"approve all" the fingerprint of the pending items; a card older than the case decides nothing
and is answered with the case as it is now (security review, finding 6: an approval is bound
to what was approved, on the card as in the store).
"""

from __future__ import annotations

from typing import Any

from bench.buttons import button_data
from partner_center import Action, PartnerCenterClient
from removal import Decision, RemovalCase
from tests.dialogs.harness import BOB, Conversation, card_text


def _azure_plan_now_cancels_a_new_subscription(case: RemovalCase) -> None:
    """What a re-check does when the customer created an Azure subscription since the card."""
    [plan] = [item for item in case.items if item.kind.value == "azure_plan"]
    plan.action = Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN
    plan.azure_subscription_ids = ("azsub-created-since",)


async def test_a_decide_button_drawn_before_the_item_changed_approves_nothing(client: PartnerCenterClient, sandbox: Any) -> None:
    chat = Conversation(client, clock=sandbox.clock.now)
    turn = await chat.say("remove Wingtip Toys")
    old = button_data(turn.cards[1], "decide", decision="approve")
    assert old["itemKey"].startswith("azure_plan:") and old["proposal"]
    await chat.store.update(old["caseId"], _azure_plan_now_cancels_a_new_subscription)

    answer = await chat.click("decide", old, user=BOB)
    case = await chat.store.get(old["caseId"])
    assert case.item(old["itemKey"]).decision is Decision.PENDING
    # The answer is the card as it is now: it asks about the cancellation, with a fresh button.
    fresh = button_data(answer.invoke_card, "decide", decision="approve", itemKey=old["itemKey"])
    assert fresh["proposal"] != old["proposal"] and "Azure" in card_text(answer.invoke_card)
    await chat.click("decide", fresh, user=BOB)
    case = await chat.store.get(old["caseId"])
    approved = case.item(old["itemKey"])
    assert approved.decision is Decision.APPROVED and approved.decided_on.azure_subscription_ids == ("azsub-created-since",)


async def test_approve_all_drawn_before_the_pending_items_changed_approves_nothing(client: PartnerCenterClient, sandbox: Any) -> None:
    chat = Conversation(client, clock=sandbox.clock.now)
    turn = await chat.say("remove Wingtip Toys")
    old = button_data(turn.cards[1], "approve_all")
    await chat.store.update(old["caseId"], _azure_plan_now_cancels_a_new_subscription)
    await chat.click("approve_all", old, user=BOB)
    case = await chat.store.get(old["caseId"])
    assert all(item.decision is Decision.PENDING for item in case.to_decide)
    assert "items.approved_all" not in [event["action"] for event in await chat.audit.history(case.customer.id)]
