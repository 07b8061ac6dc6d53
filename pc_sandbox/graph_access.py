"""Who may call which Graph operation: delegated permissions and GDAP (Entra) roles.

A Graph call succeeds only if the partner app holds one of the operation's delegated
permissions (the ``scp`` of a real token; here ``SandboxOptions.graph_permissions``, changed at
run time through ``/_sandbox/graph/permissions``) and, in a customer tenant, the signed-in
partner user holds one of the operation's Entra roles there through an ``active`` GDAP
relationship. Otherwise Graph answers 403 ``Authorization_RequestDenied``.

Permissions are the "Permissions" tables of each Graph page cited below. Roles are Entra's
built-in role *template ids* (learn.microsoft.com/entra/identity/role-based-access-control/
permissions-reference); which roles each operation accepts follows the "In delegated scenarios
… least privileged role" notes of the same pages where they give one, and is an ASSUMPTION
where marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = (
    "DEFAULT_GRAPH_PERMISSIONS",
    "GraphOperation",
    "Role",
    "allowed_roles",
    "has_permission",
)


class Role(StrEnum):
    """Entra built-in role template ids (permissions-reference, "Template ID" column)."""

    GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
    GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
    DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
    DIRECTORY_WRITERS = "9360feb5-f418-4baa-8175-e2a00bac4301"
    USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1"
    HELPDESK_ADMINISTRATOR = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
    APPLICATION_ADMINISTRATOR = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
    CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
    LICENSE_ADMINISTRATOR = "4d6ac14f-3453-4d0d-bbc3-b2ff14d4d2e0"
    SERVICE_SUPPORT_ADMINISTRATOR = "f023fd81-a637-4b56-95fd-791ac0226033"
    PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"


# The partner app's delegated permissions by default: everything Offboard asks for (contract).
DEFAULT_GRAPH_PERMISSIONS: frozenset[str] = frozenset(
    {
        "DelegatedAdminRelationship.ReadWrite.All",
        "Directory.Read.All",
        "User.ReadWrite.All",
        "Organization.ReadWrite.All",
        "Application.ReadWrite.All",
    }
)


@dataclass(frozen=True, slots=True)
class _Rule:
    permissions: frozenset[str]  # any one of them suffices
    roles: frozenset[Role] | None  # None = a partner-tenant call: no GDAP role involved


class GraphOperation(StrEnum):
    LIST_RELATIONSHIPS = "listRelationships"
    TERMINATE_RELATIONSHIP = "terminateRelationship"
    DELETE_RELATIONSHIP = "deleteRelationship"
    READ_ORGANIZATION = "readOrganization"
    UPDATE_ORGANIZATION = "updateOrganization"
    LIST_USERS = "listUsers"
    DELETE_USER = "deleteUser"
    LIST_SERVICE_PRINCIPALS = "listServicePrincipals"
    DELETE_SERVICE_PRINCIPAL = "deleteServicePrincipal"
    LIST_MY_MEMBERSHIPS = "listMyMemberships"


_READERS = frozenset({Role.GLOBAL_ADMINISTRATOR, Role.GLOBAL_READER, Role.DIRECTORY_READERS, Role.DIRECTORY_WRITERS})

_RULES: dict[GraphOperation, _Rule] = {
    # learn.microsoft.com/graph/api/delegatedadminrelationship-get and …/tenantrelationship-list-
    # delegatedadminrelationships: DelegatedAdminRelationship.Read.All, higher ReadWrite.All.
    GraphOperation.LIST_RELATIONSHIPS: _Rule(
        frozenset({"DelegatedAdminRelationship.Read.All", "DelegatedAdminRelationship.ReadWrite.All"}), None
    ),
    # …/delegatedadminrelationship-post-requests and …/delegatedadminrelationship-delete:
    # DelegatedAdminRelationship.ReadWrite.All only.
    GraphOperation.TERMINATE_RELATIONSHIP: _Rule(frozenset({"DelegatedAdminRelationship.ReadWrite.All"}), None),
    GraphOperation.DELETE_RELATIONSHIP: _Rule(frozenset({"DelegatedAdminRelationship.ReadWrite.All"}), None),
    # …/organization-get: User.Read (own org) … Organization.Read.All, Directory.Read.All,
    # Organization.ReadWrite.All. Roles: any directory reader (ASSUMPTION: the page names none).
    GraphOperation.READ_ORGANIZATION: _Rule(
        frozenset({"Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"}),
        _READERS,
    ),
    # …/organization-update: Organization.ReadWrite.All. Role: Global Administrator only
    # (ASSUMPTION, per the contract: no page found naming a lesser role for these properties).
    GraphOperation.UPDATE_ORGANIZATION: _Rule(frozenset({"Organization.ReadWrite.All"}), frozenset({Role.GLOBAL_ADMINISTRATOR})),
    # …/user-list: User.ReadBasic.All, User.Read.All, Directory.Read.All, User.ReadWrite.All;
    # "Directory Readers is the least privileged role" for delegated reads; user admins read too.
    GraphOperation.LIST_USERS: _Rule(
        frozenset({"User.ReadBasic.All", "User.Read.All", "Directory.Read.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}),
        _READERS | {Role.USER_ADMINISTRATOR, Role.HELPDESK_ADMINISTRATOR},
    ),
    # …/user-delete: User.DeleteRestore.All, higher User.ReadWrite.All; "User Administrator is
    # the least privileged role supported" (deleting non-admins, which partner guests are).
    GraphOperation.DELETE_USER: _Rule(
        frozenset({"User.DeleteRestore.All", "User.ReadWrite.All"}),
        frozenset({Role.USER_ADMINISTRATOR, Role.GLOBAL_ADMINISTRATOR}),
    ),
    # …/serviceprincipal-list: Application.Read.All, Directory.Read.All, Application.ReadWrite.All.
    GraphOperation.LIST_SERVICE_PRINCIPALS: _Rule(
        frozenset({"Application.Read.All", "Directory.Read.All", "Application.ReadWrite.All", "Directory.ReadWrite.All"}),
        _READERS | {Role.APPLICATION_ADMINISTRATOR, Role.CLOUD_APPLICATION_ADMINISTRATOR},
    ),
    # …/serviceprincipal-delete: Application.ReadWrite.All; roles Cloud Application
    # Administrator (least privileged) or Application Administrator.
    GraphOperation.DELETE_SERVICE_PRINCIPAL: _Rule(
        frozenset({"Application.ReadWrite.All"}),
        frozenset({Role.CLOUD_APPLICATION_ADMINISTRATOR, Role.APPLICATION_ADMINISTRATOR, Role.GLOBAL_ADMINISTRATOR}),
    ),
    # …/user-list-memberof (``me/memberOf``, delegated): User.Read is the least privileged; the
    # higher ones listed there include Directory.Read.All and GroupMember.Read.All (ASSUMPTION:
    # User.Read.All and User.ReadWrite.All count too, as for the other user reads).
    GraphOperation.LIST_MY_MEMBERSHIPS: _Rule(
        frozenset(
            {"User.Read", "User.Read.All", "User.ReadWrite.All", "GroupMember.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}
        ),
        None,
    ),
}


def has_permission(operation: GraphOperation, granted: frozenset[str] | set[str]) -> bool:
    """Whether the app's delegated permissions allow ``operation`` (names compare case-insensitively)."""
    held = {permission.lower() for permission in granted}
    return any(permission.lower() in held for permission in _RULES[operation].permissions)


def allowed_roles(operation: GraphOperation) -> frozenset[Role] | None:
    """The GDAP roles one of which ``operation`` needs in a customer tenant; ``None`` = partner-tenant call."""
    return _RULES[operation].roles
