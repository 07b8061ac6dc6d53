"""The Microsoft Graph subset Offboard needs to find and remove the partner's access to a customer.

- In the partner tenant: the GDAP relationships (``tenantRelationships/delegatedAdminRelationships``)
  with one customer, terminating an active one and deleting one still ``created``.
- In the customer's tenant, through GDAP: the organization's contact addresses, guest users from the
  partner's domains, and service principals of apps the partner tenant owns.

Every call goes through the same :class:`~partner_center._transport.Transport` as Partner Center's
(pacing, tokens, the 401 refresh, retries of 429 after ``Retry-After`` and of 5xx), in the
:data:`GRAPH` dialect: Graph's error body, ``client-request-id``. Tokens are app+user (delegated
permissions) for the partner tenant or for the customer's (:class:`GraphTokenProvider`).

A 403 is a :class:`~partner_center.errors.GraphPermissionError` naming what the call needed (the
app's delegated permission, and in a customer tenant the Entra role the admin agent must hold
through GDAP), so that a plan can say "cannot be checked: needs ...".

Writes read first and do nothing when already done; each is verified by reading back. Graph has no
idempotency key: a retried write whose first attempt landed is refused, and the read-back decides.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import aiohttp

from ._transport import Dialect, Reply, Transport
from .errors import AuthError, GraphPermissionError, NotFoundError, PartnerCenterError, graph_error_from_response, is_unavailable
from .graph_models import (
    DelegatedAdminRelationship,
    DelegatedAdminRelationshipRequest,
    GdapStatus,
    GuestUser,
    OrganizationContacts,
    ServicePrincipal,
)
from .limits import PartnerLimits
from .models import PartnerCenterModel
from .retry import RetryPolicy

__all__ = (
    "GRAPH",
    "LIVE_GRAPH_URL",
    "ContactsCleanup",
    "GdapTermination",
    "GraphClient",
    "GraphTokenProvider",
    "Needs",
)

LIVE_GRAPH_URL = "https://graph.microsoft.com/v1.0"
_RELATIONSHIPS = "/tenantRelationships/delegatedAdminRelationships"
_GUEST_FIELDS = "id,displayName,mail,userPrincipalName,userType,externalUserState"
_SERVICE_PRINCIPAL_FIELDS = "id,appId,displayName,appOwnerOrganizationId"
Resource = TypeVar("Resource", bound=PartnerCenterModel)
# Nothing to terminate: already requested, underway or done, or ended by itself.
_NOTHING_TO_TERMINATE = frozenset({GdapStatus.TERMINATION_REQUESTED, GdapStatus.TERMINATING, GdapStatus.TERMINATED, GdapStatus.EXPIRED})


class Needs:
    """What each call needs, as a plan tells a person (delegated permission; Entra role through GDAP).

    Permissions are each page's "least privileged" delegated one; roles, each page's "The calling
    user must be assigned" list, or an assumption where the page names none.
    """

    # delegatedadminrelationship-list / -get: DelegatedAdminRelationship.Read.All; the admin agent
    # role in the partner tenant (learn.microsoft.com/partner-center/customers/gdap-partner-terminate).
    READ_RELATIONSHIPS = "DelegatedAdminRelationship.Read.All (or .ReadWrite.All) and the Admin agent role"
    # delegatedadminrelationship-post-requests, delegatedadminrelationship-delete.
    WRITE_RELATIONSHIPS = "DelegatedAdminRelationship.ReadWrite.All and the Admin agent role"
    # organization-get: User.Read (Organization.Read.All, Directory.Read.All higher); a GDAP role
    # that reads the directory (Directory Readers, Global Reader): assumption, the page names none.
    READ_ORGANIZATION = (
        "Organization.Read.All (or Directory.Read.All) and a GDAP role that reads the directory (Directory Readers or Global Reader)"
    )
    # organization-update: Organization.ReadWrite.All; the role is an assumption (the contract's).
    WRITE_ORGANIZATION = "Organization.ReadWrite.All and the Global Administrator role through GDAP"
    # user-list: User.Read.All.
    READ_USERS = "User.Read.All (or Directory.Read.All) and a GDAP role that reads users (Directory Readers or Global Reader)"
    # user-delete: User.ReadWrite.All; "User Administrator, Privileged Authentication Administrator".
    DELETE_USERS = "User.ReadWrite.All and the User Administrator role through GDAP"
    # serviceprincipal-list: Application.Read.All.
    READ_APPLICATIONS = (
        "Application.Read.All (or Directory.Read.All) and a GDAP role that reads the directory (Directory Readers or Global Reader)"
    )
    # serviceprincipal-delete: Application.ReadWrite.All; Application Administrator or Cloud
    # Application Administrator (assumption beyond the permission: the contract's).
    DELETE_APPLICATIONS = "Application.ReadWrite.All and the Application Administrator or Cloud Application Administrator role through GDAP"


class GraphTokenProvider(Protocol):
    """Gives app+user Graph tokens (:meth:`~partner_center.auth.MsalTokenProvider.graph_token`)."""

    async def graph_token(self, *, tenant: str | None = None) -> str: ...

    async def forget(self, token: str) -> None: ...


@dataclass(frozen=True, slots=True)
class _TenantTokens:
    """One tenant's Graph tokens, as the transport asks for tokens."""

    provider: GraphTokenProvider
    tenant: str | None

    async def access_token(self, *, needs_user: bool) -> str:
        return await self.provider.graph_token(tenant=self.tenant)

    async def forget(self, token: str) -> None:
        await self.provider.forget(token)


