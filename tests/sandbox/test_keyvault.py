"""The Key Vault stand-in over TLS: its REST wire format, the 401 challenge, RBAC, and the real SDK."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msal
import pytest
import requests
import trustme
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.pipeline.transport import RequestsTransport
from azure.keyvault.secrets import SecretClient

from partner_center.auth import LoopbackRouter
from pc_sandbox import DEMO, running_sandbox
from pc_sandbox.server import RunningSandbox

from .test_msal import certificate_authority, http_session, server_ssl  # noqa: F401 (fixtures)

API = "api-version=7.5"
VAULT_SCOPE = "https://vault.azure.net/.default"
# The made-up vault name the SDK is given: a *.vault.azure.net host keeps its challenge-resource
# check on; LoopbackRouter sends it to the sandbox's socket.
VAULT_URL = "https://offboard-sandbox.vault.azure.net"


@pytest.fixture
def client_ssl(certificate_authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    certificate_authority.configure_trust(context)
    return context


@pytest.fixture
async def vault(server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext) -> AsyncIterator[tuple[RunningSandbox, aiohttp.ClientSession]]:
    async with running_sandbox(ssl_context=server_ssl) as sandbox:
        connector = aiohttp.TCPConnector(ssl=client_ssl)
        async with aiohttp.ClientSession(sandbox.base_url, connector=connector) as session:
            yield sandbox, session


async def _token(session: aiohttp.ClientSession, scope: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": DEMO.client_id, "client_secret": DEMO.client_secret, "scope": scope}
    async with session.post(f"/{DEMO.tenant}/oauth2/v2.0/token", data=form) as answer:
        assert answer.status == 200, await answer.text()
        return (await answer.json())["access_token"]


async def _headers(session: aiohttp.ClientSession) -> dict[str, str]:
    return {"Authorization": f"Bearer {await _token(session, VAULT_SCOPE)}"}


async def test_no_token_gets_the_challenge_naming_the_tenant_and_the_vault_resource(vault):
    sandbox, session = vault
    async with session.get(f"/secrets/anything?{API}") as answer:
        assert answer.status == 401
        assert answer.headers["WWW-Authenticate"] == (
            f'Bearer authorization="{sandbox.base_url}/{DEMO.partner_tenant_id}", resource="https://vault.azure.net"'
        )
        assert (await answer.json())["error"]["code"] == "Unauthorized"


async def test_set_get_versions_round_trip_in_key_vault_shape(vault):
    sandbox, session = vault
    headers = await _headers(session)
    body = {"value": "cache-1", "contentType": "application/json", "tags": {"redeemed-at": "2026-03-02T09:00:00Z", "mfa": "true"}}
    async with session.put(f"/secrets/partner-center-token-cache?{API}", json=body, headers=headers) as answer:
        assert answer.status == 200, await answer.text()
        first = await answer.json()
    assert first["value"] == "cache-1" and first["contentType"] == "application/json" and first["tags"]["mfa"] == "true"
    prefix = f"{sandbox.base_url}/secrets/partner-center-token-cache/"
    assert first["id"].startswith(prefix) and len(first["id"].removeprefix(prefix)) == 32
    attributes = first["attributes"]
    assert attributes["enabled"] is True and attributes["recoveryLevel"] == "Recoverable+Purgeable" and attributes["recoverableDays"] == 90
    assert isinstance(attributes["created"], int) and attributes["created"] == attributes["updated"]

    async with session.put(f"/secrets/partner-center-token-cache?{API}", json={"value": "cache-2"}, headers=headers) as answer:
        second = await answer.json()
    async with session.get(f"/secrets/Partner-Center-Token-Cache?{API}", headers=headers) as answer:  # names ignore case
        assert (await answer.json())["value"] == "cache-2"
    first_version = first["id"].rsplit("/", 1)[1]
    async with session.get(f"/secrets/partner-center-token-cache/{first_version}?{API}", headers=headers) as answer:
        assert (await answer.json())["value"] == "cache-1"
    async with session.get(f"/secrets/partner-center-token-cache/versions?{API}", headers=headers) as answer:
        listed = await answer.json()
    assert listed["nextLink"] is None
    assert [item["id"] for item in listed["value"]] == [first["id"], second["id"]]
    assert all("value" not in item for item in listed["value"])


async def test_unknown_secret_missing_api_version_and_bad_input(vault):
    _, session = vault
    headers = await _headers(session)
    async with session.get(f"/secrets/partner-center-certificate?{API}", headers=headers) as answer:
        assert answer.status == 404
        error = (await answer.json())["error"]
        assert error["code"] == "SecretNotFound"
        assert error["message"].startswith("A secret with (name/id) partner-center-certificate was not found in this key vault.")
    async with session.get("/secrets/partner-center-certificate", headers=headers) as answer:
        assert answer.status == 400 and (await answer.json())["error"]["code"] == "BadParameter"
    async with session.put(f"/secrets/bad_name?{API}", json={"value": "x"}, headers=headers) as answer:
        assert answer.status == 400
    async with session.put(f"/secrets/ok?{API}", json={"contentType": "text/plain"}, headers=headers) as answer:
        assert answer.status == 400 and "value" in (await answer.json())["error"]["message"]


async def test_a_token_for_another_resource_is_401_and_an_identity_without_the_role_is_403(vault):
    _, session = vault
    partner_center = {"Authorization": f"Bearer {await _token(session, 'https://api.partnercenter.microsoft.com/.default')}"}
    async with session.get(f"/secrets/x?{API}", headers=partner_center) as answer:
        assert answer.status == 401 and "AKV10022: Invalid audience" in (await answer.json())["error"]["message"]
        assert "WWW-Authenticate" in answer.headers

    headers = await _headers(session)
    async with session.put("/_sandbox/keyvault/role", json={"assigned": False}) as answer:
        assert (await answer.json()) == {"assigned": False}
    async with session.put(f"/secrets/x?{API}", json={"value": "v"}, headers=headers) as answer:
        assert answer.status == 403
        error = (await answer.json())["error"]
        assert error["code"] == "Forbidden" and error["innererror"] == {"code": "ForbiddenByRbac"}
        assert "Microsoft.KeyVault/vaults/secrets/setSecret/action" in error["message"]
    await session.post("/_sandbox/reset")  # gives the role back
    async with session.put(f"/secrets/x?{API}", json={"value": "v"}, headers=headers) as answer:
        assert answer.status == 200
    async with session.get("/_sandbox/keyvault/secrets") as answer:
        listed = (await answer.json())["items"]
    assert [(item["name"], item["versions"]) for item in listed] == [("x", 1)] and "value" not in listed[0]


async def test_plain_http_is_refused():
    async with running_sandbox() as sandbox, aiohttp.ClientSession(sandbox.base_url) as session:
        async with session.get(f"/secrets/x?{API}") as answer:
            assert answer.status == 400 and "HTTPS only" in (await answer.json())["error"]["message"]


class _SandboxCredential:
    """A TokenCredential whose tokens come from the sandbox's token endpoint (MSAL client credentials)."""

    def __init__(self, base_url: str, session: requests.Session) -> None:
        self._app = msal.ConfidentialClientApplication(
            DEMO.client_id,
            client_credential=DEMO.client_secret,
            authority=f"{base_url}/{DEMO.tenant}",
            http_client=session,
            instance_discovery=False,
        )
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.append(scopes)
        result = self._app.acquire_token_for_client(scopes=list(scopes))
        assert "access_token" in result, result
        return AccessToken(result["access_token"], int(time.time()) + int(result["expires_in"]))


