"""MSAL itself against the sandbox, over HTTPS (MSAL accepts only https authorities)."""

from __future__ import annotations

import asyncio
import ssl

import msal
import pytest
import requests
import trustme
from cryptography.hazmat.primitives import serialization

from pc_sandbox import DEMO, SandboxOptions, running_sandbox
from pc_sandbox.state import STATE

from .test_certificate_credentials import _key_and_certificate

PARTNER_CENTER_APP_ONLY = ["https://api.partnercenter.microsoft.com/.default"]
PARTNER_CENTER_DELEGATED = ["https://api.partnercenter.microsoft.com/user_impersonation"]


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_ssl(certificate_authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def http_session(certificate_authority: trustme.CA, tmp_path):
    ca_file = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(ca_file))
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE (if set) would override `verify`
    session.verify = str(ca_file)
    yield session
    session.close()


def _app(base_url: str, session: requests.Session, credential) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        DEMO.client_id,
        client_credential=credential,
        authority=f"{base_url}/{DEMO.tenant}",
        http_client=session,
        instance_discovery=False,
    )


async def test_msal_client_credentials_and_refresh_token(server_ssl, http_session):
    async with running_sandbox(ssl_context=server_ssl) as sandbox:
        assert sandbox.base_url.startswith("https://127.0.0.1:")

        def acquire():
            app = _app(sandbox.base_url, http_session, DEMO.client_secret)
            app_only = app.acquire_token_for_client(scopes=PARTNER_CENTER_APP_ONLY)
            delegated = app.acquire_token_by_refresh_token(DEMO.refresh_token, scopes=PARTNER_CENTER_DELEGATED)
            accounts = app.get_accounts()
            silent = app.acquire_token_silent(PARTNER_CENTER_DELEGATED, account=accounts[0]) if accounts else None
            return app_only, delegated, accounts, silent

        app_only, delegated, accounts, silent = await asyncio.to_thread(acquire)
        http_session.close()  # before the server stops: no half-closed TLS connection left behind
        assert "access_token" in app_only, app_only
        assert "access_token" in delegated, delegated
        assert [account["username"] for account in accounts] == [DEMO.username]
        assert silent is not None and silent["access_token"] == delegated["access_token"]

        issued = sandbox.app[STATE].tokens  # each token remembers its kind
        assert issued.find(app_only["access_token"]).app_only is True
        assert issued.find(delegated["access_token"]).app_only is False


async def test_msal_certificate_credential(server_ssl, http_session):
    key, certificate = _key_and_certificate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    options = SandboxOptions(client_certificates={DEMO.client_id: certificate})
    async with running_sandbox(options=options, ssl_context=server_ssl) as sandbox:

        def acquire():
            credential = {"private_key": private_pem, "public_certificate": certificate}
            return _app(sandbox.base_url, http_session, credential).acquire_token_for_client(scopes=PARTNER_CENTER_APP_ONLY)

        result = await asyncio.to_thread(acquire)
        http_session.close()
        assert "access_token" in result, result