def _graph_headers(request_id: str, correlation_id: str, application: str) -> dict[str, str]:
    # "client-request-id": a client-generated GUID Graph echoes back and logs; a support ticket
    # asks for it (https://learn.microsoft.com/graph/errors, innerError). No correlation header.
    return {"client-request-id": request_id, "return-client-request-id": "true"}


def _graph_family(path: str) -> str:
    return "graph"  # one pace for Graph, apart from Partner Center's families (its own limits)


def _never(status: int, body: Any) -> bool:
    return False


GRAPH = Dialect(
    service="Microsoft Graph",
    path_prefix="",  # the base URL carries /v1.0
    error_from_response=graph_error_from_response,
    headers=_graph_headers,
    family=_graph_family,
    no_fresh_token_helps=_never,
)


@dataclass(frozen=True, slots=True)
class GdapTermination:
    """The outcome of :meth:`GraphClient.terminate`, confirmed by reading the relationship back.

    Attributes:
        relationship: as read after (``terminationRequested``/``terminating``/``terminated``, or
            ``expired``).
        already_ended: nothing was asked by this call (already underway or done, or expired), or
            the request was refused and the read-back showed it underway (a retried request).
        request: Graph's ``delegatedAdminRelationshipRequest`` for the request this call made.
    """

    relationship: DelegatedAdminRelationship
    already_ended: bool
    request: DelegatedAdminRelationshipRequest | None = None


