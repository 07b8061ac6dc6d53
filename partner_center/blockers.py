"""What blocks removing a reseller relationship, and what to do about each thing.

Pure rules over a :class:`CustomerSnapshot` (what Partner Center said, read in one go) and the
current time; no I/O. The table they implement (../shared/DESIGN.md "Blockers and the action for each"):

======================================  ========================================  ===========
blocker                                 proposed action                           blocks
======================================  ========================================  ===========
legacy subscription, active             suspend                                   yes
new-commerce, inside its window         cancel (status deleted)                   yes
new-commerce, past its window           turn off auto-renew, wait for term end    yes, until
                                                                                  the term end
Azure plan with active Azure subs       cancel them, then suspend the plan        yes
Azure plan, active, none active         suspend the plan                          yes
software purchase inside its window     cancel the order                          yes
software purchase past its window       report; a person decides                  no
Azure reservation                       cancel in the Azure portal; re-check      yes
Azure savings plan                      transfer, or wait until its term ends     yes
======================================  ========================================  ===========

Azure savings plans: "All savings plan purchases are final. After you buy a savings plan, you
can't cancel it" (azure-docs cost-management-billing/savings-plan/cancel-savings-plan.md). They
are shown only (never automatic): the exits are a transfer to the customer's new partner
(targetProductTypes includes AzureSavingsPlan, transfer-entity-resources) or the term's end.
That a savings plan holds the removal like a reservation is an assumption.

Every blocker of a subscription, software purchase, reservation or savings plan carries its
:class:`~partner_center.money.Money` (what Partner Center says about its price and windows; see
:func:`money_of_subscription`).

An Azure plan's active Azure subscriptions are proposed for cancellation only as the partner's
destructive choice: the cards also offer the customer's billing transfer (skip; a re-check then
sees them gone). The cancel API is documented "if compromise or abuse", needs a Global Admin
with the Admin agent role, and takes "about 10 mins" to show (learn.microsoft.com/partner-center/
developer/cancel-an-azure-subscription); the plan is suspended only once none reads ``active``
(403/900115 otherwise, developer/error-codes): see :mod:`partner_center.actions`.

Teardown items (issue 19) are not blockers of the removal but the partner's remaining access, as
:mod:`partner_center.access` reads it; :mod:`partner_center.teardown` makes them items and carries
them out. None holds the removal (``blocks_removal=False``); "undoable" is whether the partner can
undo it (four-eyes applies to deciding what it cannot):

==============================================  ====================================  ========
teardown item                                   proposed action                       undoable
==============================================  ====================================  ========
partner guest user                              delete it                             no
partner addresses in the organization contacts  remove them, keep the customer's own  yes
service principal of a partner-owned app        delete it                             no
DAP (``allowDelegatedAccess`` true)             remove it                             no
GDAP active, expiring, approved, activating     terminate it                          no
GDAP ``created`` (never sent to the customer)   delete it                             no
GDAP ``approvalPending``                        shown only: the customer may decline  --
GDAP ``terminationRequested``, ``terminating``  shown only: Microsoft finishes it     --
GDAP of a status Offboard does not know         shown only                            --
==============================================  ====================================  ========

A new-commerce subscription blocks until it is ``deleted``, ``expired`` or ``disabled``
(suspending one does not stop billing, and Microsoft says they must be cancelled; disabled
follows expiry or the end of a suspended term: learn.microsoft.com/partner-center/
subscription-lifecycle). A software purchase past its
window cannot be cancelled by anyone, so it is reported without holding the removal forever.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Final, Literal, TypedDict

from .models import (
    AzureEntitlement,
    Customer,
    Entitlement,
    Order,
    OrderLineItem,
    OrderStatus,
    Subscription,
    SubscriptionStatus,
)
from .money import Money, RefundWindow, SeatTranche, checked_unit_price

if TYPE_CHECKING:
    from .transfers import Transfer

__all__ = (
    "SOFTWARE_CANCELLATION_WINDOW",
    "TEARDOWN_KINDS",
    "Action",
    "Blocker",
    "BlockerKind",
    "CustomerSnapshot",
    "RemovalPlan",
    "classify",
    "is_azure_plan",
    "is_marketplace_saas",
    "is_new_commerce",
    "money_of_entitlement",
    "money_of_subscription",
)

# Legacy software purchases may be cancelled within 30 days of purchase (../shared/reference/partner-center-api.md
# §6, [I]); Partner Center gives no per-order date, so the window is counted from creationDate.
SOFTWARE_CANCELLATION_WINDOW = timedelta(days=30)

_NCE_PRODUCT_TYPES = frozenset({"onlineservicesnce", "software"})
_AZURE_PLAN_PRODUCT_ID = "DZH318Z0BPS6"
# Finished new-commerce states: nothing to act on, nothing billed. "After 30 days in the expired
# state, the subscription moves to a 90-day disabled state"; "30-day disabled state follows the
# end of a Suspended subscription's term"; disabled "Can't be reactivated"
# (learn.microsoft.com/partner-center/subscription-lifecycle).
_FINISHED_NCE = frozenset({SubscriptionStatus.DELETED, SubscriptionStatus.EXPIRED, SubscriptionStatus.DISABLED})


class BlockerKind(StrEnum):
    LEGACY_SUBSCRIPTION = "legacy_subscription"
    NCE_INSIDE_WINDOW = "nce_inside_window"
    NCE_PAST_WINDOW = "nce_past_window"
    AZURE_PLAN = "azure_plan"
    SOFTWARE_INSIDE_WINDOW = "software_inside_window"
    SOFTWARE_PAST_WINDOW = "software_past_window"
    RESERVATION = "reservation"
    SAVINGS_PLAN = "savings_plan"  # item_id: the savings plan's order id
    # Engineer D (../shared/reference/fidelity-audit.md #15, #21): recognised, but not something Offboard may act on.
    MARKETPLACE_SAAS = "marketplace_saas"
    STATUS_TO_CHECK = "status_to_check"
    # The partner's access to the customer (issue 19; partner_center.teardown). The item's name:
    PARTNER_GUEST = "partner_guest"  # "Display Name (address)"; item_id: the user's id
    PARTNER_CONTACTS = "partner_contacts"  # the partner's addresses, "; "-joined
    PARTNER_APP = "partner_app"  # the service principal's display name (or appId); item_id: its id
    DAP = "dap"  # "DAP"
    GDAP = "gdap"  # displayName; item_id: the relationship id; status: Graph's raw status

    @property
    def is_teardown(self) -> bool:
        """Part of the partner's access, not of what the customer buys: a teardown item."""
        return self in TEARDOWN_KINDS


