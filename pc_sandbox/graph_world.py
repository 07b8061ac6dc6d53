"""The sandbox's Microsoft Graph: the partner's GDAP relationships and its customers'
directories, with Graph's rules.

:class:`GraphWorld` is the only place Graph state changes. Like the Partner Center
:class:`~.world.World`, it applies the effects of time lazily when it reads (a terminated
relationship moves on with the sandbox clock; an active one auto-extends or expires) and
raises :class:`~.graph_errors.GraphFault` on refusal.

Sources (learn.microsoft.com/graph/api/…):
- statuses, ``endDateTime``, ``autoExtendDuration``: resources/delegatedadminrelationship;
- terminate = ``POST …/{id}/requests {"action": "terminate"}``, 201: delegatedadminrelationship-post-requests;
- delete only while ``created``, with ``If-Match``: delegatedadminrelationship-delete
  (and Remove-MgTenantRelationshipDelegatedAdminRelationship);
- auto-extension by 180 days "until terminated or auto-extend set to Disabled": partner-center/gdap-faq.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from . import graph_errors
from .clock import SandboxClock
from .graph_access import GraphOperation, allowed_roles, has_permission
from .graph_errors import GraphFault
from .graph_models import DirectoryUser, GdapRelationship, GdapRequest, Organization, ServicePrincipal, TenantDirectory
from .world import World

__all__ = ("GDAP_STATUSES", "GraphWorld")

GDAP_STATUSES = (
    "activating",
    "active",
    "approvalPending",
    "approved",
    "created",
    "expired",
    "expiring",
    "terminated",
    "terminating",
    "terminationRequested",
    "unknownFutureValue",
)
_AUTO_EXTENSION = timedelta(days=180)  # P180D, the only non-zero autoExtendDuration
_TERMINATING_OR_DONE = frozenset({"terminationRequested", "terminating", "terminated"})
# The organization properties PATCH /organization/{id} accepts here (organization-update).
_ORGANIZATION_FIELDS = frozenset(
    {"technicalNotificationMails", "securityComplianceNotificationMails", "marketingNotificationEmails", "privacyProfile"}
)


class GraphWorld:
    """GDAP relationships of the sandbox's partner, and each customer tenant's directory."""

    def __init__(
        self,
        *,
        clock: SandboxClock,
        customers: World,
        partner_tenant_id: str,
        termination_step: timedelta,
        permissions: Iterable[str],
    ) -> None:
        self.clock = clock
        self.customers = customers  # the Partner Center world: which tenants are customers
        self.partner_tenant_id = partner_tenant_id
        self.termination_step = termination_step
        self.permissions: set[str] = set(permissions)
        self.relationships: dict[str, GdapRelationship] = {}
        self.directories: dict[str, TenantDirectory] = {}

    def replace(self, relationships: Iterable[GdapRelationship], directories: Iterable[TenantDirectory]) -> None:
        """Swap in a freshly loaded Graph world (same object, so references stay valid)."""
        self.relationships = {relationship.id: relationship for relationship in relationships}
        self.directories = {directory.tenant_id: directory for directory in directories}

    def now(self) -> datetime:
        return self.clock.now()

    # ---- Who may call ----

    def is_customer_tenant(self, tenant_id: str) -> bool:
        return tenant_id.lower() in self.customers.customers

    def authorize(self, operation: GraphOperation, *, tenant_id: str) -> None:
        """403 ``Authorization_RequestDenied`` unless the app holds a permission for ``operation``
        and, in a customer tenant, an ``active`` GDAP relationship grants one of its roles."""
        if not has_permission(operation, self.permissions):
            raise graph_errors.insufficient_privileges()
        roles = allowed_roles(operation)
        if roles is None:
            return
        # Only an active relationship grants access (delegatedadminrelationship: the roles apply
        # "when the relationship is active"); terminationRequested already counts as gone
        # (ASSUMPTION: the real cut-off moment inside the termination is undocumented).
        held = {
            role_id
            for relationship in self.relationships_of(tenant_id)
            if relationship.status == "active"
            for role_id in relationship.role_ids
        }
        if not held & set(roles):
            raise graph_errors.insufficient_privileges()

    # ---- GDAP relationships (partner tenant) ----

    def relationships_of(self, customer_tenant_id: str | None = None, *, status: str | None = None) -> list[GdapRelationship]:
        now = self.now()
        found = []
        for relationship in self.relationships.values():
            self._settle(relationship, now)
            if customer_tenant_id is not None and relationship.customer_tenant_id != customer_tenant_id.lower():
                continue
            if status is not None and relationship.status.lower() != status.lower():
                continue
            found.append(relationship)
        return found

    def relationship(self, relationship_id: str) -> GdapRelationship:
        relationship = self.relationships.get(relationship_id)
        if relationship is None:
            raise graph_errors.not_found("delegatedAdminRelationship", relationship_id)
        self._settle(relationship, self.now())
        return relationship

    def terminate(self, relationship_id: str, action: Any) -> GdapRequest:
        """``{"action": "terminate"}`` on an ``active`` relationship: ``terminationRequested`` at
        once, then ``terminating`` and ``terminated`` as the clock moves (``termination_step``
        each: ASSUMPTION, Microsoft gives no timing). Any other status: 400, including a repeat."""
        relationship = self.relationship(relationship_id)
        if action != "terminate":
            # The action enum also has lockForApproval, approve, reject (post-requests page):
            # the sandbox serves only terminate.
            raise graph_errors.bad_request(f"The action '{action}' is not supported; the sandbox serves only 'terminate'.")
        if relationship.status != "active":
            # Which error Graph sends for a wrong state is undocumented: 400 BadRequest (ASSUMPTION).
            raise graph_errors.bad_request(
                f"The delegated admin relationship is in status '{relationship.status}'; only an active relationship can be terminated."
            )
        now = self.now()
        request = GdapRequest(id=str(uuid.uuid4()), action="terminate", created=now)
        relationship.requests[request.id] = request
        relationship.terminate_requested = now
        self._settle(relationship, now)
        return request

    def relationship_request(self, relationship_id: str, request_id: str) -> tuple[GdapRelationship, GdapRequest]:
        relationship = self.relationship(relationship_id)
        request = relationship.requests.get(request_id)
        if request is None:
            raise graph_errors.not_found("delegatedAdminRelationshipRequest", request_id)
        return relationship, request

    def delete(self, relationship_id: str, *, if_match: str | None) -> None:
        """Delete a relationship still in ``created`` status (delegatedadminrelationship-delete:
        If-Match with the last known etag is required)."""
        relationship = self.relationship(relationship_id)
        if not if_match:
            raise graph_errors.bad_request("The If-Match header is required to delete a delegated admin relationship.")
        if if_match.strip() not in ("*", self.etag(relationship)):
            # A stale etag: 412 as Graph answers a failed If-Match elsewhere (ASSUMPTION for this API).
            raise GraphFault(412, graph_errors.PRECONDITION_FAILED, "The If-Match etag does not match the current relationship.")
        if relationship.status != "created":
            raise graph_errors.bad_request(
                f"The delegated admin relationship is in status '{relationship.status}'; only a created relationship can be deleted."
            )
        del self.relationships[relationship.id]

    @staticmethod
    def etag(relationship: GdapRelationship) -> str:
        """Weak and opaque, like Graph's; it changes whenever the relationship does."""
        raw = f"{relationship.id}:{relationship.version}:{relationship.status}".encode()
        return f'W/"{base64.b64encode(raw).decode()}"'

    @staticmethod
    def request_status(relationship: GdapRelationship) -> str:
        """``created`` -> ``pending`` -> ``succeeded`` along the termination (ASSUMPTION: the
        request's statuses are documented, their timing is not)."""
        return {"terminationRequested": "created", "terminating": "pending", "terminated": "succeeded"}.get(relationship.status, "created")

    def _settle(self, relationship: GdapRelationship, now: datetime) -> None:
        """Apply elapsed time: termination progress, auto-extension, expiry."""
        if relationship.terminate_requested is not None:
            started, step = relationship.terminate_requested, self.termination_step
            if now >= started + 2 * step:
                self._move(relationship, "terminated", started + 2 * step)
                relationship.end = started + 2 * step  # endDateTime: when it became terminated
            elif now >= started + step:
                self._move(relationship, "terminating", started + step)
            else:
                self._move(relationship, "terminationRequested", started)
            return
        if relationship.status in ("active", "expiring") and relationship.end is not None and relationship.end <= now:
            if relationship.auto_extend_duration.upper() == "P180D":
                while relationship.end <= now:
                    relationship.end += _AUTO_EXTENSION
                relationship.version += 1
            else:
                self._move(relationship, "expired", relationship.end)

    @staticmethod
    def _move(relationship: GdapRelationship, status: str, when: datetime) -> None:
        if relationship.status != status:
            relationship.status = status
            relationship.last_modified = when
            relationship.version += 1

    # ---- Customer tenants ----

    def directory(self, tenant_id: str) -> TenantDirectory:
        """The tenant's directory; a customer the seed says nothing about has an empty one."""
        tenant_id = tenant_id.lower()
        directory = self.directories.get(tenant_id)
        if directory is None:
            customer = self.customers.customers.get(tenant_id)
            name = customer.company_name if customer is not None else tenant_id
            directory = TenantDirectory(tenant_id=tenant_id, organization=Organization(id=tenant_id, display_name=name))
            self.directories[tenant_id] = directory
        return directory

    def update_organization(self, tenant_id: str, organization_id: str, body: Mapping[str, Any]) -> Organization:
        organization = self.directory(tenant_id).organization
        if organization_id.lower() != organization.id:
            raise graph_errors.not_found("organization", organization_id)
        unknown = set(body) - _ORGANIZATION_FIELDS
        if unknown:
            raise graph_errors.bad_request(f"The sandbox cannot update these organization properties: {', '.join(sorted(unknown))}.")
        for key in ("technicalNotificationMails", "securityComplianceNotificationMails", "marketingNotificationEmails"):
            if key in body:
                value = body[key]
                if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                    raise graph_errors.bad_request(f"'{key}' must be a list of strings.")
                setattr(organization, _SNAKE[key], list(value))
        if "privacyProfile" in body:
            profile = body["privacyProfile"]
            if profile is not None and not isinstance(profile, dict):
                raise graph_errors.bad_request("'privacyProfile' must be an object or null.")
            profile = profile or {}
            for key in ("contactEmail", "statementUrl"):
                if profile.get(key) is not None and not isinstance(profile.get(key), str):
                    raise graph_errors.bad_request(f"'privacyProfile.{key}' must be a string or null.")
            organization.privacy_contact_email = profile.get("contactEmail")
            organization.privacy_statement_url = profile.get("statementUrl")
        return organization

    def users(self, tenant_id: str, *, guests_only: bool) -> list[DirectoryUser]:
        return [user for user in self.directory(tenant_id).users.values() if not guests_only or user.user_type.lower() == "guest"]

    def delete_user(self, tenant_id: str, user_id: str) -> None:
        users = self.directory(tenant_id).users
        if users.pop(user_id.lower(), None) is None:
            raise graph_errors.not_found("user", user_id)

    def service_principals(self, tenant_id: str, *, owner: str | None) -> list[ServicePrincipal]:
        return [
            principal
            for principal in self.directory(tenant_id).service_principals.values()
            if owner is None or (principal.app_owner_organization_id or "").lower() == owner.lower()
        ]

    def delete_service_principal(self, tenant_id: str, principal_id: str) -> None:
        principals = self.directory(tenant_id).service_principals
        if principals.pop(principal_id.lower(), None) is None:
            raise graph_errors.not_found("servicePrincipal", principal_id)


_SNAKE = {
    "technicalNotificationMails": "technical_notification_mails",
    "securityComplianceNotificationMails": "security_compliance_notification_mails",
    "marketingNotificationEmails": "marketing_notification_emails",
}
