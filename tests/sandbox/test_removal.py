"""Removing the reseller relationship: refused while anything blocks, then final."""

from __future__ import annotations

from datetime import timedelta

from ._helpers import (
    ADATUM,
    CONTOSO,
    FABRIKAM,
    FROMAGES,
    NORTHWIND,
    ROMASHKA,
    TAILSPIN,
    error_code,
    patch_subscription,
    software_order,
    subscription_where,
)

REMOVE = {"relationshipToPartner": "none", "attributes": {"objectType": "Customer"}}
REMOVED_BODY = {
    "Id": None,
    "CommerceId": None,
    "CompanyProfile": None,
    "BillingProfile": None,
    "RelationshipToPartner": "none",
    "AllowDelegatedAccess": None,
    "UserCredentials": None,
    "CustomDomains": None,
    "AssociatedPartnerId": None,
    "Attributes": {"ObjectType": "Customer"},
}


async def _remove(client, headers, customer_id, body=REMOVE):
    return await client.patch(f"/v1/customers/{customer_id}", json=body, headers=headers)


async def _assert_blocked(client, headers, customer_id) -> dict:
    response = await _remove(client, headers, customer_id)
    assert response.status == 400
    body = await response.json()
    assert error_code(body) == 3012
    assert body["description"].startswith("Customer relationship cannot be removed while these items are active:")
    return body


async def test_contoso_removal_after_clearing_every_blocker(client, user_headers, clock):
    legacy = await subscription_where(client, user_headers, CONTOSO, productType="OnlineServices")
    nce = await subscription_where(client, user_headers, CONTOSO, productType="OnlineServicesNCE")
    plan = await subscription_where(client, user_headers, CONTOSO, productType="Azure")
    order = await software_order(client, user_headers, CONTOSO)
    entitlements_url = f"/v1/customers/{CONTOSO}/subscriptions/{plan['id']}/azureEntitlements"
    azure = (await (await client.get(entitlements_url, headers=user_headers)).json())["items"]

    blocked = await _assert_blocked(client, user_headers, CONTOSO)
    assert set(blocked["data"]) == {legacy["id"], nce["id"], plan["id"], order["id"], *(a["id"] for a in azure)}

    # 1. suspend the legacy subscription
    assert (await patch_subscription(client, user_headers, CONTOSO, legacy, status="suspended")).status == 200
    # 2. cancel the NCE subscription inside its window
    assert (await patch_subscription(client, user_headers, CONTOSO, nce, status="deleted")).status == 200
    # 3. cancel the Azure subscriptions (reason "compromise", the only documented one), wait the
    # ~10 minutes Azure takes to show it (was: immediate), then suspend the plan
    for item in azure:
        cancel = await client.post(
            f"{entitlements_url}/{item['id']}/cancel", json={"cancellationReason": "compromise"}, headers=user_headers
        )
        assert cancel.status == 202
    clock.advance(timedelta(minutes=10))
    blocked = await _assert_blocked(client, user_headers, CONTOSO)
    assert set(blocked["data"]) == {plan["id"], order["id"]}
    assert (await patch_subscription(client, user_headers, CONTOSO, plan, status="suspended")).status == 200
    # 4. cancel the software order
    cancel_order = await client.patch(
        f"/v1/customers/{CONTOSO}/orders/{order['id']}",
        json={"id": order["id"], "status": "cancelled"},
        headers=user_headers,
    )
    assert cancel_order.status == 200

    response = await _remove(client, user_headers, CONTOSO)
    assert response.status == 200
    assert await response.json() == REMOVED_BODY

    customer = await (await client.get(f"/v1/customers/{CONTOSO}", headers=user_headers)).json()
    assert customer["relationshipToPartner"] == "none"
    assert customer["allowDelegatedAccess"] is False
    for path in ("subscriptions", f"subscriptions/{legacy['id']}", "orders", "entitlements", "anything/else"):
        forbidden = await client.get(f"/v1/customers/{CONTOSO}/{path}", headers=user_headers)
        assert forbidden.status == 403, path
        body = await forbidden.json()
        assert error_code(body) == 20002
        assert body["description"] == "No relationship between caller and account."
    listed = await (await client.get("/v1/customers", headers=user_headers)).json()
    assert CONTOSO not in [item["id"] for item in listed["items"]]

    again = await _remove(client, user_headers, CONTOSO)
    assert again.status == 403
    assert error_code(await again.json()) == 20002


async def test_nothing_blocks_fabrikam(client, user_headers):
    response = await client.patch(
        f"/v1/customers/{FABRIKAM}/",  # the documented URL has a trailing slash
        json={"RelationshipToPartner": "None", "Attributes": {"ObjectType": "Customer"}},
        headers=user_headers,
    )
    assert response.status == 200
    assert await response.json() == REMOVED_BODY


async def test_an_active_reservation_blocks_until_a_person_cancels_it(client, user_headers):
    entitlements = await client.get(f"/v1/customers/{ADATUM}/entitlements?entitlementType=reservedinstance", headers=user_headers)
    [reservation] = (await entitlements.json())["items"]
    order_id = reservation["referenceOrder"]["id"]
    blocked = await _assert_blocked(client, user_headers, ADATUM)
    assert blocked["data"] == [order_id]
    assert (await client.post(f"/_sandbox/customers/{ADATUM}/reservations/{order_id}/cancel")).status == 200
    assert (await _remove(client, user_headers, ADATUM)).status == 200


async def test_software_past_its_window_does_not_block(client, user_headers):
    legacy = await subscription_where(client, user_headers, FROMAGES, productType="OnlineServices")
    software = await software_order(client, user_headers, FROMAGES)  # bought 60 days ago
    blocked = await _assert_blocked(client, user_headers, FROMAGES)
    assert legacy["id"] in blocked["data"] and software["id"] not in blocked["data"]
    assert len(blocked["data"]) == 2  # the legacy subscription and the reservation


async def test_suspended_nce_still_blocks(client, user_headers):
    legacy = await subscription_where(client, user_headers, ROMASHKA, productType="OnlineServices")
    nce = await subscription_where(client, user_headers, ROMASHKA, productType="OnlineServicesNCE")
    assert (await patch_subscription(client, user_headers, ROMASHKA, legacy, status="suspended")).status == 200
    assert (await patch_subscription(client, user_headers, ROMASHKA, nce, status="suspended")).status == 200
    blocked = await _assert_blocked(client, user_headers, ROMASHKA)
    assert blocked["data"] == [nce["id"]]


async def test_description_is_truncated_and_data_lists_every_blocker(client, user_headers):
    blocked = await _assert_blocked(client, user_headers, TAILSPIN)
    assert len(blocked["description"]) == 1024
    assert len(blocked["data"]) == 1000


async def test_customer_without_relationship_is_403_20002(client, user_headers):
    response = await _remove(client, user_headers, NORTHWIND)
    assert response.status == 403
    assert error_code(await response.json()) == 20002


async def test_other_bodies_are_400(client, user_headers):
    for body in (
        {"relationshipToPartner": "reseller"},
        # (The documented DAP removal body, {"allowDelegatedAccess": false, ...}, is an operation
        # of its own since issue 19: tests/sandbox/test_dap.py.)
        {"allowDelegatedAccess": True, "attributes": {"objectType": "Customer"}},
        {},
    ):
        response = await _remove(client, user_headers, FABRIKAM, body)
        assert response.status == 400, body
        error_code(await response.json())


async def test_unknown_customer_is_404(client, user_headers):
    response = await _remove(client, user_headers, "00000000-0000-0000-0000-000000000000")
    assert response.status == 404
    assert error_code(await response.json()) == 60003