TEARDOWN_KINDS: Final = frozenset(
    {BlockerKind.PARTNER_GUEST, BlockerKind.PARTNER_CONTACTS, BlockerKind.PARTNER_APP, BlockerKind.DAP, BlockerKind.GDAP}
)


class Action(StrEnum):
    """What the bot proposes; the automatic ones are carried out through Partner Center, or, for
    the teardown items, through Microsoft Graph (:mod:`partner_center.teardown`)."""

    SUSPEND = "suspend"
    CANCEL_SUBSCRIPTION = "cancel_subscription"
    TURN_OFF_AUTO_RENEW = "turn_off_auto_renew"
    CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN = "cancel_azure_subscriptions_and_suspend_plan"
    CANCEL_ORDER = "cancel_order"
    WAIT_FOR_TERM_END = "wait_for_term_end"
    CANCEL_IN_AZURE_PORTAL = "cancel_in_azure_portal"
    # Shown only: a savings plan cannot be cancelled; transfer it or wait until its term ends.
    TRANSFER_OR_WAIT = "transfer_or_wait"
    REPORT_ONLY = "report_only"
    # A person checks it in Partner Center; Offboard proposes nothing Partner Center may refuse.
    CHECK_IN_PARTNER_CENTER = "check_in_partner_center"
    # Shown only: a status Offboard does not know, which does not hold the removal.
    NOTE_UNKNOWN_STATUS = "note_unknown_status"
    # Teardown (issue 19; the GDAP rules by status are in partner_center.teardown).
    DELETE_GUEST = "delete_guest"
    CLEAR_CONTACTS = "clear_contacts"
    DELETE_SERVICE_PRINCIPAL = "delete_service_principal"
    REMOVE_DAP = "remove_dap"
    TERMINATE_GDAP = "terminate_gdap"
    DELETE_GDAP_REQUEST = "delete_gdap_request"
    # Shown only: the customer may decline it, and an unanswered request expires after 90 days
    # (learn.microsoft.com/partner-center/dap-faq, GDAP FAQ).
    NOTE_GDAP_PENDING = "note_gdap_pending"
    # Shown only: a termination was requested (by either side) and Microsoft completes it.
    NOTE_GDAP_ENDING = "note_gdap_ending"

    @property
    def is_automatic(self) -> bool:
        """The bot can do it itself (after a person confirms)."""
        return self in _AUTOMATIC_ACTIONS

    @property
    def is_irreversible(self) -> bool:
        """Once done, the partner cannot undo it (four-eyes applies to deciding it)."""
        return self in _IRREVERSIBLE_ACTIONS


