"""The documented subscription lifecycles on the sandbox clock (issue 17, ../shared/reference/fidelity-audit.md #4-#7,
#18, #19): each moment is reached through ``POST /_sandbox/clock``, as a demo would."""

from __future__ import annotations

from datetime import timedelta

from ._helpers import (
    CONTOSO,
    CONTOSO_PHARMA,
    CONTOSO_RETAIL,
    FABRIKAM,
    TAILWIND,
    error_code,
    patch_subscription,
    subscription_where,
    user_headers_for,
)


async def _clock_set(client, moment: str) -> None:
    response = await client.post("/_sandbox/clock", json={"set": moment})
    assert response.status == 200, await response.text()


async def _clock_advance(client, days: int = 0, hours: int = 0) -> None:
    body = {"advanceDays": days} if days else {"advanceHours": hours}
    response = await client.post("/_sandbox/clock", json=body)
    assert response.status == 200, await response.text()


async def _nce(client, customer_id: str) -> dict:
    headers = await user_headers_for(client)  # a fresh token: the clock may have moved hours
    return await subscription_where(client, headers, customer_id, productType="OnlineServicesNCE")


async def _by_id(client, customer_id: str, subscription_id: str) -> dict:
    headers = await user_headers_for(client)
    response = await client.get(f"/v1/customers/{customer_id}/subscriptions/{subscription_id}", headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


# ---- New commerce: suspend turns auto-renew off; a suspended subscription never renews ----


async def test_nce_suspend_turns_auto_renew_off_and_the_term_ends_disabled_not_renewed(client, user_headers):
    nce = await _nce(client, CONTOSO_PHARMA)
    assert nce["autoRenewEnabled"] is True and nce["commitmentEndDate"] == "2026-09-18T09:00:00Z"
    suspended = await patch_subscription(client, user_headers, CONTOSO_PHARMA, nce, status="suspended")
    assert suspended.status == 200
    body = await suspended.json()
    # "Suspending a new commerce subscription will turn off auto-renew" (create-a-new-subscription.md)
    assert body["status"] == "suspended" and body["autoRenewEnabled"] is False

    await _clock_set(client, "2026-09-18T23:59:00Z")  # the term's last day is still in the term
    assert (await _by_id(client, CONTOSO_PHARMA, nce["id"]))["status"] == "suspended"
    await _clock_set(client, "2026-09-19T09:00:00Z")
    ended = await _by_id(client, CONTOSO_PHARMA, nce["id"])
    # "30-day disabled state follows the end of a Suspended subscription's term"; never renewed.
    assert ended["status"] == "disabled" and ended["autoRenewEnabled"] is False
    assert ended["commitmentEndDate"] == "2026-09-18T09:00:00Z"
    await _clock_set(client, "2026-10-19T00:00:00Z")
    assert (await _by_id(client, CONTOSO_PHARMA, nce["id"]))["status"] == "deleted"


async def test_a_disabled_subscription_refuses_updates(client):
    nce = await _nce(client, TAILWIND)
    await _clock_advance(client, days=31 + 30)
    disabled = await _by_id(client, TAILWIND, nce["id"])
    assert disabled["status"] == "disabled"
    headers = await user_headers_for(client)
    response = await patch_subscription(client, headers, TAILWIND, disabled, status="deleted")
    assert response.status == 400 and error_code(await response.json()) == 2011


# ---- New commerce: expired (30 d) -> disabled (90 d) -> deleted ----


async def test_nce_expired_then_disabled_then_deleted(client):
    nce = await _nce(client, TAILWIND)
    assert nce["autoRenewEnabled"] is False and nce["commitmentEndDate"] == "2026-04-01T09:00:00Z"
    await _clock_set(client, "2026-04-01T23:00:00Z")  # inclusive of the whole last day
    assert (await _by_id(client, TAILWIND, nce["id"]))["status"] == "active"
    await _clock_set(client, "2026-04-02T00:00:00Z")
    assert (await _by_id(client, TAILWIND, nce["id"]))["status"] == "expired"
    await _clock_set(client, "2026-05-01T23:00:00Z")
    assert (await _by_id(client, TAILWIND, nce["id"]))["status"] == "expired"
    await _clock_set(client, "2026-05-02T00:00:00Z")  # 30 days expired
    assert (await _by_id(client, TAILWIND, nce["id"]))["status"] == "disabled"
    await _clock_set(client, "2026-07-30T23:00:00Z")
    assert (await _by_id(client, TAILWIND, nce["id"]))["status"] == "disabled"
    await _clock_set(client, "2026-07-31T00:00:00Z")  # 90 days disabled
    assert (await _by_id(client, TAILWIND, nce["id"]))["status"] == "deleted"


async def test_a_seeded_expired_subscription_follows_the_same_timers(client, user_headers):
    # Fabrikam's expired NCE subscription ended "now-10d" (2026-02-20): disabled 30 days later.
    expired = await subscription_where(client, user_headers, FABRIKAM, productType="OnlineServicesNCE", status="expired")
    await _clock_set(client, "2026-03-23T00:00:00Z")
    assert (await _by_id(client, FABRIKAM, expired["id"]))["status"] == "disabled"
    await _clock_set(client, "2026-06-21T00:00:00Z")
    assert (await _by_id(client, FABRIKAM, expired["id"]))["status"] == "deleted"


# ---- Legacy: suspended -> deleted at term end or after 90 days ----


async def test_legacy_suspended_is_deleted_after_90_days(client, user_headers):
    legacy = await subscription_where(client, user_headers, CONTOSO, productType="OnlineServices")
    assert legacy["commitmentEndDate"] == "2027-01-26T09:00:00Z"  # the term ends later than 90 days
    assert (await patch_subscription(client, user_headers, CONTOSO, legacy, status="suspended")).status == 200
    await _clock_advance(client, days=89)
    assert (await _by_id(client, CONTOSO, legacy["id"]))["status"] == "suspended"
    await _clock_advance(client, days=1)
    assert (await _by_id(client, CONTOSO, legacy["id"]))["status"] == "deleted"


async def test_legacy_suspended_is_deleted_at_term_end_when_that_comes_first(client, user_headers):
    suspended = await subscription_where(client, user_headers, CONTOSO_RETAIL, status="suspended")
    assert suspended["commitmentEndDate"] == "2026-05-06T09:00:00Z"  # 65 days away
    await _clock_set(client, "2026-05-06T23:00:00Z")
    assert (await _by_id(client, CONTOSO_RETAIL, suspended["id"]))["status"] == "suspended"
    await _clock_set(client, "2026-05-07T00:00:00Z")
    assert (await _by_id(client, CONTOSO_RETAIL, suspended["id"]))["status"] == "deleted"


# ---- Renewal: after the term's last day, plus processing; 409 meanwhile ----


async def test_renewal_processing_answers_409_then_completes_with_a_window_from_completion(client):
    nce = await _nce(client, CONTOSO_PHARMA)  # auto-renew on, term ends 2026-09-18
    await _clock_set(client, "2026-09-18T23:00:00Z")
    last_day = await _by_id(client, CONTOSO_PHARMA, nce["id"])
    assert last_day["commitmentEndDate"] == "2026-09-18T09:00:00Z"  # not renewed on its last day
    await _clock_set(client, "2026-09-19T02:00:00Z")  # renewal started at 00:00, takes 4 h
    processing = await _by_id(client, CONTOSO_PHARMA, nce["id"])
    headers = await user_headers_for(client)
    refused = await patch_subscription(client, headers, CONTOSO_PHARMA, processing, autoRenewEnabled=False)
    assert refused.status == 409  # "Partners can resubmit the request after waiting for two minutes"
    await _clock_set(client, "2026-09-19T04:00:00Z")
    renewed = await _by_id(client, CONTOSO_PHARMA, nce["id"])
    assert renewed["status"] == "active" and renewed["commitmentEndDate"] == "2027-09-18T09:00:00Z"
    # "The seven day window starts precisely at this datetime of renewal completion"
    assert renewed["cancellationAllowedUntilDate"] == "2026-09-26T04:00:00Z"
    headers = await user_headers_for(client)
    accepted = await patch_subscription(client, headers, CONTOSO_PHARMA, renewed, autoRenewEnabled=False)
    assert accepted.status == 200


async def test_the_renewal_processing_delay_is_a_knob(make_client):
    from pc_sandbox.subscription_rules import SubscriptionLifecycle

    client = await make_client(lifecycle=SubscriptionLifecycle(renewal_processing=timedelta(hours=20)))
    nce = await _nce(client, CONTOSO_PHARMA)
    await _clock_set(client, "2026-09-19T19:00:00Z")
    headers = await user_headers_for(client)
    current = await _by_id(client, CONTOSO_PHARMA, nce["id"])
    assert (await patch_subscription(client, headers, CONTOSO_PHARMA, current, autoRenewEnabled=False)).status == 409
    await _clock_set(client, "2026-09-19T20:00:00Z")
    renewed = await _by_id(client, CONTOSO_PHARMA, nce["id"])
    assert renewed["cancellationAllowedUntilDate"] == "2026-09-26T20:00:00Z"


# ---- Partial PATCH bodies ----


async def test_a_patch_body_without_auto_renew_turns_auto_renew_off(client, user_headers):
    nce = await _nce(client, CONTOSO_PHARMA)
    assert nce["autoRenewEnabled"] is True
    response = await client.patch(
        f"/v1/customers/{CONTOSO_PHARMA}/subscriptions/{nce['id']}",
        json={"id": nce["id"], "status": "active"},
        headers={**user_headers, "If-Match": f'"{nce["attributes"]["etag"]}"'},
    )
    assert response.status == 200
    # "If these attributes are not provided, autoRenewEnabled will inadvertently get set to false"
    assert (await response.json())["autoRenewEnabled"] is False
    assert (await _by_id(client, CONTOSO_PHARMA, nce["id"]))["autoRenewEnabled"] is False


async def test_a_full_patch_body_keeps_auto_renew(client, user_headers):
    nce = await _nce(client, CONTOSO_PHARMA)
    response = await patch_subscription(client, user_headers, CONTOSO_PHARMA, nce, friendlyName="Renamed")
    assert response.status == 200 and (await response.json())["autoRenewEnabled"] is True


async def test_a_portal_suspension_of_new_commerce_also_turns_auto_renew_off(client):
    nce = await _nce(client, CONTOSO_PHARMA)
    response = await client.post(f"/_sandbox/customers/{CONTOSO_PHARMA}/subscriptions/{nce['id']}/suspend")
    assert response.status < 300, await response.text()
    suspended = await _by_id(client, CONTOSO_PHARMA, nce["id"])
    assert suspended["status"] == "suspended" and suspended["autoRenewEnabled"] is False
