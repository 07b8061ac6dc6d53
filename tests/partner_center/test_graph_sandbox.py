"""The Graph client and DAP removal against the embedded sandbox (its ``/graph/v1.0``), over loopback,
with real MSAL tokens: the partner tenant's for ``tenantRelationships``, each customer's for its
directory (one MSAL application per authority, one token cache).

The sandbox's demo data (``pc_sandbox/seed.json``, "graph"): Fabrikam has two active relationships
(one auto-extending), DAP, two partner guests, partner addresses in its contacts and a partner-owned
service principal; Contoso Ltd has a Microsoft-created ``MLT_`` relationship.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from partner_center import (
    GdapStatus,
    GraphClient,
    GraphPermissionError,
    PartnerCenterClient,
    PartnerCenterConfig,
    PartnerLimits,
    RateSettings,
    connect,
    connect_graph,
    token_provider,
)
from partner_center.graph import Needs
from tests._helpers import FAST_RETRY, sandbox_customer_id

PARTNER_TENANT = "7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34"
PARTNER_DOMAINS = ("sandbox-partner.onmicrosoft.com",)


@dataclass
class _Clients:
    partner_center: PartnerCenterClient
    graph: GraphClient
    http: aiohttp.ClientSession
    sandbox: Any


@pytest.fixture
async def clients(sandbox: Any, http: aiohttp.ClientSession) -> _Clients:
    config = PartnerCenterConfig.sandbox(sandbox.base_url)
    tokens = token_provider(config)  # one provider, one cache, for both clients
    limits = PartnerLimits(RateSettings())
    return _Clients(
        connect(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens),
        connect_graph(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens),
        http,
        sandbox,
    )


async def _tenant(clients: _Clients, name: str) -> str:
    return await sandbox_customer_id(clients.http, clients.sandbox, name)


async def test_the_sandbox_config_points_graph_at_the_sandbox(sandbox: Any) -> None:
    assert PartnerCenterConfig.sandbox(sandbox.base_url).graph_base_url == f"{sandbox.base_url}/graph/v1.0"


async def test_gdap_relationships_with_fabrikam_are_read(clients: _Clients) -> None:
    fabrikam = await _tenant(clients, "Fabrikam Inc")
    found = await clients.graph.relationships_with(fabrikam)
    assert {r.display_name for r in found} == {"Fabrikam - Offboard support", "Fabrikam - Tenant administration"}
    support = next(r for r in found if r.display_name == "Fabrikam - Offboard support")
    assert support.status is GdapStatus.ACTIVE and support.auto_extends is True and support.role_ids
    assert support.customer.tenant_id == fabrikam and support.end_date_time is not None and support.etag


async def test_a_microsoft_created_relationship_is_recognised(clients: _Clients) -> None:
    contoso = await _tenant(clients, "Contoso Ltd")
    [default] = await clients.graph.relationships_with(contoso)
    assert default.is_microsoft_default and default.auto_extends is False


async def test_terminating_reads_back_and_a_repeat_writes_nothing(clients: _Clients) -> None:
    fabrikam = await _tenant(clients, "Fabrikam Inc")
    support = next(r for r in await clients.graph.relationships_with(fabrikam) if r.status is GdapStatus.ACTIVE)
    done = await clients.graph.terminate(support.id)
    assert done.relationship.termination_underway and not done.already_ended and done.request is not None
    again = await clients.graph.terminate(support.id)
    assert again.already_ended and again.request is None


async def test_the_customer_tenant_is_cleaned_through_gdap(clients: _Clients) -> None:
    fabrikam = await _tenant(clients, "Fabrikam Inc")
    graph = clients.graph
    guests = await graph.partner_guests(fabrikam, PARTNER_DOMAINS)
    assert {g.display_name for g in guests} == {"Sandbox Partner Admin", "Partner Helpdesk"}
    for guest in guests:
        assert await graph.delete_user(fabrikam, guest.id) is True
    assert await graph.partner_guests(fabrikam, PARTNER_DOMAINS) == []
    assert await graph.delete_user(fabrikam, guests[0].id) is False

    [principal] = await graph.partner_service_principals(fabrikam, PARTNER_TENANT)
    assert principal.display_name == "Sandbox Partner Monitoring"
    assert await graph.delete_service_principal(fabrikam, principal.id) is True
    assert await graph.partner_service_principals(fabrikam, PARTNER_TENANT) == []

    cleanup = await graph.clear_partner_contacts(fabrikam, PARTNER_DOMAINS)
    assert cleanup.contacts.technical_notification_mails == ["it@fabrikam.com"]
    assert cleanup.contacts.security_compliance_notification_mails == []
    assert cleanup.contacts.marketing_notification_emails == ["marketing@fabrikam.com"]
    assert cleanup.contacts.privacy_profile is not None
    assert cleanup.contacts.privacy_profile.statement_url == "https://www.fabrikam.com/privacy"
    assert cleanup.contacts.partner_addresses(PARTNER_DOMAINS) == {}
    assert (await graph.clear_partner_contacts(fabrikam, PARTNER_DOMAINS)).removed == {}


async def test_a_missing_permission_names_what_the_call_needs(clients: _Clients) -> None:
    fabrikam = await _tenant(clients, "Fabrikam Inc")
    async with clients.http.delete(f"{clients.sandbox.base_url}/_sandbox/graph/permissions/User.ReadWrite.All") as response:
        assert response.status == 200
    guests = await clients.graph.partner_guests(fabrikam, PARTNER_DOMAINS)
    with pytest.raises(GraphPermissionError) as caught:
        await clients.graph.delete_user(fabrikam, guests[0].id)
    assert caught.value.code == "Authorization_RequestDenied" and caught.value.needs == Needs.DELETE_USERS


async def test_no_gdap_means_the_customer_tenant_cannot_be_read(clients: _Clients) -> None:
    pharma = await _tenant(clients, "Contoso Pharma")  # its only relationship is still 'created'
    with pytest.raises(GraphPermissionError) as caught:
        await clients.graph.organization_contacts(pharma)
    assert caught.value.needs == Needs.READ_ORGANIZATION


async def test_dap_is_removed_and_read_back(clients: _Clients) -> None:
    fabrikam = await _tenant(clients, "Fabrikam Inc")
    assert (await clients.partner_center.get_customer(fabrikam)).allow_delegated_access is True
    removed = await clients.partner_center.remove_dap(fabrikam)
    assert not removed.already_removed
    assert (await clients.partner_center.get_customer(fabrikam)).allow_delegated_access is False
    assert (await clients.partner_center.remove_dap(fabrikam)).already_removed
