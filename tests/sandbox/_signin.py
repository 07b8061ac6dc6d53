"""Driving the sandbox's sign-in pages over plain HTTP, as a browser would, and reading tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aiohttp.test_utils import TestClient

from pc_sandbox import DEMO

REDIRECT_URI = "http://localhost:53123/callback"
DELEGATED_SCOPE = "https://api.partnercenter.microsoft.com/user_impersonation offline_access openid profile"
TOKEN_URL = f"/{DEMO.tenant}/oauth2/v2.0/token"
_FLOW = re.compile(r'name="flow" value="([^"]+)"')


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        return cls(verifier, challenge)


def authorize_query(pkce: Pkce | None, **overrides: str | None) -> str:
    query: dict[str, str | None] = {
        "client_id": DEMO.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": DELEGATED_SCOPE,
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": pkce.challenge if pkce else None,
        "code_challenge_method": "S256" if pkce else None,
    }
    query.update(overrides)
    return f"/{DEMO.tenant}/oauth2/v2.0/authorize?" + urlencode({key: value for key, value in query.items() if value is not None})


def flow_id(page: str) -> str:
    match = _FLOW.search(page)
    assert match, page
    return match.group(1)


def redirect_query(location: str) -> dict[str, str]:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI, location
    return {key: values[0] for key, values in parse_qs(parts.query).items()}


async def sign_in(client: TestClient, pkce: Pkce, *, mfa: bool = True, password: str = DEMO.password) -> dict[str, str]:
    """Authorize, password, MFA code: the query the browser is redirected with (code, state)."""
    page = await client.get(authorize_query(pkce), allow_redirects=False)
    assert page.status == 200, await page.text()
    flow = flow_id(await page.text())
    answer = await client.post(
        f"/{DEMO.tenant}/login", data={"flow": flow, "login": DEMO.username, "passwd": password}, allow_redirects=False
    )
    if mfa:
        assert answer.status == 200 and 'id="idTxtBx_SAOTCC_OTC"' in await answer.text()
        answer = await client.post(f"/{DEMO.tenant}/SAS/ProcessAuth", data={"flow": flow, "otc": DEMO.mfa_code}, allow_redirects=False)
    assert answer.status == 302, await answer.text()
    return redirect_query(answer.headers["Location"])


async def redeem(client: TestClient, code: str, verifier: str, *, redirect_uri: str = REDIRECT_URI) -> Any:
    return await client.post(
        TOKEN_URL,
        data={
            "grant_type": "authorization_code",
            "client_id": DEMO.client_id,
            "client_secret": DEMO.client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "scope": DELEGATED_SCOPE,
            "client_info": "1",
        },
    )


async def refresh(client: TestClient, refresh_token: str) -> Any:
    return await client.post(
        TOKEN_URL,
        data={
            "grant_type": "refresh_token",
            "client_id": DEMO.client_id,
            "client_secret": DEMO.client_secret,
            "refresh_token": refresh_token,
            "scope": DELEGATED_SCOPE,
        },
    )


async def consent(client: TestClient, *, mfa: bool = True) -> dict[str, Any]:
    """A full interactive consent: the token response of the code grant."""
    pkce = Pkce.new()
    answer = await redeem(client, (await sign_in(client, pkce, mfa=mfa))["code"], pkce.verifier)
    assert answer.status == 200, await answer.text()
    return await answer.json()


def claims(id_token: str) -> dict[str, Any]:
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
