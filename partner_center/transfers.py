"""Transfer requests another partner created for a customer, and what accepting them clears.

"A partner creates a transfer to a customer's current partner. The current or source partner
accepts the transfer and submits it to complete the transfer"
(learn.microsoft.com/partner-center/developer/transfer-entity-resources). Offboard is the source
partner: it lists ``GET /v1/customers/{id}/transfers``, and accepts (``status: "Complete"``) or
rejects one with ``PATCH /v1/customers/{id}/transfers/{transfer-id}``
(learn.microsoft.com/partner-center/developer/update-a-transfer). The client methods are in
:mod:`partner_center.client`; this module is the models and the pure rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, model_validator

from .blockers import Blocker, BlockerKind
from .models import Attributes, LenientDatetime, PartnerCenterModel, ResourceKeptAsRead, _TolerantEnum, _with_raw_status

__all__ = (
    "MAX_LINE_ITEMS_PER_SUBMIT",
    "TRANSFERABLE_KINDS",
    "Transfer",
    "TransferLine",
    "TransferStatus",
    "clears",
    "outside_limits",
)

# "25-item transfer limit" (CloudCockpit blog, 2026-05-15): a vendor claim, not a Microsoft page
# (assumption). Only said on the confirmation card: nothing is refused on its strength.
MAX_LINE_ITEMS_PER_SUBMIT: Final = 25

# What a transfer can carry: "Azure Plan reservations, savings plans, and subscriptions and new
# commerce license-based subscriptions" (create-a-transfer); targetProductTypes lists
# AzureSubscription, AzureReservation, AzureSavingsPlan, OnlineServicesNCE, Software, SaaS
# (transfer-entity-resources). Legacy subscriptions are not transferred this way (assumption from
# "new commerce" in both pages).
TRANSFERABLE_KINDS: Final = frozenset(
    {
        BlockerKind.NCE_INSIDE_WINDOW,
        BlockerKind.NCE_PAST_WINDOW,
        BlockerKind.AZURE_PLAN,
        BlockerKind.RESERVATION,
        BlockerKind.SAVINGS_PLAN,
        BlockerKind.SOFTWARE_INSIDE_WINDOW,
        BlockerKind.SOFTWARE_PAST_WINDOW,
        BlockerKind.MARKETPLACE_SAAS,
    }
)


class TransferStatus(_TolerantEnum):
    """ "Active" (can be deleted/submitted) and "Completed" are documented
    (transfer-entity-resources); Expired and Canceled are assumptions (the page's cancel example
    sends "Cancel"; an unanswered request is assumed to expire)."""

    UNKNOWN = "unknown"
    ACTIVE = "active"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELED = "canceled"

    @classmethod
    def _missing_(cls, value: object) -> TransferStatus:
        text = str(value).strip().lower()
        if text in ("complete", "completed"):
            return cls.COMPLETED
        if text in ("cancel", "cancelled", "canceled"):
            return cls.CANCELED
        return super()._missing_(value)  # type: ignore[return-value]


def _text(value: Any) -> str:
    """An id as text: line item ids are numbers on the wire (update-a-transfer's example)."""
    return "" if value is None else str(value)


Text = Annotated[str, BeforeValidator(_text)]


class TransferLine(PartnerCenterModel):
    """A TransferLineItem (transfer-entity-resources). ``transferError``/``status`` per line are
    read when sent (assumption: where a failed line says why)."""

    id: Text = ""
    subscription_id: str = ""
    quantity: int | None = None
    billing_cycle: str = ""
    friendly_name: str = ""
    partner_id_on_record: str = ""
    offer_id: str = ""
    term_duration: str = ""
    transfer_error: Any = None
    status: str = ""

    @property
    def name(self) -> str:
        return self.friendly_name or self.offer_id or self.subscription_id

    @property
    def error_text(self) -> str:
        """The line's transferError as text ("" when none): a string, or an object's
        description/message/code."""
        error = self.transfer_error
        if not error:
            return ""
        if isinstance(error, dict):
            lowered = {str(k).lower(): v for k, v in error.items()}
            return str(lowered.get("description") or lowered.get("message") or lowered.get("code") or error)
        return str(error)


def _status(value: Any) -> TransferStatus:
    return TransferStatus("unknown" if value is None else value)


class Transfer(ResourceKeptAsRead):
    """A TransferEntity (transfer-entity-resources), kept as read: accepting sends it back."""

    id: str
    status: Annotated[TransferStatus, BeforeValidator(_status)] = TransferStatus.UNKNOWN
    raw_status: str = ""
    transfer_type: Text = ""
    created_time: LenientDatetime = None
    last_modified_time: LenientDatetime = None
    completed_time: LenientDatetime = None
    expiration_time: LenientDatetime = None
    customer_tenant_id: str = ""
    customer_name: str = ""
    customer_email_id: str = ""
    source_partner_tenant_id: str = ""
    source_partner_name: str = ""
    target_partner_tenant_id: str = ""
    target_partner_name: str = ""
    target_partner_email_id: str = ""
    partner_on_record: str = ""
    target_product_types: list[str] = Field(default_factory=list)
    line_items: list[TransferLine] = Field(default_factory=list)
    attributes: Attributes = Field(default_factory=Attributes)

    @model_validator(mode="before")
    @classmethod
    def _keep_raw_status(cls, data: Any) -> Any:
        return _with_raw_status(data)

    @property
    def target_partner(self) -> str:
        return self.target_partner_name or self.target_partner_tenant_id

    @property
    def is_pending(self) -> bool:
        return self.status is TransferStatus.ACTIVE

    @property
    def failed_lines(self) -> tuple[TransferLine, ...]:
        return tuple(line for line in self.line_items if line.error_text)


def clears(transfer: Transfer, blockers: Iterable[Blocker]) -> dict[str, str | None]:
    """For each line item id: the key of the blocker its subscription is (None when no blocker of
    the plan is that subscription). A blocker's ``item_id`` is the subscription id for
    subscriptions, and the order id for reservations, savings plans and software purchases
    (blockers.py), so a line matches by its subscription id against either (assumption: a
    transfer line of a reservation or savings plan carries that id as subscriptionId)."""
    by_item: dict[str, str] = {}
    for blocker in blockers:
        if blocker.kind in TRANSFERABLE_KINDS and blocker.item_id:
            by_item.setdefault(blocker.item_id.lower(), blocker.key)
    return {line.id: by_item.get(line.subscription_id.lower()) for line in transfer.line_items}


def outside_limits(transfer: Transfer, line_item_ids: Iterable[str] | None) -> str:
    """Why accepting these line items (None: all) cannot be sent, or "" when it can.

    Codes: ``not_active`` (only an Active transfer "can be deleted/submitted",
    transfer-entity-resources), ``unknown_line`` (an id the transfer does not have),
    ``no_lines``. :data:`MAX_LINE_ITEMS_PER_SUBMIT` is a vendor's claim, not refused here:
    Partner Center answers for its own limits.
    """
    if transfer.status is not TransferStatus.ACTIVE:
        return "not_active"
    known = {line.id for line in transfer.line_items}
    wanted = known if line_item_ids is None else set(line_item_ids)
    if not wanted:
        return "no_lines"
    if wanted - known:
        return "unknown_line"
    return ""
