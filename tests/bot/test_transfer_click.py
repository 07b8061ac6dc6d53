"""A transfer request accepted from Teams (issue 21): over real HTTP, the app on the embedded
sandbox and the recording connector as Teams. Litware (the sandbox's demo customer) has Microsoft
365 E3 past its cancellation window and an Azure savings plan (never cancellable), and Northwind
Partners asked for both: accepting the request clears them, the case goes on to the final
confirmation and removes the relationship, and the audit trail says which transfer moved what.
Also: the clicks' payloads read strictly, who may accept, and stale or forged clicks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from botbuilder.schema import Activity, ActivityTypes

from app import CLIENT, SANDBOX, STORE, create_app
from bench.buttons import button_data, buttons
from bench.connector import RecordingConnector
from bot.card_actions import AcceptTransfer, InvalidCardAction, RejectTransfer, ShowTransfer, card_action_of
from bot.settings import Settings
from cards import Verb, t
from removal import CaseState, RemovalCase, TransferDecision, TransferOutcome
from removal.audit import AuditTrail
from tests.bot.teams import Teams, card_with, eventually
from tests.cards.schema import assert_valid_card
from tests.dialogs.harness import card_text

LITWARE = "9d0e1f2a-3b4c-4d5e-8f7a-8b9c0d1e2f12"
TRANSFER = "7e2f4a10-5b6c-4d7e-8f90-a1b2c3d4e512"
E3 = "c7a1e2d3-4b5c-4d6e-9f70-81a2b3c4d512"
SAVINGS_PLAN = "5a1e7c0de912"
ANN = "00000000-0000-0000-0000-0000000000a1"  # the requester (Teams' default sender here)
BOB = "00000000-0000-0000-0000-0000000000b2"
AS_BOB = {"id": "29:bob", "name": "Bob Approver", "aadObjectId": BOB}
AS_EVE = {"id": "29:eve", "name": "Eve Elsewhere", "aadObjectId": "00000000-0000-0000-0000-0000000000e5"}


def _invoke(verb: str, data: Any) -> Activity:
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}}
    return Activity(type=ActivityTypes.invoke, name="adaptiveCard/action", value=value)


def test_the_transfer_clicks_are_read() -> None:
    shown = card_action_of(_invoke("show_transfer", {"caseId": "c1", "transferId": TRANSFER}))
    assert isinstance(shown, ShowTransfer) and shown.transfer_id == TRANSFER
    everything = card_action_of(_invoke("accept_transfer", {"caseId": "c1", "transferId": TRANSFER}))
    assert isinstance(everything, AcceptTransfer) and everything.line_items is None
    some = card_action_of(_invoke("accept_transfer", {"caseId": "c1", "transferId": TRANSFER, "lineItems": ["0"]}))
    assert isinstance(some, AcceptTransfer) and some.line_items == ["0"]
    rejected = card_action_of(
        Activity(type=ActivityTypes.message, value={"verb": "reject_transfer", "caseId": "c1", "transferId": TRANSFER})
    )
    assert isinstance(rejected, RejectTransfer) and rejected.verb is Verb.REJECT_TRANSFER


@pytest.mark.parametrize(
    ("verb", "data"),
    [
        ("accept_transfer", {"caseId": "c1"}),  # which transfer?
        ("accept_transfer", {"caseId": "c1", "transferId": ""}),
        ("accept_transfer", {"caseId": "c1", "transferId": "../customers"}),
        ("accept_transfer", {"caseId": "c1", "transferId": TRANSFER, "lineItems": []}),  # none: not "all"
        ("accept_transfer", {"caseId": "c1", "transferId": TRANSFER, "lineItems": "0"}),
        ("accept_transfer", {"caseId": "c1", "transferId": TRANSFER, "lineItems": ["0/../1"]}),
        # (the 25-line figure is a vendor's claim, not refused here: only a payload's sanity bound)
        ("accept_transfer", {"caseId": "c1", "transferId": TRANSFER, "lineItems": [str(i) for i in range(1001)]}),
        ("accept_transfer", {"caseId": "c1", "transferId": TRANSFER, "lines": "not-a-digest"}),
        ("reject_transfer", {"transferId": TRANSFER}),  # no case
        ("show_transfer", {"caseId": "c1", "transferId": "x" * 65}),
    ],
)
def test_anything_else_is_refused(verb: str, data: dict[str, Any]) -> None:
    with pytest.raises(InvalidCardAction):
        card_action_of(_invoke(verb, data))


# ---- Through the bot, over HTTP ----


@pytest.fixture
async def bot(aiohttp_server: Any) -> AsyncIterator[tuple[Teams, Any]]:
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    # Ann requests; Ann and Bob approve; four-eyes: accepting a transfer (it cannot be undone)
    # and the final removal need someone other than the requester.
    settings = Settings(_env_file=None, sandbox_port=0, approvers=[ANN, BOB], four_eyes=True, resume_interval_seconds=0.2)
    app = create_app(settings)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        yield Teams(http, str(server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector), app
    for call in connector.calls:
        if call.card:
            assert_valid_card(call.card)


async def _case(app: Any, case_id: str) -> RemovalCase:
    stored = await app[STORE].read(f"cases/{case_id}")
    return RemovalCase.model_validate(stored.document)


async def _open_litware(teams: Teams, app: Any) -> RemovalCase:
    assert await teams.say("remove Litware Inc") in (200, 201)
    await eventually(lambda: _sent_with(teams, "show_transfer"), timeout=10, what="the plan with its transfer")
    case_id = button_data(card_with(teams.connector, "show_transfer")[1], "show_transfer")["caseId"]
    return await _case(app, case_id)


async def _sent_with(teams: Teams, verb: str) -> bool:
    return any(call.card and any(b["verb"] == verb for b in buttons(call.card).values()) for call in teams.connector.calls)


async def _transfer_records(app: Any, teams: Teams) -> list[dict[str, Any]]:
    async with teams.http.get(f"{app[SANDBOX].base_url}/_sandbox/transfers") as response:
        assert response.status == 200
        return [item for item in (await response.json())["items"] if item["id"] == TRANSFER]


async def _audit(app: Any) -> list[dict[str, Any]]:
    """Litware's audit trail, as stored (the app keeps it in its one store here)."""
    return list(await AuditTrail(app[STORE]).history(LITWARE))


