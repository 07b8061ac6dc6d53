"""Outgoing transfers followed by the workflow (issue 21), against the real sandbox: a line item
Partner Center fails is kept with its error and shown; what it does not move stays on the plan;
a decision not sent (Partner Center silent) is sent by the resume sweep; older stored cases,
without money or transfers, still load."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bench.buttons import button_data
from cards import transfer_confirmation_card
from partner_center import PartnerCenterConfig, PartnerLimits, RateSettings, connect, connect_graph, token_provider
from removal import CaseState, RemovalCase, TransferDecision, TransferOutcome
from removal.access import AccessPolicy
from tests._helpers import FAST_RETRY
from tests.dialogs.harness import Conversation, card_text

TRANSFER = "7e2f4a10-5b6c-4d7e-8f90-a1b2c3d4e512"
E3 = "c7a1e2d3-4b5c-4d6e-9f70-81a2b3c4d512"
SAVINGS_PLAN = "5a1e7c0de912"
FAILURE = "The subscription has a pending order and cannot be transferred."


def _conversation(sandbox: Any, http: aiohttp.ClientSession) -> Conversation:
    config = PartnerCenterConfig.sandbox(sandbox.base_url)
    tokens = token_provider(config)
    limits = PartnerLimits(RateSettings(requests_per_period=100_000, period_seconds=60, max_concurrency=32))
    client = connect(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens)
    graph = connect_graph(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens)
    return Conversation(client, clock=sandbox.clock.now, graph=graph, access=AccessPolicy())


@pytest.fixture
def chat(sandbox: Any, http: aiohttp.ClientSession) -> Conversation:
    return _conversation(sandbox, http)


async def _litware(chat: Conversation) -> RemovalCase:
    plan, _ = (await chat.say("remove Litware Inc")).cards
    case = await chat.store.current_for("Convo1")
    assert case is not None and case.transfers
    assert button_data(plan, "show_transfer") == {"caseId": case.id, "transferId": TRANSFER}
    return case


async def _stored(chat: Conversation, case_id: str) -> RemovalCase:
    case = await chat.store.get(case_id)
    assert case is not None
    return case


async def _operator(sandbox: Any, http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> Any:
    async with http.post(f"{sandbox.base_url}/_sandbox/{path}", json=body) as response:
        assert response.status in (200, 201), await response.text()
        return await response.json()


async def test_a_failed_line_item_keeps_partner_centers_error_and_its_blocker_stays(
    chat: Conversation, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    case = await _litware(chat)
    e3_line = next(line for line in case.transfers[0].line_items if line.subscription_id == E3)
    await _operator(sandbox, http, f"transfers/{TRANSFER}/fail", {"lineItemIds": [e3_line.id], "transferError": FAILURE})

    await chat.click("accept_transfer", {"caseId": case.id, "transferId": TRANSFER})
    await chat.settle()
    assert (await _stored(chat, case.id)).transfers[0].outcome is TransferOutcome.SUBMITTED
    await _operator(sandbox, http, "clock", {"advanceHours": 1})
    await chat.workflow.follow_transfers(case.id, why="test")
    await chat.settle()

    case = await _stored(chat, case.id)
    [transfer] = case.transfers
    assert transfer.outcome is TransferOutcome.COMPLETED  # the savings plan moved
    [failed] = transfer.failed_lines
    assert failed.subscription_id == E3 and failed.error is not None and FAILURE in failed.error.description
    items = {item.item_id: item for item in case.blocker_items}
    assert items[SAVINGS_PLAN].cleared and not items[E3].cleared  # what did not move still blocks
    assert case.state is not CaseState.READY
    shown = card_text(transfer_confirmation_card(case, TRANSFER, now=sandbox.clock.now(), locale="en-US"))
    assert FAILURE in shown
    [completed] = [r for r in await chat.audit.history(case.customer.id) if r["action"] == "transfer.completed"]
    assert FAILURE in completed["detail"] and completed["extra"]["transfer_id"] == TRANSFER


async def test_partial_acceptance_moves_only_the_chosen_line_item(chat: Conversation, sandbox: Any, http: aiohttp.ClientSession) -> None:
    case = await _litware(chat)
    plan_line = next(line for line in case.transfers[0].line_items if line.subscription_id == SAVINGS_PLAN)
    await chat.click("accept_transfer", {"caseId": case.id, "transferId": TRANSFER, "lineItems": [plan_line.id]})
    await chat.settle()
    [accepted] = [r for r in await chat.audit.history(case.customer.id) if r["action"] == "transfer.accepted"]
    assert [line["subscription_id"] for line in accepted["extra"]["line_items"]] == [SAVINGS_PLAN]
    await _operator(sandbox, http, "clock", {"advanceHours": 1})
    await chat.workflow.follow_transfers(case.id)
    await chat.settle()
    # (cleared: the re-check's fresh read of Partner Center no longer finds the savings plan)
    items = {item.item_id: item for item in (await _stored(chat, case.id)).blocker_items}
    assert items[SAVINGS_PLAN].cleared and not items[E3].cleared


async def test_a_decision_not_sent_while_partner_center_is_silent_is_sent_by_the_resume_sweep(
    chat: Conversation, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    case = await _litware(chat)

    def decided(current: RemovalCase) -> None:
        # As if the instance that wrote the decision died before sending it.
        current.transfers[0].decision = TransferDecision.ACCEPTED
        current.transfers[0].decided_by = case.requested_by

    await chat.store.update(case.id, decided)
    await chat.workflow.resume()
    await chat.settle()
    assert (await _stored(chat, case.id)).transfers[0].outcome is TransferOutcome.SUBMITTED
    actions = [r["action"] for r in await chat.audit.history(case.customer.id)]
    assert "transfer.accept.started" in actions and "transfer.accept.sent" in actions
    await chat.workflow.resume()  # sent already: not sent again
    await chat.settle()
    assert [r["action"] for r in await chat.audit.history(case.customer.id)].count("transfer.accept.sent") == 1


def test_a_case_stored_before_money_and_transfers_loads() -> None:
    stored = {
        "id": "old1",
        "customer": {"id": "c", "name": "Contoso"},
        "requested_by": {"id": "29:ann", "name": "Ann"},
        "requested_at": "2026-01-01T00:00:00+00:00",
        "state": "awaiting_approval",
        "items": [
            {"key": "nce_inside_window:s1", "kind": "nce_inside_window", "action": "cancel_subscription", "item_id": "s1", "name": "E3"}
        ],
    }
    case = RemovalCase.model_validate(stored)
    assert case.transfers == [] and case.windows_announced == [] and case.items[0].money is None
    assert RemovalCase.model_validate_json(case.model_dump_json()) == case
