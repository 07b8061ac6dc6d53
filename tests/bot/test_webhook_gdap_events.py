"""Partner Center's GDAP events over HTTP: ``granular-admin-relationship-terminated`` (and
``-expired``) re-checks the customer's waiting case at once, so a relationship the customer ended
leaves the case's "Access the partner still has" without waiting for the hourly re-check.

Société Générale des Fromages waits (a reservation only the Azure portal can cancel) and holds one
active GDAP relationship; the customer ends it in its admin center (the sandbox has no customer
side: its Graph world is told directly), then Partner Center's event arrives.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app import BACKGROUND, SANDBOX, STORE, create_app
from bench.buttons import button_data
from bench.connector import RecordingConnector
from bot.settings import Settings
from cards import t
from partner_center.blockers import BlockerKind
from pc_sandbox.state import STATE
from removal import CaseState, RemovalCase
from removal.store import CaseStore
from tests.bot.teams import Teams, card_with
from tests.bot.webhook_pki import Credentials, serve_certificates
from tests.dialogs.harness import card_text

FROMAGES = "4e5f6a7b-8c9d-4e0f-9a2b-3c4d5e6f7a07"


@pytest.fixture(scope="module")
def pki() -> dict[str, Credentials]:
    ca = Credentials("Test Root CA")
    intermediate = Credentials("Microsoft Corporation", ca=ca, authority=True, common_name="Test Microsoft Issuing CA")
    return {"ca": ca, "intermediate": intermediate, "microsoft": Credentials(ca=intermediate)}


@pytest.fixture
async def bot(aiohttp_server: Any, tmp_path: Path, pki: dict[str, Credentials]) -> AsyncIterator[tuple[Teams, Any, str]]:
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    certificates, ca_file = await serve_certificates(
        aiohttp_server, {"microsoft.cer": pki["microsoft"].der()}, ca=pki["ca"], folder=tmp_path, intermediates=[pki["intermediate"]]
    )
    # The hourly re-check stays out of the way: only the event re-checks the case here.
    settings = Settings(_env_file=None, sandbox_port=0, events_certificate_hosts=["127.0.0.1"], events_ca_file=ca_file)
    app = create_app(settings)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        teams = Teams(http, str(server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector)
        yield teams, app, certificates


async def _send(teams: Teams, certificates: str, event: dict[str, Any], signer: Credentials) -> int:
    body = json.dumps(event).encode()
    headers = {
        "Authorization": f"Signature {signer.signature(body)}",
        "x-ms-certificate-url": f"{certificates}/microsoft.cer",
        "x-ms-signature-algorithm": "rsa-sha256",
        "Content-Type": "application/json",
    }
    async with teams.http.post(f"{teams.bot_url}/api/partnercenter/events", data=body, headers=headers) as response:
        return response.status


async def _waiting_case(teams: Teams, app: Any) -> tuple[CaseStore, RemovalCase]:
    """Fromages asked to be removed, everything approved: it waits for the Azure portal."""
    await teams.say(f"remove {FROMAGES}")
    card_id, card = card_with(teams.connector, "approve_all")
    status, _, _ = await teams.click(card_id, "approve_all", button_data(card, "approve_all"))
    assert status == 200
    await app[BACKGROUND].drain()
    cases = CaseStore(app[STORE])
    case = await cases.open_for_customer(FROMAGES)
    assert case is not None and case.state is CaseState.WAITING, case.state if case else None
    return cases, case


def _gdap_items(case: RemovalCase) -> list[Any]:
    return [item for item in case.access_remaining if item.kind is BlockerKind.GDAP]


async def _customer_ends_the_relationship(app: Any, case: RemovalCase) -> str:
    [item] = _gdap_items(case)
    sandbox = app[SANDBOX]
    sandbox.app[STATE].graph.terminate(item.item_id, "terminate")
    sandbox.clock.advance(timedelta(minutes=11))  # past terminationRequested and terminating
    return str(item.item_id)


def _event(name: str, resource: str) -> dict[str, str]:
    return {
        "EventName": name,
        "ResourceUri": resource,
        "ResourceName": "granularAdminRelationship",
        "ResourceChangeUtcDate": datetime.now(UTC).isoformat(),
    }


@pytest.mark.parametrize("name", ["granular-admin-relationship-terminated", "granular-admin-relationship-expired"])
async def test_a_gdap_event_rechecks_the_waiting_case_and_the_relationship_leaves_it(
    bot: tuple[Teams, Any, str], pki: dict[str, Credentials], name: str
) -> None:
    teams, app, certificates = bot
    cases, case = await _waiting_case(teams, app)
    relationship = await _customer_ends_the_relationship(app, case)
    stored = await cases.get(case.id)
    assert stored is not None and _gdap_items(stored), "nothing re-read it yet"

    resource = f"https://api.partnercenter.microsoft.com/v1/customers/{FROMAGES}/delegatedAdminRelationships/{relationship}"
    assert await _send(teams, certificates, _event(name, resource), pki["microsoft"]) == 200
    await app[BACKGROUND].drain()

    stored = await cases.get(case.id)
    assert stored is not None and stored.state is CaseState.WAITING  # the reservation still blocks
    assert not _gdap_items(stored) and not stored.access_ending
    assert stored.partner_access is not None and stored.partner_access.gdap == ()
    audited = [record for _, record in await app[STORE].read_stream("audit") if record["action"] == "partnercenter.event"]
    assert [record["customer_id"] for record in audited] == [FROMAGES] and audited[0]["detail"].startswith(name)


async def test_an_event_naming_only_the_relationship_finds_the_case_holding_it(
    bot: tuple[Teams, Any, str], pki: dict[str, Credentials]
) -> None:
    teams, app, certificates = bot
    cases, case = await _waiting_case(teams, app)
    relationship = await _customer_ends_the_relationship(app, case)
    resource = f"https://api.partnercenter.microsoft.com/v1/delegatedAdminRelationships/{relationship}"
    assert await _send(teams, certificates, _event("granular-admin-relationship-terminated", resource), pki["microsoft"]) == 200
    await app[BACKGROUND].drain()
    stored = await cases.get(case.id)
    assert stored is not None and not _gdap_items(stored)


async def test_an_event_about_another_relationship_changes_nothing(bot: tuple[Teams, Any, str], pki: dict[str, Credentials]) -> None:
    teams, app, certificates = bot
    cases, case = await _waiting_case(teams, app)
    await _customer_ends_the_relationship(app, case)
    resource = "https://api.partnercenter.microsoft.com/v1/delegatedAdminRelationships/someone-elses-relationship"
    assert await _send(teams, certificates, _event("granular-admin-relationship-terminated", resource), pki["microsoft"]) == 200
    await app[BACKGROUND].drain()
    stored = await cases.get(case.id)
    assert stored is not None and _gdap_items(stored)  # left to the hourly re-check


# ---- A removed case whose GDAP termination was still under way ----

FABRIKAM = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d04"


async def _removed_fabrikam(teams: Teams, app: Any) -> tuple[CaseStore, RemovalCase]:
    """Fabrikam removed, its access torn down after the removal (the default timing): its two GDAP
    relationships read terminationRequested (the sandbox ends them over minutes of its clock)."""
    await teams.say("remove Fabrikam Inc")
    card_id, card = card_with(teams.connector, "approve_all")
    assert (await teams.click(card_id, "approve_all", button_data(card, "approve_all")))[0] == 200
    await app[BACKGROUND].drain()
    final_id, final = card_with(teams.connector, "confirm_removal")
    assert (await teams.click(final_id, "confirm_removal", button_data(final, "confirm_removal")))[0] == 200
    await app[BACKGROUND].drain()
    cases = CaseStore(app[STORE])
    case = await cases.get(button_data(final, "confirm_removal")["caseId"])
    assert case is not None and case.state is CaseState.REMOVED, case.state if case else None
    return cases, case


def _result_cards(teams: Teams, case: RemovalCase) -> list[dict[str, Any]]:
    """The result cards sent or updated, latest last (the removal's result card names its ending access)."""
    heading = t("en-US", "result.access.heading")
    return [call.card for call in teams.connector.calls if call.card and heading in card_text(call.card)]


async def test_a_gdap_event_after_the_removal_brings_the_result_to_no_partner_access_remains(
    bot: tuple[Teams, Any, str], pki: dict[str, Credentials]
) -> None:
    teams, app, certificates = bot
    cases, case = await _removed_fabrikam(teams, app)
    ending = {item.item_id for item in case.access_ending}
    assert len(ending) == 2 and not case.access_remaining and not case.no_access_remains
    shown = card_text(_result_cards(teams, case)[-1])
    assert t("en-US", "result.access.none") not in shown and "Fabrikam - Offboard support" in shown

    # Microsoft completes the terminations (terminationRequested, terminating, terminated).
    app[SANDBOX].clock.advance(timedelta(minutes=11))
    resource = f"https://api.partnercenter.microsoft.com/v1/customers/{FABRIKAM}/delegatedAdminRelationships/{sorted(ending)[0]}"
    event = _event("granular-admin-relationship-terminated", resource)
    assert await _send(teams, certificates, event, pki["microsoft"]) == 200
    await app[BACKGROUND].drain()

    stored = await cases.get(case.id)
    assert stored is not None and stored.state is CaseState.REMOVED
    assert not stored.access_ending and stored.no_access_remains
    result = _result_cards(teams, case)[-1]
    assert t("en-US", "result.access.none") in card_text(result)
    [reread] = [record for record in await app[STORE].read_stream("audit") if record[1]["action"] == "access.reread"]
    detail = reread[1]["detail"]
    assert "granular-admin-relationship-terminated" in detail and "no partner access remains" in detail
    assert all(relationship in detail for relationship in ending)

    # The same news again (another relationship's event, a second delivery): nothing changes.
    calls = len(teams.connector.calls)
    again = _event("granular-admin-relationship-expired", resource)
    assert await _send(teams, certificates, again, pki["microsoft"]) == 200
    await app[BACKGROUND].drain()
    assert len(teams.connector.calls) == calls
    assert [r for _, r in await app[STORE].read_stream("audit") if r["action"] == "access.reread"] == [reread[1]]
    assert (await cases.get(case.id)) == stored


async def test_a_gdap_event_naming_only_the_relationship_finds_the_removed_case(
    bot: tuple[Teams, Any, str], pki: dict[str, Credentials]
) -> None:
    teams, app, certificates = bot
    cases, case = await _removed_fabrikam(teams, app)
    relationship = sorted(item.item_id for item in case.access_ending)[0]
    app[SANDBOX].clock.advance(timedelta(minutes=11))
    resource = f"https://api.partnercenter.microsoft.com/v1/delegatedAdminRelationships/{relationship}"
    assert await _send(teams, certificates, _event("granular-admin-relationship-terminated", resource), pki["microsoft"]) == 200
    await app[BACKGROUND].drain()
    stored = await cases.get(case.id)
    assert stored is not None and stored.no_access_remains
    assert t("en-US", "result.access.none") in card_text(_result_cards(teams, case)[-1])


async def test_while_gdap_still_reads_as_ending_the_event_changes_nothing(bot: tuple[Teams, Any, str], pki: dict[str, Credentials]) -> None:
    teams, app, certificates = bot
    cases, case = await _removed_fabrikam(teams, app)
    calls = len(teams.connector.calls)
    resource = f"https://api.partnercenter.microsoft.com/v1/customers/{FABRIKAM}/delegatedAdminRelationships/x"
    assert await _send(teams, certificates, _event("granular-admin-relationship-terminated", resource), pki["microsoft"]) == 200
    await app[BACKGROUND].drain()
    stored = await cases.get(case.id)
    assert stored is not None and stored.access_ending and not stored.no_access_remains
    assert len(teams.connector.calls) == calls
    assert not [r for _, r in await app[STORE].read_stream("audit") if r["action"] == "access.reread"]
