"""Ids of the packaged demo customers (fixed in seed.json), tokens and lookup helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient

from pc_sandbox import DEMO

# Where the tests' frozen clock starts; seed dates ("now+3d") resolve against it.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

CONTOSO = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
CONTOSO_PHARMA = "5c1f6a2e-8b3d-4e7a-9f21-6d4c3b2a1e02"
CONTOSO_RETAIL = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c03"
FABRIKAM = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d04"
NORTHWIND = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e05"
TAILSPIN = "3d4e5f6a-7b8c-4d9e-8f1a-2b3c4d5e6f06"
FROMAGES = "4e5f6a7b-8c9d-4e0f-9a2b-3c4d5e6f7a07"
ROMASHKA = "5f6a7b8c-9d0e-4f1a-8b3c-4d5e6f7a8b08"
WINGTIP = "6a7b8c9d-0e1f-4a2b-9c4d-5e6f7a8b9c09"
TAILWIND = "7b8c9d0e-1f2a-4b3c-8d5e-6f7a8b9c0d10"
ADATUM = "8c9d0e1f-2a3b-4c4d-9e6f-7a8b9c0d1e11"


async def fetch_token(client: TestClient, *, app_only: bool) -> str:
    form = {"client_id": DEMO.client_id, "client_secret": DEMO.client_secret}
    if app_only:
        form.update(grant_type="client_credentials", scope="https://api.partnercenter.microsoft.com/.default")
    else:
        form.update(grant_type="refresh_token", refresh_token=DEMO.refresh_token)
    response = await client.post(f"/{DEMO.tenant}/oauth2/v2.0/token", data=form)
    assert response.status == 200, await response.text()
    return (await response.json())["access_token"]


async def user_headers_for(client: TestClient) -> dict[str, str]:
    """Fresh App+User headers (tokens expire when a test moves the clock past an hour)."""
    return {"Authorization": f"Bearer {await fetch_token(client, app_only=False)}"}


async def subscriptions(client: TestClient, headers: dict[str, str], customer_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/customers/{customer_id}/subscriptions", headers=headers)
    assert response.status == 200, await response.text()
    return (await response.json())["items"]


async def subscription_where(client: TestClient, headers: dict[str, str], customer_id: str, **expected: Any) -> dict[str, Any]:
    """The only subscription whose fields (``productType`` compares its id) match."""
    found = [
        item
        for item in await subscriptions(client, headers, customer_id)
        if all((item[key]["id"] if key == "productType" else item.get(key)) == value for key, value in expected.items())
    ]
    assert len(found) == 1, found
    return found[0]


async def orders(client: TestClient, headers: dict[str, str], customer_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/customers/{customer_id}/orders", headers=headers)
    assert response.status == 200, await response.text()
    return (await response.json())["items"]


async def software_order(client: TestClient, headers: dict[str, str], customer_id: str) -> dict[str, Any]:
    # Software products in the seed are the DG7G... catalog items.
    found = [order for order in await orders(client, headers, customer_id) if order["lineItems"][0]["offerId"].startswith("DG7G")]
    assert len(found) == 1, found
    return found[0]


async def patch_subscription(client: TestClient, headers: dict[str, str], customer_id: str, subscription: dict[str, Any], **changes: Any):
    """PATCH the full resource with ``changes`` and the current etag, as the docs show."""
    return await client.patch(
        f"/v1/customers/{customer_id}/subscriptions/{subscription['id']}",
        json={**subscription, **changes},
        headers={**headers, "If-Match": f'"{subscription["attributes"]["etag"]}"'},
    )


def error_code(body: dict[str, Any]) -> int:
    assert set(body) == {"code", "description", "data", "source"}, body
    assert body["source"] == "PartnerFD"
    return body["code"]
