"""What access the partner still has (``partner_center.access``), read from the embedded sandbox over
loopback: Fabrikam Inc has GDAP, DAP, partner guests, partner contact addresses and a partner-owned
app; Tailspin Toys has no GDAP. A part that cannot be read becomes an entry saying why, and nothing
else fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from partner_center import PartnerCenterClient, PartnerCenterConfig, PartnerLimits, RateSettings, connect, connect_graph, token_provider
from partner_center.access import (
    SANDBOX_PARTNER,
    AccessPart,
    PartnerAccessReader,
    PartnerIdentity,
    Unchecked,
    UncheckedReason,
    read_partner_access,
)
from partner_center.graph import GraphClient, Needs
from partner_center.graph_models import GdapStatus
from partner_center.retry import RetryPolicy
from tests._helpers import FAST_RETRY, sandbox_customer_id

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@dataclass
class _Reading:
    partner_center: PartnerCenterClient
    graph: GraphClient
    http: aiohttp.ClientSession
    sandbox: Any

    def reader(self, *, graph: GraphClient | None = None, partner: PartnerIdentity = SANDBOX_PARTNER) -> PartnerAccessReader:
        """The sandbox's Graph unless another client is given."""
        return PartnerAccessReader(self.partner_center, graph or self.graph, partner)

    async def tenant(self, name: str) -> str:
        return await sandbox_customer_id(self.http, self.sandbox, name)


@pytest.fixture
async def reading(sandbox: Any, http: aiohttp.ClientSession) -> _Reading:
    config = PartnerCenterConfig.sandbox(sandbox.base_url)
    tokens = token_provider(config)
    limits = PartnerLimits(RateSettings(requests_per_period=100_000, period_seconds=60, max_concurrency=32))
    return _Reading(
        connect(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens),
        connect_graph(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens),
        http,
        sandbox,
    )


async def test_fabrikam_shows_gdap_dap_guests_contacts_and_the_partners_app(reading: _Reading) -> None:
    inventory = await reading.reader().read(await reading.tenant("Fabrikam Inc"), now=NOW)
    assert inventory.unchecked == ()
    assert {entry.name for entry in inventory.gdap} == {"Fabrikam - Offboard support", "Fabrikam - Tenant administration"}
    support = next(entry for entry in inventory.gdap if entry.name == "Fabrikam - Offboard support")
    assert support.status is GdapStatus.ACTIVE and support.auto_extends is True and support.roles == 3
    assert inventory.dap is True
    assert len(inventory.guests) == 2
    assert all(guest.address.endswith("sandbox-partner.onmicrosoft.com") for guest in inventory.guests)
    assert {entry.where for entry in inventory.contacts} >= {"technicalNotificationMails", "privacyProfile.contactEmail"}
    assert len(inventory.service_principals) == 1
    assert inventory.found_any


async def test_pending_and_created_relationships_are_reported_and_ended_ones_are_not(reading: _Reading) -> None:
    retail = await reading.reader().read(await reading.tenant("Contoso Retail"), now=NOW)
    assert [(entry.name, entry.status) for entry in retail.gdap] == [("Contoso Retail - Awaiting approval", GdapStatus.APPROVAL_PENDING)]
    pharma = await reading.reader().read(await reading.tenant("Contoso Pharma"), now=NOW)
    assert [entry.status for entry in pharma.gdap] == [GdapStatus.CREATED]
    # Neither gives access yet: the customer's tenant cannot be read through them.
    assert {entry.part for entry in pharma.unchecked} == {AccessPart.GUESTS, AccessPart.CONTACTS, AccessPart.SERVICE_PRINCIPALS}
    assert {entry.reason for entry in pharma.unchecked} == {UncheckedReason.NO_GDAP}


async def test_microsofts_default_relationship_is_marked(reading: _Reading) -> None:
    inventory = await reading.reader().read(await reading.tenant("Contoso Ltd"), now=NOW)
    [default] = inventory.gdap
    assert default.microsoft_default and default.name.startswith("MLT_")


