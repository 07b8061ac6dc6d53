"""Rotating refresh tokens, the 90-day inactivity lapse on the sandbox clock, revocation and MFA demands."""

from __future__ import annotations

from datetime import timedelta

from pc_sandbox import DEMO
from pc_sandbox.state import STATE

from ._signin import Pkce, claims, consent, redeem, refresh, sign_in


async def _refused(client, refresh_token: str) -> dict:
    answer = await refresh(client, refresh_token)
    assert answer.status == 400, await answer.text()
    return await answer.json()


async def test_every_redemption_rotates_and_the_old_token_keeps_working(client):
    first = (await consent(client))["refresh_token"]
    second = (await (await refresh(client, first)).json())["refresh_token"]
    third = (await (await refresh(client, second)).json())["refresh_token"]
    assert len({first, second, third}) == 3
    # Entra does not document revoking the redeemed token: it stays valid until its own lapse.
    assert (await refresh(client, first)).status == 200


async def test_ninety_idle_days_lapse_a_token_with_aadsts700082_but_use_slides_the_window(client, clock):
    first = (await consent(client))["refresh_token"]
    clock.advance(timedelta(days=80))
    rotated = await (await refresh(client, first)).json()  # used on day 80: the new one lives to day 170
    assert "mfa" in claims(rotated["access_token"])["amr"]
    clock.advance(timedelta(days=11))  # day 91
    lapsed = await _refused(client, first)
    assert lapsed["error"] == "invalid_grant" and lapsed["error_codes"] == [700082]
    assert lapsed["error_description"].startswith("AADSTS700082: The refresh token has expired due to inactivity.")
    assert (await refresh(client, rotated["refresh_token"])).status == 200
    clock.advance(timedelta(days=90))
    assert (await _refused(client, rotated["refresh_token"]))["error_codes"] == [700082]


async def test_the_seeded_token_does_not_lapse_by_default(client, clock):
    clock.advance(timedelta(days=400))
    body = await (await refresh(client, DEMO.refresh_token)).json()
    clock.advance(timedelta(days=400))
    assert (await refresh(client, body["refresh_token"])).status == 200


async def test_the_seeded_token_lapses_when_asked(make_client, clock):
    client = await make_client(seeded_refresh_token_lapses=True)
    clock.advance(timedelta(days=89))
    assert (await refresh(client, DEMO.refresh_token)).status == 200
    clock.advance(timedelta(days=1))
    assert (await _refused(client, DEMO.refresh_token))["error_codes"] == [700082]


async def test_revoking_sign_in_sessions_refuses_every_earlier_token_with_aadsts50173(client):
    consented = (await consent(client))["refresh_token"]
    revoked = await client.post("/_sandbox/entra/revokeSignInSessions")
    assert revoked.status == 200 and "refreshTokensValidFrom" in await revoked.json()
    for token in (consented, DEMO.refresh_token):
        body = await _refused(client, token)
        assert body["error"] == "invalid_grant" and body["error_codes"] == [50173]
        assert body["error_description"].startswith("AADSTS50173: The provided grant has expired due to it being revoked")
    # A new sign-in after the revocation works (same frozen instant: ordered by sequence).
    fresh = (await consent(client))["refresh_token"]
    assert (await refresh(client, fresh)).status == 200
    status = await (await client.get("/_sandbox/entra")).json()
    assert [item["revoked"] for item in status["refreshTokens"]].count(False) >= 1
    assert fresh not in str(status) and DEMO.refresh_token not in str(status)  # dates only, never values
    # A reset goes back to the seed: the seeded token works again.
    await client.post("/_sandbox/reset")
    assert (await refresh(client, DEMO.refresh_token)).status == 200


async def test_an_mfa_demand_answers_interaction_required_until_a_new_mfa_sign_in(client):
    earlier = (await consent(client))["refresh_token"]
    assert (await client.post("/_sandbox/entra/requireMfa")).status == 200
    for token in (earlier, DEMO.refresh_token):
        body = await _refused(client, token)
        assert body["error"] == "interaction_required" and body["error_codes"] == [50076]
        assert body["error_description"].startswith("AADSTS50076:")
    again = await consent(client)
    assert claims(again["access_token"])["amr"] == ["pwd", "mfa"]
    assert (await refresh(client, again["refresh_token"])).status == 200


async def test_an_mfa_demand_is_not_met_by_a_sign_in_without_mfa(make_client):
    client = await make_client(user_mfa=False)
    await client.post("/_sandbox/entra/requireMfa")
    pkce = Pkce.new()
    answer = await redeem(client, (await sign_in(client, pkce, mfa=False))["code"], pkce.verifier)
    body = await answer.json()
    assert answer.status == 400 and body["error"] == "interaction_required" and body["error_codes"] == [50076]


async def test_a_refresh_token_of_another_client_is_refused(client):
    store = client.server.app[STATE].refresh_tokens
    other = store.issue(store.sign_in(client_id="other-app", mfa=True))
    assert (await _refused(client, other.value))["error"] == "invalid_grant"
