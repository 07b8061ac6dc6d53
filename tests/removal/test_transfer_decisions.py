"""Transfer decisions against the case's item decisions, and decisions made again (issue 21
review), over real HTTP with the sandbox: a transfer whose sending Partner Center refused can be
tried again while Partner Center still lists it Active; a transfer is not accepted while the plan
is cancelling what it would move, and what an accepted transfer is moving is set aside from
"approve all"; a card drawn before the request's line items changed accepts nothing; a refused
resend of a submit in progress is taken as submitted; a partly failed transfer is audited line by
line."""

from __future__ import annotations

from typing import Any

import aiohttp

from bench.buttons import button_data, buttons
from cards import t, transfer_confirmation_card
from removal import CaseState, Decision, RemovalCase, TransferDecision, TransferOutcome
from tests.dialogs.harness import Conversation, card_text
from tests.removal.test_transfer_follow import E3, SAVINGS_PLAN, TRANSFER, _litware, _operator, _stored, chat  # noqa: F401

LITWARE = "9d0e1f2a-3b4c-4d5e-8f7a-8b9c0d1e2f12"
FAILURE = "The subscription has a pending order and cannot be transferred."


async def _actions(chat: Conversation, case: RemovalCase) -> list[str]:
    return [r["action"] for r in await chat.audit.history(case.customer.id)]


async def _sandbox_transfer(sandbox: Any, http: aiohttp.ClientSession) -> dict[str, Any]:
    async with http.get(f"{sandbox.base_url}/_sandbox/transfers") as response:
        assert response.status == 200
        return next(item for item in (await response.json())["items"] if item["id"] == TRANSFER)