_AUTOMATIC_ACTIONS = frozenset(
    {
        Action.SUSPEND,
        Action.CANCEL_SUBSCRIPTION,
        Action.TURN_OFF_AUTO_RENEW,
        Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN,
        Action.CANCEL_ORDER,
        Action.DELETE_GUEST,
        Action.CLEAR_CONTACTS,
        Action.DELETE_SERVICE_PRINCIPAL,
        Action.REMOVE_DAP,
        Action.TERMINATE_GDAP,
        Action.DELETE_GDAP_REQUEST,
    }
)

# Cancellations cannot be undone by the partner; a suspension can be reactivated, and auto-renew
# turned back on. Of the teardown: a deleted guest is restorable by the customer's admins only
# (deleted items, 30 days: user-delete), and so is a service principal (assumption); DAP and GDAP
# come back only through a new request the customer accepts (remove-dap; GDAP: a terminated
# relationship has no "reactivate" action, delegatedadminrelationship-post-requests); the removed
# contact addresses can be written back, since the audit names them (assumption).
_IRREVERSIBLE_ACTIONS = frozenset(
    {
        Action.CANCEL_SUBSCRIPTION,
        Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN,
        Action.CANCEL_ORDER,
        Action.DELETE_GUEST,
        Action.DELETE_SERVICE_PRINCIPAL,
        Action.REMOVE_DAP,
        Action.TERMINATE_GDAP,
        Action.DELETE_GDAP_REQUEST,
    }
)


class _Identity(TypedDict):
    """The fields every blocker of one subscription or order shares (passed as ``**identity``)."""

    item_id: str
    name: str
    status: str
    quantity: int | None


class _PurchaseIdentity(_Identity):
    window_ends: datetime | None


class _Dates(TypedDict):
    """A subscription's new-commerce dates (passed as ``**dates``)."""

    window_ends: datetime | None
    term_ends: datetime | None
    auto_renew: bool | None


@dataclass(frozen=True, slots=True)
class Blocker:
    """One thing standing between the partner and the removal.

    Attributes:
        kind: which row of the table.
        action: what the bot proposes.
        item_id: the subscription id, the order id, or the reservation's order id.
        name: what a person recognises (friendly or offer name).
        blocks_removal: whether Partner Center refuses the removal while it stands.
        status: the status as Partner Center spelled it.
        quantity: seats or units, when known.
        window_ends: end of the cancellation window, when there is one.
        term_ends: end of the commitment term (new commerce), when known.
        azure_subscription_ids: the active Azure subscriptions to cancel (Azure plan only).
        auto_renew: whether the subscription renews at term end (new commerce).
        money: its price and cancellation/refund windows as Partner Center says them; None
            where nothing is known (teardown items, a blocker built before issue 21).
    """

    kind: BlockerKind
    action: Action
    item_id: str
    name: str
    blocks_removal: bool = True
    status: str = ""
    quantity: int | None = None
    window_ends: datetime | None = None
    term_ends: datetime | None = None
    azure_subscription_ids: tuple[str, ...] = ()
    auto_renew: bool | None = None
    money: Money | None = None

    @property
    def key(self) -> str:
        """Stable identity of this blocker within a customer (idempotency, card actions)."""
        return f"{self.kind.value}:{self.item_id}"


@dataclass(frozen=True, slots=True)
class CustomerSnapshot:
    """Everything read from Partner Center about one customer, at one moment."""

    customer: Customer
    subscriptions: tuple[Subscription, ...] = ()
    azure_entitlements: dict[str, tuple[AzureEntitlement, ...]] = field(default_factory=dict)
    reservations: tuple[Entitlement, ...] = ()
    software: tuple[Entitlement, ...] = ()
    orders: tuple[Order, ...] = ()
    savings_plans: tuple[Entitlement, ...] = ()
    # Transfer requests other partners created for this customer (issue 21), as read.
    transfers: tuple[Transfer, ...] = ()


