"""The partner's access as teardown items (``partner_center.teardown``), carried out against the
embedded sandbox over loopback: Fabrikam Inc has two partner guests, partner contact addresses, a
partner-owned app, DAP and two active GDAP relationships; Contoso Pharma a ``created`` relationship;
Contoso Retail one awaiting approval; Contoso Ltd only Microsoft's default relationship, whose roles
can delete users but neither update the organization nor delete service principals.

What a person would notice: the items and their order on the plan, that each one carried out is
gone at the next read, that the audit text names what was removed, that a repeat changes nothing,
and that a missing permission says what it needs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from partner_center import PartnerCenterClient, PartnerCenterConfig, PartnerLimits, RateSettings, connect, connect_graph, token_provider
from partner_center.access import (
    SANDBOX_PARTNER,
    AccessInventory,
    AccessPart,
    GdapEntry,
    PartnerAccessReader,
    Unchecked,
    UncheckedReason,
)
from partner_center.blockers import TEARDOWN_KINDS, Action, Blocker, BlockerKind
from partner_center.errors import GraphPermissionError, is_unavailable
from partner_center.graph import GraphClient, Needs
from partner_center.graph_models import GdapStatus
from partner_center.teardown import GRAPH_NOT_CONFIGURED, Teardown, teardown_blockers, teardown_phase, unread_kinds
from pc_sandbox import SandboxOptions, running_sandbox
from pc_sandbox.seed import read_seed
from tests._helpers import FAST_RETRY, sandbox_customer_id, sandbox_requests

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PARTNER_DOMAIN = "sandbox-partner.onmicrosoft.com"
CONTOSO_LTD = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


@dataclass
class _Partner:
    """The partner's clients against one sandbox, as the bot's wiring builds them."""

    partner_center: PartnerCenterClient
    graph: GraphClient
    http: aiohttp.ClientSession
    sandbox: Any

    async def tenant(self, name: str) -> str:
        return await sandbox_customer_id(self.http, self.sandbox, name)

    async def inventory(self, customer_id: str) -> AccessInventory:
        return await PartnerAccessReader(self.partner_center, self.graph, SANDBOX_PARTNER).read(customer_id, now=NOW)

    def teardown(self, *, with_graph: bool = True) -> Teardown:
        return Teardown(self.graph if with_graph else None, self.partner_center, SANDBOX_PARTNER)

    async def forget_requests(self) -> None:
        async with self.http.delete(f"{self.sandbox.base_url}/_sandbox/requests") as response:
            assert response.status < 300

    async def writes(self) -> list[str]:
        """What the sandbox was asked to change since :meth:`forget_requests` (Partner Center and Graph)."""
        return [
            f"{entry['method']} {entry['path']}"
            for entry in await sandbox_requests(self.http, self.sandbox)
            if entry["method"] != "GET" and (entry["path"].startswith("/v1/") or entry["path"].startswith("/graph/"))
        ]

    async def deny(self, permission: str) -> None:
        async with self.http.delete(f"{self.sandbox.base_url}/_sandbox/graph/permissions/{permission}") as response:
            assert response.status == 200


def _partner(sandbox: Any, http: aiohttp.ClientSession) -> _Partner:
    config = PartnerCenterConfig.sandbox(sandbox.base_url)
    tokens = token_provider(config)
    limits = PartnerLimits(RateSettings(requests_per_period=100_000, period_seconds=60, max_concurrency=32))
    return _Partner(
        connect(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens),
        connect_graph(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens),
        http,
        sandbox,
    )


@pytest.fixture
async def partner(sandbox: Any, http: aiohttp.ClientSession) -> _Partner:
    return _partner(sandbox, http)


@pytest.fixture
async def contoso_with_partner_footprints(tmp_path: Path, http: aiohttp.ClientSession) -> AsyncIterator[_Partner]:
    """The demo world, where Contoso Ltd's tenant also holds a partner address in its contacts and
    an app the partner registered (its Microsoft default relationship cannot remove either)."""
    seed = read_seed()
    [contoso] = [tenant for tenant in seed["graph"]["tenants"] if tenant["id"] == CONTOSO_LTD]
    contoso["organization"]["technicalNotificationMails"].append(f"support@{PARTNER_DOMAIN}")
    contoso["servicePrincipals"] = [{"displayName": "Sandbox Partner Monitoring", "appOwnerOrganizationId": SANDBOX_PARTNER.tenant_id}]
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    async with running_sandbox(options=SandboxOptions(seed_path=str(path)), host="127.0.0.1", port=0) as sandbox:
        yield _partner(sandbox, http)


def _one(items: tuple[Blocker, ...], kind: BlockerKind) -> Blocker:
    [item] = [item for item in items if item.kind is kind]
    return item


# ---- The items ----


async def test_fabrikams_access_becomes_items_in_the_safe_order(partner: _Partner) -> None:
    items = teardown_blockers(await partner.inventory(await partner.tenant("Fabrikam Inc")))
    assert [(item.kind, item.action) for item in items] == [
        (BlockerKind.PARTNER_GUEST, Action.DELETE_GUEST),
        (BlockerKind.PARTNER_GUEST, Action.DELETE_GUEST),
        (BlockerKind.PARTNER_CONTACTS, Action.CLEAR_CONTACTS),
        (BlockerKind.PARTNER_APP, Action.DELETE_SERVICE_PRINCIPAL),
        (BlockerKind.DAP, Action.REMOVE_DAP),
        (BlockerKind.GDAP, Action.TERMINATE_GDAP),
        (BlockerKind.GDAP, Action.TERMINATE_GDAP),
    ]
    # The tenant clean-ups first, then DAP, GDAP last: the clean-ups go through GDAP.
    assert [teardown_phase(item.kind) for item in items] == [0, 0, 0, 0, 1, 2, 2]
    assert not any(item.blocks_removal for item in items)
    assert {item.name for item in items if item.kind is BlockerKind.PARTNER_GUEST} == {
        f"Sandbox Partner Admin (admin@{PARTNER_DOMAIN})",
        f"Partner Helpdesk (helpdesk@{PARTNER_DOMAIN})",
    }
    contacts = _one(items, BlockerKind.PARTNER_CONTACTS)
    assert set(contacts.name.split("; ")) == {f"support@{PARTNER_DOMAIN}", f"security@{PARTNER_DOMAIN}", f"privacy@{PARTNER_DOMAIN}"}
    assert _one(items, BlockerKind.PARTNER_APP).name == "Sandbox Partner Monitoring"
    assert _one(items, BlockerKind.DAP).name == "DAP"
    support = next(item for item in items if item.name == "Fabrikam - Offboard support")
    assert (support.status, support.auto_renew, support.quantity) == ("active", True, 3) and support.term_ends is not None


def test_the_new_kinds_are_teardown_and_only_clearing_the_contacts_can_be_undone() -> None:
    assert {kind for kind in BlockerKind if kind.is_teardown} == TEARDOWN_KINDS
    assert not BlockerKind.NCE_INSIDE_WINDOW.is_teardown and teardown_phase(BlockerKind.NCE_INSIDE_WINDOW) == 0
    removing = (Action.DELETE_GUEST, Action.DELETE_SERVICE_PRINCIPAL, Action.REMOVE_DAP, Action.TERMINATE_GDAP, Action.DELETE_GDAP_REQUEST)
    assert all(action.is_automatic and action.is_irreversible for action in removing)
    assert Action.CLEAR_CONTACTS.is_automatic and not Action.CLEAR_CONTACTS.is_irreversible
    assert not any(action.is_automatic for action in (Action.NOTE_GDAP_PENDING, Action.NOTE_GDAP_ENDING))


def test_each_gdap_status_gets_its_proposal() -> None:
    def proposal(status: GdapStatus) -> list[Action]:
        inventory = AccessInventory(read_at=NOW, gdap=(GdapEntry(id="r1", name="R", status=status, raw_status=status.value),))
        return [item.action for item in teardown_blockers(inventory)]

    assert {status: proposal(status) for status in GdapStatus} == {
        GdapStatus.ACTIVE: [Action.TERMINATE_GDAP],
        GdapStatus.EXPIRING: [Action.TERMINATE_GDAP],
        GdapStatus.APPROVED: [Action.TERMINATE_GDAP],
        GdapStatus.ACTIVATING: [Action.TERMINATE_GDAP],
        GdapStatus.CREATED: [Action.DELETE_GDAP_REQUEST],
        GdapStatus.APPROVAL_PENDING: [Action.NOTE_GDAP_PENDING],
        GdapStatus.TERMINATION_REQUESTED: [Action.NOTE_GDAP_ENDING],
        GdapStatus.TERMINATING: [Action.NOTE_GDAP_ENDING],
        GdapStatus.UNKNOWN: [Action.NOTE_UNKNOWN_STATUS],
        GdapStatus.EXPIRED: [],
        GdapStatus.TERMINATED: [],
    }


def test_dap_is_an_item_only_when_read_as_granted() -> None:
    def kinds(dap: bool | None) -> list[BlockerKind]:
        return [item.kind for item in teardown_blockers(AccessInventory(read_at=NOW, dap=dap))]

    assert (kinds(True), kinds(False), kinds(None)) == ([BlockerKind.DAP], [], [])


async def test_a_part_not_read_is_an_unread_kind_and_gives_no_items(partner: _Partner) -> None:
    await partner.deny("User.ReadWrite.All")
    await partner.deny("Directory.Read.All")
    inventory = await partner.inventory(await partner.tenant("Fabrikam Inc"))
    assert unread_kinds(inventory) == {BlockerKind.PARTNER_GUEST}
    assert BlockerKind.PARTNER_GUEST not in {item.kind for item in teardown_blockers(inventory)}
    assert unread_kinds(None) == TEARDOWN_KINDS
    dap_unread = AccessInventory(read_at=NOW, dap=None, unchecked=(Unchecked(part=AccessPart.DAP, reason=UncheckedReason.UNAVAILABLE),))
    assert unread_kinds(dap_unread) == {BlockerKind.DAP}


async def test_contoso_retails_pending_relationship_is_shown_only(partner: _Partner) -> None:
    retail = await partner.tenant("Contoso Retail")
    inventory = await partner.inventory(retail)
    pending = _one(teardown_blockers(inventory), BlockerKind.GDAP)
    assert (pending.action, pending.name, pending.status) == (
        Action.NOTE_GDAP_PENDING,
        "Contoso Retail - Awaiting approval",
        "approvalPending",
    )
    # Nothing to read its tenant through: those parts are unread, not "nothing found".
    assert unread_kinds(inventory) == {BlockerKind.PARTNER_GUEST, BlockerKind.PARTNER_CONTACTS, BlockerKind.PARTNER_APP}
    with pytest.raises(ValueError, match="not a teardown action Offboard carries out"):
        await partner.teardown().carry_out(retail, pending)


# ---- Carrying them out ----


def _phase(items: tuple[Blocker, ...], phase: int) -> tuple[Blocker, ...]:
    return tuple(item for item in items if teardown_phase(item.kind) == phase)


async def test_each_fabrikam_item_is_removed_and_the_next_read_no_longer_finds_it(partner: _Partner) -> None:
    fabrikam = await partner.tenant("Fabrikam Inc")
    items = teardown_blockers(await partner.inventory(fabrikam))
    teardown = partner.teardown()
    done = {item.key: await teardown.carry_out(fabrikam, item) for item in _phase(items, 0)}
    cleaned = await partner.inventory(fabrikam)
    assert (cleaned.guests, cleaned.contacts, cleaned.service_principals, cleaned.unchecked) == ((), (), (), ())

    done |= {item.key: await teardown.carry_out(fabrikam, item) for item in (*_phase(items, 1), *_phase(items, 2))}
    after = await partner.inventory(fabrikam)
    assert after.dap is False
    assert {entry.status for entry in after.gdap} == {GdapStatus.TERMINATION_REQUESTED}
    assert [item.action for item in teardown_blockers(after)] == [Action.NOTE_GDAP_ENDING, Action.NOTE_GDAP_ENDING]
    # With GDAP ending, the tenant can no longer be read: why GDAP goes last.
    assert unread_kinds(after) == {BlockerKind.PARTNER_GUEST, BlockerKind.PARTNER_CONTACTS, BlockerKind.PARTNER_APP}

    guest = next(item for item in items if item.kind is BlockerKind.PARTNER_GUEST)
    assert done[guest.key] == f"guest {guest.name} ({guest.item_id}) deleted"
    contacts = done[_one(items, BlockerKind.PARTNER_CONTACTS).key]
    assert f"technicalNotificationMails: support@{PARTNER_DOMAIN}" in contacts
    assert f"privacyProfile.contactEmail: privacy@{PARTNER_DOMAIN}" in contacts and contacts.endswith(" removed")
    app = _one(items, BlockerKind.PARTNER_APP)
    assert done[app.key].startswith("service principal Sandbox Partner Monitoring (appId ")
    assert done[app.key].endswith(f"id {app.item_id}) deleted")
    assert done[_one(items, BlockerKind.DAP).key].startswith("DAP removed")
    for relationship in _phase(items, 2):
        assert done[relationship.key].startswith(f"GDAP '{relationship.name}' ({relationship.item_id}) now terminationRequested (request ")
        assert "(request -)" not in done[relationship.key]


async def test_a_second_carry_out_says_already_done_and_sends_no_write(partner: _Partner) -> None:
    fabrikam = await partner.tenant("Fabrikam Inc")
    items = teardown_blockers(await partner.inventory(fabrikam))
    teardown = partner.teardown()
    for phase in (0, 1, 2):  # as the executor runs them: a repeat comes before the next phase
        for item in _phase(items, phase):
            await teardown.carry_out(fabrikam, item)
        assert await partner.writes()  # the witness sees the first run's writes
        await partner.forget_requests()
        again = [await teardown.carry_out(fabrikam, item) for item in _phase(items, phase)]
        assert await partner.writes() == []
        assert all("already" in text for text in again), again


async def test_contoso_pharmas_created_relationship_is_deleted(partner: _Partner) -> None:
    pharma = await partner.tenant("Contoso Pharma")
    proposed = _one(teardown_blockers(await partner.inventory(pharma)), BlockerKind.GDAP)
    assert proposed.action is Action.DELETE_GDAP_REQUEST
    teardown = partner.teardown()
    assert await teardown.carry_out(pharma, proposed) == f"GDAP request 'Contoso Pharma - Proposed access' ({proposed.item_id}) deleted"
    assert (await partner.inventory(pharma)).gdap == ()
    await partner.forget_requests()
    assert "already gone: nothing sent" in await teardown.carry_out(pharma, proposed)
    assert await partner.writes() == []


async def test_contoso_ltds_default_relationship_cannot_clear_contacts_or_delete_apps(contoso_with_partner_footprints: _Partner) -> None:
    partner = contoso_with_partner_footprints
    items = teardown_blockers(await partner.inventory(CONTOSO_LTD))
    teardown = partner.teardown()
    with pytest.raises(GraphPermissionError) as contacts:
        await teardown.carry_out(CONTOSO_LTD, _one(items, BlockerKind.PARTNER_CONTACTS))
    assert contacts.value.needs == Needs.WRITE_ORGANIZATION and not is_unavailable(contacts.value)
    with pytest.raises(GraphPermissionError) as app:
        await teardown.carry_out(CONTOSO_LTD, _one(items, BlockerKind.PARTNER_APP))
    assert app.value.needs == Needs.DELETE_APPLICATIONS
    # Its User Administrator role does delete the partner's guest; the default relationship
    # itself is terminated like any other.
    assert (await teardown.carry_out(CONTOSO_LTD, _one(items, BlockerKind.PARTNER_GUEST))).endswith(" deleted")
    assert _one(items, BlockerKind.GDAP).action is Action.TERMINATE_GDAP
    after = await partner.inventory(CONTOSO_LTD)
    assert after.guests == () and after.contacts and after.service_principals


async def test_without_graph_a_graph_item_says_it_needs_graph_and_dap_is_still_removed(partner: _Partner) -> None:
    fabrikam = await partner.tenant("Fabrikam Inc")
    items = teardown_blockers(await partner.inventory(fabrikam))
    teardown = partner.teardown(with_graph=False)
    await partner.forget_requests()
    for item in (item for item in items if item.kind is not BlockerKind.DAP):
        with pytest.raises(GraphPermissionError) as refused:
            await teardown.carry_out(fabrikam, item)
        assert refused.value.needs == GRAPH_NOT_CONFIGURED and not is_unavailable(refused.value)
    assert await partner.writes() == []
    assert (await teardown.carry_out(fabrikam, _one(items, BlockerKind.DAP))).startswith("DAP removed")