async def test_no_gdap_says_the_tenant_cannot_be_read_through_it(reading: _Reading) -> None:
    inventory = await reading.reader().read(await reading.tenant("Tailspin Toys"), now=NOW)
    assert inventory.gdap == ()
    assert inventory.dap is not None
    assert inventory.unchecked == tuple(
        Unchecked(part=part, reason=UncheckedReason.NO_GDAP)
        for part in (AccessPart.GUESTS, AccessPart.CONTACTS, AccessPart.SERVICE_PRINCIPALS)
    )


async def test_a_missing_permission_is_named_and_nothing_else_fails(reading: _Reading) -> None:
    async with reading.http.delete(f"{reading.sandbox.base_url}/_sandbox/graph/permissions/User.ReadWrite.All") as response:
        assert response.status == 200
    async with reading.http.delete(f"{reading.sandbox.base_url}/_sandbox/graph/permissions/Directory.Read.All") as response:
        assert response.status == 200
    inventory = await reading.reader().read(await reading.tenant("Fabrikam Inc"), now=NOW)
    assert inventory.unchecked == (Unchecked(part=AccessPart.GUESTS, reason=UncheckedReason.NEEDS, needs=Needs.READ_USERS),)
    assert len(inventory.gdap) == 2 and inventory.dap is True and inventory.contacts and inventory.service_principals


async def test_without_the_relationships_permission_the_gdap_part_names_it(reading: _Reading) -> None:
    async with reading.http.delete(
        f"{reading.sandbox.base_url}/_sandbox/graph/permissions/DelegatedAdminRelationship.ReadWrite.All"
    ) as response:
        assert response.status == 200
    inventory = await reading.reader().read(await reading.tenant("Fabrikam Inc"), now=NOW)
    assert inventory.unchecked_part(AccessPart.GDAP) == Unchecked(
        part=AccessPart.GDAP, reason=UncheckedReason.NEEDS, needs=Needs.READ_RELATIONSHIPS
    )
    assert inventory.dap is True and len(inventory.guests) == 2  # the tenant is still read through GDAP


async def test_graph_not_answering_is_could_not_be_checked_now(reading: _Reading, http: aiohttp.ClientSession) -> None:
    config = PartnerCenterConfig.sandbox(reading.sandbox.base_url)
    nowhere = GraphClient(
        session=http,
        base_url="http://127.0.0.1:9/graph/v1.0",  # discard port: nothing listens
        tokens=token_provider(config),
        limits=PartnerLimits(RateSettings()),
        retry=RetryPolicy(attempts=2, timeout_seconds=5, wait_initial=0.01, wait_max=0.02, wait_jitter=0.0),
    )
    inventory = await reading.reader(graph=nowhere).read(await reading.tenant("Fabrikam Inc"), now=NOW)
    assert inventory.dap is True
    assert {entry.reason for entry in inventory.unchecked} == {UncheckedReason.UNAVAILABLE}
    assert len(inventory.unchecked) == 4


async def test_without_graph_or_the_partners_identity_those_parts_say_what_they_need(reading: _Reading) -> None:
    fabrikam = await reading.tenant("Fabrikam Inc")
    no_graph = await read_partner_access(
        graph=None,
        partner_center=reading.partner_center,
        customer_id=fabrikam,
        partner=SANDBOX_PARTNER,
        now=NOW,
        allow_delegated_access=False,
    )
    assert no_graph.dap is False and len(no_graph.unchecked) == 4
    assert all(entry.reason is UncheckedReason.NEEDS and "Graph" in entry.needs for entry in no_graph.unchecked)
    unknown_partner = await reading.reader(partner=PartnerIdentity()).read(fabrikam, now=NOW)
    assert [entry.part for entry in unknown_partner.unchecked] == [AccessPart.GUESTS, AccessPart.CONTACTS, AccessPart.SERVICE_PRINCIPALS]
    assert all("OFFBOARD_" in entry.needs for entry in unknown_partner.unchecked)
    assert len(unknown_partner.gdap) == 2
