"""Transfers: the TransferEntity as documented, what its lines clear, and the client over real
HTTP against the sandbox (list, accept some lines, follow to Completed, reject, repeats)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from partner_center import PartnerCenterClient, plan_removal
from partner_center.blockers import BlockerKind
from partner_center.errors import ConflictError
from partner_center.transfers import Transfer, TransferStatus, clears, outside_limits
from tests._helpers import customer_named, operator, sandbox_requests

# The shape of update-a-transfer's example (learn.microsoft.com/partner-center/developer/update-a-transfer).
DOCUMENTED = {
    "id": "43fb1d3a-79fe-45a9-863e-9a4acf17b630",
    "status": "Active",
    "targetPartnerTenantId": "aaaabbbb-0000-cccc-1111-dddd2222eeee",
    "sourcePartnerTenantId": "bbbbcccc-1111-dddd-2222-eeee3333ffff",
    "customerName": "Contoso",
    "customerTenantId": "a624f7f8-408b-49b0-9320-df79e56bed55",
    "createdTime": "2022-01-31T21:43:32.0000000Z",
    "lastModifiedTime": "2022-01-31T21:43:32.0000000Z",
    "expirationTime": "2022-03-02T21:43:32.0000000Z",
    "transferType": "5",
    "targetPartnerName": "Fabrikam",
    "lineItems": [
        {
            "id": 0,
            "subscriptionId": "sub-a",
            "quantity": 5,
            "billingCycle": "Monthly",
            "friendlyName": "Microsoft 365 E3",
            "termDuration": "P1Y",
        },
        {"id": 1, "subscriptionId": "sub-b", "quantity": 1, "transferError": {"code": "1", "description": "could not transfer"}},
    ],
    "attributes": {"objectType": "TransferEntity"},
}


def test_the_documented_entity_reads_with_its_lines_and_keeps_the_wire() -> None:
    transfer = Transfer.from_wire(DOCUMENTED)
    assert transfer.status is TransferStatus.ACTIVE and transfer.is_pending
    assert transfer.target_partner == "Fabrikam" and transfer.transfer_type == "5"
    assert [(line.id, line.subscription_id, line.quantity) for line in transfer.line_items] == [("0", "sub-a", 5), ("1", "sub-b", 1)]
    assert transfer.failed_lines[0].error_text == "could not transfer"
    assert transfer.expiration_time is not None and transfer.expiration_time.year == 2022
    assert transfer.wire["lineItems"][0]["id"] == 0
    assert Transfer.from_wire({**DOCUMENTED, "status": "Complete"}).status is TransferStatus.COMPLETED
    assert Transfer.from_wire({**DOCUMENTED, "status": "Something new"}).raw_status == "Something new"


def test_limits_only_an_active_transfer_and_its_own_lines() -> None:
    transfer = Transfer.from_wire(DOCUMENTED)
    assert outside_limits(transfer, None) == "" and outside_limits(transfer, ["1"]) == ""
    assert outside_limits(transfer, ["9"]) == "unknown_line"
    assert outside_limits(transfer, []) == "no_lines"
    assert outside_limits(Transfer.from_wire({**DOCUMENTED, "status": "Completed"}), None) == "not_active"
    many = Transfer.from_wire({**DOCUMENTED, "lineItems": [{"id": i, "subscriptionId": f"s{i}"} for i in range(26)]})
    # The 25-line figure is a vendor's claim (assumption): not refused here, Partner Center answers.
    assert outside_limits(many, None) == ""


@pytest.fixture
async def litware(client: PartnerCenterClient) -> Any:
    return await customer_named(client, "Litware Inc")


async def test_the_plan_carries_the_transfer_and_which_blockers_it_clears(client: PartnerCenterClient, litware: Any) -> None:
    from datetime import UTC, datetime

    plan = await plan_removal(client, litware, now=datetime.now(UTC))
    [transfer] = plan.transfers
    assert transfer.target_partner == "Northwind Partners" and transfer.status is TransferStatus.ACTIVE
    cleared = clears(transfer, plan.blockers)
    kinds = {plan_blocker.kind for plan_blocker in plan.blockers if plan_blocker.key in cleared.values()}
    assert kinds == {BlockerKind.NCE_PAST_WINDOW, BlockerKind.SAVINGS_PLAN}


async def test_accepting_some_lines_submits_them_and_completion_moves_them_away(
    client: PartnerCenterClient, litware: Any, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    [transfer] = await client.list_transfers(litware.id)
    nce = next(line for line in transfer.line_items if line.subscription_id.startswith("c7a1"))
    submitted = await client.accept_transfer(litware.id, transfer, [nce.id])
    assert [line.id for line in submitted.line_items] == [nce.id]
    [patch] = [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    assert patch["path"].endswith(f"/transfers/{transfer.id}")
    await operator(http, sandbox, "clock", {"advanceHours": 1})
    done = await client.get_transfer(litware.id, transfer.id)
    assert done.status is TransferStatus.COMPLETED and done.completed_time is not None
    assert nce.subscription_id not in {s.id for s in await client.list_subscriptions(litware.id)}
    again = await client.accept_transfer(litware.id, transfer.id)  # a second click: nothing sent
    assert again.status is TransferStatus.COMPLETED
    assert len([r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]) == 1
    with pytest.raises(ConflictError):
        await client.reject_transfer(litware.id, transfer.id)


async def test_rejecting_cancels_it_once_and_it_can_no_longer_be_accepted(
    client: PartnerCenterClient, litware: Any, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    [transfer] = await client.list_transfers(litware.id)
    rejected = await client.reject_transfer(litware.id, transfer)
    assert rejected.status is TransferStatus.CANCELED
    assert (await client.reject_transfer(litware.id, transfer.id)).status is TransferStatus.CANCELED
    assert len([r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]) == 1
    with pytest.raises(ConflictError):
        await client.accept_transfer(litware.id, transfer.id)
