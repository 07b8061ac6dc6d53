"""What access the partner still has to a customer, beside the reseller relationship (issue 19, item 1).

Removing the reseller relationship ends DAP (where the customer still has it) and nothing else the
partner holds in the customer's tenant (../shared/reference/anchors.md §3): GDAP relationships live
on, auto-extending, and so do the partner's guests, its addresses in the tenant's contacts and the
service principals of its apps. :func:`read_partner_access` reads all of it, read-only, into an
:class:`AccessInventory` a plan shows and a case keeps.

Nothing here fails a plan: a part that cannot be read (a missing permission or GDAP role, no GDAP
relationship to read through, Graph not answering after the retries) is an :class:`Unchecked` entry
saying why, so that a person knows what to check by hand.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final, TypeVar

import aiohttp
from pydantic import BaseModel, ConfigDict

from .client import PartnerCenterClient
from .errors import GraphPermissionError, PartnerCenterError, is_unavailable
from .graph import GraphClient
from .graph_models import PRIVACY_CONTACT, DelegatedAdminRelationship, GdapStatus

__all__ = (
    "DOMAINS_SETTING",
    "GIVES_ACCESS",
    "REPORTED_STATUSES",
    "SANDBOX_PARTNER",
    "TENANT_SETTING",
    "AccessInventory",
    "AccessPart",
    "ContactEntry",
    "GdapEntry",
    "GuestEntry",
    "PartnerAccessReader",
    "PartnerIdentity",
    "ServicePrincipalEntry",
    "Unchecked",
    "UncheckedReason",
    "read_partner_access",
)

_log = logging.getLogger(__name__)
T = TypeVar("T")

# The statuses of a relationship that gives, or may yet give, the partner access (the others,
# ``expired`` and ``terminated``, give none): resources/delegatedadminrelationship,
# "delegatedAdminRelationshipStatus values". ``unknown`` (a status Graph adds later) is reported
# too: a relationship we cannot place is one a person should look at.
REPORTED_STATUSES = frozenset(
    {
        GdapStatus.CREATED,
        GdapStatus.APPROVAL_PENDING,
        GdapStatus.APPROVED,
        GdapStatus.ACTIVATING,
        GdapStatus.ACTIVE,
        GdapStatus.EXPIRING,
        GdapStatus.TERMINATION_REQUESTED,
        GdapStatus.TERMINATING,
        GdapStatus.UNKNOWN,
    }
)
# The statuses in which the relationship's roles are in force, so the customer's tenant can be read
# through it (assumption: Microsoft's page says roles apply while ``active``; ``expiring`` is an
# active relationship near its end).
GIVES_ACCESS = frozenset({GdapStatus.ACTIVE, GdapStatus.EXPIRING})


@dataclass(frozen=True, slots=True)
class PartnerIdentity:
    """Who "the partner" is in a customer's tenant: its tenant id (owner of its apps) and its
    domains (its people's addresses). Empty: not configured, and the parts it identifies are
    reported as unchecked."""

    tenant_id: str = ""
    domains: tuple[str, ...] = ()


# The embedded sandbox's partner (pc_sandbox/demo.py, README "Demo identities").
SANDBOX_PARTNER = PartnerIdentity(tenant_id="7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34", domains=("sandbox-partner.onmicrosoft.com",))


class AccessPart(StrEnum):
    """The parts of the inventory (the cards name each: ``access.part.<value>``)."""

    GDAP = "gdap"
    DAP = "dap"
    GUESTS = "guests"
    CONTACTS = "contacts"
    SERVICE_PRINCIPALS = "service_principals"


class UncheckedReason(StrEnum):
    """Why a part could not be read (``access.unchecked.<value>``)."""

    NEEDS = "needs"  # a permission, a GDAP role or a setting is missing: ``needs`` names it
    NO_GDAP = "no_gdap"  # no active GDAP relationship to read the customer's tenant through
    UNAVAILABLE = "unavailable"  # Microsoft did not answer (after the retries) or refused otherwise


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Unchecked(_Model):
    part: AccessPart
    reason: UncheckedReason
    needs: str = ""


class GdapEntry(_Model):
    id: str
    name: str = ""
    status: GdapStatus = GdapStatus.UNKNOWN
    raw_status: str = ""
    roles: int = 0
    ends_at: datetime | None = None
    auto_extends: bool | None = None
    microsoft_default: bool = False

    @classmethod
    def of(cls, relationship: DelegatedAdminRelationship) -> GdapEntry:
        return cls(
            id=relationship.id,
            name=relationship.display_name,
            status=relationship.status,
            raw_status=relationship.raw_status,
            roles=len(relationship.role_ids),
            ends_at=relationship.end_date_time,
            auto_extends=relationship.auto_extends,
            microsoft_default=relationship.is_microsoft_default,
        )


class GuestEntry(_Model):
    id: str
    name: str = ""
    address: str = ""


class ContactEntry(_Model):
    """The partner's addresses in one contact list (a wire name, or ``privacyProfile.contactEmail``)."""

    where: str
    addresses: tuple[str, ...] = ()

    @property
    def is_privacy_contact(self) -> bool:
        return self.where == PRIVACY_CONTACT


class ServicePrincipalEntry(_Model):
    id: str
    app_id: str = ""
    name: str = ""


class AccessInventory(_Model):
    """The partner's access to one customer as read at ``read_at`` (read-only; nothing is an action yet).

    ``dap`` is None when it could not be read (an :class:`Unchecked` entry says why).
    """

    read_at: datetime
    # Whose access (the customer's id, which is its tenant id): the key of its one contacts item
    # and its one DAP item. "" in inventories stored before it was kept.
    customer_id: str = ""
    gdap: tuple[GdapEntry, ...] = ()
    dap: bool | None = None
    guests: tuple[GuestEntry, ...] = ()
    contacts: tuple[ContactEntry, ...] = ()
    service_principals: tuple[ServicePrincipalEntry, ...] = ()
    unchecked: tuple[Unchecked, ...] = ()

    @property
    def found_any(self) -> bool:
        """Some access was found (whatever could not be checked)."""
        return bool(self.gdap or self.dap or self.guests or self.contacts or self.service_principals)

    def unchecked_part(self, part: AccessPart) -> Unchecked | None:
        return next((entry for entry in self.unchecked if entry.part is part), None)


class _Unreadable(Exception):
    """A part that cannot be read for a reason of ours (nothing was asked of Microsoft)."""

    def __init__(self, reason: UncheckedReason, needs: str = "") -> None:
        super().__init__(needs or reason.value)
        self.reason = reason
        self.needs = needs


DOMAINS_SETTING: Final = "the partner's domains (setting OFFBOARD_PARTNER_DOMAINS)"
TENANT_SETTING: Final = "the partner's tenant id (setting OFFBOARD_PARTNER_TENANT as a GUID, or OFFBOARD_TEAMS_TENANT_ID)"


async def read_partner_access(
    *,
    graph: GraphClient | None,
    partner_center: PartnerCenterClient,
    customer_id: str,
    partner: PartnerIdentity,
    now: datetime,
    allow_delegated_access: bool | None = None,
) -> AccessInventory:
    """Read every kind of access the partner has to the customer, concurrently; never raises for
    what Microsoft answers.

    :param graph: the Graph client; None: Graph is not configured, every Graph part is unchecked.
    :param customer_id: the customer's id, which is its Entra tenant id (Partner Center's customer
        id is the tenant id: customers-get "customer-tenant-id").
    :param allow_delegated_access: DAP as already read from the customer resource; None: read it.
    """
    tenant = customer_id

    async def dap() -> bool | None:
        if allow_delegated_access is not None:
            return allow_delegated_access
        return (await partner_center.get_customer(customer_id)).allow_delegated_access

    def on_graph(read: Callable[[GraphClient], Awaitable[T]]) -> Awaitable[T]:
        async def run() -> T:
            if graph is None:
                raise _Unreadable(UncheckedReason.NEEDS, "Microsoft Graph (not configured)")
            return await read(graph)

        return run()

    async def guests(client: GraphClient) -> list[GuestEntry]:
        if not partner.domains:
            raise _Unreadable(UncheckedReason.NEEDS, DOMAINS_SETTING)
        found = await client.partner_guests(tenant, partner.domains)
        return [GuestEntry(id=guest.id, name=guest.display_name, address=guest.mail or guest.user_principal_name) for guest in found]

    async def contacts(client: GraphClient) -> list[ContactEntry]:
        if not partner.domains:
            raise _Unreadable(UncheckedReason.NEEDS, DOMAINS_SETTING)
        found = (await client.organization_contacts(tenant)).partner_addresses(partner.domains)
        return [ContactEntry(where=where, addresses=addresses) for where, addresses in found.items()]

    async def principals(client: GraphClient) -> list[ServicePrincipalEntry]:
        if not _is_guid(partner.tenant_id):
            raise _Unreadable(UncheckedReason.NEEDS, TENANT_SETTING)
        found = await client.partner_service_principals(tenant, partner.tenant_id)
        return [ServicePrincipalEntry(id=p.id, app_id=p.app_id, name=p.display_name) for p in found]

    async def relationships(client: GraphClient) -> list[DelegatedAdminRelationship]:
        return await client.relationships_with(tenant)

    async with asyncio.TaskGroup() as group:
        gdap_task = group.create_task(_part(AccessPart.GDAP, on_graph(relationships)))
        dap_task = group.create_task(_part(AccessPart.DAP, dap()))
        guests_task = group.create_task(_part(AccessPart.GUESTS, on_graph(guests)))
        contacts_task = group.create_task(_part(AccessPart.CONTACTS, on_graph(contacts)))
        principals_task = group.create_task(_part(AccessPart.SERVICE_PRINCIPALS, on_graph(principals)))

    unchecked: list[Unchecked] = []
    read_gdap, dap_result = gdap_task.result(), dap_task.result()
    found_relationships = [] if isinstance(read_gdap, Unchecked) else [r for r in read_gdap if r.status in REPORTED_STATUSES]
    # With no relationship in force, a refusal in the customer's tenant is that, whatever Graph
    # says (it says only "Insufficient privileges"): there is nothing to read it through.
    no_gdap = not isinstance(read_gdap, Unchecked) and not any(r.status in GIVES_ACCESS for r in read_gdap)

    def through_gdap(result: list[T] | Unchecked) -> tuple[T, ...]:
        if isinstance(result, Unchecked):
            if no_gdap and result.needs not in _SETTINGS:
                result = Unchecked(part=result.part, reason=UncheckedReason.NO_GDAP)
            unchecked.append(result)
            return ()
        return tuple(result)

    if isinstance(read_gdap, Unchecked):
        unchecked.append(read_gdap)
    if isinstance(dap_result, Unchecked):
        unchecked.append(dap_result)
    guests_found = through_gdap(guests_task.result())
    contacts_found = through_gdap(contacts_task.result())
    principals_found = through_gdap(principals_task.result())
    return AccessInventory(
        read_at=now,
        customer_id=customer_id,
        gdap=tuple(GdapEntry.of(relationship) for relationship in found_relationships),
        dap=None if isinstance(dap_result, Unchecked) else dap_result,
        guests=guests_found,
        contacts=contacts_found,
        service_principals=principals_found,
        unchecked=tuple(sorted(unchecked, key=lambda entry: list(AccessPart).index(entry.part))),
    )


_SETTINGS = frozenset({DOMAINS_SETTING, TENANT_SETTING})


async def _part(part: AccessPart, read: Awaitable[T]) -> T | Unchecked:
    """One part's result, or why it could not be read: nothing a part meets fails the others."""
    try:
        return await read
    except _Unreadable as unreadable:
        return Unchecked(part=part, reason=unreadable.reason, needs=unreadable.needs)
    except GraphPermissionError as error:
        return Unchecked(part=part, reason=UncheckedReason.NEEDS, needs=error.needs or "")
    except PartnerCenterError as error:
        # Not answering after the retries, or a refusal we have no words for: either way a person
        # checks by hand; the log keeps Microsoft's words.
        _log.warning("%s not checked (%s): %s", part.value, "unavailable" if is_unavailable(error) else "refused", error.description)
        return Unchecked(part=part, reason=UncheckedReason.UNAVAILABLE)
    except (aiohttp.ClientError, TimeoutError) as error:  # should the transport let one through
        _log.warning("%s not checked (unavailable): %r", part.value, error)
        return Unchecked(part=part, reason=UncheckedReason.UNAVAILABLE)


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class PartnerAccessReader:
    """:func:`read_partner_access` with what stays the same from one customer to the next."""

    partner_center: PartnerCenterClient
    graph: GraphClient | None
    partner: PartnerIdentity

    async def read(self, customer_id: str, *, now: datetime, allow_delegated_access: bool | None = None) -> AccessInventory:
        return await read_partner_access(
            graph=self.graph,
            partner_center=self.partner_center,
            customer_id=customer_id,
            partner=self.partner,
            now=now,
            allow_delegated_access=allow_delegated_access,
        )
