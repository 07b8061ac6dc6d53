"""New-commerce transfers another partner asks for: list, accept (all or some), reject, complete on
the sandbox clock; a transferred subscription no longer reads as ours."""

from __future__ import annotations

from datetime import timedelta

from ._helpers import CONTOSO, error_code, subscriptions, user_headers_for

LITWARE = "9d0e1f2a-3b4c-4d5e-8f7a-8b9c0d1e2f12"
LITWARE_E3 = "c7a1e2d3-4b5c-4d6e-9f70-81a2b3c4d512"
LITWARE_SAVINGS_PLAN_ORDER = "5a1e7c0de912"
NORTHWIND_TRANSFER = "7e2f4a10-5b6c-4d7e-8f90-a1b2c3d4e512"
PATH = f"/v1/customers/{LITWARE}/transfers/{NORTHWIND_TRANSFER}"


async def _transfer(client, headers, path=PATH):
    response = await client.get(path, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def _savings_plans(client, headers):
    response = await client.get(f"/v1/customers/{LITWARE}/entitlements?entitlementType=savingsPlan", headers=headers)
    return (await response.json())["items"]


async def test_seeded_transfer_from_northwind_partners(client, user_headers):
    response = await client.get(f"/v1/customers/{LITWARE}/transfers", headers=user_headers)
    body = await response.json()
    assert body["totalCount"] == 1 and body["attributes"] == {"objectType": "Collection"}
    [transfer] = body["items"]
    assert transfer == await _transfer(client, user_headers)
    assert transfer["status"] == "Active" and transfer["transferType"] == "5"
    assert transfer["targetPartnerName"] == "Northwind Partners"
    assert transfer["customerTenantId"] == LITWARE and transfer["customerName"] == "Litware Inc"
    assert transfer["createdTime"] == "2026-02-28T09:00:00Z" and transfer["expirationTime"] == "2026-03-30T09:00:00Z"
    assert transfer["completedTime"] is None
    assert [(line["id"], line["subscriptionId"], line["quantity"]) for line in transfer["lineItems"]] == [
        (0, LITWARE_E3, 50),
        (1, LITWARE_SAVINGS_PLAN_ORDER, 1),
    ]
    assert {"billingCycle", "friendlyName", "offerId", "termDuration", "partnerIdOnRecord"} <= set(transfer["lineItems"][0])


async def test_accept_all_completes_on_the_clock_and_the_items_leave(client, clock, user_headers):
    transfer = await _transfer(client, user_headers)
    response = await client.patch(PATH, json={**transfer, "status": "Complete"}, headers=user_headers)
    assert response.status == 200, await response.text()
    submitted = await response.json()
    assert submitted["status"] == "Active"
    assert {line["status"] for line in submitted["lineItems"]} == {"InProgress"}
    again = await client.patch(PATH, json={**transfer, "status": "Complete"}, headers=user_headers)
    assert again.status == 200 and await again.json() == submitted  # a second click changes nothing
    assert any(item["id"] == LITWARE_E3 for item in await subscriptions(client, user_headers, LITWARE))

    clock.advance(timedelta(minutes=6))
    headers = await user_headers_for(client)
    done = await _transfer(client, headers)
    assert done["status"] == "Completed" and done["completedTime"] == "2026-03-02T09:05:00Z"
    assert {line["status"] for line in done["lineItems"]} == {"Completed"}
    # How the sandbox models a completed transfer: the items are the other partner's now.
    assert await subscriptions(client, headers, LITWARE) == []
    assert await _savings_plans(client, headers) == []
    response = await client.patch(f"/v1/customers/{LITWARE}", json={"relationshipToPartner": "none"}, headers=headers)
    assert response.status == 200
    refused = await client.patch(PATH, json={"status": "Reject"}, headers=headers)
    assert refused.status == 403  # the customer is gone from this partner


async def test_accept_some_line_items_moves_only_those(client, clock, user_headers):
    transfer = await _transfer(client, user_headers)
    body = {**transfer, "status": "Complete", "lineItems": [transfer["lineItems"][1]]}
    response = await client.patch(PATH, json=body, headers=user_headers)
    assert [line["subscriptionId"] for line in (await response.json())["lineItems"]] == [LITWARE_SAVINGS_PLAN_ORDER]
    clock.advance(timedelta(minutes=5))
    headers = await user_headers_for(client)
    assert (await _transfer(client, headers))["status"] == "Completed"
    assert await _savings_plans(client, headers) == []
    assert [item["id"] for item in await subscriptions(client, headers, LITWARE)] == [LITWARE_E3]


async def test_fewer_seats_leave_the_rest_with_us(client, clock, user_headers):
    body = {"status": "Complete", "lineItems": [{"id": 0, "quantity": 20}]}
    assert (await client.patch(PATH, json=body, headers=user_headers)).status == 200
    clock.advance(timedelta(minutes=5))
    headers = await user_headers_for(client)
    [left] = await subscriptions(client, headers, LITWARE)
    assert left["id"] == LITWARE_E3 and left["quantity"] == 30


async def test_limits_and_unknown_line_items_are_refused(client, user_headers):
    for lines in ([{"id": 7}], [{"id": 0, "quantity": 51}], []):
        response = await client.patch(PATH, json={"status": "Complete", "lineItems": lines}, headers=user_headers)
        assert response.status == 400, lines
        assert error_code(await response.json()) == 800002
    assert (await _transfer(client, user_headers))["lineItems"][0].get("status") is None


async def test_reject_cancels_and_nothing_moves(client, clock, user_headers):
    response = await client.patch(PATH, json={"id": NORTHWIND_TRANSFER, "status": "Reject"}, headers=user_headers)
    assert response.status == 200
    assert (await response.json())["status"] == "Canceled"
    accepted = await client.patch(PATH, json={"status": "Complete"}, headers=user_headers)
    assert accepted.status == 400
    clock.advance(timedelta(hours=1))
    headers = await user_headers_for(client)
    assert len(await subscriptions(client, headers, LITWARE)) == 1
    assert len(await _savings_plans(client, headers)) == 1


async def test_a_submitted_transfer_cannot_be_rejected(client, user_headers):
    assert (await client.patch(PATH, json={"status": "Complete"}, headers=user_headers)).status == 200
    response = await client.patch(PATH, json={"status": "Reject"}, headers=user_headers)
    assert response.status == 400


async def test_an_unanswered_request_expires(client, clock, user_headers):
    clock.advance(timedelta(days=29))
    headers = await user_headers_for(client)
    assert (await _transfer(client, headers))["status"] == "Expired"
    assert (await client.patch(PATH, json={"status": "Complete"}, headers=headers)).status == 400


async def test_operator_creates_a_transfer_and_fails_a_line(client, clock, user_headers):
    mine = [item for item in await subscriptions(client, user_headers, CONTOSO) if item["productType"]["id"] == "OnlineServicesNCE"]
    response = await client.post(
        "/_sandbox/transfers",
        json={"customerId": CONTOSO, "targetPartnerName": "Fourth Coffee Partners", "subscriptionIds": [mine[0]["id"]]},
    )
    assert response.status == 201, await response.text()
    created = await response.json()
    assert created["status"] == "Active" and created["targetPartnerName"] == "Fourth Coffee Partners"
    assert created["createdTime"] == "2026-03-02T09:00:00Z"
    path = f"/v1/customers/{CONTOSO}/transfers/{created['id']}"
    assert (await _transfer(client, user_headers, path))["lineItems"][0]["subscriptionId"] == mine[0]["id"]

    failed = await client.post(f"/_sandbox/transfers/{created['id']}/fail", json={"lineItemIds": [0], "transferError": "Not eligible"})
    assert failed.status == 200
    assert (await client.patch(path, json={"status": "Complete"}, headers=user_headers)).status == 200
    clock.advance(timedelta(minutes=5))
    headers = await user_headers_for(client)
    done = await _transfer(client, headers, path)
    assert done["status"] == "Completed"
    assert done["lineItems"][0]["status"] == "Failed" and done["lineItems"][0]["transferError"] == "Not eligible"
    assert any(item["id"] == mine[0]["id"] for item in await subscriptions(client, headers, CONTOSO))


async def test_operator_refuses_what_cannot_be_transferred(client):
    legacy = await client.post(
        "/_sandbox/transfers",
        json={"customerId": CONTOSO, "targetPartnerName": "X", "subscriptionIds": ["nope"]},
    )
    assert legacy.status == 400
    missing_name = await client.post("/_sandbox/transfers", json={"customerId": CONTOSO, "subscriptionIds": ["a"]})
    assert missing_name.status == 400


async def test_unknown_transfer_is_404(client, user_headers):
    response = await client.get(f"/v1/customers/{LITWARE}/transfers/nope", headers=user_headers)
    assert response.status == 404


async def test_a_request_created_without_line_items_takes_those_the_accept_brings(client, clock, user_headers):
    # "the source partner updates the transfer with line item details" (update-a-transfer).
    response = await client.post(
        "/_sandbox/transfers", json={"customerId": LITWARE, "targetPartnerName": "Fourth Coffee", "lineItems": False}
    )
    assert response.status == 201, await response.text()
    created = await response.json()
    assert created["lineItems"] == []
    path = f"/v1/customers/{LITWARE}/transfers/{created['id']}"
    bare = await client.patch(path, json={"status": "Complete"}, headers=user_headers)
    assert bare.status == 400  # nothing to transfer
    brought = [
        {"subscriptionId": LITWARE_E3, "offerId": "CFQ7TTC0LF8Q:0001", "quantity": 50, "billingCycle": "annual", "termDuration": "P1Y"},
        {"subscriptionId": LITWARE_SAVINGS_PLAN_ORDER, "quantity": 1},
    ]
    accepted = await client.patch(path, json={"status": "Complete", "lineItems": brought}, headers=user_headers)
    assert accepted.status == 200, await accepted.text()
    lines = (await _transfer(client, user_headers, path))["lineItems"]
    assert {line["subscriptionId"] for line in lines} == {LITWARE_E3, LITWARE_SAVINGS_PLAN_ORDER}
    assert {line["status"] for line in lines} == {"InProgress"}
    clock.advance(timedelta(minutes=5))
    headers = await user_headers_for(client)
    assert (await _transfer(client, headers, path))["status"] == "Completed"
    assert not any(item["id"] == LITWARE_E3 for item in await subscriptions(client, headers, LITWARE))
