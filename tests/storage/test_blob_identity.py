"""Blob storage through an identity's token, no key: what the bot does in Azure with its managed identity.

Entra cannot run here, so ``EntraStandInCredential`` (tests/_azurite.py) mints the tokens; Azurite
(``--oauth basic`` over HTTPS) checks their audience, issuer and lifetime as its source says, so a
token for the wrong service is refused by the emulator, not by this test. Azurite has no RBAC: the
deployment's per-container role (Storage Blob Data Contributor on the container, infra/main.bicep),
under which creating a container is refused with 403, is played by a small TLS stand-in answering
with Azure Storage's error XML.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Literal

import aiohttp
import pytest
import trustme
from aiohttp import web
from azure.storage.blob.aio import ContainerClient

from storage import BlobStore, open_store
from storage.blob import DATA_ROLE, BlobAccessDenied
from tests._azurite import Azurite, EntraStandInCredential, azurite_oauth  # noqa: F401  (the fixture, for pytest to find)

STORAGE_SCOPE = "https://storage.azure.com/.default"


def _container() -> str:
    return f"identity-{uuid.uuid4().hex[:20]}"


# ---- Against Azurite, with bearer tokens ----


async def test_the_store_works_through_the_identity_with_no_key(azurite_oauth: Azurite) -> None:
    container = _container()
    credential = EntraStandInCredential()
    store = BlobStore.with_identity(azurite_oauth.blob_endpoint, credential, container, ca_file=azurite_oauth.ca_file)
    try:
        etag = await store.write("cases/42", {"customer": "Contoso", "state": "approved"})
        assert await store.append("audit/42", {"event": "approved"}) == 1
        stored = await store.read("cases/42")
        assert stored is not None and stored.document == {"customer": "Contoso", "state": "approved"} and stored.etag == etag
        assert await store.list_keys("cases/") == ["cases/42"]
    finally:
        await store.close()
    # Every token asked for was Azure Storage's, and the store closed the credential it was given.
    assert credential.scopes and set(credential.scopes) == {(STORAGE_SCOPE,)}
    assert credential.closed
    # The data is really in the account (read back with the account key, as an operator would)...
    async with ContainerClient.from_connection_string(
        azurite_oauth.connection_string, container, connection_verify=str(azurite_oauth.ca_file)
    ) as operator:
        names = [name async for name in operator.list_blob_names()]
    assert any(name.startswith("documents/") for name in names) and any(name.startswith("streams/") for name in names)
    # ...and the token was what let the store in: without one, the same service refuses.
    context = ssl.create_default_context(cafile=str(azurite_oauth.ca_file))
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{azurite_oauth.blob_endpoint}/{container}?restype=container", ssl=context) as anonymous,
    ):
        assert anonymous.status == 403


async def test_a_credential_the_caller_keeps_is_not_closed_with_the_store(azurite_oauth: Azurite) -> None:
    credential = EntraStandInCredential()
    store = BlobStore.with_identity(
        azurite_oauth.blob_endpoint, credential, _container(), ca_file=azurite_oauth.ca_file, owns_credential=False
    )
    await store.write("k", {"v": 1})
    await store.close()
    assert not credential.closed


@pytest.mark.parametrize(
    ("credential", "reason"),
    [
        (EntraStandInCredential(audience="https://vault.azure.net"), "Invalid token audience"),
        (EntraStandInCredential(lifetime=-600), "Lifetime validation failed"),
    ],
    ids=["another audience", "expired"],
)
async def test_a_wrong_token_is_refused_with_a_clear_error(azurite_oauth: Azurite, credential: EntraStandInCredential, reason: str) -> None:
    container = _container()
    store = BlobStore.with_identity(azurite_oauth.blob_endpoint, credential, container, ca_file=azurite_oauth.ca_file)
    try:
        with pytest.raises(BlobAccessDenied) as refused:
            await store.read("cases/42")
    finally:
        await store.close()
    message = str(refused.value)
    assert f"Blob container {container!r}" in message and azurite_oauth.blob_endpoint in message
    assert reason in message and "https://storage.azure.com/" in message and "AZURE_CLIENT_ID" in message


def test_a_token_is_never_sent_over_plain_http() -> None:
    with pytest.raises(ValueError, match="must be https"):
        BlobStore.with_identity("http://offboard.blob.core.windows.net", EntraStandInCredential(), "cases")


def test_open_store_takes_the_account_url_and_the_credential() -> None:
    store = open_store(
        "blob", blob_account_url="https://offboard.blob.core.windows.net", blob_credential=EntraStandInCredential(), blob_container="cases"
    )
    assert isinstance(store, BlobStore) and "https://offboard.blob.core.windows.net/cases" in repr(store)
    with pytest.raises(ValueError, match="blob_credential"):
        open_store("blob", blob_account_url="https://offboard.blob.core.windows.net")
    with pytest.raises(ValueError, match="no blob_connection_string"):
        open_store(
            "blob",
            blob_account_url="https://offboard.blob.core.windows.net",
            blob_credential=EntraStandInCredential(),
            blob_connection_string="UseDevelopmentStorage=true",
        )


# ---- The per-container role: creating the container is not allowed ----

# Azure Storage's answer when an authenticated identity's role does not cover the operation
# (https://learn.microsoft.com/rest/api/storageservices/blob-service-error-codes).
_MISMATCH = ("AuthorizationPermissionMismatch", "This request is not authorized to perform this operation using this permission.")
_CONTAINER_NOT_FOUND = ("ContainerNotFound", "The specified container does not exist.")
_BLOB_NOT_FOUND = ("BlobNotFound", "The specified blob does not exist.")


@dataclass
class _RoleOnTheContainer:
    """A storage account where the identity holds Storage Blob Data Contributor on one container only.

    ``container``: "exists" (the deployment created it), "missing", or "no role" (the identity was
    never granted the role, or it is not the deployment's identity).
    """

    container: Literal["exists", "missing", "no role"]
    blobs: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path and query, Authorization scheme

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{account}/{container}", self._container)
        app.router.add_route("*", "/{account}/{container}/{blob:.+}", self._blob)
        return app

    def _note(self, request: web.Request) -> None:
        self.requests.append((request.method, request.path_qs, request.headers.get("Authorization", "").split(" ")[0]))

    async def _container(self, request: web.Request) -> web.Response:
        self._note(request)
        if request.method == "PUT":  # Create Container: containers/write at the account, not granted
            return _error(403, *_MISMATCH)
        if self.container == "no role":
            return _error(403, *_MISMATCH)
        if self.container == "missing":
            return _error(404, *_CONTAINER_NOT_FOUND)
        return web.Response(status=200, headers={"ETag": '"0x1"', "Last-Modified": _now(), "x-ms-version": "2025-11-05"})

    async def _blob(self, request: web.Request) -> web.Response:
        self._note(request)
        name = request.match_info["blob"]
        if self.container != "exists":
            return _error(403, *_MISMATCH) if self.container == "no role" else _error(404, *_CONTAINER_NOT_FOUND)
        if request.method == "PUT":
            self.blobs[name] = await request.read()
            return web.Response(status=201, headers={"ETag": f'"0x{len(self.blobs)}"', "Last-Modified": _now()})
        if name not in self.blobs:
            return _error(404, *_BLOB_NOT_FOUND)
        data = self.blobs[name]
        headers = {
            "ETag": f'"0x{list(self.blobs).index(name) + 1}"',
            "Last-Modified": _now(),
            "Content-Type": "application/json; charset=utf-8",
            "x-ms-blob-type": "BlockBlob",
            "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
        }
        return web.Response(status=206 if "x-ms-range" in request.headers else 200, body=data, headers=headers)


def _error(status: int, code: str, message: str) -> web.Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}\nRequestId:{uuid.uuid4()}\nTime:{datetime.now(UTC).isoformat()}</Message></Error>"
    )
    return web.Response(status=status, body=body.encode(), headers={"x-ms-error-code": code, "Content-Type": "application/xml"})


def _now() -> str:
    return format_datetime(datetime.now(UTC), usegmt=True)


@dataclass
class _Account:
    service: _RoleOnTheContainer
    url: str
    ca_file: Path


@pytest.fixture
async def role_on_the_container(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[_Account]:
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    service = _RoleOnTheContainer(request.param)
    runner = web.AppRunner(service.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield _Account(service, f"https://127.0.0.1:{port}/offboardstore", ca_file)
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("role_on_the_container", ["exists"], indirect=True)
async def test_a_refused_create_is_fine_when_the_deployment_made_the_container(role_on_the_container: _Account) -> None:
    account = role_on_the_container
    store = BlobStore.with_identity(account.url, EntraStandInCredential(), "cases", ca_file=account.ca_file)
    try:
        await store.write("cases/42", {"state": "approved"})
        stored = await store.read("cases/42")
    finally:
        await store.close()
    assert stored is not None and stored.document == {"state": "approved"}
    calls = account.service.requests
    assert ("PUT", "/offboardstore/cases?restype=container", "Bearer") in calls  # tried, refused with 403, carried on
    assert {scheme for _, _, scheme in calls} == {"Bearer"}  # a token on every request, never a key


@pytest.mark.parametrize(
    ("role_on_the_container", "expected"),
    [
        ("missing", "does not exist and this identity may not create it"),
        ("no role", "access denied (HTTP 403 AuthorizationPermissionMismatch)"),
    ],
    indirect=["role_on_the_container"],
    ids=["container missing", "no role on it"],
)
async def test_without_a_usable_container_the_first_operation_says_what_to_grant(role_on_the_container: _Account, expected: str) -> None:
    account = role_on_the_container
    store = BlobStore.with_identity(account.url, EntraStandInCredential(), "cases", ca_file=account.ca_file)
    try:
        with pytest.raises(BlobAccessDenied) as refused:
            await store.write("cases/42", {"state": "approved"})
    finally:
        await store.close()
    message = str(refused.value)
    assert expected in message and "Blob container 'cases'" in message and repr(DATA_ROLE) in message and "infra/main.bicep" in message
    assert not account.service.blobs and not [path for method, path, _ in account.service.requests if "/cases/" in path]
