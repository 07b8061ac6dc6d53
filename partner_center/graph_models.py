"""Microsoft Graph resources Offboard reads, as tolerant frozen models (like :mod:`.models`).

The same rules as Partner Center's models: any key casing, unknown fields ignored, ``null`` as
absent, enums with ``UNKNOWN`` for values Microsoft adds later (the raw text kept beside them),
lenient dates. Field names are Microsoft's (v1.0):

- ``delegatedAdminRelationship``: https://learn.microsoft.com/graph/api/resources/delegatedadminrelationship
- ``delegatedAdminRelationshipRequest``: https://learn.microsoft.com/graph/api/delegatedadminrelationship-post-requests
- ``organization`` (notification lists, ``privacyProfile``): https://learn.microsoft.com/graph/api/resources/organization
- ``user``: https://learn.microsoft.com/graph/api/resources/user
- ``servicePrincipal``: https://learn.microsoft.com/graph/api/resources/serviceprincipal
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import Field, model_validator

from .models import LenientDatetime, PartnerCenterModel, _enum_or_unknown, _TolerantEnum, _with_raw_status

__all__ = (
    "CONTACT_LISTS",
    "MICROSOFT_DEFAULT_PREFIX",
    "PRIVACY_CONTACT",
    "TERMINATION_UNDERWAY",
    "DelegatedAdminRelationship",
    "DelegatedAdminRelationshipRequest",
    "GdapCustomer",
    "GdapStatus",
    "GuestUser",
    "OrganizationContacts",
    "PrivacyProfile",
    "ServicePrincipal",
    "UnifiedRole",
    "address_in_domains",
)

# The relationships Microsoft created itself in its DAP-to-GDAP transition are named "MLT_"
# followed by a GUID: "Check for an admin relationship prefixed with MLT_ followed by a GUID"
# (docs.rewst.help, "Navigating the Microsoft-led transition to GDAP"). Microsoft's own page
# (learn.microsoft.com/partner-center/gdap-microsoft-led-transition) describes the relationship
# ("eight default roles") but not its name: a third party's word, not Microsoft's.
MICROSOFT_DEFAULT_PREFIX = "MLT_"


class GdapStatus(_TolerantEnum):
    """``delegatedAdminRelationshipStatus`` (resources/delegatedadminrelationship). Graph's own
    ``unknownFutureValue`` and anything newer read as UNKNOWN (the raw text is kept)."""

    UNKNOWN = "unknown"
    CREATED = "created"
    APPROVAL_PENDING = "approvalPending"
    APPROVED = "approved"
    ACTIVATING = "activating"
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    TERMINATION_REQUESTED = "terminationRequested"
    TERMINATING = "terminating"
    TERMINATED = "terminated"


# Past the point of no return: a terminate request was accepted (by either side) or it is done.
# ``terminationRequested`` is "partner or customer asked" (../shared/reference/anchors.md §3.1).
TERMINATION_UNDERWAY = frozenset({GdapStatus.TERMINATION_REQUESTED, GdapStatus.TERMINATING, GdapStatus.TERMINATED})


class GdapCustomer(PartnerCenterModel):
    """``delegatedAdminRelationshipCustomerParticipant``."""

    tenant_id: str = ""
    display_name: str = ""


class UnifiedRole(PartnerCenterModel):
    """An Entra built-in role's template id (``unifiedRole``)."""

    role_definition_id: str = ""


class AccessDetails(PartnerCenterModel):
    """``delegatedAdminAccessDetails``."""

    unified_roles: list[UnifiedRole] = Field(default_factory=list)


class DelegatedAdminRelationship(PartnerCenterModel):
    """A GDAP relationship, as the partner tenant reads it.

    ``endDateTime`` is set when the status becomes ``terminated`` or ``expired``;
    ``autoExtendDuration`` is one of ``P0D``, ``PT0S`` (no auto-extension) and ``P180D``
    (resources/delegatedadminrelationship).
    """

    id: str
    etag: str | None = Field(default=None, alias="@odata.etag")
    display_name: str = ""
    duration: str = ""
    customer: GdapCustomer = Field(default_factory=GdapCustomer)
    access_details: AccessDetails = Field(default_factory=AccessDetails)
    status: Annotated[GdapStatus, _enum_or_unknown(GdapStatus)] = GdapStatus.UNKNOWN
    raw_status: str = ""
    auto_extend_duration: str = ""
    created_date_time: LenientDatetime = None
    activated_date_time: LenientDatetime = None
    last_modified_date_time: LenientDatetime = None
    end_date_time: LenientDatetime = None

    @model_validator(mode="before")
    @classmethod
    def _keep_raw_status(cls, data: Any) -> Any:
        return _with_raw_status(data)

    @property
    def role_ids(self) -> tuple[str, ...]:
        """The Entra role template ids the relationship grants."""
        return tuple(role.role_definition_id for role in self.access_details.unified_roles if role.role_definition_id)

    @property
    def auto_extends(self) -> bool | None:
        """True when it extends itself (``P180D``); None when Graph did not say."""
        duration = self.auto_extend_duration.strip().upper()
        if not duration:
            return None
        return duration not in ("P0D", "PT0S")

    @property
    def is_microsoft_default(self) -> bool:
        """Created by Microsoft's DAP-to-GDAP transition (named ``MLT_<guid>``; see the prefix's source)."""
        return self.display_name.upper().startswith(MICROSOFT_DEFAULT_PREFIX)

    @property
    def termination_underway(self) -> bool:
        """Termination was requested or is done: nothing left to ask for."""
        return self.status in TERMINATION_UNDERWAY


