"""DAP on Partner Center customers: the flag on the customer, and removing it with
PATCH /v1/customers/{id} (App+User only; learn.microsoft.com/partner-center/developer/remove-dap)."""

from __future__ import annotations

from ._helpers import FABRIKAM, NORTHWIND, error_code

_DOC_EXAMPLE = {"AllowDelegatedAccess": False, "attributes": {"objectType": "Customer"}}


def _remove_dap(customer_id: str = FABRIKAM) -> dict:
    """ "A Customer resource is required in the request body" (remove-dap): its id at least."""
    return {"Id": customer_id, "AllowDelegatedAccess": False, "attributes": {"objectType": "Customer"}}


async def _customer(client, headers, customer_id=FABRIKAM) -> dict:
    response = await client.get(f"/v1/customers/{customer_id}", headers=headers)
    assert response.status == 200
    return await response.json()


async def test_customers_carry_the_dap_flag(client, user_headers):
    assert (await _customer(client, user_headers))["allowDelegatedAccess"] is True


async def test_app_only_cannot_remove_dap(client, app_headers, user_headers):
    response = await client.patch(f"/v1/customers/{FABRIKAM}", json=_remove_dap(), headers=app_headers)
    assert response.status == 403
    assert error_code(await response.json()) == 2032
    assert (await _customer(client, user_headers))["allowDelegatedAccess"] is True


async def test_app_user_removes_dap_and_keeps_the_reseller_relationship(client, user_headers):
    response = await client.patch(f"/v1/customers/{FABRIKAM}/", json=_remove_dap(), headers=user_headers)
    assert response.status == 200
    body = await response.json()
    assert body["allowDelegatedAccess"] is False and body["relationshipToPartner"] == "reseller"
    after = await _customer(client, user_headers)
    assert after["allowDelegatedAccess"] is False and after["relationshipToPartner"] == "reseller"
    again = await client.patch(f"/v1/customers/{FABRIKAM}", json=_remove_dap(), headers=user_headers)
    assert again.status == 200


async def test_the_whole_customer_body_works_too(client, user_headers):
    customer = await _customer(client, user_headers)
    response = await client.patch(f"/v1/customers/{FABRIKAM}", json={**customer, "allowDelegatedAccess": False}, headers=user_headers)
    assert response.status == 200
    assert (await _customer(client, user_headers))["allowDelegatedAccess"] is False


async def test_a_foreign_id_is_400_and_the_doc_example_removes_dap(client, user_headers):
    response = await client.patch(f"/v1/customers/{FABRIKAM}", json=_remove_dap(NORTHWIND), headers=user_headers)
    assert response.status == 400 and error_code(await response.json()) == 800002
    assert (await _customer(client, user_headers))["allowDelegatedAccess"] is True
    response = await client.patch(f"/v1/customers/{FABRIKAM}", json=_DOC_EXAMPLE, headers=user_headers)
    assert response.status == 200
    assert (await _customer(client, user_headers))["allowDelegatedAccess"] is False


async def test_dap_cannot_be_granted_and_needs_a_relationship(client, user_headers):
    response = await client.patch(f"/v1/customers/{FABRIKAM}", json={"id": FABRIKAM, "allowDelegatedAccess": True}, headers=user_headers)
    assert response.status == 400 and error_code(await response.json()) == 800002
    response = await client.patch(f"/v1/customers/{NORTHWIND}", json=_remove_dap(NORTHWIND), headers=user_headers)
    assert response.status == 403 and error_code(await response.json()) == 20002