async def test_the_azure_sdk_secret_client_sets_and_reads_through_the_challenge(server_ssl, http_session, certificate_authority, tmp_path):
    ca_file = tmp_path / "vault-ca.pem"
    certificate_authority.cert_pem.write_to_path(str(ca_file))
    async with running_sandbox(ssl_context=server_ssl) as sandbox:
        router = LoopbackRouter({VAULT_URL: sandbox.base_url})
        # One connection per request, closed by the server: an idle keep-alive TLS connection left
        # to the server's shutdown is reported unclosed when it is collected after the loop ends.
        router.headers["Connection"] = "close"
        http_session.headers["Connection"] = "close"

        def use_the_vault() -> tuple[Any, ...]:
            # Built in the worker thread: MSAL's constructor fetches the OpenID configuration
            # synchronously from the sandbox, which runs on the test's event loop.
            credential = _SandboxCredential(sandbox.base_url, http_session)
            client = SecretClient(
                vault_url=VAULT_URL + "/",
                credential=credential,
                transport=RequestsTransport(session=router, session_owner=False, connection_verify=str(ca_file)),
            )  # verify_challenge_resource stays on (the default)
            first = client.set_secret("partner-center-token-cache", "cache-1", content_type="application/json", tags={"mfa": "true"})
            second = client.set_secret("partner-center-token-cache", "cache-2", tags={"mfa": "true", "redeemed-at": "2026-03-02T09:00:00Z"})
            latest = client.get_secret("partner-center-token-cache")
            older = client.get_secret("partner-center-token-cache", first.properties.version)
            versions = sorted(item.version for item in client.list_properties_of_secret_versions("partner-center-token-cache"))
            missing = denied = None  # (status, text): exceptions kept would hold the SDK's frames
            try:
                client.get_secret("partner-center-client-secret")
            except ResourceNotFoundError as error:
                missing = (error.status_code, str(error))
            http_session.put(f"{sandbox.base_url}/_sandbox/keyvault/role", json={"assigned": False}).raise_for_status()
            try:
                client.get_secret("partner-center-token-cache")
            except HttpResponseError as error:
                denied = (error.status_code, str(error))
            client.close()
            return credential, first, second, latest, older, versions, missing, denied

        credential, first, second, latest, older, versions, missing, denied = await asyncio.to_thread(use_the_vault)
        router.close()  # before the server stops: no half-closed TLS connection left behind
        http_session.close()
        await asyncio.sleep(0.1)  # lets the server see those connections close
    assert latest.value == "cache-2" and latest.properties.tags == {"mfa": "true", "redeemed-at": "2026-03-02T09:00:00Z"}
    assert latest.properties.vault_url == VAULT_URL and latest.properties.version == second.properties.version
    assert older.value == "cache-1" and older.properties.content_type == "application/json"
    assert versions == sorted([first.properties.version, second.properties.version])
    assert missing is not None and missing[0] == 404 and "SecretNotFound" in missing[1]
    assert denied is not None and denied[0] == 403 and "ForbiddenByRbac" in denied[1]
    # The SDK asked its credential for the resource named in the sandbox's challenge.
    assert credential.scopes and set(credential.scopes) == {(VAULT_SCOPE,)}