@dataclass(frozen=True, slots=True)
class RemovalPlan:
    """The blockers of one customer, classified at ``as_of``, and the transfer requests read
    with them (``transfers``: :class:`~partner_center.transfers.Transfer`)."""

    customer: Customer
    blockers: tuple[Blocker, ...]
    as_of: datetime
    transfers: tuple[Transfer, ...] = ()

    @property
    def blocking(self) -> tuple[Blocker, ...]:
        return tuple(b for b in self.blockers if b.blocks_removal)

    @property
    def actionable(self) -> tuple[Blocker, ...]:
        """What the bot can clear now, once confirmed."""
        return tuple(b for b in self.blockers if b.action.is_automatic)

    @property
    def must_wait(self) -> tuple[Blocker, ...]:
        """What blocks and only time or a person outside the bot can clear."""
        return tuple(b for b in self.blocking if not b.action.is_automatic)

    @property
    def can_remove_now(self) -> bool:
        return not self.blocking


def is_new_commerce(subscription: Subscription) -> bool:
    """New commerce: an NCE or software product type, a cancellation window, or a P:S:A offer id."""
    product = (subscription.product_type.id if subscription.product_type else "").lower()
    if is_azure_plan(subscription):
        return False
    return (
        product in _NCE_PRODUCT_TYPES or subscription.cancellation_allowed_until_date is not None or subscription.offer_id.count(":") == 2
    )


def is_azure_plan(subscription: Subscription) -> bool:
    product = (subscription.product_type.id if subscription.product_type else "").lower()
    return product == "azure" or subscription.offer_id.upper().startswith(_AZURE_PLAN_PRODUCT_ID)


def classify(snapshot: CustomerSnapshot, now: datetime) -> RemovalPlan:
    """Every blocker of the snapshot, subscriptions first, then software, then reservations."""
    blockers: list[Blocker] = []
    orders = {order.id: order for order in snapshot.orders}
    for subscription in snapshot.subscriptions:
        entitlements = snapshot.azure_entitlements.get(subscription.id, ())
        blocker = classify_subscription(subscription, now, azure_entitlements=entitlements)
        if blocker:
            if blocker.kind is not BlockerKind.AZURE_PLAN:
                blocker = replace(blocker, money=money_of_subscription(subscription, orders.get(subscription.order_id or "")))
            blockers.append(blocker)
    # A software subscription also shows up as a software entitlement of its order: count it once.
    covered_orders = {s.order_id for s in snapshot.subscriptions if s.order_id}
    seen_orders: set[str] = set()
    for entitlement in snapshot.software:
        order_id = entitlement.reference_order.id
        if not order_id or order_id in covered_orders or order_id in seen_orders:
            continue
        seen_orders.add(order_id)
        blocker = classify_software_purchase(entitlement, orders.get(order_id), now)
        if blocker:
            blockers.append(
                replace(blocker, money=money_of_entitlement(entitlement, orders.get(order_id), window_ends=blocker.window_ends))
            )
    for entitlement in snapshot.reservations:
        blocker = classify_reservation(entitlement, now)
        if blocker:
            blockers.append(replace(blocker, money=money_of_entitlement(entitlement, orders.get(entitlement.reference_order.id))))
    for entitlement in snapshot.savings_plans:
        blocker = classify_savings_plan(entitlement, now)
        if blocker:
            money = money_of_entitlement(entitlement, orders.get(entitlement.reference_order.id), never_cancellable=True)
            blockers.append(replace(blocker, money=money))
    return RemovalPlan(snapshot.customer, tuple(blockers), now, transfers=snapshot.transfers)


