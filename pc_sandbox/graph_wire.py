"""Microsoft Graph's JSON wire format for the sandbox's records (v1.0, camelCase).

Shapes from learn.microsoft.com/graph/api/resources/delegatedadminrelationship,
…/delegatedadminrelationshiprequest, …/organization, …/user, …/serviceprincipal.
Collections are ``{"@odata.context", "value", "@odata.nextLink"?}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .clock import format_iso
from .graph_models import DirectoryUser, GdapRelationship, GdapRequest, Organization, ServicePrincipal

__all__ = (
    "collection",
    "group_json",
    "organization_json",
    "partner_groups",
    "relationship_json",
    "relationship_request_json",
    "service_principal_json",
    "user_json",
)

_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else format_iso(moment)


def collection(entity_set: str, items: list[dict[str, Any]], *, next_link: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"@odata.context": _CONTEXT + entity_set, "value": items}
    if next_link is not None:
        body["@odata.nextLink"] = next_link
    return body


def relationship_json(relationship: GdapRelationship, *, etag: str) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.delegatedAdminRelationship",
        "@odata.etag": etag,
        "id": relationship.id,
        "displayName": relationship.display_name,
        "duration": relationship.duration,
        "customer": {"tenantId": relationship.customer_tenant_id, "displayName": relationship.customer_display_name},
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": role_id} for role_id in relationship.role_ids]},
        "status": relationship.status,
        "autoExtendDuration": relationship.auto_extend_duration,
        "createdDateTime": _iso(relationship.created),
        "lastModifiedDateTime": _iso(relationship.last_modified),
        "activatedDateTime": _iso(relationship.activated),
        "endDateTime": _iso(relationship.end),
    }


def relationship_request_json(request: GdapRequest, *, status: str, last_modified: datetime) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.delegatedAdminRelationshipRequest",
        "id": request.id,
        "action": request.action,
        "status": status,
        "createdDateTime": _iso(request.created),
        "lastModifiedDateTime": _iso(max(request.created, last_modified)),
    }


def organization_json(organization: Organization) -> dict[str, Any]:
    return {
        "id": organization.id,
        "displayName": organization.display_name,
        "technicalNotificationMails": list(organization.technical_notification_mails),
        "securityComplianceNotificationMails": list(organization.security_compliance_notification_mails),
        "marketingNotificationEmails": list(organization.marketing_notification_emails),
        "privacyProfile": {"contactEmail": organization.privacy_contact_email, "statementUrl": organization.privacy_statement_url},
    }


def user_json(user: DirectoryUser, *, select: Iterable[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": user.id,
        "displayName": user.display_name,
        "mail": user.mail,
        "userPrincipalName": user.user_principal_name,
        "userType": user.user_type,
        "externalUserState": user.external_user_state,
    }
    return _selected(body, select)


def service_principal_json(principal: ServicePrincipal, *, select: Iterable[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": principal.id,
        "appId": principal.app_id,
        "displayName": principal.display_name,
        "appOwnerOrganizationId": principal.app_owner_organization_id,
    }
    return _selected(body, select)


# The partner tenant's Partner Center role groups (Partner Center creates them; an agent role is
# membership of one: learn.microsoft.com/partner-center/account-settings/permissions-overview).
# Their names follow the Secure Application Model samples (ASSUMPTION); the ids are the sandbox's.
ADMIN_AGENTS = ("0b1f6c2e-3d4a-4e5f-8a9b-1c2d3e4f5a60", "AdminAgents")
SALES_AGENTS = ("0b1f6c2e-3d4a-4e5f-8a9b-1c2d3e4f5a61", "SalesAgents")


def partner_groups(*, admin_agent: bool) -> list[tuple[str, str]]:
    """The demo user's groups: ``AdminAgents``, or, once the operator took that role away, ``SalesAgents``."""
    return [ADMIN_AGENTS] if admin_agent else [SALES_AGENTS]


def group_json(group: tuple[str, str], *, select: Iterable[str] | None = None) -> dict[str, Any]:
    """One member of a ``memberOf`` collection (directoryObject items carry ``@odata.type``,
    learn.microsoft.com/graph/api/user-list-memberof); ``@odata.type`` stays under ``$select``."""
    group_id, name = group
    body: dict[str, Any] = {
        "id": group_id,
        "displayName": name,
        "description": f"Partner Center {name}",
        "securityEnabled": True,
        "mailEnabled": False,
        "groupTypes": [],
    }
    return {"@odata.type": "#microsoft.graph.group", **_selected(body, select)}


def _selected(body: dict[str, Any], select: Iterable[str] | None) -> dict[str, Any]:
    """``$select``: only the named properties (case-insensitive), ``id`` always (ASSUMPTION)."""
    if select is None:
        return body
    wanted = {name.lower() for name in select} | {"id"}
    return {key: value for key, value in body.items() if key.lower() in wanted}
