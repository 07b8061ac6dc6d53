"""Partner Center resources as tolerant, frozen pydantic models.

Partner Center is inconsistent about casing (reads are camelCase, the removal response is
PascalCase) and adds statuses over time ('expired', 'disabled' crashed the old PowerShell
module). So every model here:

- accepts keys in any casing (``relationshipToPartner``, ``RelationshipToPartner``);
- ignores fields it does not know;
- maps enum values case-insensitively and unknown ones to ``UNKNOWN`` (the raw text is kept
  next to it, for messages);
- reads dates leniently (7-digit fractions, missing zone = UTC, garbage = None);
- treats ``null`` as absent (Partner Center serializes nulls, as its removal response shows).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator
from pydantic.alias_generators import to_camel

__all__ = (
    "AzureEntitlement",
    "Collection",
    "CompanyProfile",
    "Customer",
    "Entitlement",
    "LineItemPricing",
    "Link",
    "Order",
    "OrderLineItem",
    "OrderStatus",
    "PartnerCenterModel",
    "ProductType",
    "RefundOption",
    "RefundableQuantity",
    "RefundableTranche",
    "Relationship",
    "RelationshipRequest",
    "ResourceKeptAsRead",
    "Subscription",
    "SubscriptionStatus",
)


def _enum_text(value: object) -> str:
    """Lower case, with spaces, hyphens and underscores alike: the docs spell multi-word values
    with spaces ("pending review"), the SDK's converter writes them with underscores."""
    return re.sub(r"[\s_-]+", "_", str(value).strip().lower())


class _TolerantEnum(StrEnum):
    """A wire enum: case-insensitive, with UNKNOWN for values Partner Center adds later."""

    @classmethod
    def _missing_(cls, value: object) -> _TolerantEnum:
        text = _enum_text(value)
        for member in cls:
            if _enum_text(member.value) == text:
                return member
        return cls("unknown")


class Relationship(_TolerantEnum):
    UNKNOWN = "unknown"
    RESELLER = "reseller"
    ADVISOR = "advisor"
    SYNDICATION = "syndication"
    MICROSOFT_SUPPORT = "microsoft_support"
    NONE = "none"


class SubscriptionStatus(_TolerantEnum):
    """DOTNET ``Source/PartnerSdk.Models/Subscriptions/SubscriptionStatus.cs``; subscription-resources.md.
    Any other value is UNKNOWN, and an UNKNOWN subscription is never acted on (blockers.py)."""

    UNKNOWN = "unknown"
    NONE = "none"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETED = "deleted"
    EXPIRED = "expired"
    PENDING = "pending"
    DISABLED = "disabled"


class OrderStatus(_TolerantEnum):
    """PC-PR-2023 ``developer/order-resources.md`` (OrderStatus; ../shared/reference/fidelity-audit.md #21). Only a
    ``completed`` order is offered for cancellation (blockers.py); the multi-word values are
    written with spaces in the docs, and read here with spaces or underscores."""

    UNKNOWN = "unknown"
    COMPLETED = "completed"
    PENDING = "pending"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"
    PENDING_REVIEW = "pending review"
    PENDING_PO_UPLOAD = "pending po upload"
    PO_UPLOAD_COMPLETE = "po upload complete"
    PO_REVIEW_REJECTED = "po review rejected"
    PARTIAL_SUCCESS = "partial success"
    ERROR = "error"


_FRACTION = re.compile(r"(\.\d{6})\d+")


def _lenient_datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        text = _FRACTION.sub(r"\1", str(value).strip()).replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


LenientDatetime = Annotated[datetime | None, BeforeValidator(_lenient_datetime)]


def _lenient_decimal(value: Any) -> Decimal | None:
    """A price as sent (a JSON number or a string); garbage or a bool reads as no price."""
    if value in (None, "") or isinstance(value, bool):
        return None
    try:
        parsed = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return parsed if parsed.is_finite() else None


LenientDecimal = Annotated[Decimal | None, BeforeValidator(_lenient_decimal)]


def _enum_or_unknown(enum: type[_TolerantEnum]) -> BeforeValidator:
    return BeforeValidator(lambda value: enum("unknown" if value is None else value))


