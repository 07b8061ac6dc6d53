"""Orders (software cancellation) and entitlements (reservations, software)."""

from __future__ import annotations

from datetime import timedelta

from ._helpers import ADATUM, CONTOSO, FROMAGES, error_code, orders, software_order, user_headers_for


async def _entitlements(client, headers, customer_id, query=""):
    response = await client.get(f"/v1/customers/{customer_id}/entitlements{query}", headers=headers)
    assert response.status == 200, await response.text()
    return (await response.json())["items"]


async def test_order_wire_format(client, user_headers):
    order = await software_order(client, user_headers, CONTOSO)
    assert order["status"] == "completed"
    assert order["referenceCustomerId"] == CONTOSO
    assert order["billingCycle"] == "one_time"
    assert order["creationDate"] == "2026-02-25T09:00:00Z"  # now-5d
    assert order["attributes"] == {"objectType": "Order"}
    assert order["links"]["self"]["uri"] == f"/customers/{CONTOSO}/orders/{order['id']}"
    line = order["lineItems"][0]
    assert {"lineItemNumber", "offerId", "friendlyName", "quantity", "transactionType"} <= set(line)
    response = await client.get(f"/v1/customers/{CONTOSO}/orders/{order['id']}", headers=user_headers)
    assert await response.json() == order


async def test_unknown_order_is_404_1000(client, user_headers):
    response = await client.get(f"/v1/customers/{CONTOSO}/orders/nope", headers=user_headers)
    assert response.status == 404
    assert error_code(await response.json()) == 1000


async def test_software_order_inside_window_is_cancelled_and_stays_cancelled(client, user_headers):
    order = await software_order(client, user_headers, CONTOSO)
    url = f"/v1/customers/{CONTOSO}/orders/{order['id']}"
    response = await client.patch(url, json={"id": order["id"], "status": "cancelled"}, headers=user_headers)
    assert response.status == 200
    cancelled = await response.json()
    assert cancelled["status"] == "cancelled"
    assert all(line["quantity"] == 0 for line in cancelled["lineItems"])
    again = await client.patch(url, json={"Id": order["id"], "Status": "Cancelled"}, headers=user_headers)
    assert again.status == 200
    assert await again.json() == cancelled
    assert await _entitlements(client, user_headers, CONTOSO, "?entitlementType=software") == []


async def test_software_order_past_window_is_900117(client, user_headers):
    order = await software_order(client, user_headers, FROMAGES)
    response = await client.patch(f"/v1/customers/{FROMAGES}/orders/{order['id']}", json={"status": "cancelled"}, headers=user_headers)
    assert response.status == 400
    body = await response.json()
    assert error_code(body) == 900117
    assert "30-day cancellation window" in body["description"]


async def test_software_order_window_closes_with_time(client, clock, user_headers):
    order = await software_order(client, user_headers, CONTOSO)
    clock.advance(timedelta(days=26))  # created now-5d: 31 days old
    user_headers = await user_headers_for(client)
    response = await client.patch(f"/v1/customers/{CONTOSO}/orders/{order['id']}", json={"status": "cancelled"}, headers=user_headers)
    assert response.status == 400
    assert error_code(await response.json()) == 900117


async def test_subscription_orders_cannot_be_cancelled(client, user_headers):
    subscription_order = next(order for order in await orders(client, user_headers, CONTOSO) if order["lineItems"][0].get("subscriptionId"))
    response = await client.patch(
        f"/v1/customers/{CONTOSO}/orders/{subscription_order['id']}", json={"status": "cancelled"}, headers=user_headers
    )
    assert response.status == 400
    body = await response.json()
    assert error_code(body) == 800063
    assert body["description"].startswith(f"This order {subscription_order['id']} cannot be cancelled.")


async def test_order_patch_requires_status_cancelled(client, user_headers):
    order = await software_order(client, user_headers, CONTOSO)
    response = await client.patch(f"/v1/customers/{CONTOSO}/orders/{order['id']}", json={"status": "completed"}, headers=user_headers)
    assert response.status == 400


async def test_reservation_entitlement_shape(client, user_headers):
    items = await _entitlements(client, user_headers, FROMAGES, "?entitlementType=ReservedInstance&showExpiry=true")
    assert len(items) == 1
    reservation = items[0]
    assert reservation["entitlementType"] == "reservedinstance"
    assert reservation["expiryDate"] == "2026-12-27T09:00:00Z"  # now+300d
    assert reservation["includedEntitlements"] == []
    assert set(reservation["referenceOrder"]) == {"id", "lineItemId", "alternateId"}
    assert reservation["attributes"] == {"objectType": "Entitlement"}
    artifact = reservation["entitledArtifacts"][0]
    assert artifact["artifactType"] == "reservedinstance"
    assert artifact["dynamicAttributes"] == {"reservationType": "virtualmachines"}
    assert artifact["link"]["uri"].startswith(f"/customers/{FROMAGES}/artifacts/reservedinstance/groups/")
    assert artifact["link"]["uri"].endswith(f"/resource/{artifact['resourceId']}")
    without_expiry = await _entitlements(client, user_headers, FROMAGES, "?entitlementType=reservedinstance")
    assert "expiryDate" not in without_expiry[0]


async def test_entitlement_type_filter(client, user_headers):
    everything = await _entitlements(client, user_headers, FROMAGES)
    assert sorted(item["entitlementType"] for item in everything) == ["reservedinstance", "software"]
    software = await _entitlements(client, user_headers, FROMAGES, "?entitlementType=software")
    assert [item["entitlementType"] for item in software] == ["software"]


async def test_cancelled_reservation_disappears(client, user_headers):
    reservation = (await _entitlements(client, user_headers, ADATUM))[0]
    order_id = reservation["referenceOrder"]["id"]
    response = await client.post(f"/_sandbox/customers/{ADATUM}/reservations/{order_id}/cancel")
    assert response.status == 200
    assert await _entitlements(client, user_headers, ADATUM) == []
    unknown = await client.post(f"/_sandbox/customers/{ADATUM}/reservations/nope/cancel")
    assert unknown.status == 404


async def test_expired_reservation_disappears(client, clock, user_headers):
    assert len(await _entitlements(client, user_headers, ADATUM)) == 1
    clock.advance(timedelta(days=276))
    user_headers = await user_headers_for(client)
    assert await _entitlements(client, user_headers, ADATUM) == []