class DelegatedAdminRelationshipRequest(PartnerCenterModel):
    """The answer to ``POST .../requests`` (delegatedadminrelationship-post-requests)."""

    id: str = ""
    action: str = ""
    status: str = ""
    created_date_time: LenientDatetime = None
    last_modified_date_time: LenientDatetime = None


class PrivacyProfile(PartnerCenterModel):
    """``privacyProfile``: the organization's privacy contact and statement."""

    contact_email: str = ""
    statement_url: str = ""


# The organization's lists a customer sees as the partner's addresses (anchors.md §3.4), by wire name.
CONTACT_LISTS = ("technicalNotificationMails", "securityComplianceNotificationMails", "marketingNotificationEmails")
PRIVACY_CONTACT = "privacyProfile.contactEmail"


def address_in_domains(address: str, domains: Iterable[str]) -> bool:
    """Is ``address`` (an email) at one of ``domains`` or a subdomain of one (case-insensitive)?"""
    _, at, host = address.strip().lower().rpartition("@")
    return bool(at) and _host_in_domains(host, domains)


def _host_in_domains(host: str, domains: Iterable[str]) -> bool:
    for domain in domains:
        wanted = domain.strip().lower().lstrip("@")
        if wanted and (host == wanted or host.endswith("." + wanted)):
            return True
    return False


class OrganizationContacts(PartnerCenterModel):
    """The contact addresses of a customer's ``organization``."""

    id: str
    display_name: str = ""
    technical_notification_mails: list[str] = Field(default_factory=list)
    security_compliance_notification_mails: list[str] = Field(default_factory=list)
    marketing_notification_emails: list[str] = Field(default_factory=list)
    privacy_profile: PrivacyProfile | None = None

    def lists(self) -> dict[str, list[str]]:
        """The notification lists by wire name."""
        return {
            "technicalNotificationMails": list(self.technical_notification_mails),
            "securityComplianceNotificationMails": list(self.security_compliance_notification_mails),
            "marketingNotificationEmails": list(self.marketing_notification_emails),
        }

    def partner_addresses(self, partner_domains: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The partner's addresses found, by where they are (a list's wire name, or
        :data:`PRIVACY_CONTACT`); empty when there are none."""
        domains = tuple(partner_domains)
        found = {
            name: tuple(address for address in addresses if address_in_domains(address, domains))
            for name, addresses in self.lists().items()
        }
        privacy = self.privacy_profile.contact_email if self.privacy_profile else ""
        found[PRIVACY_CONTACT] = (privacy,) if privacy and address_in_domains(privacy, domains) else ()
        return {name: addresses for name, addresses in found.items() if addresses}

    def without_partner_addresses(self, partner_domains: Iterable[str]) -> dict[str, Any]:
        """The PATCH body that leaves the customer's own addresses: only the properties that
        hold a partner address, each list without them; the privacy contact emptied (``null``,
        an assumption: Microsoft documents no way to clear it) with the statement URL kept."""
        domains = tuple(partner_domains)
        body: dict[str, Any] = {}
        for name, addresses in self.lists().items():
            kept = [address for address in addresses if not address_in_domains(address, domains)]
            if len(kept) != len(addresses):
                body[name] = kept
        if self.privacy_profile and address_in_domains(self.privacy_profile.contact_email, domains):
            body["privacyProfile"] = {"contactEmail": None, "statementUrl": self.privacy_profile.statement_url or None}
        return body


class GuestUser(PartnerCenterModel):
    """A ``user`` whose ``userType`` is ``Guest``."""

    id: str
    display_name: str = ""
    mail: str = ""
    user_principal_name: str = ""
    user_type: str = ""
    external_user_state: str = ""

    def is_from(self, partner_domains: Iterable[str]) -> bool:
        """Its mail is at a partner domain, or its UPN is the ``#EXT#`` form of such an address.

        A guest's UPN is its address with ``@`` written ``_``, then ``#EXT#@<customer domain>``
        (https://learn.microsoft.com/entra/external-id/user-properties, "User principal name");
        the local part may itself hold ``_``, so every split is tried.
        """
        domains = tuple(partner_domains)
        if self.mail and address_in_domains(self.mail, domains):
            return True
        external, marker, _ = self.user_principal_name.lower().partition("#ext#")
        if not marker:
            return False
        return any(_host_in_domains(external[index + 1 :], domains) for index, char in enumerate(external) if char == "_")


class ServicePrincipal(PartnerCenterModel):
    """A ``servicePrincipal``; ``appOwnerOrganizationId`` is the tenant that registered the app."""

    id: str
    app_id: str = ""
    display_name: str = ""
    app_owner_organization_id: str = ""