async def test_a_transfer_partner_center_refused_can_be_accepted_again_while_it_is_active(
    chat: Conversation, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    case = await _litware(chat)
    # E3 cancelled meanwhile: Partner Center (the sandbox) refuses to transfer it.
    await _operator(sandbox, http, f"customers/{LITWARE}/subscriptions/{E3}/cancel", {})
    await chat.click("accept_transfer", {"caseId": case.id, "transferId": TRANSFER})
    await chat.settle()
    failed = (await _stored(chat, case.id)).transfers[0]
    assert failed.outcome is TransferOutcome.FAILED and failed.is_active
    assert (await _sandbox_transfer(sandbox, http))["status"] == "Active"
    # The confirmation card offers the choice again.
    card = transfer_confirmation_card(await _stored(chat, case.id), TRANSFER, now=sandbox.clock.now(), locale="en-US")
    assert {b["verb"] for b in buttons(card).values()} >= {"accept_transfer", "reject_transfer"}

    await _operator(sandbox, http, f"customers/{LITWARE}/subscriptions/{E3}/reactivate", {})
    await chat.click("accept_transfer", {"caseId": case.id, "transferId": TRANSFER}, card_id="card-2")
    await chat.settle()
    again = (await _stored(chat, case.id)).transfers[0]
    assert again.outcome is TransferOutcome.SUBMITTED and again.error is None
    assert (await _actions(chat, case)).count("transfer.accepted") == 2
    lines = (await _sandbox_transfer(sandbox, http))["lineItems"]
    assert {line["status"] for line in lines} == {"InProgress"}


async def test_a_refused_transfer_can_be_rejected_instead(chat: Conversation, sandbox: Any, http: aiohttp.ClientSession) -> None:
    case = await _litware(chat)
    await _operator(sandbox, http, f"customers/{LITWARE}/subscriptions/{E3}/cancel", {})
    await chat.click("accept_transfer", {"caseId": case.id, "transferId": TRANSFER})
    await chat.settle()
    assert (await _stored(chat, case.id)).transfers[0].outcome is TransferOutcome.FAILED
    await chat.click("reject_transfer", {"caseId": case.id, "transferId": TRANSFER}, card_id="card-2")
    await chat.settle()
    assert (await _sandbox_transfer(sandbox, http))["status"] == "Canceled"
    assert "transfer.rejected" in await _actions(chat, case)


async def test_a_transfer_is_not_accepted_while_the_plan_is_cancelling_what_it_moves(
    chat: Conversation, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    case = await _litware(chat)
    e3_key = next(item.key for item in case.items if item.item_id == E3)
    await chat.click("decide", {"caseId": case.id, "itemKey": e3_key, "decision": "approve"})
    await chat.settle()
    approved = await _stored(chat, case.id)
    assert approved.item(e3_key).decision is Decision.APPROVED  # type: ignore[union-attr]

    card = transfer_confirmation_card(approved, TRANSFER, now=sandbox.clock.now(), locale="en-US")
    assert t("en-US", "transfer.confirm.conflict", count=1) in card_text(card)
    assert not [b for b in buttons(card).values() if b["verb"] == "accept_transfer" and "lineItems" not in b["data"]]  # no "Accept all"

    await chat.click("accept_transfer", {"caseId": case.id, "transferId": TRANSFER}, card_id="card-2")
    await chat.settle()
    assert (await _stored(chat, case.id)).transfers[0].decision is TransferDecision.PENDING
    assert "transfer.accepted" not in await _actions(chat, case)
    assert (await _sandbox_transfer(sandbox, http))["status"] == "Active"
    assert not any(line.get("status") for line in (await _sandbox_transfer(sandbox, http))["lineItems"])


async def test_what_an_accepted_transfer_moves_is_set_aside_from_approve_all(
    chat: Conversation, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    case = await _litware(chat)
    e3_key = next(item.key for item in case.items if item.item_id == E3)
    await chat.click("accept_transfer", {"caseId": case.id, "transferId": TRANSFER})
    await chat.settle()
    assert (await _stored(chat, case.id)).transfers[0].outcome is TransferOutcome.SUBMITTED

    await chat.click("approve_all", {"caseId": case.id}, card_id="card-2")
    await chat.click("decide", {"caseId": case.id, "itemKey": e3_key, "decision": "approve"}, card_id="card-3")
    await chat.settle()
    current = await _stored(chat, case.id)
    assert current.item(e3_key).decision is Decision.PENDING  # type: ignore[union-attr]
    assert current.state is CaseState.AWAITING_APPROVAL
    actions = await _actions(chat, case)
    assert "items.approved_all" not in actions and "item.approved" not in actions
    # Partner Center (the sandbox) still has E3 with auto-renew as it was: nothing was carried out.
    assert not [a for a in actions if a.startswith("item.") and a.endswith(".started")]

    # Completed: the transfer moved E3 away, the plan's re-check clears it.
    await _operator(sandbox, http, "clock", {"advanceHours": 1})
    await chat.workflow.follow_transfers(case.id, why="test")
    await chat.settle()
    items = {item.item_id: item for item in (await _stored(chat, case.id)).blocker_items}
    assert items[E3].cleared and items[SAVINGS_PLAN].cleared


async def test_a_card_drawn_before_the_line_items_changed_accepts_nothing(
    chat: Conversation, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    case = await _litware(chat)
    card = transfer_confirmation_card(case, TRANSFER, now=sandbox.clock.now(), locale="en-US")
    accept = button_data(card, "accept_transfer")
    assert accept["lines"] == case.transfers[0].lines_fingerprint

    def fewer_seats(current: RemovalCase) -> None:
        # As if the re-read found the other partner's request changed (fewer E3 seats asked).
        current.transfers[0].line_items[0].quantity = 10

    await chat.store.update(case.id, fewer_seats)
    turn = await chat.click("accept_transfer", accept)
    await chat.settle()
    assert t("en-US", "action.stale.title") in card_text(turn.invoke_card)
    assert (await _stored(chat, case.id)).transfers[0].decision is TransferDecision.PENDING
    assert "transfer.accepted" not in await _actions(chat, case)

    fresh = transfer_confirmation_card(await _stored(chat, case.id), TRANSFER, now=sandbox.clock.now(), locale="en-US")
    await chat.click("accept_transfer", button_data(fresh, "accept_transfer"), card_id="card-2")
    await chat.settle()
    accepted = (await _stored(chat, case.id)).transfers[0]
    assert accepted.decision is TransferDecision.ACCEPTED
    assert accepted.accepted_lines == [line.id for line in accepted.line_items]  # exactly the lines shown


async def test_a_partly_failed_transfer_is_audited_line_by_line(chat: Conversation, sandbox: Any, http: aiohttp.ClientSession) -> None:
    case = await _litware(chat)
    e3_line = next(line for line in case.transfers[0].line_items if line.subscription_id == E3)
    await _operator(sandbox, http, f"transfers/{TRANSFER}/fail", {"lineItemIds": [e3_line.id], "transferError": FAILURE})
    await chat.click("accept_transfer", {"caseId": case.id, "transferId": TRANSFER})
    await chat.settle()
    await _operator(sandbox, http, "clock", {"advanceHours": 1})
    await chat.workflow.follow_transfers(case.id, why="test")
    await chat.settle()
    history = await chat.audit.history(case.customer.id)
    [completed] = [r for r in history if r["action"] == "transfer.completed"]
    assert completed["result"] == "partial"
    by_line = {line["subscription_id"]: line for line in completed["extra"]["line_items"]}
    assert by_line[E3]["status"] == "Failed" and FAILURE in by_line[E3]["error"]
    assert by_line[SAVINGS_PLAN]["status"] == "Completed" and by_line[SAVINGS_PLAN]["error"] == ""
    [line_failed] = [r for r in history if r["action"] == "transfer.line_failed"]
    assert line_failed["extra"]["line_items"][0]["subscription_id"] == E3 and FAILURE in line_failed["detail"]


async def test_a_transfer_failed_by_a_refused_resend_is_still_followed_and_completes(
    chat: Conversation, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    case = await _litware(chat)
    await chat.click("accept_transfer", {"caseId": case.id, "transferId": TRANSFER})
    await chat.settle()
    assert {line["status"] for line in (await _sandbox_transfer(sandbox, http))["lineItems"]} == {"InProgress"}

    def refused_resend(current: RemovalCase) -> None:
        # As if the first PATCH timed out and Partner Center refused its resend (in progress).
        current.transfers[0].outcome = TransferOutcome.FAILED

    await chat.store.update(case.id, refused_resend)
    await chat.workflow.resume()  # the resume sweep keeps following it: Partner Center lists it Active
    await chat.settle()
    assert (await _stored(chat, case.id)).transfers[0].outcome is TransferOutcome.SUBMITTED  # its lines read InProgress
    await _operator(sandbox, http, "clock", {"advanceHours": 1})
    await chat.workflow.resume()
    await chat.settle()
    done = await _stored(chat, case.id)
    assert done.transfers[0].outcome is TransferOutcome.COMPLETED
    assert "transfer.completed" in await _actions(chat, case)
    assert {item.item_id for item in done.blocker_items if item.cleared} >= {E3, SAVINGS_PLAN}


async def test_a_request_without_line_items_is_accepted_with_the_plans_transferable_items(
    chat: Conversation, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    bare = await _operator(sandbox, http, "transfers", {"customerId": LITWARE, "targetPartnerName": "Fourth Coffee", "lineItems": False})
    await chat.say("remove Litware Inc")
    case = await chat.store.current_for("Convo1")
    assert case is not None
    proposed = case.transfer(bare["id"])
    assert proposed is not None and proposed.proposed
    assert {line.subscription_id for line in proposed.line_items} == {E3, SAVINGS_PLAN} and all(line.clears for line in proposed.line_items)

    card = transfer_confirmation_card(case, bare["id"], now=sandbox.clock.now(), locale="en-US")
    shown = card_text(card)
    assert "Fourth Coffee asked without naming subscriptions" in shown and "Microsoft 365 E3" in shown
    await chat.click("accept_transfer", button_data(card, "accept_transfer"))
    await chat.settle()
    async with http.get(f"{sandbox.base_url}/_sandbox/transfers") as response:
        record = next(item for item in (await response.json())["items"] if item["id"] == bare["id"])
    assert {line["subscriptionId"] for line in record["lineItems"]} == {E3, SAVINGS_PLAN}
    assert {line["status"] for line in record["lineItems"]} == {"InProgress"}
    assert (await _stored(chat, case.id)).transfer(bare["id"]).outcome is TransferOutcome.SUBMITTED  # type: ignore[union-attr]

    await _operator(sandbox, http, "clock", {"advanceHours": 1})
    await chat.workflow.follow_transfers(case.id, why="test")
    await chat.settle()
    done = await _stored(chat, case.id)
    assert done.transfer(bare["id"]).outcome is TransferOutcome.COMPLETED  # type: ignore[union-attr]
    assert {item.item_id for item in done.blocker_items if item.cleared} >= {E3, SAVINGS_PLAN}