@dataclass(frozen=True, slots=True)
class ContactsCleanup:
    """The outcome of :meth:`GraphClient.clear_partner_contacts`, read back.

    Attributes:
        contacts: the organization's contacts as read after.
        removed: the partner addresses removed, by where they were (empty: there were none).
    """

    contacts: OrganizationContacts
    removed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class GraphClient:
    """An async Microsoft Graph client for one partner tenant.

    :param session: the aiohttp session to send with (owned by the caller).
    :param base_url: ``https://graph.microsoft.com/v1.0`` or the sandbox's ``{base}/graph/v1.0``.
    :param tokens: app+user Graph tokens (the same provider as Partner Center's shares its cache).
    :param limits: the partner tenant's rate limiter and concurrency cap.
    :param retry: the retry policy.
    :param request_timeout: seconds for one HTTP attempt.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        base_url: str = LIVE_GRAPH_URL,
        tokens: GraphTokenProvider,
        limits: PartnerLimits,
        retry: RetryPolicy | None = None,
        request_timeout: float = 30.0,
        application: str = "Offboard",
    ) -> None:
        self._tokens = tokens
        self._transport = Transport(
            session=session,
            base_url=base_url,
            tokens=_TenantTokens(tokens, None),
            limits=limits,
            retry=retry or RetryPolicy(),
            request_timeout=request_timeout,
            application=application,
            dialect=GRAPH,
        )

    # ---- Is it there? ----

    async def is_answering(self) -> bool:
        """One call, no retries: does Microsoft Graph answer at all now (even with a refusal)?

        A page of one of the partner's own GDAP relationships (delegatedadminrelationship-list,
        ``$top``: https://learn.microsoft.com/graph/query-parameters). False when the connection
        fails, times out, or the answer is a 5xx or a 429 (:func:`is_unavailable`), as
        :meth:`PartnerCenterClient.is_answering <partner_center.client.PartnerCenterClient.is_answering>`.
        """
        try:
            await self._transport.send(
                "GET", f"{_RELATIONSHIPS}?$top=1", needs_user=True, retried=False, tokens=_TenantTokens(self._tokens, None)
            )
        except PartnerCenterError as error:
            return not is_unavailable(error)
        return True

    # ---- GDAP relationships (partner tenant) ----

    async def relationships_with(self, customer_tenant_id: str) -> list[DelegatedAdminRelationship]:
        """Every GDAP relationship of this partner with the customer, whatever its status (all pages).

        ``$filter=customer/tenantId eq '{id}'`` (delegatedadminrelationship-list; CIPP filters the
        same way, Invoke-ExecOffboardTenant.ps1).
        """
        query = _filter(f"customer/tenantId eq {_odata_string(customer_tenant_id)}")
        path = f"{_RELATIONSHIPS}?{query}"
        return [item async for item in self._pages(path, DelegatedAdminRelationship, needs=Needs.READ_RELATIONSHIPS)]

    async def relationship(self, relationship_id: str, *, correlation_id: str | None = None) -> DelegatedAdminRelationship:
        """:raises NotFoundError: no such relationship (404 ``Request_ResourceNotFound``)."""
        reply = await self._send("GET", _relationship_path(relationship_id), needs=Needs.READ_RELATIONSHIPS, correlation_id=correlation_id)
        return DelegatedAdminRelationship.from_wire(reply.body)

    async def terminate(self, relationship_id: str) -> GdapTermination:
        """Ask Graph to terminate the relationship, then read it back.

        ``POST .../{id}/requests`` with ``{"action": "terminate"}`` answers 201 with the request
        (delegatedadminrelationship-post-requests). Read first: a relationship already
        ``terminationRequested``/``terminating``/``terminated`` (or ``expired``) is done, and a
        second request would be refused. A refused request is read back too: if the relationship
        then reads as terminating (a retried POST whose first attempt landed), it is done.

        :raises PartnerCenterError: refused and not terminating (Graph's code and message), or
            accepted but the read-back does not show it terminating.
        """
        correlation_id = str(uuid.uuid4())
        current = await self.relationship(relationship_id, correlation_id=correlation_id)
        if current.status in _NOTHING_TO_TERMINATE:
            return GdapTermination(current, already_ended=True)
        request: DelegatedAdminRelationshipRequest | None = None
        refused: PartnerCenterError | None = None
        reply: Reply | None = None
        try:
            reply = await self._send(
                "POST",
                f"{_relationship_path(relationship_id)}/requests",
                body={"action": "terminate"},
                needs=Needs.WRITE_RELATIONSHIPS,
                correlation_id=correlation_id,
            )
            if isinstance(reply.body, dict):
                request = DelegatedAdminRelationshipRequest.from_wire(reply.body)
        except PartnerCenterError as error:
            if is_unavailable(error) or isinstance(error, (AuthError, NotFoundError)):
                raise  # nothing was done (or nothing is known): a resumed teardown reads first
            refused = error
        after = await self.relationship(relationship_id, correlation_id=correlation_id)
        if after.status in _NOTHING_TO_TERMINATE:
            return GdapTermination(after, already_ended=refused is not None, request=request)
        if refused is not None:
            raise refused
        raise PartnerCenterError(
            f"The termination request was accepted but the relationship still reads '{after.raw_status or after.status}'",
            status=reply.status if reply else 0,
            correlation_id=correlation_id,
            request_id=reply.request_id if reply else "",
        )

    async def delete_created(self, relationship_id: str, etag: str) -> bool:
        """Delete a relationship still ``created`` (never sent to the customer), with ``If-Match``.

        Graph deletes only a ``created`` relationship (Remove-MgTenantRelationshipDelegatedAdminRelationship;
        delegatedadminrelationship-delete); any other answers 400, raised as is.

        :returns: True when this call deleted it, False when it was already gone (404).
        """
        try:
            await self._send("DELETE", _relationship_path(relationship_id), headers={"If-Match": etag}, needs=Needs.WRITE_RELATIONSHIPS)
        except NotFoundError:
            return False
        return True

    # ---- The customer's tenant (through GDAP) ----

    async def organization_contacts(self, customer_tenant_id: str) -> OrganizationContacts:
        """The customer's notification lists and privacy contact (``GET /organization``)."""
        reply = await self._send("GET", "/organization", tenant=customer_tenant_id, needs=Needs.READ_ORGANIZATION)
        items = reply.body.get("value") if isinstance(reply.body, dict) else None
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            raise PartnerCenterError(
                f"Microsoft Graph listed no organization for tenant {customer_tenant_id}",
                status=reply.status,
                request_id=reply.request_id,
                correlation_id=reply.correlation_id,
            )
        return OrganizationContacts.from_wire(items[0])

    async def clear_partner_contacts(self, customer_tenant_id: str, partner_domains: Iterable[str]) -> ContactsCleanup:
        """Take the partner's addresses out of the organization's contacts, keeping the customer's own.

        Only the properties that hold a partner address are sent (``PATCH /organization/{id}``,
        organization-update: 204), each list without those addresses; then read back.

        :raises PartnerCenterError: the read-back still shows a partner address.
        """
        domains = tuple(partner_domains)
        before = await self.organization_contacts(customer_tenant_id)
        changes = before.without_partner_addresses(domains)
        if not changes:
            return ContactsCleanup(before)
        reply = await self._send(
            "PATCH",
            f"/organization/{_segment(before.id)}",
            body=changes,
            tenant=customer_tenant_id,
            needs=Needs.WRITE_ORGANIZATION,
        )
        after = await self.organization_contacts(customer_tenant_id)
        left = after.partner_addresses(domains)
        if left:
            raise PartnerCenterError(
                f"The contacts were updated but the organization still lists the partner's {sorted(left)}",
                status=reply.status,
                request_id=reply.request_id,
                correlation_id=reply.correlation_id,
            )
        return ContactsCleanup(after, before.partner_addresses(domains))

    async def partner_guests(self, customer_tenant_id: str, partner_domains: Iterable[str]) -> list[GuestUser]:
        """Guest users of the customer's tenant whose address is at one of the partner's domains.

        ``$filter=userType eq 'Guest'`` (user-list; ``userType`` supports ``eq``), then matched here
        by mail or ``#EXT#`` UPN.
        """
        domains = tuple(partner_domains)
        guest_filter = _filter("userType eq 'Guest'")
        path = f"/users?{guest_filter}&$select={_GUEST_FIELDS}"
        guests = self._pages(path, GuestUser, tenant=customer_tenant_id, needs=Needs.READ_USERS)
        return [guest async for guest in guests if guest.is_from(domains)]

    async def delete_user(self, customer_tenant_id: str, user_id: str) -> bool:
        """Delete a user (to the tenant's deleted items, restorable for 30 days: user-delete).

        :returns: True when this call deleted it, False when it was already gone (404).
        """
        return await self._delete(f"/users/{_segment(user_id)}", customer_tenant_id, Needs.DELETE_USERS)

    async def partner_service_principals(self, customer_tenant_id: str, partner_tenant_id: str) -> list[ServicePrincipal]:
        """Service principals in the customer's tenant of apps the partner tenant registered.

        ``$filter=appOwnerOrganizationId eq {guid}`` (servicePrincipal: "Supports $filter (eq,
        ne, NOT, ge, le)"); the owner is checked again here.

        :raises ValueError: ``partner_tenant_id`` is not a GUID (it goes into the filter unquoted).
        """
        owner = str(uuid.UUID(partner_tenant_id))
        path = f"/servicePrincipals?{_filter(f'appOwnerOrganizationId eq {owner}')}&$select={_SERVICE_PRINCIPAL_FIELDS}"
        found = self._pages(path, ServicePrincipal, tenant=customer_tenant_id, needs=Needs.READ_APPLICATIONS)
        return [principal async for principal in found if principal.app_owner_organization_id.lower() == owner]

    async def delete_service_principal(self, customer_tenant_id: str, service_principal_id: str) -> bool:
        """Delete a service principal (serviceprincipal-delete: 204).

        :returns: True when this call deleted it, False when it was already gone (404).
        """
        return await self._delete(f"/servicePrincipals/{_segment(service_principal_id)}", customer_tenant_id, Needs.DELETE_APPLICATIONS)

    # ---- Plumbing ----

    async def _delete(self, path: str, tenant: str, needs: str) -> bool:
        try:
            await self._send("DELETE", path, tenant=tenant, needs=needs)
        except NotFoundError:
            return False  # gone already: a repeat, or someone else removed it
        return True

    async def _send(
        self,
        method: str,
        path: str,
        *,
        needs: str,
        tenant: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        correlation_id: str | None = None,
    ) -> Reply:
        """One call in the partner tenant (``tenant`` None) or a customer's; a 403 names ``needs``."""
        try:
            return await self._transport.send(
                method,
                path,
                body=body,
                headers=headers,
                needs_user=True,
                correlation_id=correlation_id,
                tokens=_TenantTokens(self._tokens, tenant),
            )
        except GraphPermissionError as error:
            raise error.needing(needs) from error

    async def _pages(self, path: str, model: type[Resource], *, needs: str, tenant: str | None = None) -> AsyncIterator[Resource]:
        """Every item of a collection, following ``@odata.nextLink`` (https://learn.microsoft.com/graph/paging)."""
        next_path: str | None = path
        while next_path:
            reply = await self._send("GET", next_path, tenant=tenant, needs=needs)
            page = reply.body if isinstance(reply.body, dict) else {}
            for item in page.get("value") or []:
                if isinstance(item, dict):
                    yield model.from_wire(item)
            link = page.get("@odata.nextLink")
            next_path = link if isinstance(link, str) and link else None


def _segment(value: str) -> str:
    return quote(value, safe="")


def _relationship_path(relationship_id: str) -> str:
    return f"{_RELATIONSHIPS}/{_segment(relationship_id)}"


def _filter(expression: str) -> str:
    """A ``$filter`` query parameter, percent-encoded (the transport sends paths as encoded)."""
    return f"$filter={quote(expression, safe='')}"


def _odata_string(value: str) -> str:
    """An OData string literal: in single quotes, a quote inside doubled (OData ABNF ``SQUOTE-in-string``)."""
    return "'" + value.replace("'", "''") + "'"
