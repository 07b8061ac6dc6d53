"""MSAL acquiring Graph tokens from the sandbox the way the client does: the same refresh token,
the partner authority for GDAP relationships and a customer's authority for its tenant."""

from __future__ import annotations

import asyncio

import msal

from pc_sandbox import DEMO, running_sandbox

from ._helpers import FABRIKAM
from .test_msal import certificate_authority, http_session, server_ssl  # noqa: F401 (fixtures)

GRAPH = ["https://graph.microsoft.com/.default"]


async def test_msal_graph_tokens_for_partner_and_customer_tenants(server_ssl, http_session):
    async with running_sandbox(ssl_context=server_ssl) as sandbox:

        def call() -> tuple[int, int, int, int]:
            def app(tenant: str) -> msal.ConfidentialClientApplication:
                return msal.ConfidentialClientApplication(
                    DEMO.client_id,
                    client_credential=DEMO.client_secret,
                    authority=f"{sandbox.base_url}/{tenant}",
                    http_client=http_session,
                    instance_discovery=False,
                )

            partner = app(DEMO.tenant).acquire_token_by_refresh_token(DEMO.refresh_token, scopes=GRAPH)
            customer = app(FABRIKAM).acquire_token_by_refresh_token(DEMO.refresh_token, scopes=GRAPH)
            assert "access_token" in partner, partner
            assert "access_token" in customer, customer
            assert customer["id_token_claims"]["tid"] == FABRIKAM

            def get(path: str, token: str) -> int:
                return http_session.get(f"{sandbox.base_url}{path}", headers={"Authorization": f"Bearer {token}"}).status_code

            relationships = "/graph/v1.0/tenantRelationships/delegatedAdminRelationships"
            return (
                get(relationships, partner["access_token"]),
                get("/graph/v1.0/organization", customer["access_token"]),
                get("/graph/v1.0/organization", partner["access_token"]),
                get("/v1/customers", partner["access_token"]),
            )

        statuses = await asyncio.to_thread(call)
        http_session.close()
        assert statuses == (200, 200, 401, 401)
