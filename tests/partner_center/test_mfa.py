"""MFA enforcement on app+user calls: 401/900421 gets its own error and no token-refresh retry
(issue 17, audit #13, §3.10). The sandbox's switch refuses app+user tokens whose sign-in had no
MFA (``amr`` without "mfa")."""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import pytest

from cards.errors import partner_center_error_card
from cards.words import error_lines
from partner_center import AuthError, PartnerCenterClient, Relationship
from partner_center.errors import MfaRequiredError, error_from_response
from pc_sandbox import SandboxOptions
from pc_sandbox.demo import DEMO
from pc_sandbox.state import STATE
from removal.case import ItemError
from tests._helpers import customer_named, sandbox_requests
from tests.dialogs.harness import card_text


@pytest.fixture
def sandbox_options() -> SandboxOptions:
    return SandboxOptions(mfa_enforced=True, user_mfa=False)


def test_401_900421_is_its_own_error() -> None:
    error = error_from_response(401, {"code": 900421, "description": "MFA required"}, correlation_id="", request_id="")
    assert isinstance(error, MfaRequiredError) and isinstance(error, AuthError)
    assert not isinstance(
        error_from_response(401, {"code": 400, "description": "Access denied"}, correlation_id="", request_id=""), MfaRequiredError
    )


async def test_app_user_call_without_mfa_fails_with_mfa_error_and_no_refresh(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    fabrikam = await customer_named(client, "Fabrikam Inc")  # app-only: MFA plays no part
    tokens = sandbox.app[STATE].tokens
    issued = tokens.issued_count
    with pytest.raises(MfaRequiredError) as refused:
        await client.remove_relationship(fabrikam.id, domain=fabrikam.domain)
    assert (refused.value.status, refused.value.code) == (401, "900421")
    # One app+user token, one PATCH: a fresh token from the same non-MFA sign-in cannot help.
    # (Before: the 401 dropped the token and asked for another: two tokens, two PATCHes.)
    assert tokens.issued_count - issued <= 2  # at most: the pre-read's app-only token + one app+user
    app_user = [t for t in tokens._tokens.values() if not t.app_only]
    assert len(app_user) == 1 and not app_user[0].mfa
    patches = [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    assert len(patches) == 1
    assert await client.read_relationship(fabrikam.id) is Relationship.RESELLER


@pytest.mark.parametrize(
    ("locale", "words"),
    [("en-US", "renewed by a person with MFA"), ("fr-FR", "renouvelé par une personne disposant de la MFA"), ("ru-RU", "человек с MFA")],
)
def test_the_mfa_refusal_has_its_own_message_in_three_languages(locale: str, words: str) -> None:
    error = error_from_response(401, {"code": 900421, "description": "MFA required"}, correlation_id="c1", request_id="r1")
    assert words in card_text(partner_center_error_card(error, locale=locale))
    assert any(words in line for line in error_lines(ItemError.from_error(error), locale))


async def test_with_an_mfa_sign_in_the_token_carries_amr_mfa_and_is_accepted(
    client: PartnerCenterClient, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    state = sandbox.app[STATE]
    state.options = SandboxOptions(mfa_enforced=True, user_mfa=True, clock=state.clock)
    url = await client.get_relationship_request_url()  # app+user
    assert url.startswith("https://admin.microsoft.com/")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": DEMO.refresh_token,
        "client_id": DEMO.client_id,
        "client_secret": DEMO.client_secret,
    }
    async with http.post(f"{sandbox.base_url}/{DEMO.partner_tenant_id}/oauth2/v2.0/token", data=form) as response:
        body = await response.json()
    payload = body["access_token"].split(".")[1]  # v2.0 ID tokens carry no amr: the access token does
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert "mfa" in claims["amr"]


async def test_without_mfa_the_access_token_has_no_mfa_claim(sandbox: Any, http: aiohttp.ClientSession) -> None:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": DEMO.refresh_token,
        "client_id": DEMO.client_id,
        "client_secret": DEMO.client_secret,
    }
    async with http.post(f"{sandbox.base_url}/{DEMO.partner_tenant_id}/oauth2/v2.0/token", data=form) as response:
        body = await response.json()
    payload = body["access_token"].split(".")[1]  # v2.0 ID tokens carry no amr: the access token does
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert "mfa" not in claims["amr"]
    async with http.get(
        f"{sandbox.base_url}/v1/customers/relationshiprequests", headers={"Authorization": f"Bearer {body['access_token']}"}
    ) as refused:
        assert refused.status == 401 and (await refused.json())["code"] == 900421