def classify_subscription(
    subscription: Subscription,
    now: datetime,
    *,
    azure_entitlements: tuple[AzureEntitlement, ...] = (),
) -> Blocker | None:
    common = _Identity(
        item_id=subscription.id,
        name=subscription.name,
        status=subscription.raw_status,
        quantity=subscription.quantity,
    )
    unclear = _classify_unclear_subscription(subscription, common)
    if unclear is not _NOT_UNCLEAR:
        return unclear
    if is_azure_plan(subscription):
        # Only ``active`` Azure subscriptions block the plan's suspension ("one or more Azure
        # Subscriptions in the active state", 403/900115, developer/error-codes); a cancelled one
        # reads ``inactive`` (cancel-an-azure-subscription) or "Disabled" (Partner-Center-PowerShell#228).
        active = tuple(e.id for e in azure_entitlements if e.is_active)
        if active:
            return Blocker(
                BlockerKind.AZURE_PLAN,
                Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN,
                azure_subscription_ids=active,
                **common,
            )
        if subscription.status is SubscriptionStatus.ACTIVE:
            return Blocker(BlockerKind.AZURE_PLAN, Action.SUSPEND, **common)
        return None
    if is_new_commerce(subscription):
        return _classify_new_commerce(subscription, now, common)
    if subscription.status is SubscriptionStatus.ACTIVE:
        return Blocker(BlockerKind.LEGACY_SUBSCRIPTION, Action.SUSPEND, **common)
    return None


def _new_commerce_dates(subscription: Subscription) -> _Dates:
    return _Dates(
        window_ends=subscription.cancellation_allowed_until_date,
        term_ends=subscription.commitment_end_date,
        auto_renew=subscription.auto_renew_enabled,
    )


def _classify_new_commerce(subscription: Subscription, now: datetime, common: _Identity) -> Blocker | None:
    if subscription.status in _FINISHED_NCE:
        return None
    dates = _new_commerce_dates(subscription)
    window = subscription.cancellation_allowed_until_date
    if window is not None and window >= now:
        return Blocker(BlockerKind.NCE_INSIDE_WINDOW, Action.CANCEL_SUBSCRIPTION, **common, **dates)
    # Past the window: it runs to its term end; make sure it does not renew.
    action = Action.WAIT_FOR_TERM_END if subscription.auto_renew_enabled is False else Action.TURN_OFF_AUTO_RENEW
    return Blocker(BlockerKind.NCE_PAST_WINDOW, action, **common, **dates)


def classify_software_purchase(entitlement: Entitlement, order: Order | None, now: datetime) -> Blocker | None:
    """A perpetual-software purchase: cancellable by order PATCH within 30 calendar days of
    purchase ("Perpetual software: Full refund within 30 calendar days of purchase", LEARN
    partner-center/customers/new-commerce-cancellation-policy; cancel-software-purchases.md).

    Only a ``completed`` order is offered for cancellation (../shared/reference/fidelity-audit.md #21: the other
    documented statuses, order-resources.md, are under review, waiting for a PO, partly or not
    fulfilled, or suspended, and whether Partner Center accepts a cancel for them is not
    documented). Inside the window, any other status (or one Offboard does not know, or no order
    read at all) is shown to a person and holds the removal: assumption, chosen so that nothing
    is reported as cleared that may not be. Past the window nobody can cancel it: reported only.
    """
    order_id = entitlement.reference_order.id
    if order is not None and order.status is OrderStatus.CANCELLED:
        return None
    created = order.creation_date if order else None
    window_ends = created + SOFTWARE_CANCELLATION_WINDOW if created else None
    common = _PurchaseIdentity(
        item_id=order_id,
        name=order.name if order and order.name != order_id else entitlement.product_id,
        status=_order_status_text(order),
        quantity=entitlement.quantity,
        window_ends=window_ends,
    )
    if window_ends is not None and window_ends >= now:
        if order is not None and order.status is OrderStatus.COMPLETED:
            return Blocker(BlockerKind.SOFTWARE_INSIDE_WINDOW, Action.CANCEL_ORDER, **common)
        return Blocker(BlockerKind.SOFTWARE_INSIDE_WINDOW, Action.CHECK_IN_PARTNER_CENTER, **common)
    return Blocker(BlockerKind.SOFTWARE_PAST_WINDOW, Action.REPORT_ONLY, blocks_removal=False, **common)


def _order_status_text(order: Order | None) -> str:
    if order is None:
        return ""
    return order.status.value if order.status is not OrderStatus.UNKNOWN else (order.raw_status or "unknown")


# ---- Marketplace SaaS and statuses Offboard cannot act on (engineer D; ../shared/reference/fidelity-audit.md #15, #21) ----