@functools.cache
def _keys_by_lowercase(model: type[BaseModel]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for name, field in model.model_fields.items():
        keys[name.lower()] = field.alias or name
        if field.alias:
            keys[field.alias.lower()] = field.alias
    return keys


@functools.lru_cache(maxsize=4096)
def _known_key(model: type[BaseModel], key: str) -> str | None:
    """The field alias ``key`` names in any casing, or None for a field the model does not have.
    Cached per (model, key as sent): a page of 1,000 subscriptions repeats the same 25 keys
    (bounded: the keys come from the wire)."""
    return _keys_by_lowercase(model).get(key.lower())


class PartnerCenterModel(BaseModel):
    """Base of every resource: any key casing, unknown fields ignored, immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _accept_any_casing(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        # A null must not fail a str or list field: the field's default stands in for it. Keys
        # the model does not know are dropped here (they would be ignored anyway), so that
        # pydantic does not look at them again.
        known = {}
        for key, value in data.items():
            if value is not None and isinstance(key, str) and (alias := _known_key(cls, key)) is not None:
                known[alias] = value
        return known

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Self:
        """The resource from a body as Partner Center sent it (what every read goes through)."""
        return cls.model_validate(wire)


class ResourceKeptAsRead(PartnerCenterModel):
    """A resource a write sends back whole (a subscription's suspend PATCH, a transfer's accept):
    the body exactly as read is kept beside the parsed fields."""

    _wire: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Self:
        """As for every resource, keeping the body as read: a write sends it back whole."""
        resource = cls.model_validate(wire)
        resource._wire = dict(wire)
        return resource

    @property
    def wire(self) -> dict[str, Any]:
        return dict(self._wire)


class LinkHeader(PartnerCenterModel):
    key: str = ""
    value: str = ""


class Link(PartnerCenterModel):
    uri: str = ""
    method: str = "GET"
    headers: list[LinkHeader] = Field(default_factory=list)


class Links(PartnerCenterModel):
    self_: Link | None = Field(default=None, alias="self")
    next: Link | None = None
    previous: Link | None = None


class Attributes(PartnerCenterModel):
    object_type: str = ""
    etag: str | None = None


T = TypeVar("T")


class Collection(PartnerCenterModel, Generic[T]):
    total_count: int = 0
    items: list[T] = Field(default_factory=list)
    links: Links = Field(default_factory=Links)
    continuation_token: str | None = None


class CompanyProfile(PartnerCenterModel):
    tenant_id: str = ""
    domain: str = ""
    company_name: str = ""


class Customer(PartnerCenterModel):
    id: str | None = None
    company_profile: CompanyProfile | None = None
    relationship_to_partner: Annotated[Relationship, _enum_or_unknown(Relationship)] = Relationship.UNKNOWN
    allow_delegated_access: bool | None = None
    attributes: Attributes = Field(default_factory=Attributes)

    @property
    def name(self) -> str:
        return self.company_profile.company_name if self.company_profile else ""

    @property
    def domain(self) -> str:
        return self.company_profile.domain if self.company_profile else ""


class ProductType(PartnerCenterModel):
    """``productType {id, displayName, subType?}`` (../shared/reference/partner-center-api.md §3.2). ``subType`` is read
    as sent (an object or a string: the pages read do not show it)."""

    id: str = ""
    display_name: str = ""
    sub_type: Any = None

    @property
    def sub_type_name(self) -> str:
        """The sub-type's id or display name, or the text itself; "" when absent."""
        sub = self.sub_type
        if isinstance(sub, dict):
            lowered = {str(k).lower(): v for k, v in sub.items()}
            return str(lowered.get("id") or lowered.get("displayname") or "")
        return str(sub or "")


class RefundOption(PartnerCenterModel):
    """``refundOptions[] {type: "Full"|"Partial", expiresAt}``; the doc text names the date
    ``expiresAfter``, the examples ``expiresAt`` (partner-center-api.md §3.2): both are read."""

    type: str = ""
    expires_at: LenientDatetime = None
    expires_after: LenientDatetime = None

    @property
    def until(self) -> datetime | None:
        return self.expires_at or self.expires_after


class RefundableTranche(PartnerCenterModel):
    """``refundableQuantity.details[] {quantity, allowedUntilDateTime}`` (.NET SDK)."""

    quantity: int = 0
    allowed_until_date_time: LenientDatetime = None


class RefundableQuantity(PartnerCenterModel):
    """ "The number of seats eligible for reduction at the time of the request", one window per
    tranche (.NET SDK RefundableQuantity; ../shared/reference/anchors.md §4)."""

    total_quantity: int | None = None
    details: list[RefundableTranche] = Field(default_factory=list)


class Subscription(ResourceKeptAsRead):
    id: str
    offer_id: str = ""
    offer_name: str = ""
    friendly_name: str = ""
    product_type: ProductType | None = None
    quantity: int | None = None
    status: Annotated[SubscriptionStatus, _enum_or_unknown(SubscriptionStatus)] = SubscriptionStatus.UNKNOWN
    raw_status: str = ""
    auto_renew_enabled: bool | None = None
    creation_date: LenientDatetime = None
    commitment_end_date: LenientDatetime = None
    cancellation_allowed_until_date: LenientDatetime = None
    term_duration: str | None = None
    billing_cycle: str = ""
    refund_options: list[RefundOption] = Field(default_factory=list)
    refundable_quantity: RefundableQuantity | None = None
    order_id: str | None = None
    # Marketplace (third-party) products: isMicrosoftProduct false, publisherName set
    # (DOTNET Subscription.cs; ../shared/reference/partner-center-api.md §3.2).
    is_microsoft_product: bool | None = None
    publisher_name: str = ""
    attributes: Attributes = Field(default_factory=Attributes)

    @model_validator(mode="before")
    @classmethod
    def _keep_raw_status(cls, data: Any) -> Any:
        return _with_raw_status(data)

    @property
    def etag(self) -> str | None:
        return self.attributes.etag

    @property
    def name(self) -> str:
        return self.friendly_name or self.offer_name or self.id


class AzureEntitlement(PartnerCenterModel):
    """An Azure subscription under an Azure plan (``.../azureEntitlements``)."""

    id: str
    friendly_name: str = ""
    status: str = ""
    subscription_id: str = ""

    @property
    def is_active(self) -> bool:
        return self.status.lower() == "active"


class ReferenceOrder(PartnerCenterModel):
    id: str = ""
    line_item_id: str = ""
    alternate_id: str = ""


class EntitledArtifact(PartnerCenterModel):
    artifact_type: str = ""
    resource_id: str = ""
    link: Link | None = None
    dynamic_attributes: dict[str, Any] = Field(default_factory=dict)


class Entitlement(PartnerCenterModel):
    entitlement_type: str = ""
    product_id: str = ""
    sku_id: str = ""
    quantity: int | None = None
    reference_order: ReferenceOrder = Field(default_factory=ReferenceOrder)
    entitled_artifacts: list[EntitledArtifact] = Field(default_factory=list)
    expiry_date: LenientDatetime = None
    fulfillment_state: str = ""

    @property
    def is_reservation(self) -> bool:
        return self.entitlement_type.lower() == "reservedinstance"

    @property
    def is_savings_plan(self) -> bool:
        # entitlementType "savingsPlan": assumption on the shape (entitlements like reservations).
        return self.entitlement_type.lower() == "savingsplan"

    @property
    def is_software(self) -> bool:
        return self.entitlement_type.lower() == "software"


class LineItemPricing(PartnerCenterModel):
    """An order line item's ``pricing``, sent only with ``includePrice=true`` (Java SDK
    ``com.microsoft.store.partnercenter.models.orders.Pricing``, which only says "Gets the price
    for the order line item"). ASSUMPTION: ``price`` is the partner's unit price per billing
    period and ``extendedPrice`` price × quantity; partner_center.money.checked_unit_price treats
    the price as unknown where the two disagree."""

    list_price: LenientDecimal = None
    discounted_price: LenientDecimal = None
    price: LenientDecimal = None
    extended_price: LenientDecimal = None
    prorated_price: LenientDecimal = None


class OrderLineItem(PartnerCenterModel):
    line_item_number: int = 0
    offer_id: str = ""
    subscription_id: str = ""
    friendly_name: str = ""
    quantity: int | None = None
    term_duration: str = ""
    pricing: LineItemPricing | None = None


class Order(PartnerCenterModel):
    id: str
    status: Annotated[OrderStatus, _enum_or_unknown(OrderStatus)] = OrderStatus.UNKNOWN
    raw_status: str = ""  # as Partner Center spelled it (for a status Offboard does not know)
    billing_cycle: str = ""
    # The partner's billing currency; with includePrice=true (assumption: also on the order list).
    currency_code: str = ""
    creation_date: LenientDatetime = None
    line_items: list[OrderLineItem] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _keep_raw_status(cls, data: Any) -> Any:
        return _with_raw_status(data)

    @property
    def name(self) -> str:
        names = [line.friendly_name for line in self.line_items if line.friendly_name]
        return ", ".join(names) or self.id

    @property
    def priced(self) -> bool:
        """Read with its prices (some line item carries a price)."""
        return any(line.pricing is not None and line.pricing.price is not None for line in self.line_items)

    def line_for(self, subscription_id: str) -> OrderLineItem | None:
        """The line item that bought ``subscription_id`` (or the only line item, when none
        names a subscription: a purchase's own order)."""
        wanted = subscription_id.lower()
        for line in self.line_items:
            if line.subscription_id.lower() == wanted:
                return line
        unnamed = [line for line in self.line_items if not line.subscription_id]
        return unnamed[0] if len(self.line_items) == 1 and unnamed else None


class RelationshipRequest(PartnerCenterModel):
    url: str = ""


def _with_raw_status(data: Any) -> Any:
    """The wire's ``status`` kept as Partner Center spelled it (``rawStatus``), beside the enum
    it is read into: a status Offboard does not know is shown as written, not as "unknown"."""
    if isinstance(data, dict) and "rawStatus" not in data:
        status = next((v for k, v in data.items() if str(k).lower() == "status"), "")
        data = {**data, "rawStatus": str(status or "")}
    return data
