"""Money on the wire: refund windows and seat tranches on subscriptions, prices on orders,
savings plans; every window closes when the sandbox clock passes it."""

from __future__ import annotations

from datetime import timedelta

from ._helpers import CONTOSO, TAILWIND, error_code, user_headers_for

PROSEWARE = "0e1f2a3b-4c5d-4e6f-9a8b-9c0d1e2f3a13"
PROSEWARE_BP = "d8b2f3e4-5c6d-4e7f-8a91-92b3c4d5e613"
LITWARE = "9d0e1f2a-3b4c-4d5e-8f7a-8b9c0d1e2f12"
LITWARE_E3 = "c7a1e2d3-4b5c-4d6e-9f70-81a2b3c4d512"
LITWARE_SAVINGS_PLAN_ORDER = "5a1e7c0de912"


async def _get(client, headers, path):
    response = await client.get(path, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_refund_window_open_today_is_gone_tomorrow(client, clock, user_headers):
    path = f"/v1/customers/{PROSEWARE}/subscriptions/{PROSEWARE_BP}"
    today = await _get(client, user_headers, path)
    assert today["termDuration"] == "P1Y" and today["billingCycle"] == "monthly"
    assert today["cancellationAllowedUntilDate"] == "2026-03-03T15:00:00Z"  # START + 30 h
    # The full refund (first 24 h) is long gone; the prorated one lasts as long as the window.
    assert today["refundOptions"] == [{"type": "Partial", "expiresAt": "2026-03-03T15:00:00Z"}]
    assert today["refundableQuantity"] == {
        "totalQuantity": 25,
        "details": [
            {"quantity": 20, "allowedUntilDateTime": "2026-03-03T15:00:00Z"},
            {"quantity": 5, "allowedUntilDateTime": "2026-03-06T09:00:00Z"},
        ],
    }

    clock.advance(timedelta(hours=31))
    headers = await user_headers_for(client)
    tomorrow = await _get(client, headers, path)
    assert tomorrow["refundOptions"] == []
    assert tomorrow["refundableQuantity"] == {
        "totalQuantity": 5,
        "details": [{"quantity": 5, "allowedUntilDateTime": "2026-03-06T09:00:00Z"}],
    }
    # ... and the cancel API refuses, as it always did past the window.
    response = await client.patch(path, json={**tomorrow, "status": "deleted"}, headers=headers)
    assert response.status == 400
    assert error_code(await response.json()) == 900117

    clock.advance(timedelta(days=3))
    later = await _get(client, await user_headers_for(client), path)
    assert later["refundableQuantity"] == {"totalQuantity": 0, "details": []}


async def test_cancelling_inside_the_window_still_works_and_ends_the_refund_options(client, user_headers):
    path = f"/v1/customers/{PROSEWARE}/subscriptions/{PROSEWARE_BP}"
    subscription = await _get(client, user_headers, path)
    response = await client.patch(path, json={**subscription, "status": "deleted"}, headers=user_headers)
    assert response.status == 200
    cancelled = await response.json()
    assert cancelled["status"] == "deleted"
    assert cancelled["refundOptions"] == []


async def test_a_fresh_new_commerce_purchase_has_a_full_then_partial_refund(client, clock, user_headers):
    items = (await _get(client, user_headers, f"/v1/customers/{CONTOSO}/subscriptions"))["items"]
    nce = next(item for item in items if item["productType"]["id"] == "OnlineServicesNCE")
    legacy = next(item for item in items if item["productType"]["id"] == "OnlineServices")
    assert "refundOptions" not in legacy and "refundableQuantity" not in legacy
    assert nce["refundOptions"] == [{"type": "Partial", "expiresAt": nce["cancellationAllowedUntilDate"]}]

    response = await client.post(f"/_sandbox/customers/{CONTOSO}/subscriptions", json={"offer": "M365_BB_NCE", "quantity": 3})
    assert response.status == 201
    fresh = await _get(client, user_headers, f"/v1/customers/{CONTOSO}/subscriptions/{(await response.json())['id']}")
    assert fresh["refundOptions"] == [
        {"type": "Full", "expiresAt": "2026-03-03T09:00:00Z"},
        {"type": "Partial", "expiresAt": "2026-03-09T09:00:00Z"},
    ]
    assert fresh["refundableQuantity"]["totalQuantity"] == 3


async def test_order_prices_only_with_include_price_in_the_partner_currency(client, user_headers):
    subscription = await _get(client, user_headers, f"/v1/customers/{PROSEWARE}/subscriptions/{PROSEWARE_BP}")
    path = f"/v1/customers/{PROSEWARE}/orders/{subscription['orderId']}"
    plain = await _get(client, user_headers, path)
    assert "pricing" not in plain["lineItems"][0]
    priced = await _get(client, user_headers, path + "?includePrice=true")
    assert priced["currencyCode"] == "USD"
    assert priced["lineItems"][0]["subscriptionId"] == PROSEWARE_BP
    assert priced["lineItems"][0]["pricing"] == {
        "listPrice": 22.0,
        "discountedPrice": 22.0,
        "price": 22.0,
        "extendedPrice": 550.0,
        "proratedPrice": 550.0,
    }
    listed = await _get(client, user_headers, f"/v1/customers/{PROSEWARE}/orders?includePrice=true")
    assert any(line.get("pricing", {}).get("extendedPrice") == 550.0 for order in listed["items"] for line in order["lineItems"])


async def test_an_offer_without_a_price_has_no_pricing(client, user_headers):
    items = (await _get(client, user_headers, f"/v1/customers/{TAILWIND}/subscriptions"))["items"]
    software = next(item for item in items if item["productType"]["id"] == "Software")
    order = await _get(client, user_headers, f"/v1/customers/{TAILWIND}/orders/{software['orderId']}?includePrice=true")
    assert order["currencyCode"] == "USD"
    assert all("pricing" not in line for line in order["lineItems"])


async def test_savings_plan_entitlement_priced_and_never_cancellable(client, user_headers):
    entitlements = await _get(client, user_headers, f"/v1/customers/{LITWARE}/entitlements?entitlementType=savingsPlan")
    [plan] = entitlements["items"]
    assert plan["entitlementType"] == "savingsPlan"
    assert plan["orderId"] == plan["referenceOrder"]["id"] == LITWARE_SAVINGS_PLAN_ORDER
    assert plan["expiryDate"] == "2028-01-31T09:00:00Z"  # now+700d: the term end
    assert plan["fulfillmentState"] == "Fulfilled"
    assert {"productId", "skuId", "quantity"} <= set(plan)
    assert (await _get(client, user_headers, f"/v1/customers/{LITWARE}/entitlements?entitlementType=reservedinstance"))["items"] == []

    order_path = f"/v1/customers/{LITWARE}/orders/{LITWARE_SAVINGS_PLAN_ORDER}"
    order = await _get(client, user_headers, order_path + "?includePrice=true")
    assert order["lineItems"][0]["pricing"]["price"] == 730.0
    response = await client.patch(order_path, json={"id": LITWARE_SAVINGS_PLAN_ORDER, "status": "cancelled"}, headers=user_headers)
    assert response.status == 400
    body = await response.json()
    assert error_code(body) == 800063 and "savings plan purchases are final" in body["description"]
    portal = await client.post(f"/_sandbox/customers/{LITWARE}/orders/{LITWARE_SAVINGS_PLAN_ORDER}/cancel")
    assert portal.status == 400
    assert len((await _get(client, user_headers, f"/v1/customers/{LITWARE}/entitlements?entitlementType=savingsPlan"))["items"]) == 1


async def test_savings_plan_blocks_removal(client, user_headers):
    response = await client.patch(f"/v1/customers/{LITWARE}", json={"relationshipToPartner": "none"}, headers=user_headers)
    assert response.status == 400
    assert LITWARE_SAVINGS_PLAN_ORDER in (await response.json())["data"]


async def test_past_window_subscription_shows_its_term_and_no_refund(client, user_headers):
    subscription = await _get(client, user_headers, f"/v1/customers/{LITWARE}/subscriptions/{LITWARE_E3}")
    assert subscription["termDuration"] == "P1Y" and subscription["billingCycle"] == "annual"
    assert subscription["autoRenewEnabled"] is True
    assert subscription["commitmentEndDate"] == "2026-11-22T09:00:00Z"
    assert subscription["refundOptions"] == []
    assert subscription["refundableQuantity"] == {"totalQuantity": 0, "details": []}