# Subscription statuses no automatic action may be proposed for: one Offboard does not know (or
# "none"), and "pending", which Partner Center refuses to update ("400 800081 Cannot update a
# subscription before activating it", "800082 Subscription is not ready to be updated",
# error-codes.md). Both are shown to a person. "pending" holds the removal (it is on its way to
# active); an unknown status does not, since nothing says it will ever change: Partner Center
# itself then accepts or refuses the removal, and a refusal is reported as one (assumption).
_STATUSES_TO_CHECK = frozenset({SubscriptionStatus.UNKNOWN, SubscriptionStatus.NONE, SubscriptionStatus.PENDING})
# Finished: nothing to act on (subscription-lifecycle.md; DOTNET SubscriptionStatus.cs).
_FINISHED_SAAS = frozenset({SubscriptionStatus.DELETED, SubscriptionStatus.EXPIRED, SubscriptionStatus.DISABLED})


class _Undecided(Enum):
    """The sentinel's type: "not unclear, the other rules decide" (None already means finished)."""

    OTHER_RULES_DECIDE = "other rules decide"


_NOT_UNCLEAR: Final = _Undecided.OTHER_RULES_DECIDE


def is_marketplace_saas(subscription: Subscription) -> bool:
    """A commercial-marketplace (third-party SaaS) subscription: ``isMicrosoftProduct`` false, or
    a product type or sub-type naming SaaS (../shared/reference/fidelity-audit.md #15: "classify by productType.id and
    isMicrosoftProduct"; fields from DOTNET Subscription.cs). The exact productType values of
    marketplace SaaS are not quoted in the pages read: "saas" in the type or sub-type is an
    assumption, ``isMicrosoftProduct: false`` the documented signal. The Azure plan is never SaaS."""
    if subscription.offer_id.upper().startswith(_AZURE_PLAN_PRODUCT_ID):
        return False
    if subscription.is_microsoft_product is False:
        return True
    product = subscription.product_type
    if product is None:
        return False
    names = (product.id, product.display_name, product.sub_type_name)
    return any("saas" in name.lower() for name in names)


def _classify_unclear_subscription(
    subscription: Subscription, common: _Identity
) -> Blocker | Literal[_Undecided.OTHER_RULES_DECIDE] | None:
    """A blocker for what Offboard must not act on, None when finished, else ``_NOT_UNCLEAR``.

    Marketplace SaaS: its refund rules are the publisher's and the policy page's ("Full refund…
    within 72 hours of purchase", LEARN new-commerce-cancellation-policy; later refunds need
    the publisher), not new commerce's 7-day window, and the pages read do not say whether the
    reseller relationship can be removed with one active. Offboard proposes nothing and a person
    decides in Partner Center (../shared/reference/fidelity-audit.md #15). It holds the removal while not finished: an
    active subscription makes the portal's remove link inactive (remove-a-relationship.md).
    """
    dates = _new_commerce_dates(subscription)
    if subscription.status in _STATUSES_TO_CHECK:
        if subscription.status is SubscriptionStatus.PENDING:
            return Blocker(BlockerKind.STATUS_TO_CHECK, Action.CHECK_IN_PARTNER_CENTER, **common, **dates)
        return Blocker(
            BlockerKind.STATUS_TO_CHECK,
            Action.NOTE_UNKNOWN_STATUS,
            blocks_removal=False,
            **common,
            **dates,
        )
    if is_marketplace_saas(subscription):
        if subscription.status in _FINISHED_SAAS:
            return None
        return Blocker(BlockerKind.MARKETPLACE_SAAS, Action.CHECK_IN_PARTNER_CENTER, **common, **dates)
    return _NOT_UNCLEAR


def classify_reservation(entitlement: Entitlement, now: datetime) -> Blocker | None:
    if entitlement.expiry_date is not None and entitlement.expiry_date < now:
        return None
    artifact = entitlement.entitled_artifacts[0] if entitlement.entitled_artifacts else None
    kind = str(artifact.dynamic_attributes.get("reservationType", "")) if artifact else ""
    name = f"Azure reservation ({kind})" if kind else "Azure reservation"
    return Blocker(
        BlockerKind.RESERVATION,
        Action.CANCEL_IN_AZURE_PORTAL,
        item_id=entitlement.reference_order.id or (artifact.resource_id if artifact else ""),
        name=name,
        quantity=entitlement.quantity,
        term_ends=entitlement.expiry_date,
    )


