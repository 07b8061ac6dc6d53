"""Partner Center's webhook registration on the sandbox, ``/webhooks/v1/registration``
(learn.microsoft.com/partner-center/developer/partner-center-webhooks): none at first (404),
registered with POST, read back, updated with PUT, deleted; app-only tokens accepted."""

from __future__ import annotations

from ._helpers import error_code

REGISTRATION = "/webhooks/v1/registration"
EVENTS_URL = "https://offboard.example.com/api/partnercenter/events"


async def test_none_at_first(client, app_headers):
    response = await client.get(REGISTRATION, headers=app_headers)
    assert response.status == 404
    assert error_code(await response.json()) == 1000


async def test_register_read_update_delete_with_an_app_only_token(client, app_headers):
    created = await client.post(
        REGISTRATION, json={"WebhookUrl": EVENTS_URL, "WebhookEvents": ["subscription-updated", "test-created"]}, headers=app_headers
    )
    assert created.status == 200, await created.text()
    body = await created.json()
    assert body["WebhookUrl"] == EVENTS_URL and body["WebhookEvents"] == ["subscription-updated", "test-created"]
    assert body["SubscriberId"]

    read = await client.get(REGISTRATION, headers=app_headers)
    assert read.status == 200 and (await read.json())["WebhookUrl"] == EVENTS_URL

    again = await client.post(REGISTRATION, json={"WebhookUrl": EVENTS_URL, "WebhookEvents": ["test-created"]}, headers=app_headers)
    assert again.status == 409  # one registration per partner: update it with PUT
    # camelCase, as the REST reference writes it, is accepted too.
    elsewhere = "https://elsewhere.example.com/hook"
    updated = await client.put(REGISTRATION, json={"webhookUrl": elsewhere, "webhookEvents": ["test-created"]}, headers=app_headers)
    assert updated.status == 200
    read = await (await client.get(REGISTRATION, headers=app_headers)).json()
    assert read["WebhookUrl"] == elsewhere and read["WebhookEvents"] == ["test-created"]

    deleted = await client.delete(REGISTRATION, headers=app_headers)
    assert deleted.status == 204
    assert (await client.get(REGISTRATION, headers=app_headers)).status == 404


async def test_update_without_a_registration_is_not_found(client, user_headers):
    response = await client.put(REGISTRATION, json={"WebhookUrl": EVENTS_URL, "WebhookEvents": ["test-created"]}, headers=user_headers)
    assert response.status == 404


async def test_a_body_without_url_or_events_is_refused(client, app_headers):
    for body in ({"WebhookEvents": ["test-created"]}, {"WebhookUrl": EVENTS_URL, "WebhookEvents": []}):
        response = await client.post(REGISTRATION, json=body, headers=app_headers)
        assert response.status == 400
    assert (await client.get(REGISTRATION, headers=app_headers)).status == 404


async def test_without_a_token_it_answers_401_and_is_logged(client):
    response = await client.get(REGISTRATION)
    assert response.status == 401
    logged = await (await client.get("/_sandbox/requests")).json()
    assert any(item["path"] == REGISTRATION and item["status"] == 401 for item in (logged if isinstance(logged, list) else logged["items"]))
