"""The plan's "Access the partner still has", through the whole bot against the real sandbox (its
Partner Center and its Microsoft Graph): GDAP, DAP, partner guests, contacts and apps; a customer
with no GDAP; a Graph permission removed at run time; in French too.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from cards import t
from partner_center import PartnerCenterConfig, PartnerLimits, RateSettings, connect, connect_graph, token_provider
from partner_center.graph import Needs
from tests._helpers import FAST_RETRY
from tests.dialogs.harness import Conversation, card_text


@pytest.fixture
def chat(sandbox: Any, http: aiohttp.ClientSession) -> Conversation:
    config = PartnerCenterConfig.sandbox(sandbox.base_url)
    tokens = token_provider(config)  # one provider, one cache, for both clients (as app.py)
    limits = PartnerLimits(RateSettings(requests_per_period=100_000, period_seconds=60, max_concurrency=32))
    client = connect(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens)
    graph = connect_graph(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens)
    return Conversation(client, clock=sandbox.clock.now, graph=graph)


async def _plan_text(chat: Conversation, customer: str) -> str:
    [plan] = (await chat.say(f"plan {customer}")).cards
    return card_text(plan)


async def test_the_plan_shows_gdap_dap_guests_contacts_and_the_partners_app(chat: Conversation) -> None:
    text = await _plan_text(chat, "Fabrikam Inc")
    assert t("en-US", "access.heading") in text
    assert "Fabrikam - Offboard support: status active, roles granted: 3" in text
    assert t("en-US", "access.gdap.auto_extends") in text
    assert t("en-US", "access.gdap.effect") in text  # removing the relationship does not end it
    assert t("en-US", "access.dap.yes") in text  # DAP goes with the removal
    assert t("en-US", "access.guests.heading") in text and text.count("sandbox-partner.onmicrosoft.com") >= 3
    assert t("en-US", "access.contacts.heading") in text and t("en-US", "access.contacts.privacy") in text
    assert t("en-US", "access.service_principals.heading") in text
    assert "cannot be checked" not in text
    assert t("en-US", "plan.dry_run") in text  # still a dry run, nothing else changed


async def test_a_customer_with_no_gdap_says_its_tenant_cannot_be_read(chat: Conversation) -> None:
    text = await _plan_text(chat, "Tailspin Toys")
    assert t("en-US", "access.unchecked.no_gdap", part=t("en-US", "access.part.guests")) in text
    assert "no GDAP relationship gives Offboard access to read it" in text
    assert t("en-US", "access.check.guests") in text  # what to check by hand
    assert t("en-US", "access.gdap.none") in text and t("en-US", "access.gdap.effect") not in text


async def test_a_removed_graph_permission_is_named_and_the_rest_of_the_plan_is_unchanged(
    chat: Conversation, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    before = await _plan_text(chat, "Fabrikam Inc")
    async with http.delete(f"{sandbox.base_url}/_sandbox/graph/permissions/User.ReadWrite.All") as response:
        assert response.status == 200
    async with http.delete(f"{sandbox.base_url}/_sandbox/graph/permissions/Directory.Read.All") as response:
        assert response.status == 200
    after = await _plan_text(chat, "Fabrikam Inc")
    needs = t("en-US", "access.unchecked.needs", part=t("en-US", "access.part.guests"), needs=Needs.READ_USERS)
    assert needs in after and "cannot be checked: needs User.Read.All" in after
    # Only the guests changed: the same plan otherwise.
    guests = before[before.index(t("en-US", "access.guests.heading")) : before.index(t("en-US", "access.contacts.heading"))]
    assert after.replace(needs + "\n" + t("en-US", "access.check.guests") + "\n", "") == before.replace(guests, "")


async def test_the_section_in_french(chat: Conversation) -> None:
    chat.locale = "fr-FR"
    text = await _plan_text(chat, "Fabrikam Inc")
    assert "Accès que le partenaire conserve" in text
    assert "Fabrikam - Offboard support : statut active, rôles accordés : 3" in text
    assert t("fr-FR", "access.dap.yes") in text and t("fr-FR", "access.gdap.effect") in text


async def test_the_case_keeps_the_inventory_and_a_recheck_reads_it_again(
    chat: Conversation, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    await chat.say("remove Fabrikam Inc")
    case = await chat.store.current_for("Convo1")
    assert case is not None and case.partner_access is not None
    assert len(case.partner_access.guests) == 2 and case.partner_access.unchecked == ()
    async with http.delete(f"{sandbox.base_url}/_sandbox/graph/permissions/Application.ReadWrite.All") as response:
        assert response.status == 200
    async with http.delete(f"{sandbox.base_url}/_sandbox/graph/permissions/Directory.Read.All") as response:
        assert response.status == 200
    await chat.workflow.recheck(case.id)
    stored = await chat.store.get(case.id)
    assert stored is not None and stored.partner_access is not None
    assert [entry.needs for entry in stored.partner_access.unchecked] == [Needs.READ_APPLICATIONS]
    assert stored.partner_access.service_principals == () and len(stored.partner_access.guests) == 2
