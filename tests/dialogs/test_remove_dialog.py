"""The removal conversation, branch by branch, through TestAdapter and the real sandbox."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bench.buttons import button_data, buttons
from partner_center import PartnerCenterClient, Relationship
from removal import CaseState, Decision, Outcome
from tests._helpers import operator, sandbox_customer_id, sandbox_requests
from tests.dialogs.harness import BOB, Conversation, card_text


@pytest.fixture
def chat(client: PartnerCenterClient, sandbox: Any) -> Conversation:
    return Conversation(client, clock=sandbox.clock.now)


def _verbs(card: dict[str, Any]) -> set[str]:
    return {b["verb"] for b in buttons(card).values()}


async def _decide_all(
    chat: Conversation, first: dict[str, Any], decision: str = "approve", *, skip: set[str] = frozenset()
) -> dict[str, Any]:
    """Answer every confirmation card; returns the card that answered the last click."""
    card = first
    while "decide" in _verbs(card):
        data = button_data(card, "decide", decision="approve")
        wanted = "skip" if any(name in card_text(card) for name in skip) else decision
        turn = await chat.click("decide", {**data, "decision": wanted})
        card = turn.invoke_card
    return card


async def test_happy_path_removes_the_relationship_and_shows_the_link(chat: Conversation, client: PartnerCenterClient) -> None:
    turn = await chat.say("<at>Offboard</at> remove Wingtip Toys")
    plan, confirmation = turn.cards
    assert "Wingtip Toys" in card_text(plan)
    assert _verbs(confirmation) >= {"decide", "cancel_case"}
    status = await _decide_all(chat, confirmation)
    assert "Wingtip Toys" in card_text(status)
    posted = await chat.settle()
    final = posted[-1].attachments[0].content
    assert "confirm_removal" in _verbs(final)
    case = await chat.store.current_for("Convo1")
    assert case is not None and case.state is CaseState.READY
    assert all(item.outcome is Outcome.DONE for item in case.approved)

    removing = await chat.click("confirm_removal", button_data(final, "confirm_removal"), user=BOB)
    assert removing.invoke_card
    await chat.settle()
    result = chat.updates[-1]
    # The customer's invitation link to re-establish the relationship: shown, and behind the one button.
    link = await client.get_relationship_request_url()
    assert link.startswith("https://admin.microsoft.com/") and link in card_text(result)
    assert [a["url"] for a in result.get("actions", []) if a.get("type") == "Action.OpenUrl"] == [link]
    case = await chat.store.get(case.id)
    assert case.state is CaseState.REMOVED and case.approved_by.name == "Bob Approver"
    assert await client.read_relationship(case.customer.id) is Relationship.NONE
    # Removed customers leave the customer list.
    assert "Wingtip Toys" not in [c.name for c in await client.find_customers("CompanyName", "Wingtip")]


async def test_several_matches_offer_a_choice_and_the_choice_continues(chat: Conversation) -> None:
    turn = await chat.say("remove Contoso")
    [choice] = turn.cards
    choices = [b for b in buttons(choice).values() if b["verb"] == "choose_customer"]
    assert len(choices) >= 3
    pharma = next(b for title, b in buttons(choice).items() if "Pharma" in title)
    picked = await chat.click("choose_customer", pharma["data"])
    assert "Contoso Pharma" in card_text(picked.invoke_card)


async def test_an_unknown_customer_gets_a_clear_message_and_nothing_starts(chat: Conversation) -> None:
    turn = await chat.say("remove Nobody Like This Ltd")
    assert "Nobody Like This Ltd" in card_text(turn.cards[0])
    assert await chat.store.current_for("Convo1") is None


async def test_an_already_removed_customer_says_so(chat: Conversation, sandbox: Any, http: aiohttp.ClientSession) -> None:
    northwind = await sandbox_customer_id(http, sandbox, "Northwind Traders")
    turn = await chat.say(f"remove {northwind}")
    assert "Northwind Traders" in card_text(turn.cards[0])
    assert await chat.store.current_for("Convo1") is None


async def test_nothing_blocks_goes_straight_to_the_final_confirmation(chat: Conversation, client: PartnerCenterClient) -> None:
    turn = await chat.say("remove Fabrikam Inc")
    final = turn.cards[-1]
    assert "confirm_removal" in _verbs(final) and "decide" not in _verbs(final)
    await chat.click("confirm_removal", button_data(final, "confirm_removal"))
    await chat.settle()
    case = next(iter([await chat.store.get(button_data(final, "confirm_removal")["caseId"])]))
    assert case.state is CaseState.REMOVED
    assert await client.read_relationship(case.customer.id) is Relationship.NONE


async def test_a_skipped_item_means_removal_is_refused_with_the_reason(chat: Conversation, client: PartnerCenterClient) -> None:
    turn = await chat.say("remove Wingtip Toys")
    confirmation = turn.cards[1]
    first = button_data(confirmation, "decide", decision="approve")
    await chat.click("decide", {**first, "decision": "skip"})
    # second item approved
    case = await chat.store.current_for("Convo1")
    pending = case.next_pending
    await chat.click("decide", {"caseId": case.id, "itemKey": pending.key, "decision": "approve"})
    posted = await chat.settle()
    blocked = posted[-1].attachments[0].content
    assert "confirm_removal" not in _verbs(blocked)
    case = await chat.store.get(case.id)
    skipped = case.skipped[0]
    assert skipped.name in card_text(blocked) and "Ann Admin" in card_text(blocked)
    assert case.state is CaseState.WAITING
    assert await client.read_relationship(case.customer.id) is Relationship.RESELLER


async def test_cancel_mid_way_ends_cleanly_and_says_what_was_done(chat: Conversation, sandbox: Any, http: aiohttp.ClientSession) -> None:
    turn = await chat.say("remove Contoso Ltd")
    confirmation = turn.cards[1]
    await chat.click("decide", button_data(confirmation, "decide", decision="approve"))
    cancelled = await chat.say("cancel")
    case = await chat.store.get(button_data(confirmation, "decide")["caseId"])
    assert case.state is CaseState.CANCELLED
    assert "Contoso Ltd" in card_text(
        cancelled.cards[0] if cancelled.cards else {"body": [{"type": "TextBlock", "text": " ".join(cancelled.texts)}]}
    )
    # Nothing was written to Partner Center, and the next command starts afresh.
    assert not [r for r in await sandbox_requests(http, sandbox) if r["method"] in ("PATCH", "POST")]
    again = await chat.say("help")
    assert again.cards and "remove" in card_text(again.cards[0]).lower()


async def test_cancel_after_execution_lists_what_partner_center_already_did(chat: Conversation) -> None:
    turn = await chat.say("remove Wingtip Toys")
    await _decide_all(chat, turn.cards[1])
    await chat.settle()
    cancelled = await chat.say("cancel")
    case = await chat.store.get((await _last_case(chat)).id)
    assert case.state is CaseState.CANCELLED and len(case.done) == 2
    text = card_text(cancelled.cards[0])
    assert all(item.name in text for item in case.done)


async def _last_case(chat: Conversation) -> Any:
    keys = await chat.documents.list_keys("cases/")
    cases = [await chat.store.get(key.removeprefix("cases/")) for key in keys]
    return max(cases, key=lambda case: case.requested_at)


async def test_a_partner_center_error_mid_way_shows_code_and_correlation_id(
    chat: Conversation, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    # Partner Center fails one item's write on every try: each run ends after the retries, the
    # case pauses (Partner Center "not answering") and resumes; the third run fails the item.
    turn = await chat.say("remove Wingtip Toys")
    case = await chat.store.current_for("Convo1")
    order = next(i for i in case.items if i.action.value == "cancel_order")
    await operator(
        http, sandbox, "faults", {"count": 30, "status": 503, "pathContains": order.item_id, "method": "PATCH", "when": "before"}
    )
    await _decide_all(chat, turn.cards[1])
    posted = await chat.settle()
    case = await chat.store.get(case.id)
    assert case.state is CaseState.PAUSED and not case.failed
    assert case.item(order.key).outcome is Outcome.NOT_STARTED
    assert "not answering" in card_text(posted[-1].attachments[0].content)
    for _ in range(2):
        assert await chat.workflow.resume() == 1
        posted = await chat.settle()
    case = await chat.store.get(case.id)
    [failed] = case.failed
    assert failed.error.correlation_id and failed.error.status == 503
    assert failed.error.reason == "unavailable_repeatedly"
    status_text = card_text(chat.updates[-1])
    assert failed.error.correlation_id in status_text and "stopped retrying" in status_text
    blocked_text = card_text(posted[-1].attachments[0].content)
    assert failed.name in blocked_text and failed.error.correlation_id in blocked_text
    assert case.state is CaseState.WAITING


async def test_a_reservation_blocks_until_cancelled_in_the_azure_portal(
    chat: Conversation, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    turn = await chat.say("remove Adatum Corporation")
    plan, blocked = turn.cards
    assert "portal.azure.com" in str(plan) + str(blocked)
    assert "confirm_removal" not in _verbs(blocked) and "decide" not in _verbs(blocked)
    case = await chat.store.current_for("Convo1")
    assert case.state is CaseState.WAITING
    [reservation] = case.items
    await operator(http, sandbox, f"customers/{case.customer.id}/reservations/{reservation.item_id}/cancel")
    again = await chat.say("remove Adatum Corporation")
    assert "confirm_removal" in _verbs(again.cards[-1])


async def test_plan_is_a_dry_run_that_writes_nothing(chat: Conversation, sandbox: Any, http: aiohttp.ClientSession) -> None:
    turn = await chat.say("plan Contoso Ltd")
    [plan] = turn.cards
    assert "Contoso Ltd" in card_text(plan) and not _verbs(plan) - {"plan_page"}
    assert not [r for r in await sandbox_requests(http, sandbox) if r["method"] in ("PATCH", "POST")]
    assert await chat.store.current_for("Convo1") is None


async def test_another_member_can_continue_and_decisions_record_who(chat: Conversation) -> None:
    turn = await chat.say("remove Wingtip Toys")
    await chat.click("decide", button_data(turn.cards[1], "decide", decision="approve"), user=BOB)
    case = await chat.store.current_for("Convo1")
    decided = [i for i in case.items if i.decision is Decision.APPROVED]
    assert decided and decided[0].decided_by.name == "Bob Approver"


async def test_action_submit_fallback_advances_like_action_execute(chat: Conversation) -> None:
    turn = await chat.say("remove Wingtip Toys")
    data = button_data(turn.cards[1], "decide", decision="approve")
    submitted = await chat.submit("decide", data)
    assert submitted.invoke is None and submitted.cards  # the next question arrives as a message
    case = await chat.store.current_for("Convo1")
    assert case.items[0].decision is Decision.APPROVED or case.items[1].decision is Decision.APPROVED


async def test_status_and_help_during_a_removal_do_not_lose_it(chat: Conversation) -> None:
    turn = await chat.say("remove Wingtip Toys")
    status = await chat.say("status")
    assert "Wingtip Toys" in card_text(status.cards[0])
    helped = await chat.say("what is this")
    assert "remove" in card_text(helped.cards[0]).lower()
    await chat.click("decide", button_data(turn.cards[1], "decide", decision="approve"))
    case = await chat.store.current_for("Convo1")
    assert len(case.approved) == 1


async def test_a_second_remove_while_one_is_in_progress_points_to_it(chat: Conversation) -> None:
    await chat.say("remove Wingtip Toys")
    turn = await chat.say("remove Contoso Ltd")
    assert any("Wingtip Toys" in text for text in turn.texts)


async def test_a_malformed_or_forged_click_is_refused_and_changes_nothing(chat: Conversation) -> None:
    turn = await chat.say("remove Wingtip Toys")
    forged = await chat.click("decide", {"caseId": "not-a-case", "itemKey": "x", "decision": "approve"})
    assert forged.invoke["type"] == "application/vnd.microsoft.card.adaptive"
    broken = await chat.click("launch_missiles", {"caseId": "x"})
    assert broken.invoke["type"] == "application/vnd.microsoft.error" and broken.invoke["statusCode"] == 400
    case = await chat.store.current_for("Convo1")
    assert all(i.decision is Decision.PENDING for i in case.to_decide)
    assert turn.cards


async def test_unknown_command_gets_help(chat: Conversation) -> None:
    turn = await chat.say("please do something")
    assert "plan" in card_text(turn.cards[0]).lower()


async def test_a_remove_for_a_customer_with_an_open_case_elsewhere_points_to_it(chat: Conversation) -> None:
    from botbuilder.schema import ConversationAccount

    await chat.say("remove Wingtip Toys")
    case = await chat.store.current_for("Convo1")
    # Someone else, in another channel thread, asks for the same customer.
    chat.adapter.template.conversation = ConversationAccount(id="19:other-thread", conversation_type="channel")
    turn = await chat.say("remove Wingtip Toys", user=BOB)
    assert any("already has an open removal" in text and "Ann Admin" in text for text in turn.texts)
    assert case.next_pending.name in card_text(turn.cards[-1])  # the open case's current question
    keys = await chat.documents.list_keys("cases/")
    assert keys == [f"cases/{case.id}"], "no second case was opened"
    # A click there acts on the one case.
    await chat.click("decide", button_data(turn.cards[-1], "decide", decision="approve"), user=BOB)
    assert len((await chat.store.get(case.id)).approved) == 1


async def test_cancel_is_refused_once_the_removal_is_under_way(chat: Conversation) -> None:
    turn = await chat.say("remove Fabrikam Inc")
    final = turn.cards[-1]
    case_id = button_data(final, "confirm_removal")["caseId"]
    await chat.store.update(case_id, lambda case: case.move_to(CaseState.REMOVING))  # as if the click just landed
    refused = await chat.click("cancel_case", {"caseId": case_id})
    assert "can no longer be cancelled" in " ".join(refused.texts)
    assert (await chat.store.get(case_id)).state is CaseState.REMOVING