async def _click(teams: Teams, card_id: str, verb: str, data: dict[str, Any], by: dict[str, Any] | None = None) -> dict[str, Any]:
    status, body, _ = await teams.click(card_id, verb, data, by=by)
    assert status == 200, status
    return body["value"]


async def test_a_transfer_accepted_from_teams_clears_its_items_and_the_case_removes_the_relationship(bot: tuple[Teams, Any]) -> None:
    teams, app = bot
    case = await _open_litware(teams, app)
    [transfer] = case.transfers
    assert transfer.id == TRANSFER and transfer.target_partner == "Northwind Partners"
    cleared = {line.subscription_id: line.clears for line in transfer.line_items}
    assert set(cleared) == {E3, SAVINGS_PLAN} and all(cleared.values())  # each line clears one of the case's blockers

    # "Review" on the plan: the transfer's confirmation card, with its accept button.
    plan_id, plan = card_with(teams.connector, "show_transfer")
    review = await _click(teams, plan_id, "show_transfer", button_data(plan, "show_transfer"))
    assert "Northwind Partners" in card_text(review)
    accept = button_data(review, "accept_transfer")
    # All line items, and the fingerprint of those the card showed.
    assert accept == {"caseId": case.id, "transferId": TRANSFER, "lines": case.transfers[0].lines_fingerprint}

    # Four-eyes: Ann asked for the removal, so she cannot also accept the transfer.
    refused = await _click(teams, plan_id, "accept_transfer", accept)
    assert t("en-US", "access.not_approver.title") in card_text(refused)
    assert (await _case(app, case.id)).transfers[0].decision is TransferDecision.PENDING

    accepted = await _click(teams, plan_id, "accept_transfer", accept, by=AS_BOB)
    assert "Northwind Partners" in card_text(accepted)
    again = await _click(teams, plan_id, "accept_transfer", accept, by=AS_BOB)  # a double click: nothing more
    assert "Northwind Partners" in card_text(again)
    records = [r for r in await _audit(app) if r["action"] == "transfer.accepted"]
    assert len(records) == 1 and "Bob Approver" in records[0]["actor"]
    assert records[0]["extra"]["transfer_id"] == TRANSFER
    assert {line["subscription_id"] for line in records[0]["extra"]["line_items"]} == {E3, SAVINGS_PLAN}

    # Sent to Partner Center (the sandbox): submitted, completing a few minutes later on its clock.
    [sent] = await eventually(lambda: _submitted(app, teams), timeout=10, what="the accept sent to the sandbox")
    assert sent["status"] == "Active"
    async with teams.http.post(f"{app[SANDBOX].base_url}/_sandbox/clock", json={"advanceHours": 1}) as response:
        assert response.status == 200

    # The resume sweep follows it: completed, the blockers it moved away leave the plan, and the
    # final confirmation is offered (to someone other than the requester).
    async def ready() -> RemovalCase | None:
        current = await _case(app, case.id)
        return current if current.state is CaseState.READY else None

    ready_case = await eventually(ready, timeout=15, what="the case ready after the transfer")
    assert ready_case.transfers[0].outcome is TransferOutcome.COMPLETED
    assert all(item.cleared for item in ready_case.blocker_items if item.item_id in (E3, SAVINGS_PLAN))
    [done] = [r for r in await _audit(app) if r["action"] == "transfer.completed"]
    assert done["item"] == f"transfer {TRANSFER}" and done["extra"]["transfer_id"] == TRANSFER
    assert {line["subscription_id"] for line in done["extra"]["line_items"]} == {E3, SAVINGS_PLAN}

    final_id, final = card_with(teams.connector, "confirm_removal")
    await _click(teams, final_id, "confirm_removal", button_data(final, "confirm_removal"), by=AS_BOB)

    async def removed() -> bool:
        return (await _case(app, case.id)).state is CaseState.REMOVED

    await eventually(removed, timeout=15, what="the relationship removed")
    # Partner Center (the sandbox) read back over HTTP: no relationship any more.
    assert (await app[CLIENT].read_relationship(LITWARE)).value == "none"
    actions = [r["action"] for r in await _audit(app)]
    assert actions.index("transfer.accepted") < actions.index("transfer.completed") < actions.index("removal.done")