def classify_savings_plan(entitlement: Entitlement, now: datetime) -> Blocker | None:
    """An Azure savings plan: "All savings plan purchases are final" (cancel-savings-plan.md), so
    the only exits are a transfer or waiting until ``expiryDate`` (its term end). Holds the
    removal until then (assumption, as for reservations)."""
    if entitlement.expiry_date is not None and entitlement.expiry_date < now:
        return None
    if entitlement.fulfillment_state.lower() in ("cancelled", "canceled", "expired"):
        return None
    return Blocker(
        BlockerKind.SAVINGS_PLAN,
        Action.TRANSFER_OR_WAIT,
        item_id=entitlement.reference_order.id or entitlement.product_id,
        name="Azure savings plan",
        status=entitlement.fulfillment_state,
        quantity=entitlement.quantity,
        term_ends=entitlement.expiry_date,
    )


# ---- Money (issue 21; rules in partner_center.money) ----


def _line_price(line: OrderLineItem | None, currency: str | None) -> Decimal | None:
    """The line item's ``pricing.price`` as a unit price (ASSUMPTION, partner_center.money), or
    None where Partner Center gives none or its ``extendedPrice`` contradicts it."""
    if line is None or line.pricing is None:
        return None
    return checked_unit_price(line.pricing.price, line.pricing.extended_price, line.quantity, currency)


def _price_of(order: Order | None, subscription_id: str) -> tuple[Decimal | None, str | None, int | None]:
    """The partner's unit price (line item ``pricing.price``), the order's ``currencyCode`` and
    the line's quantity; None where Partner Center gives none: no price is ever invented."""
    if order is None:
        return None, None, None
    currency = order.currency_code or None
    line = order.line_for(subscription_id)
    return _line_price(line, currency), currency, (line.quantity if line is not None else None)


def money_of_subscription(subscription: Subscription, order: Order | None) -> Money:
    """What Partner Center says about a subscription's cost and windows (its own fields, and the
    price of the order line item that bought it, read with includePrice=true)."""
    # The subscription's current quantity times the price of the order line that bought it:
    # ASSUMPTION that every seat costs that line's unit price. Seats added since may have been
    # bought at another price; the line's quantity is kept so that the cards say when it differs.
    unit, currency, line_quantity = _price_of(order, subscription.id)
    windows: list[RefundWindow] = []
    for option in subscription.refund_options:
        kind = option.type.strip().lower()
        if option.until is not None and kind in ("full", "partial"):
            windows.append(RefundWindow(kind="full" if kind == "full" else "partial", until=option.until))
    tranches: list[SeatTranche] = []
    if subscription.refundable_quantity is not None:
        for detail in subscription.refundable_quantity.details:
            if detail.allowed_until_date_time is not None and detail.quantity > 0:
                tranches.append(SeatTranche(quantity=detail.quantity, until=detail.allowed_until_date_time))
    return Money(
        currency=currency,
        unit_price=unit,
        quantity=subscription.quantity,
        billing_cycle=(subscription.billing_cycle or (order.billing_cycle if order else "")).lower() or None,
        term=subscription.term_duration or None,
        term_ends=subscription.commitment_end_date,
        cancellable_until=subscription.cancellation_allowed_until_date,
        refund_windows=tuple(sorted(windows, key=lambda w: w.until)),
        refundable_seats=tuple(sorted(tranches, key=lambda t: t.until)),
        auto_renew=subscription.auto_renew_enabled,
        price_quantity=line_quantity,
    )


def money_of_entitlement(
    entitlement: Entitlement,
    order: Order | None,
    *,
    never_cancellable: bool = False,
    window_ends: datetime | None = None,
) -> Money:
    """A reservation's, savings plan's or software purchase's money: the price of its order line
    item (matched by ``referenceOrder.lineItemId`` when sent, else the only line item), its
    term end (``expiryDate``) and, for a software purchase, its 30-day window."""
    line = None
    if order is not None:
        wanted = entitlement.reference_order.line_item_id
        line = next((li for li in order.line_items if wanted and str(li.line_item_number) == wanted), None)
        if line is None and len(order.line_items) == 1:
            line = order.line_items[0]
    unit = _line_price(line, (order.currency_code or None) if order is not None else None)
    return Money(
        currency=(order.currency_code or None) if order is not None else None,
        unit_price=unit,
        quantity=entitlement.quantity,
        billing_cycle=(order.billing_cycle.lower() or None) if order is not None else None,
        term=(line.term_duration or None) if line is not None else None,
        term_ends=entitlement.expiry_date,
        cancellable_until=window_ends,
        never_cancellable=never_cancellable,
    )
