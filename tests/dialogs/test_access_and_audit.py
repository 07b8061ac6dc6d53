"""Approvers, four-eyes, the partner's own tenant, and the audit trail of a full removal."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import aiohttp
import pytest
from botbuilder.schema import Activity, ActivityTypes, ConversationAccount

from bench.buttons import button_data, buttons
from bot.audit import write_events
from partner_center import PartnerCenterClient, Relationship
from removal import CaseState, Decision
from removal.access import AccessPolicy
from tests._helpers import operator
from tests.dialogs.harness import ANN, BOB, Conversation, card_text

APPROVERS = frozenset({BOB.aad_object_id})


async def test_a_non_approver_click_is_refused_changes_nothing_and_is_audited(client: PartnerCenterClient, sandbox: Any) -> None:
    chat = Conversation(client, clock=sandbox.clock.now, access=AccessPolicy(approvers=APPROVERS))
    turn = await chat.say("remove Wingtip Toys", user=ANN)  # anyone may request
    refused = await chat.click("decide", button_data(turn.cards[1], "decide", decision="approve"), user=ANN)
    assert "approver" in card_text(refused.invoke_card).lower()
    case = await chat.store.current_for("Convo1")
    assert all(item.decision is Decision.PENDING for item in case.to_decide)
    history = await chat.audit.history(case.customer.id)
    assert [e["action"] for e in history] == ["removal.requested", "refused.not_approver"]
    assert history[1]["result"] == "refused" and "Ann Admin" in history[1]["actor"]
    # The approver's click goes through.
    await chat.click("decide", button_data(turn.cards[1], "decide", decision="approve"), user=BOB)
    case = await chat.store.get(case.id)
    assert any(item.decision is Decision.APPROVED for item in case.items)


async def test_four_eyes_refuses_the_requesters_own_final_confirmation(client: PartnerCenterClient, sandbox: Any) -> None:
    chat = Conversation(
        client, clock=sandbox.clock.now, access=AccessPolicy(approvers=frozenset({ANN.aad_object_id, BOB.aad_object_id}), four_eyes=True)
    )
    turn = await chat.say("remove Fabrikam Inc", user=ANN)
    final = turn.cards[-1]
    refused = await chat.click("confirm_removal", button_data(final, "confirm_removal"), user=ANN)
    assert "second approver" in card_text(refused.invoke_card)
    case = await chat.store.get(button_data(final, "confirm_removal")["caseId"])
    assert case.state is CaseState.READY
    await chat.click("confirm_removal", button_data(final, "confirm_removal"), user=BOB)
    await chat.settle()
    assert (await chat.store.get(case.id)).state is CaseState.REMOVED


async def test_activities_from_another_tenant_are_refused_and_audited(client: PartnerCenterClient, sandbox: Any) -> None:
    chat = Conversation(client, clock=sandbox.clock.now, access=AccessPolicy(tenant_id="partner-tenant"))
    chat.adapter.template.conversation = ConversationAccount(id="Convo1", tenant_id="someone-else")
    turn = await chat.say("remove Wingtip Toys")
    assert any("another tenant" in text for text in turn.texts)
    assert await chat.store.current_for("Convo1") is None
    click = await chat._turn(  # noqa: SLF001 (an invoke from the foreign tenant)
        Activity(
            type=ActivityTypes.invoke,
            name="adaptiveCard/action",
            value={"action": {"type": "Action.Execute", "verb": "approve_all", "data": {"caseId": "x"}}},
        ),
        ANN,
    )
    assert click.invoke["statusCode"] == 403 and click.invoke["type"] == "application/vnd.microsoft.error"
    events = [record for _, record in await chat.audit.everything()]
    assert [e["action"] for e in events] == ["refused.tenant", "refused.tenant"]
    chat.adapter.template.conversation = ConversationAccount(id="Convo1", tenant_id="partner-tenant")
    assert len((await chat.say("remove Wingtip Toys")).cards) == 2


@pytest.mark.slow
async def test_the_audit_export_lists_every_action_of_a_full_removal(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    chat = Conversation(client, clock=sandbox.clock.now)
    turn = await chat.say("remove Contoso Ltd")
    card = turn.cards[1]
    while "decide" in {b["verb"] for b in buttons(card).values()}:
        card = (await chat.click("decide", button_data(card, "decide", decision="approve"), user=BOB)).invoke_card
    await chat.settle()
    # Was: READY at once. The Azure subscriptions' cancel takes ~10 minutes to show
    # (developer/cancel-an-azure-subscription): the case waits, then the soon re-check suspends the plan.
    await operator(http, sandbox, "clock", {"advanceHours": 10 / 60})
    chat.workflow._azure_recheck_seconds = 0  # due at once (else minutes of wall time)
    assert await chat.workflow.resume() == 1
    posted = await chat.settle()
    final = posted[-1].attachments[0].content
    await chat.click("confirm_removal", button_data(final, "confirm_removal"), user=BOB)
    await chat.settle()
    case = await chat.store.get(button_data(final, "confirm_removal")["caseId"])
    assert await client.read_relationship(case.customer.id) is Relationship.NONE

    events = await chat.audit.everything()
    actions = [record["action"] for _, record in events]
    assert actions[0] == "removal.requested"
    assert actions.count("item.approved") == 4 and actions.count("item.done") == 4
    # The intent, before each Partner Center write: the Azure plan's twice (the cancels, then the
    # suspension once Azure showed them), with its first run closed as not started, saying why.
    assert actions.count("item.started") == 5
    [waited] = [record for _, record in events if record["action"] == "item.not_started"]
    assert "Azure is applying the cancellation" in waited["detail"]
    assert actions[-3:] == ["removal.confirmed", "removal.started", "removal.done"]
    assert [n for n, _ in events] == list(range(1, len(events) + 1))
    done = next(record for _, record in events if record["action"] == "removal.done")
    assert done["correlation_id"] and "Bob Approver" in done["actor"]

    lines = io.StringIO()
    write_events(events, lines, format="jsonl")
    assert [json.loads(line)["action"] for line in lines.getvalue().splitlines()] == actions
    table = io.StringIO()
    write_events(events, table, format="csv")
    rows = list(csv.DictReader(io.StringIO(table.getvalue())))
    assert [row["action"] for row in rows] == actions and rows[-1]["customer_name"] == "Contoso Ltd"

    # `history` shows it in Teams, even though the removed customer left the customer list.
    history = await chat.say("history Contoso Ltd")
    text = card_text(history.cards[0])
    assert "removal.done" in text and done["correlation_id"] in text
