"""A ``transfer-*`` webhook event (assumption: bot/events_api.py) makes the customer's open case
read its transfer requests at once (issue 21): an accepted transfer that completed clears its
blockers and the case is ready, without waiting for the resume sweep. Over real HTTP, signed as
Partner Center signs its callbacks; Litware is the sandbox's demo customer with a transfer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app import BACKGROUND, SANDBOX, STORE, create_app
from bench.buttons import button_data
from bench.connector import RecordingConnector
from bot.settings import Settings
from removal import CaseState, RemovalCase, TransferOutcome
from removal.audit import AuditTrail
from removal.store import CaseStore
from tests.bot.teams import Teams, card_with, eventually
from tests.bot.webhook_pki import Credentials, serve_certificates

LITWARE = "9d0e1f2a-3b4c-4d5e-8f7a-8b9c0d1e2f12"
TRANSFER = "7e2f4a10-5b6c-4d7e-8f90-a1b2c3d4e512"


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
    # The resume sweep stays out of the way (its first round ran at start): only the event follows the transfer.
    settings = Settings(
        _env_file=None, sandbox_port=0, events_certificate_hosts=["127.0.0.1"], events_ca_file=ca_file, resume_interval_seconds=3600
    )
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


async def test_a_transfer_event_follows_the_accepted_transfer_and_the_case_is_ready(
    bot: tuple[Teams, Any, str], pki: dict[str, Credentials]
) -> None:
    teams, app, certificates = bot
    await teams.say("remove Litware Inc")
    card_id, card = card_with(teams.connector, "show_transfer")
    case_id = button_data(card, "show_transfer")["caseId"]
    status, _, _ = await teams.click(card_id, "accept_transfer", {"caseId": case_id, "transferId": TRANSFER})
    assert status == 200
    await app[BACKGROUND].drain()
    cases = CaseStore(app[STORE])

    async def stored() -> RemovalCase:
        case = await cases.get(case_id)
        assert case is not None
        return case

    assert (await stored()).transfers[0].outcome is TransferOutcome.SUBMITTED
    async with teams.http.post(f"{app[SANDBOX].base_url}/_sandbox/clock", json={"advanceHours": 1}) as response:
        assert response.status == 200
    assert (await stored()).state is not CaseState.READY  # nothing read it yet

    event = {
        "EventName": "transfer-completed",
        "ResourceUri": f"https://api.partnercenter.microsoft.com/v1/customers/{LITWARE}/transfers/{TRANSFER}",
        "ResourceName": "transfer",
        "ResourceChangeUtcDate": datetime.now(UTC).isoformat(),
    }
    assert await _send(teams, certificates, event, pki["microsoft"]) == 200

    async def ready() -> RemovalCase | None:
        await app[BACKGROUND].drain()
        case = await stored()
        return case if case.state is CaseState.READY else None

    case = await eventually(ready, timeout=10, what="the case ready after the event")
    assert case.transfers[0].outcome is TransferOutcome.COMPLETED
    [completed] = [r for r in await AuditTrail(app[STORE]).history(LITWARE) if r["action"] == "transfer.completed"]
    assert "transfer-completed" in completed["detail"] and completed["extra"]["transfer_id"] == TRANSFER
