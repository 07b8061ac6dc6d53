"""The customer with 1,000 active subscriptions: paged cards under Teams' size limit, and
"approve all remaining" carrying every item out."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bench.buttons import buttons
from cards import card_size_bytes
from partner_center import PartnerCenterClient
from pc_sandbox import SandboxOptions
from removal import CaseState, Outcome
from tests.dialogs.harness import Conversation

_TEAMS_LIMIT = 80_000


@pytest.mark.slow
async def test_a_thousand_subscriptions_fit_in_paged_cards_and_are_all_carried_out(client: PartnerCenterClient, sandbox: Any) -> None:
    chat = Conversation(client, clock=sandbox.clock.now, progress_interval=0.5)
    turn = await chat.say("remove Tailspin Toys")
    _plan, confirmation = turn.cards
    assert max(card_size_bytes(card) for card in turn.cards) < _TEAMS_LIMIT
    case = await chat.store.current_for("Convo1")
    assert len(case.items) == 1000

    # Page through the whole plan: every page fits, the last has no "next".
    page_turn = await chat.click("plan_page", {"caseId": case.id, "page": 49})
    last_page = page_turn.invoke_card
    assert card_size_bytes(last_page) < _TEAMS_LIMIT
    assert all(b["data"].get("page", 0) < 49 for b in buttons(last_page).values() if b["verb"] == "plan_page")

    approve_all = next(b for b in buttons(confirmation).values() if b["verb"] == "approve_all")
    started = time.perf_counter()
    status = await chat.click("approve_all", approve_all["data"])
    assert card_size_bytes(status.invoke_card) < _TEAMS_LIMIT
    await chat.settle()
    elapsed = time.perf_counter() - started
    case = await chat.store.get(case.id)
    assert case.state is CaseState.READY
    assert sum(item.outcome is Outcome.DONE for item in case.items) == 1000
    assert max(card_size_bytes(card) for card in chat.updates) < _TEAMS_LIMIT
    print(f"\n1,000 subscriptions: suspended/cancelled in {elapsed:.1f} s; {len(chat.updates)} in-place status updates")


@pytest.mark.slow
@pytest.mark.parametrize("sandbox_options", [SandboxOptions(latency_ms=20)])
async def test_cancel_during_execution_stops_the_remaining_items(client: PartnerCenterClient, sandbox: Any) -> None:
    chat = Conversation(client, clock=sandbox.clock.now)
    turn = await chat.say("remove Tailspin Toys")
    approve_all = next(b for b in buttons(turn.cards[1]).values() if b["verb"] == "approve_all")
    await chat.click("approve_all", approve_all["data"])
    cancelled = await chat.say("cancel")
    assert cancelled.cards
    posted = await chat.settle()
    case = await chat.store.get(approve_all["data"]["caseId"])
    assert case.state is CaseState.CANCELLED
    done = sum(item.outcome is Outcome.DONE for item in case.items)
    assert done < 1000, "cancel must stop the items not yet started"
    assert not any("confirm_removal" in str(a.attachments[0].content) for a in posted if a.attachments)
