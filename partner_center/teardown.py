"""The partner's access to a customer as approvable items, and carrying each one out (issue 19).

:func:`teardown_blockers` turns an :class:`~partner_center.access.AccessInventory` into
:class:`~partner_center.blockers.Blocker` items (``blocks_removal=False``), in a safe order: the
customer's tenant is cleaned first (guests, contacts, apps), through GDAP, then DAP, then GDAP
itself, since terminating it ends the access the clean-up goes through ("customer-tenant steps
first, the bot's own access last", ../shared/reference/anchors.md §3.2: GDAP is "ordered *after*
any steps that still need delegated access"). :func:`teardown_phase` gives that order to the
executor. :class:`Teardown` carries out one approved item and says, in English for the audit,
what it removed.

Removing the reseller relationship ends DAP only: GDAP, the guests, the contact addresses and the
apps stay until these items remove them (anchors.md §3.2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeVar

from .access import (
    DOMAINS_SETTING,
    TENANT_SETTING,
    AccessInventory,
    AccessPart,
    ContactEntry,
    GdapEntry,
    GuestEntry,
    PartnerIdentity,
    ServicePrincipalEntry,
)
from .blockers import TEARDOWN_KINDS, Action, Blocker, BlockerKind
from .client import PartnerCenterClient
from .errors import GraphPermissionError, NotFoundError, PartnerCenterError
from .graph import GraphClient
from .graph_models import GdapStatus

__all__ = (
    "DAP_ENDED_BY_REMOVAL",
    "GRAPH_NOT_CONFIGURED",
    "KIND_OF_PART",
    "Service",
    "Teardown",
    "service_of",
    "teardown_blockers",
    "teardown_phase",
    "unread_kinds",
)

_Identity = TypeVar("_Identity", str, tuple[str, ...])

# What a Graph item needs when no Graph client is configured (the inventory's word for it too).
GRAPH_NOT_CONFIGURED: Final = "Microsoft Graph (not configured)"

# The proposal for a GDAP relationship by its status (resources/delegatedadminrelationship,
# "delegatedAdminRelationshipStatus values"; anchors.md §3.1):
# - in force, or on its way to it once the customer approved: terminate (POST .../requests
#   {"action": "terminate"}, delegatedadminrelationship-post-requests). That Graph accepts it for
#   ``approved``/``activating``/``expiring`` too is an assumption: the page names no status.
# - ``created``: never sent to the customer; Graph deletes only such a one
#   (Remove-MgTenantRelationshipDelegatedAdminRelationship; delegatedadminrelationship-delete).
# - ``approvalPending``: waiting for the customer, who may decline; it expires after 90 days
#   unanswered (learn.microsoft.com/partner-center/dap-faq, GDAP FAQ). Offboard proposes nothing
#   (assumption: the documented request actions hold none that withdraws it).
# - ``terminationRequested``/``terminating``: "partner or customer asked"; Microsoft completes it.
# - ``expired``/``terminated`` give no access (the inventory does not report them); anything else
#   Graph may add reads ``unknown`` and is shown for a person to look at.
_GDAP_ACTIONS: Final[Mapping[GdapStatus, Action]] = {
    GdapStatus.ACTIVE: Action.TERMINATE_GDAP,
    GdapStatus.EXPIRING: Action.TERMINATE_GDAP,
    GdapStatus.APPROVED: Action.TERMINATE_GDAP,
    GdapStatus.ACTIVATING: Action.TERMINATE_GDAP,
    GdapStatus.CREATED: Action.DELETE_GDAP_REQUEST,
    GdapStatus.APPROVAL_PENDING: Action.NOTE_GDAP_PENDING,
    GdapStatus.TERMINATION_REQUESTED: Action.NOTE_GDAP_ENDING,
    GdapStatus.TERMINATING: Action.NOTE_GDAP_ENDING,
    GdapStatus.UNKNOWN: Action.NOTE_UNKNOWN_STATUS,
}

# Which kind each part of the inventory gives (an unread part leaves its kind's items alone).
KIND_OF_PART: Final[Mapping[AccessPart, BlockerKind]] = {
    AccessPart.GUESTS: BlockerKind.PARTNER_GUEST,
    AccessPart.CONTACTS: BlockerKind.PARTNER_CONTACTS,
    AccessPart.SERVICE_PRINCIPALS: BlockerKind.PARTNER_APP,
    AccessPart.DAP: BlockerKind.DAP,
    AccessPart.GDAP: BlockerKind.GDAP,
}


# What the teardown's audit says of DAP when the relationship was removed first. Removing the
# reseller relationship "Removes your delegation admin privileges for the customer, if applicable"
# (learn.microsoft.com/partner-center/customers/remove-a-relationship; ../shared/reference/
# partner-center-api.md §7, anchors.md §3.2), and delegation admin privileges are DAP. Nothing is
# sent: Partner Center may refuse a former customer's calls (403/404; assumption, not documented),
# and the access read after the removal says whether DAP still reads granted.
DAP_ENDED_BY_REMOVAL: Final = (
    "DAP ended by the removal of the reseller relationship (Microsoft: removing it removes the delegated admin "
    "privileges, learn.microsoft.com/partner-center/customers/remove-a-relationship): no PATCH of "
    "allowDelegatedAccess to false sent"
)


class Service(StrEnum):
    """Which Microsoft service a call goes to (e.g. which one a paused case waits for)."""

    PARTNER_CENTER = "partner_center"
    GRAPH = "graph"


def service_of(action: Action) -> Service:
    """The service a teardown item is carried out through: Partner Center for DAP (a customer
    PATCH, remove-dap), Microsoft Graph for the rest; Partner Center for any other action."""
    if action in _GRAPH_ACTIONS:
        return Service.GRAPH
    return Service.PARTNER_CENTER


_GRAPH_ACTIONS: Final = frozenset(
    {
        Action.DELETE_GUEST,
        Action.CLEAR_CONTACTS,
        Action.DELETE_SERVICE_PRINCIPAL,
        Action.TERMINATE_GDAP,
        Action.DELETE_GDAP_REQUEST,
    }
)


# ---- The items ----


def teardown_blockers(inventory: AccessInventory) -> tuple[Blocker, ...]:
    """Every access the inventory found, as items in the safe order: guests, contacts, apps, DAP, GDAP."""
    return (
        *(_guest_item(guest) for guest in inventory.guests),
        *_contacts_items(inventory.customer_id, inventory.contacts),
        *(_app_item(principal) for principal in inventory.service_principals),
        *_dap_items(inventory.customer_id, inventory.dap),
        *(item for entry in inventory.gdap if (item := _gdap_item(entry)) is not None),
    )


def unread_kinds(inventory: AccessInventory | None) -> frozenset[BlockerKind]:
    """The teardown kinds whose part was not read (no inventory at all: every kind): what was not
    read says nothing about whether its items are still there."""
    if inventory is None:
        return TEARDOWN_KINDS
    unread = {KIND_OF_PART[entry.part] for entry in inventory.unchecked}
    if inventory.dap is None:
        unread.add(BlockerKind.DAP)
    return frozenset(unread)


def teardown_phase(kind: BlockerKind) -> int:
    """When an item runs: 0 the Partner Center blockers and the tenant clean-ups (through GDAP),
    1 DAP, 2 GDAP (last: terminating it ends the access the clean-ups need; see the module)."""
    if kind is BlockerKind.GDAP:
        return 2
    if kind is BlockerKind.DAP:
        return 1
    return 0


def _guest_item(guest: GuestEntry) -> Blocker:
    return Blocker(
        BlockerKind.PARTNER_GUEST,
        Action.DELETE_GUEST,
        item_id=guest.id,
        name=_guest_name(guest.name, guest.address) or guest.id,
        blocks_removal=False,
    )


def _guest_name(name: str, address: str) -> str:
    if name and address:
        return f"{name} ({address})"
    return name or address


def _contacts_items(customer_id: str, contacts: tuple[ContactEntry, ...]) -> tuple[Blocker, ...]:
    # The customer's one contacts item (and its one DAP item) has no id of its own: the
    # customer's id makes its key unique across cases.
    addresses = _unique(address for entry in contacts for address in entry.addresses)
    if not addresses:
        return ()
    return (
        Blocker(
            BlockerKind.PARTNER_CONTACTS,
            Action.CLEAR_CONTACTS,
            item_id=customer_id,
            name="; ".join(addresses),
            blocks_removal=False,
            quantity=len(addresses),
        ),
    )


def _app_item(principal: ServicePrincipalEntry) -> Blocker:
    return Blocker(
        BlockerKind.PARTNER_APP,
        Action.DELETE_SERVICE_PRINCIPAL,
        item_id=principal.id,
        name=principal.name or principal.app_id or principal.id,
        blocks_removal=False,
    )


def _dap_items(customer_id: str, dap: bool | None) -> tuple[Blocker, ...]:
    # Only a DAP read as granted: None (not read) is an unchecked part, not an item.
    if dap is not True:
        return ()
    return (Blocker(BlockerKind.DAP, Action.REMOVE_DAP, item_id=customer_id, name="DAP", blocks_removal=False),)


def _gdap_item(entry: GdapEntry) -> Blocker | None:
    action = _GDAP_ACTIONS.get(entry.status)
    if action is None:
        return None  # expired or terminated: no access left (the inventory keeps none of them)
    return Blocker(
        BlockerKind.GDAP,
        action,
        item_id=entry.id,
        name=entry.name or entry.id,
        blocks_removal=False,
        status=entry.raw_status or entry.status.value,
        quantity=entry.roles,
        term_ends=entry.ends_at,
        auto_renew=entry.auto_extends,
    )


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


# ---- Carrying one out ----


@dataclass(frozen=True, slots=True)
class Teardown:
    """Carries out approved teardown items for one partner.

    :param graph: the Graph client; None: Graph is not configured (only DAP can be removed).
    :param partner: who the partner is in a customer's tenant (its domains and tenant id), as the
        inventory read it: the clean-ups re-read with it and remove only what still matches.
    """

    graph: GraphClient | None
    partner_center: PartnerCenterClient
    partner: PartnerIdentity

    async def carry_out(self, customer_id: str, work: Blocker, *, relationship_removed: bool = False) -> str:
        """Do one approved teardown item, read back; returns what was removed, in English, for the
        audit (e.g. "guest Jane Doe (jane@…) deleted", "already gone: nothing sent",
        "technicalNotificationMails: a@x; privacyProfile.contactEmail: b@x removed",
        "GDAP 'Name' (id) now terminationRequested (request <id>)").

        Each reads first and sends nothing when it is already done.

        :param customer_id: the customer's id, which is its Entra tenant id (customers-get).
        :param relationship_removed: the reseller relationship is removed already: DAP went with
            it, so REMOVE_DAP sends nothing and says so (:data:`DAP_ENDED_BY_REMOVAL`).
        :raises PartnerCenterError: what Microsoft refused or did not answer, as the clients raise
            it (:class:`GraphPermissionError` with ``needs`` for a 403; ``UnavailableError`` etc.).
            Graph not configured: a :class:`GraphPermissionError` whose ``needs`` is
            :data:`GRAPH_NOT_CONFIGURED` (never an "unavailable" error: nothing would come back).
        :raises ValueError: not a teardown item, or one only shown (nothing to carry out).
        """
        match work.action:
            case Action.DELETE_GUEST:
                return await self._delete_guest(customer_id, work)
            case Action.CLEAR_CONTACTS:
                return await self._clear_contacts(customer_id)
            case Action.DELETE_SERVICE_PRINCIPAL:
                return await self._delete_app(customer_id, work)
            case Action.REMOVE_DAP if relationship_removed:
                return DAP_ENDED_BY_REMOVAL
            case Action.REMOVE_DAP:
                return await self._remove_dap(customer_id)
            case Action.TERMINATE_GDAP:
                return await self._terminate_gdap(work)
            case Action.DELETE_GDAP_REQUEST:
                return await self._delete_gdap_request(work)
            case _:
                raise ValueError(f"{work.key} ({work.action.value}) is not a teardown action Offboard carries out")

    async def _delete_guest(self, customer_id: str, work: Blocker) -> str:
        graph = self._graph()
        domains = _needed(self.partner.domains, DOMAINS_SETTING)
        # Read first: only a user still a guest from the partner's domains is deleted, and one
        # already gone costs no write.
        guests = {guest.id: guest for guest in await graph.partner_guests(customer_id, domains)}
        guest = guests.get(work.item_id)
        if guest is None:
            return f"guest {work.name} ({work.item_id}) already gone: nothing sent"
        label = f"guest {_guest_name(guest.display_name, guest.mail or guest.user_principal_name) or guest.id} ({guest.id})"
        if not await graph.delete_user(customer_id, guest.id):
            return f"{label} already gone: nothing deleted"
        # user-delete: it goes to the tenant's deleted items, restorable by the customer for 30 days.
        return f"{label} deleted"

    async def _clear_contacts(self, customer_id: str) -> str:
        graph = self._graph()
        domains = _needed(self.partner.domains, DOMAINS_SETTING)
        cleanup = await graph.clear_partner_contacts(customer_id, domains)  # reads first, reads back
        if not cleanup.removed:
            return "the partner's addresses already gone from the organization's contacts: nothing sent"
        removed = "; ".join(f"{where}: {', '.join(addresses)}" for where, addresses in cleanup.removed.items())
        return f"{removed} removed"

    async def _delete_app(self, customer_id: str, work: Blocker) -> str:
        graph = self._graph()
        owner = _needed(self.partner.tenant_id, TENANT_SETTING)
        principals = {principal.id: principal for principal in await graph.partner_service_principals(customer_id, owner)}
        principal = principals.get(work.item_id)
        if principal is None:
            return f"service principal {work.name} ({work.item_id}) already gone: nothing sent"
        label = f"service principal {principal.display_name or work.name} (appId {principal.app_id or '-'}, id {principal.id})"
        if not await graph.delete_service_principal(customer_id, principal.id):
            return f"{label} already gone: nothing deleted"
        return f"{label} deleted"

    async def _remove_dap(self, customer_id: str) -> str:
        removal = await self.partner_center.remove_dap(customer_id)  # reads first, reads back
        if removal.already_removed:
            return f"DAP already removed (allowDelegatedAccess reads false): nothing changed (correlation id {removal.correlation_id})"
        return (
            "DAP removed: the customer now reads allowDelegatedAccess false "
            f"(request id {removal.request_id or '-'}, correlation id {removal.correlation_id})"
        )

    async def _terminate_gdap(self, work: Blocker) -> str:
        termination = await self._graph().terminate(work.item_id)  # reads first, reads back
        after = termination.relationship
        label = f"GDAP '{after.display_name or work.name}' ({after.id})"
        status = after.raw_status or after.status.value
        if termination.already_ended:
            return f"{label} already {status}: no termination requested by this call"
        request = termination.request.id if termination.request and termination.request.id else "-"
        return f"{label} now {status} (request {request})"

    async def _delete_gdap_request(self, work: Blocker) -> str:
        graph = self._graph()
        try:
            current = await graph.relationship(work.item_id)
        except NotFoundError:
            return f"GDAP request '{work.name}' ({work.item_id}) already gone: nothing sent"
        label = f"GDAP request '{current.display_name or work.name}' ({current.id})"
        if current.status is not GdapStatus.CREATED:
            # Graph deletes only a ``created`` one: it moved on (sent for approval, say) since the
            # plan was read; a re-check proposes what fits its status now.
            raise PartnerCenterError(
                f"{label} now reads '{current.raw_status or current.status.value}'; only a 'created' relationship can be deleted"
            )
        # If-Match with the etag just read (delegatedadminrelationship-delete); "*" when Graph gave
        # none (assumption: Graph accepts the wildcard as HTTP defines it).
        if not await graph.delete_created(current.id, current.etag or "*"):
            return f"{label} already gone: nothing deleted"
        try:
            after = await graph.relationship(current.id)
        except NotFoundError:
            return f"{label} deleted"
        raise PartnerCenterError(f"{label} was deleted but still reads '{after.raw_status or after.status.value}'")

    def _graph(self) -> GraphClient:
        if self.graph is None:
            raise GraphPermissionError("Microsoft Graph is not configured", needs=GRAPH_NOT_CONFIGURED)
        return self.graph


def _needed(value: _Identity, setting: str) -> _Identity:
    """The partner's identity the clean-up matches with; without it nothing can be told apart."""
    if not value:
        raise GraphPermissionError(f"{setting} is not set", needs=setting)
    return value
