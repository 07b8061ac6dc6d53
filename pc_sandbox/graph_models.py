"""The in-memory records of the sandbox's Microsoft Graph: GDAP relationships and the
customer tenants' directories (organization, users, service principals).

Plain mutable dataclasses, changed only by :class:`~.graph_world.GraphWorld`;
``graph_wire.py`` turns them into Graph's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = (
    "DirectoryUser",
    "GdapRelationship",
    "GdapRequest",
    "Organization",
    "ServicePrincipal",
    "TenantDirectory",
)


@dataclass(slots=True)
class GdapRequest:
    """A ``delegatedAdminRelationshipRequest`` (only ``terminate`` is served)."""

    id: str
    action: str
    created: datetime


@dataclass(slots=True)
class GdapRelationship:
    """A ``delegatedAdminRelationship`` of the sandbox's partner with one customer.

    ``status`` is the stored status; the world derives the time-driven ones (termination
    progress, expiry, auto-extension) from ``terminate_requested`` and ``end`` when it reads.
    """

    id: str
    display_name: str
    customer_tenant_id: str
    customer_display_name: str
    duration: str  # ISO 8601, P1D..P730D
    auto_extend_duration: str  # P0D | PT0S | P180D
    role_ids: list[str]
    status: str
    created: datetime
    last_modified: datetime
    activated: datetime | None = None
    end: datetime | None = None  # planned end while active; the moment it ended once terminated/expired
    terminate_requested: datetime | None = None
    requests: dict[str, GdapRequest] = field(default_factory=dict)
    version: int = 1


@dataclass(slots=True)
class Organization:
    id: str  # the tenant id
    display_name: str
    technical_notification_mails: list[str] = field(default_factory=list)
    security_compliance_notification_mails: list[str] = field(default_factory=list)
    marketing_notification_emails: list[str] = field(default_factory=list)
    privacy_contact_email: str | None = None
    privacy_statement_url: str | None = None


@dataclass(slots=True)
class DirectoryUser:
    id: str
    display_name: str
    mail: str | None
    user_principal_name: str
    user_type: str  # Member | Guest
    external_user_state: str | None  # PendingAcceptance | Accepted | None (members)


@dataclass(slots=True)
class ServicePrincipal:
    id: str
    app_id: str
    display_name: str
    app_owner_organization_id: str | None


@dataclass(slots=True)
class TenantDirectory:
    """What one customer tenant holds that the partner may have left behind."""

    tenant_id: str
    organization: Organization
    users: dict[str, DirectoryUser] = field(default_factory=dict)
    service_principals: dict[str, ServicePrincipal] = field(default_factory=dict)
