"""Teardown items for card tests (issue 19): the partner's access as the case carries it, built as
the workflow builds them (``CaseItem.from_blocker``), with the inventory they were read from.

``access_case()`` is Fabrikam-like: two guests, the partner's contact addresses, one app, DAP, and
GDAP relationships in every status that leads to a different proposal.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from partner_center.access import (
    AccessInventory,
    AccessPart,
    ContactEntry,
    GdapEntry,
    GuestEntry,
    ServicePrincipalEntry,
    Unchecked,
    UncheckedReason,
)
from partner_center.blockers import Action, Blocker, BlockerKind
from partner_center.graph_models import GdapStatus
from removal.case import CaseItem, CaseState, RemovalCase

from .factories import NOW, legacy_item, make_case

__all__ = (
    "GDAP_ID",
    "INVENTORY",
    "UNREAD_APPS",
    "access_case",
    "app_item",
    "contacts_item",
    "dap_item",
    "gdap_item",
    "guest_item",
    "teardown_items",
)

GDAP_ID = "5b7d3c1e-0000-4000-8000-00000000ad01"
# The customer's one contacts item and one DAP item are keyed by its id.
CUSTOMER_ID = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d04"


def _item(kind: BlockerKind, action: Action, item_id: str, name: str, **fields: Any) -> CaseItem:
    return CaseItem.from_blocker(Blocker(kind, action, item_id=item_id, name=name, blocks_removal=False, **fields))


def guest_item(item_id: str = "u-jane", name: str = "Jane Doe (jane@sandbox-partner.onmicrosoft.com)") -> CaseItem:
    return _item(BlockerKind.PARTNER_GUEST, Action.DELETE_GUEST, item_id, name)


def contacts_item() -> CaseItem:
    return _item(BlockerKind.PARTNER_CONTACTS, Action.CLEAR_CONTACTS, CUSTOMER_ID, "it@partner.example; privacy@partner.example")


def app_item() -> CaseItem:
    return _item(BlockerKind.PARTNER_APP, Action.DELETE_SERVICE_PRINCIPAL, "sp-1", "Partner monitoring")


def dap_item() -> CaseItem:
    return _item(BlockerKind.DAP, Action.REMOVE_DAP, CUSTOMER_ID, "DAP")


def gdap_item(
    action: Action = Action.TERMINATE_GDAP,
    *,
    item_id: str = GDAP_ID,
    name: str = "Fabrikam - Offboard support",
    status: str = "active",
    roles: int = 3,
    auto_extends: bool | None = True,
) -> CaseItem:
    return _item(
        BlockerKind.GDAP,
        action,
        item_id,
        name,
        status=status,
        quantity=roles,
        term_ends=NOW + timedelta(days=200),
        auto_renew=auto_extends,
    )


def teardown_items() -> list[CaseItem]:
    """One of each teardown kind, and GDAP in each proposal, in the safe order."""
    return [
        guest_item(),
        guest_item("u-max", "Max Mustermann (max@sandbox-partner.onmicrosoft.com)"),
        contacts_item(),
        app_item(),
        dap_item(),
        gdap_item(),
        gdap_item(Action.TERMINATE_GDAP, item_id="g-default", name="MLT_0f1e2d3c", roles=8, auto_extends=None),
        gdap_item(Action.DELETE_GDAP_REQUEST, item_id="g-created", name="Draft request", status="created", roles=2, auto_extends=False),
        gdap_item(Action.NOTE_GDAP_PENDING, item_id="g-pending", name="Waiting request", status="approvalPending", roles=1),
        gdap_item(Action.NOTE_GDAP_ENDING, item_id="g-ending", name="Old support", status="terminationRequested", roles=4),
    ]


INVENTORY = AccessInventory(
    read_at=NOW,
    gdap=(
        GdapEntry(
            id=GDAP_ID, name="Fabrikam - Offboard support", status=GdapStatus.ACTIVE, raw_status="active", roles=3, auto_extends=True
        ),
        GdapEntry(id="g-default", name="MLT_0f1e2d3c", status=GdapStatus.ACTIVE, raw_status="active", roles=8, microsoft_default=True),
    ),
    dap=True,
    guests=(GuestEntry(id="u-jane", name="Jane Doe", address="jane@sandbox-partner.onmicrosoft.com"),),
    contacts=(
        ContactEntry(where="technicalNotificationMails", addresses=("it@partner.example",)),
        ContactEntry(where="privacyProfile.contactEmail", addresses=("privacy@partner.example",)),
    ),
    service_principals=(ServicePrincipalEntry(id="sp-1", app_id="app-1", name="Partner monitoring"),),
)

UNREAD_APPS = Unchecked(part=AccessPart.SERVICE_PRINCIPALS, reason=UncheckedReason.NEEDS, needs="Application.Read.All")


def access_case(
    items: Iterable[CaseItem] | None = None,
    *,
    blockers: Iterable[CaseItem] | None = None,
    state: CaseState = CaseState.AWAITING_APPROVAL,
    inventory: AccessInventory | None = INVENTORY,
    **fields: Any,
) -> RemovalCase:
    """A case with one blocker (unless told) and the teardown items (every kind, unless told)."""
    found = list(teardown_items() if items is None else items)
    return make_case([*(blockers if blockers is not None else [legacy_item()]), *found], state=state, partner_access=inventory, **fields)
