"""The authorize endpoint, sign-in and MFA pages, PKCE and the authorization_code grant, over HTTP."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import msal
import pytest

from pc_sandbox import DEMO, running_sandbox

from ._signin import (
    REDIRECT_URI,
    TOKEN_URL,
    Pkce,
    authorize_query,
    claims,
    flow_id,
    redeem,
    redirect_query,
    sign_in,
)
from .test_msal import certificate_authority, http_session, server_ssl  # noqa: F401 (fixtures)


async def test_sign_in_with_mfa_gives_a_code_whose_tokens_carry_amr_mfa(client, clock):
    pkce = Pkce.new()
    page = await client.get(authorize_query(pkce, login_hint=DEMO.username), allow_redirects=False)
    text = await page.text()
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    # Entra's element ids, and the login hint filled in.
    for element in ('id="i0116"', 'id="i0118"', 'id="idSIButton9"', f'value="{DEMO.username}"'):
        assert element in text
    flow = flow_id(text)
    mfa_page = await client.post(f"/{DEMO.tenant}/login", data={"flow": flow, "login": DEMO.username, "passwd": DEMO.password})
    mfa_text = await mfa_page.text()
    assert 'id="idTxtBx_SAOTCC_OTC"' in mfa_text and 'id="idSubmit_SAOTCC_Continue"' in mfa_text
    assert "the code is 123456" in mfa_text
    wrong = await client.post(f"/{DEMO.tenant}/SAS/ProcessAuth", data={"flow": flow, "otc": "000000"}, allow_redirects=False)
    assert wrong.status == 200 and "expected verification code" in await wrong.text()
    done = await client.post(f"/{DEMO.tenant}/SAS/ProcessAuth", data={"flow": flow, "otc": DEMO.mfa_code}, allow_redirects=False)
    assert done.status == 302
    query = redirect_query(done.headers["Location"])
    assert query["state"] == "state-123"

    answer = await redeem(client, query["code"], pkce.verifier)
    assert answer.status == 200, await answer.text()
    body = await answer.json()
    assert body["token_type"] == "Bearer" and body["refresh_token"] != DEMO.refresh_token
    assert body["scope"] == "https://api.partnercenter.microsoft.com/user_impersonation"
    id_claims = claims(body["id_token"])
    # Entra's v2.0 ID tokens carry no amr (id-token-claims-reference); the access token does.
    assert "amr" not in id_claims
    access_claims = claims(body["access_token"])
    assert access_claims["amr"] == ["pwd", "mfa"]
    assert access_claims["tid"] == DEMO.partner_tenant_id and access_claims["oid"] == DEMO.user_object_id
    assert access_claims["aud"] == "https://api.partnercenter.microsoft.com"
    assert id_claims["nonce"] == "nonce-456"
    assert id_claims["preferred_username"] == DEMO.username and id_claims["oid"] == DEMO.user_object_id
    assert id_claims["tid"] == DEMO.partner_tenant_id and id_claims["name"] == DEMO.display_name
    assert id_claims["auth_time"] == id_claims["iat"] == int(clock.now().timestamp())
    assert "client_info" in body
    # The access token is an app+user Partner Center token: an app+user-only call accepts it.
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await client.get("/v1/customers/relationshiprequests", headers=headers)).status == 200


async def test_without_user_mfa_there_is_no_mfa_page_and_amr_is_pwd_only(make_client):
    client = await make_client(user_mfa=False, mfa_enforced=True)
    pkce = Pkce.new()
    query = await sign_in(client, pkce, mfa=False)
    body = await (await redeem(client, query["code"], pkce.verifier)).json()
    assert claims(body["access_token"])["amr"] == ["pwd"] and "amr" not in claims(body["id_token"])
    refused = await client.get("/v1/customers/relationshiprequests", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert refused.status == 401 and (await refused.json())["code"] == 900421


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "no code_challenge"),
        ({"code_challenge_method": "plain"}, "S256; got 'plain'"),
        ({"code_challenge_method": None}, "S256; got 'plain (default)'"),
        ({"code_challenge": "too-short"}, "AADSTS501491"),
    ],
)
async def test_authorize_without_pkce_s256_is_refused_with_a_redirect(client, overrides, words):
    answer = await client.get(authorize_query(Pkce.new(), **overrides), allow_redirects=False)
    assert answer.status == 302
    query = redirect_query(answer.headers["Location"])
    assert query["error"] == "invalid_request" and query["state"] == "state-123"
    assert query["error_description"].startswith("AADSTS") and words in query["error_description"]
    assert "code" not in query


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"client_id": "someone-else"}, "AADSTS700016"),
        ({"redirect_uri": "https://attacker.example/callback"}, "AADSTS50011"),
        ({"redirect_uri": "http://localhost/callback"}, "AADSTS50011"),  # loopback needs a port
        ({"redirect_uri": "http://127.0.0.1.attacker.example:8080/"}, "AADSTS50011"),
    ],
)
async def test_unknown_client_or_unregistered_redirect_gets_an_error_page_never_a_redirect(client, overrides, code):
    answer = await client.get(authorize_query(Pkce.new(), **overrides), allow_redirects=False)
    assert answer.status == 400 and "Location" not in answer.headers
    assert f'<p id="errorCode">{code}</p>' in await answer.text()


async def test_both_loopback_hosts_are_registered(client):
    for uri in ("http://127.0.0.1:8400/", "http://localhost:1/cb?x=1"):
        assert (await client.get(authorize_query(Pkce.new(), redirect_uri=uri), allow_redirects=False)).status == 200


async def test_wrong_password_or_user_stays_on_the_sign_in_page_with_the_error(client):
    flow = flow_id(await (await client.get(authorize_query(Pkce.new()))).text())
    wrong = await client.post(
        f"/{DEMO.tenant}/login", data={"flow": flow, "login": DEMO.username, "passwd": "guess"}, allow_redirects=False
    )
    text = await wrong.text()
    assert wrong.status == 200 and re.search(r'id="passwordError"[^>]*>Your account or password is incorrect', text)
    assert 'id="idTxtBx_SAOTCC_OTC"' not in text
    stranger = await client.post(f"/{DEMO.tenant}/login", data={"flow": flow, "login": "eve@example.com", "passwd": DEMO.password})
    assert re.search(r'id="usernameError"[^>]*>This username may be incorrect', await stranger.text())
    # The MFA step cannot be reached without the password.
    skipped = await client.post(f"/{DEMO.tenant}/SAS/ProcessAuth", data={"flow": flow, "otc": DEMO.mfa_code}, allow_redirects=False)
    assert skipped.status == 400 and "AADSTS50058" in await skipped.text()


async def test_reflected_input_is_escaped(client):
    page = await client.get(authorize_query(Pkce.new(), login_hint='"><script>alert(1)</script>'))
    text = await page.text()
    assert "<script>" not in text and "&lt;script&gt;" in text


async def test_code_grant_checks_the_verifier_single_use_redirect_and_lifetime(client, clock):
    pkce = Pkce.new()
    code = (await sign_in(client, pkce))["code"]
    mismatch = await redeem(client, code, Pkce.new().verifier)
    body = await mismatch.json()
    assert mismatch.status == 400 and body["error"] == "invalid_grant" and body["error_codes"] == [501481]
    assert body["error_description"].startswith(
        "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request"
    )
    # A code is spent by its first redemption, even a failed one.
    again = await (await redeem(client, code, pkce.verifier)).json()
    assert again["error_codes"] == [54005]

    code = (await sign_in(client, pkce))["code"]
    other_redirect = await (await redeem(client, code, pkce.verifier, redirect_uri="http://localhost:1/other")).json()
    assert other_redirect["error"] == "invalid_grant" and "redirect_uri" in other_redirect["error_description"]

    code = (await sign_in(client, pkce))["code"]
    clock.advance(timedelta(minutes=10, seconds=1))
    expired = await (await redeem(client, code, pkce.verifier)).json()
    assert expired["error"] == "invalid_grant" and expired["error_codes"] == [70008]

    code = (await sign_in(client, pkce))["code"]
    no_verifier = await client.post(
        TOKEN_URL,
        data={
            "grant_type": "authorization_code",
            "client_id": DEMO.client_id,
            "client_secret": DEMO.client_secret,
            "code": code,
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert (await no_verifier.json())["error_codes"] == [501481]


async def test_code_grant_needs_client_authentication(client):
    pkce = Pkce.new()
    code = (await sign_in(client, pkce))["code"]
    answer = await client.post(
        TOKEN_URL,
        data={
            "grant_type": "authorization_code",
            "client_id": DEMO.client_id,
            "client_secret": "wrong",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce.verifier,
        },
    )
    assert answer.status == 401 and (await answer.json())["error"] == "invalid_client"


async def test_msal_auth_code_flow_against_the_sandbox(server_ssl, http_session):
    """MSAL's own initiate_auth_code_flow / acquire_token_by_auth_code_flow (PKCE, nonce, state)."""
    async with running_sandbox(ssl_context=server_ssl) as sandbox:

        def consent() -> tuple[dict, list]:
            app = msal.ConfidentialClientApplication(
                DEMO.client_id,
                client_credential=DEMO.client_secret,
                authority=f"{sandbox.base_url}/{DEMO.tenant}",
                http_client=http_session,
                instance_discovery=False,
            )
            flow = app.initiate_auth_code_flow(
                ["https://api.partnercenter.microsoft.com/user_impersonation"],
                redirect_uri="http://localhost:8400/",
                login_hint=DEMO.username,
                response_mode="form_post",
            )
            page = http_session.get(flow["auth_uri"])
            assert page.status_code == 200, page.text
            form = {"flow": flow_id(page.text), "login": DEMO.username, "passwd": DEMO.password}
            origin = sandbox.base_url
            http_session.post(f"{origin}/{DEMO.tenant}/login", data=form)
            done = http_session.post(
                f"{origin}/{DEMO.tenant}/SAS/ProcessAuth", data={"flow": form["flow"], "otc": DEMO.mfa_code}, allow_redirects=False
            )
            # form_post: a page whose form POSTs code and state to the redirect URI.
            assert done.status_code == 200 and 'action="http://localhost:8400/"' in done.text, done.text
            auth_response = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', done.text))
            result = app.acquire_token_by_auth_code_flow(flow, auth_response)
            return result, app.get_accounts()

        result, accounts = await asyncio.to_thread(consent)
        http_session.close()
    assert "access_token" in result, result
    assert "amr" not in result["id_token_claims"]
    assert claims(result["access_token"])["amr"] == ["pwd", "mfa"]
    assert [account["username"] for account in accounts] == [DEMO.username]