async def test_a_rejected_transfer_is_declined_once_and_leaves_the_blockers(bot: tuple[Teams, Any]) -> None:
    teams, app = bot
    case = await _open_litware(teams, app)
    # Reject is on the confirmation card (behind "Review"), not on the plan.
    plan_id, plan = card_with(teams.connector, "show_transfer")
    review = await _click(teams, plan_id, "show_transfer", button_data(plan, "show_transfer"))
    assert "not documented" not in card_text(review) and "Microsoft documents no decline" in card_text(review)
    data = button_data(review, "reject_transfer")
    await _click(teams, plan_id, "reject_transfer", data)  # rejecting is guarded as a skip: the requester may
    await _click(teams, plan_id, "reject_transfer", data)
    assert len([r for r in await _audit(app) if r["action"] == "transfer.rejected"]) == 1

    async def canceled() -> bool:
        return [r["status"] for r in await _transfer_records(app, teams)] == ["Canceled"]

    await eventually(canceled, timeout=10, what="the request declined in the sandbox")
    current = await _case(app, case.id)
    assert current.transfers[0].decision is TransferDecision.REJECTED
    assert not any(item.cleared for item in current.blocker_items if item.item_id in (E3, SAVINGS_PLAN))
    # Accepting it afterwards changes nothing: the request is no longer open.
    late = await _click(teams, plan_id, "accept_transfer", {"caseId": case.id, "transferId": TRANSFER}, by=AS_BOB)
    assert "Northwind Partners" in card_text(late)
    assert not [r for r in await _audit(app) if r["action"] == "transfer.accepted"]


async def test_forged_or_stale_transfer_clicks_change_nothing(bot: tuple[Teams, Any]) -> None:
    teams, app = bot
    case = await _open_litware(teams, app)
    plan_id, _ = card_with(teams.connector, "show_transfer")
    unknown = await _click(teams, plan_id, "accept_transfer", {"caseId": case.id, "transferId": "not-this-customers"}, by=AS_BOB)
    assert t("en-US", "action.stale.title") in card_text(unknown)
    no_case = await _click(teams, plan_id, "show_transfer", {"caseId": "no-such-case", "transferId": TRANSFER})
    assert t("en-US", "action.stale.title") in card_text(no_case)
    wrong_line = await _click(
        teams, plan_id, "accept_transfer", {"caseId": case.id, "transferId": TRANSFER, "lineItems": ["99"]}, by=AS_BOB
    )
    assert "Northwind Partners" in card_text(wrong_line)
    status, body, _ = await teams.click(plan_id, "accept_transfer", {"caseId": case.id, "transferId": "../x"}, by=AS_BOB)
    assert status == 400 and body["value"]["message"] == t("en-US", "action.invalid")
    outsider = await _click(teams, plan_id, "accept_transfer", {"caseId": case.id, "transferId": TRANSFER}, by=AS_EVE)
    assert t("en-US", "access.not_approver.title") in card_text(outsider)
    assert (await _case(app, case.id)).transfers[0].decision is TransferDecision.PENDING
    assert not [r for r in await _audit(app) if r["action"].startswith("transfer.")]
    assert [r["status"] for r in await _transfer_records(app, teams)] == ["Active"]


async def _submitted(app: Any, teams: Teams) -> list[dict[str, Any]]:
    records = await _transfer_records(app, teams)
    return [r for r in records if any(line.get("status") for line in r.get("lineItems", []))]
