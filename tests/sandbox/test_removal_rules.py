"""The sandbox's removal knobs (issue 17, audit #9, #14, §3.13, §5): documented preconditions vs
the labelled assumptions, the PATCH's refusals, and the undocumented post-removal read."""

from __future__ import annotations

import pytest

from pc_sandbox.state import STATE

from ._helpers import (
    ADATUM,
    CONTOSO,
    FABRIKAM,
    ROMASHKA,
    error_code,
    fetch_token,
    patch_subscription,
    software_order,
    subscription_where,
)
from .test_removal import REMOVE, REMOVED_BODY, _assert_blocked, _remove


async def _user_headers(client) -> dict[str, str]:
    return {"Authorization": f"Bearer {await fetch_token(client, app_only=False)}"}


async def test_documented_rules_block_only_on_active_subscriptions_and_reservations(make_client):
    client = await make_client(removal_assumed_blockers=False)
    headers = await _user_headers(client)
    software = await software_order(client, headers, CONTOSO)  # inside its window
    entitlements_url = f"/v1/customers/{CONTOSO}/subscriptions/"
    plan = await subscription_where(client, headers, CONTOSO, productType="Azure")
    azure = (await (await client.get(f"{entitlements_url}{plan['id']}/azureEntitlements", headers=headers)).json())["items"]
    blocked = await _assert_blocked(client, headers, CONTOSO)
    # Perpetual software in its window and Azure subscriptions under the plan are assumptions.
    assert software["id"] not in blocked["data"]
    assert not {a["id"] for a in azure} & set(blocked["data"])
    assert plan["id"] in blocked["data"]  # the plan itself is an active subscription
    # Reserved instances: documented (the C# walkthrough's pre-check).
    assert (await _assert_blocked(client, headers, ADATUM))["data"]


async def test_suspended_nce_blocks_only_under_the_assumed_rules(make_client):
    for assumed, status in ((True, 400), (False, 200)):
        client = await make_client(removal_assumed_blockers=assumed)
        headers = await _user_headers(client)
        for product in ("OnlineServices", "OnlineServicesNCE"):
            subscription = await subscription_where(client, headers, ROMASHKA, productType=product)
            assert (await patch_subscription(client, headers, ROMASHKA, subscription, status="suspended")).status == 200
        assert (await _remove(client, headers, ROMASHKA)).status == status


async def test_a_disabled_nce_subscription_does_not_block(client, user_headers):
    nce = await subscription_where(client, user_headers, ROMASHKA, productType="OnlineServicesNCE")
    legacy = await subscription_where(client, user_headers, ROMASHKA, productType="OnlineServices")
    assert (await patch_subscription(client, user_headers, ROMASHKA, legacy, status="suspended")).status == 200
    world = client.server.app[STATE].world
    world.customers[ROMASHKA].subscriptions[nce["id"].lower()].status = "disabled"  # lifecycle: can't be reactivated
    assert (await _remove(client, user_headers, ROMASHKA)).status == 200


@pytest.mark.parametrize(("answer", "status", "code"), [("400-3000", 400, 3000), ("403-20002", 403, 20002)])
async def test_the_patch_can_be_refused_and_nothing_changes(make_client, answer, status, code):
    client = await make_client(removal_patch_answer=answer)
    headers = await _user_headers(client)
    response = await _remove(client, headers, FABRIKAM)
    assert response.status == status and error_code(await response.json()) == code
    customer = await (await client.get(f"/v1/customers/{FABRIKAM}", headers=headers)).json()
    assert customer["relationshipToPartner"] == "reseller"


@pytest.mark.parametrize(("read", "status"), [("200", 200), ("403", 403), ("404", 404)])
async def test_the_post_removal_read_is_configurable(make_client, read, status):
    client = await make_client(removed_customer_read=read)
    headers = await _user_headers(client)
    response = await _remove(client, headers, FABRIKAM)
    assert response.status == 200 and await response.json() == REMOVED_BODY
    after = await client.get(f"/v1/customers/{FABRIKAM}", headers=headers)
    assert after.status == status
    body = await after.json()
    if read == "200":
        assert body["relationshipToPartner"] == "none"
    else:
        assert error_code(body) == {"403": 20002, "404": 60003}[read]
    listed = await (await client.get("/v1/customers", headers=headers)).json()
    assert FABRIKAM not in [c["id"] for c in listed["items"]]


async def test_revoked_delegated_access_reads_as_403_20002_while_still_a_reseller(make_client):
    client = await make_client(delegated_access_revoked=True)
    headers = await _user_headers(client)
    response = await client.get(f"/v1/customers/{FABRIKAM}", headers=headers)
    assert response.status == 403 and error_code(await response.json()) == 20002
    listed = await (await client.get("/v1/customers", headers=headers)).json()
    assert FABRIKAM in [c["id"] for c in listed["items"]]


def test_unknown_knob_values_are_refused():
    from pc_sandbox import SandboxOptions

    with pytest.raises(ValueError, match="removal_patch_answer"):
        SandboxOptions(removal_patch_answer="500")
    with pytest.raises(ValueError, match="removed_customer_read"):
        SandboxOptions(removed_customer_read="410")


async def test_mfa_switch_refuses_app_user_tokens_without_mfa_but_not_app_only(make_client):
    client = await make_client(mfa_enforced=True, user_mfa=False)
    user = await _user_headers(client)
    refused = await client.patch(f"/v1/customers/{FABRIKAM}", json=REMOVE, headers=user)
    assert refused.status == 401 and error_code(await refused.json()) == 900421
    app = {"Authorization": f"Bearer {await fetch_token(client, app_only=True)}"}
    assert (await client.get(f"/v1/customers/{FABRIKAM}", headers=app)).status == 200
