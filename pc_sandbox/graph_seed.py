"""Load the Graph part of the seed (``seed.json`` → ``"graph"``): GDAP relationships and the
customer tenants' directories.

Written for people like the rest of the seed: dates relative to the clock (``"now-400d"``),
ids derived from the customer when omitted (the same on every load), roles by name
(``"GLOBAL_READER"``, see :class:`~.graph_access.Role`) or template id, and a guest's
``userPrincipalName`` derived from its mail as Entra writes it (``alex_contoso.com#EXT#@…``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .clock import add_duration
from .graph_access import Role
from .graph_models import DirectoryUser, GdapRelationship, Organization, ServicePrincipal, TenantDirectory
from .models import Customer
from .seed import derived_id, resolve_date

__all__ = ("load_graph",)


def load_graph(
    seed: Mapping[str, Any], *, now: datetime, customers: Mapping[str, Customer]
) -> tuple[list[GdapRelationship], list[TenantDirectory]]:
    graph = seed.get("graph", {})
    relationships = [_relationship(spec, index, now, customers) for index, spec in enumerate(graph.get("relationships", []))]
    directories = [_directory(spec, customers) for spec in graph.get("tenants", [])]
    return relationships, directories


def _role_id(name: str) -> str:
    return Role[name].value if name in Role.__members__ else name.lower()


def _relationship(spec: Mapping[str, Any], index: int, now: datetime, customers: Mapping[str, Customer]) -> GdapRelationship:
    tenant_id = str(spec["customer"]).lower()
    customer = customers.get(tenant_id)
    # Graph's relationship ids are two GUIDs joined by a hyphen (delegatedadminrelationships-api-overview).
    relationship_id = str(spec.get("id") or f"{derived_id(tenant_id, 'gdap', str(index))}-{derived_id(tenant_id, 'gdap-b', str(index))}")
    status = spec.get("status", "active")
    duration = spec.get("duration", "P730D")
    created = resolve_date(spec.get("createdDateTime", "now-30d"), now)
    activated = None
    if status not in ("created", "approvalPending"):
        activated = resolve_date(spec.get("activatedDateTime", "now-29d"), now)
    end = None
    if "endDateTime" in spec:
        end = resolve_date(spec["endDateTime"], now)
    elif activated is not None:
        end = add_duration(activated, duration)  # endDateTime = activatedDateTime + duration (resource page)
    display_name = spec.get("displayName") or f"Relationship {index + 1}"
    return GdapRelationship(
        id=relationship_id,
        display_name=display_name,
        customer_tenant_id=tenant_id,
        customer_display_name=spec.get("customerDisplayName") or (customer.company_name if customer is not None else tenant_id),
        duration=duration,
        auto_extend_duration=spec.get("autoExtendDuration", "PT0S"),
        role_ids=[_role_id(name) for name in spec.get("roles", [])],
        status=status,
        created=created,
        last_modified=resolve_date(spec["lastModifiedDateTime"], now) if spec.get("lastModifiedDateTime") else (activated or created),
        activated=activated,
        end=end,
    )


def _directory(spec: Mapping[str, Any], customers: Mapping[str, Customer]) -> TenantDirectory:
    tenant_id = str(spec["id"]).lower()
    customer = customers.get(tenant_id)
    domain = customer.domain if customer is not None else f"{tenant_id}.onmicrosoft.com"
    org = spec.get("organization", {})
    privacy = org.get("privacyProfile") or {}
    organization = Organization(
        id=tenant_id,
        display_name=org.get("displayName") or (customer.company_name if customer is not None else tenant_id),
        technical_notification_mails=list(org.get("technicalNotificationMails", [])),
        security_compliance_notification_mails=list(org.get("securityComplianceNotificationMails", [])),
        marketing_notification_emails=list(org.get("marketingNotificationEmails", [])),
        privacy_contact_email=privacy.get("contactEmail"),
        privacy_statement_url=privacy.get("statementUrl"),
    )
    directory = TenantDirectory(tenant_id=tenant_id, organization=organization)
    for index, user_spec in enumerate(spec.get("users", [])):
        user = _user(user_spec, tenant_id, domain, index)
        directory.users[user.id] = user
    for index, principal_spec in enumerate(spec.get("servicePrincipals", [])):
        principal = ServicePrincipal(
            id=str(principal_spec.get("id") or derived_id(tenant_id, "servicePrincipal", str(index))).lower(),
            app_id=str(principal_spec.get("appId") or derived_id(tenant_id, "app", str(index))).lower(),
            display_name=principal_spec["displayName"],
            app_owner_organization_id=principal_spec.get("appOwnerOrganizationId"),
        )
        directory.service_principals[principal.id] = principal
    return directory


def _user(spec: Mapping[str, Any], tenant_id: str, domain: str, index: int) -> DirectoryUser:
    user_type = spec.get("userType", "Member")
    mail = spec.get("mail")
    if spec.get("userPrincipalName"):
        upn = spec["userPrincipalName"]
    elif user_type == "Guest" and mail:
        upn = f"{mail.replace('@', '_')}#EXT#@{domain}"  # how Entra names an invited guest
    else:
        upn = mail or f"user{index}@{domain}"
    return DirectoryUser(
        id=str(spec.get("id") or derived_id(tenant_id, "user", str(index))).lower(),
        display_name=spec["displayName"],
        mail=mail,
        user_principal_name=upn,
        user_type=user_type,
        external_user_state=spec.get("externalUserState", "Accepted" if user_type == "Guest" else None),
    )
