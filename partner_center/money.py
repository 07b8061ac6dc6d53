"""What an item costs and what each way out of it returns or keeps costing (issue 21).

Pure functions over what Partner Center says (no I/O, no price invented): a subscription's
``refundOptions``, ``refundableQuantity``, ``cancellationAllowedUntilDate``, term, billing cycle
and the partner's unit price from its order line item (``includePrice=true``). Where Partner
Center gives no price the amounts are ``Amount(value=None)`` and the cards say so.

Sources (each rule below names its own):
- RefundOption ``{type: Full|Partial, expiresAt}``, RefundableQuantity ``{totalQuantity,
  details[{quantity, allowedUntilDateTime}]}``, CancellationAllowedUntilDate: .NET SDK
  ``Microsoft.Store.PartnerCenter.Models.Subscriptions`` (../shared/reference/anchors.md §4).
- Refunds are "prorated" within 7 days for license-based and software subscriptions
  (learn.microsoft.com/partner-center/customers/new-commerce-cancellation-policy).
- Line item ``pricing.price``: the Java SDK (``com.microsoft.store.partnercenter.models.orders.
  Pricing``) only says "Gets the price for the order line item". That it is the partner's unit
  price per billing period is an ASSUMPTION; it is cross-checked against ``extendedPrice`` (which
  should be price × the line's quantity, to the cent) and, where the two disagree, the price is
  treated as unknown (:func:`checked_unit_price`): a wrong reading is never shown as a figure.
- Amounts are rounded to the currency's own decimals (CLDR via Babel: JPY 0, EUR 2, KWD 3).
- "All savings plan purchases are final" (azure-docs cancel-savings-plan.md).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Literal, NamedTuple, Protocol

from babel.numbers import get_currency_precision
from pydantic import BaseModel, ConfigDict, field_validator

__all__ = (
    "RESERVATION_REFUND_LIMIT",
    "Amount",
    "ClosingWindow",
    "ExitKind",
    "ExitOption",
    "Money",
    "Price",
    "RefundWindow",
    "SeatTranche",
    "Totals",
    "WhyNot",
    "billing_period",
    "checked_unit_price",
    "closing_windows",
    "options",
    "plan_totals",
)

_CENT = Decimal("0.01")


def _quantum(currency: str | None) -> Decimal:
    """The currency's smallest unit (CLDR's digits via Babel: JPY 1, EUR 0.01, KWD 0.001);
    cents for a currency Babel does not know."""
    if not currency:
        return _CENT
    try:
        return Decimal(1).scaleb(-get_currency_precision(currency.upper()))
    except Exception:  # an unknown code: cents, as most currencies  # noqa: BLE001
        return _CENT


def _round(value: Decimal, currency: str | None) -> Decimal:
    return value.quantize(_quantum(currency), ROUND_HALF_UP)


def checked_unit_price(price: Decimal | None, extended: Decimal | None, quantity: int | None, currency: str | None) -> Decimal | None:
    """The line item's ``price`` as a unit price, or None where ``extendedPrice`` contradicts it.

    ASSUMPTION (the SDK documents neither field beyond "the price"): ``price`` is per unit and
    ``extendedPrice`` = price × quantity. When both are given and differ by more than the
    currency's smallest unit (after rounding the product), ``price`` may be the line's total or
    something else entirely: Partner Center then gives no price Offboard can use.
    """
    if price is None:
        return None
    if extended is None or quantity is None:
        return price
    if abs(_round(price * quantity, currency) - _round(extended, currency)) > _quantum(currency) / 2:
        return None
    return price


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def _aware(value: datetime | None) -> datetime | None:
    """Windows are compared with the bot's clock (UTC, aware): a naive datetime would raise
    later, in the middle of a card, so it is refused where it enters."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError("a timezone-aware datetime is required")
    return value


class RefundWindow(_Frozen):
    """One of ``refundOptions``: until ``until``, cancelling refunds ``kind``."""

    kind: Literal["full", "partial"]
    until: datetime

    _until_aware = field_validator("until")(_aware)


class SeatTranche(_Frozen):
    """One of ``refundableQuantity.details``: ``quantity`` seats may be reduced until ``until``."""

    quantity: int
    until: datetime

    _until_aware = field_validator("until")(_aware)


class Price(_Frozen):
    """The partner's unit price (line item ``pricing.price``) for one billing period."""

    unit: Decimal
    currency: str
    per_billing_cycle: str


class Money(_Frozen):
    """What Partner Center says about an item's cost and its windows; None where it says nothing.

    ``billing_cycle`` is Partner Center's spelling lower-cased (monthly, annual, triennial,
    one_time, none); ``term`` the ISO-8601 duration (P1M, P1Y, P3Y).
    """

    currency: str | None = None
    unit_price: Decimal | None = None
    quantity: int | None = None
    billing_cycle: str | None = None
    term: str | None = None
    term_ends: datetime | None = None
    cancellable_until: datetime | None = None
    refund_windows: tuple[RefundWindow, ...] = ()
    refundable_seats: tuple[SeatTranche, ...] = ()
    auto_renew: bool | None = None
    never_cancellable: bool = False
    # The quantity of the order line item the price was read from; when it differs from
    # ``quantity`` (seats added or removed since) the cards say so (see price_quantity_differs).
    price_quantity: int | None = None

    _dates_aware = field_validator("term_ends", "cancellable_until")(_aware)

    @property
    def price_quantity_differs(self) -> bool:
        """The price was read from an order line for a different number of seats than the
        subscription has now: ASSUMPTION that each seat costs that line's unit price (seats added
        later may have been bought at another price, which Partner Center does not give here)."""
        return self.price_quantity is not None and self.quantity is not None and self.price_quantity != self.quantity

    @property
    def priced(self) -> bool:
        return self.unit_price is not None and self.currency is not None

    def times(self, factor: Decimal | int, seats: int | None = None) -> Amount:
        """unit price × seats (default: the quantity) × factor, or an unpriced Amount."""
        count = self.quantity if seats is None else seats
        if self.unit_price is None or self.currency is None or count is None:
            return Amount(value=None, currency=self.currency)
        return Amount(value=_round(self.unit_price * count * Decimal(factor), self.currency), currency=self.currency)


class Amount(_Frozen):
    """An amount in ``currency``; ``value`` None: Partner Center gives no price."""

    value: Decimal | None
    currency: str | None = None

    @property
    def known(self) -> bool:
        return self.value is not None


class ExitKind(StrEnum):
    CANCEL_NOW = "cancel_now"
    REDUCE_SEATS = "reduce_seats"
    AUTO_RENEW_OFF = "auto_renew_off"
    TRANSFER = "transfer"
    WAIT = "wait"


class WhyNot(StrEnum):
    """Why an option is not available (stable codes: the cards translate them)."""

    NONE = ""
    NEVER_CANCELLABLE = "never_cancellable"  # savings plan: all purchases are final
    NO_WINDOW = "no_window"  # Partner Center gives no cancellationAllowedUntilDate
    WINDOW_CLOSED = "window_closed"
    NO_SEATS_REDUCIBLE = "no_seats_reducible"  # no open refundableQuantity tranche
    AUTO_RENEW_ALREADY_OFF = "auto_renew_already_off"
    RENEWS = "renews"  # waiting while auto-renew is on renews the term: turn it off first
    NO_TERM_END = "no_term_end"


class ExitOption(_Frozen):
    """One way out of an item, with its money and its date.

    ``refund``/``refund_kind``: what Partner Center would give back (None: no refund known);
    ``keeps_paying``: what is still billed until ``keeps_paying_until``; ``seats``: for a seat
    reduction, how many; ``available`` False with ``why_not`` when the option is closed.
    """

    kind: ExitKind
    until: datetime | None = None
    refund: Amount | None = None
    refund_kind: Literal["full", "partial"] | None = None
    keeps_paying: Amount | None = None
    keeps_paying_until: datetime | None = None
    seats: int | None = None
    available: bool = True
    why_not: WhyNot = WhyNot.NONE


class Totals(_Frozen):
    """A plan's totals in one currency (``currency`` None: items whose currency is unknown)."""

    currency: str | None
    refundable_now: Amount
    committed_until_term_end: Amount
    unpriced_items: int = 0


class HasMoney(Protocol):
    """A plan's item: a Blocker or a CaseItem."""

    @property
    def money(self) -> Money | None: ...


class ClosingWindow(NamedTuple):
    """An item whose cancellation, refund or seat-reduction window ends at ``window_end``;
    ``amount_at_stake``: the refund that window's end takes away (what is possible just before it
    minus what is still possible just after, priced as of now)."""

    item: HasMoney
    window_end: datetime
    amount_at_stake: Amount


# ---- Billing periods ----

# Months per billing period by billingCycle (Partner Center's BillingCycleType values,
# ../shared/reference/partner-center-api.md §3.2); one_time and none are paid for the whole term.
_CYCLE_MONTHS = {"monthly": 1, "annual": 12, "triennial": 36, "biennial": 24}
_TERM_MONTHS = {"P1M": 1, "P1Y": 12, "P2Y": 24, "P3Y": 36}


def _months_before(moment: datetime, months: int) -> datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _period_months(money: Money) -> int | None:
    cycle = (money.billing_cycle or "").lower()
    if cycle in _CYCLE_MONTHS:
        return _CYCLE_MONTHS[cycle]
    # Paid once (one_time, none) or a cycle Offboard does not know: the whole term is one period.
    return _TERM_MONTHS.get((money.term or "").upper())


def billing_period(money: Money, now: datetime) -> tuple[datetime, datetime] | None:
    """The billing period ``now`` falls in, counted back from the term end (periods end on the
    term end's day of month: assumption, as Partner Center bills on the subscription's
    anniversary; billingCycleEndDate is not read). None without a term end or a known cycle."""
    months = _period_months(money)
    if money.term_ends is None or months is None or now >= money.term_ends:
        return None
    back = 0  # counted from the term end each time, so that day 31 does not drift to day 30
    while _months_before(money.term_ends, (back + 1) * months) > now:
        back += 1
    return _months_before(money.term_ends, (back + 1) * months), _months_before(money.term_ends, back * months)


def _periods_left_after_current(money: Money, now: datetime) -> int | None:
    """Billing periods still to be billed after the current one (monthly: each is billed at its
    start; annual/triennial paid upfront: 0). None when it cannot be counted."""
    period = billing_period(money, now)
    if period is None:
        return None
    months = _period_months(money) or 1
    term_ends = money.term_ends
    assert term_ends is not None
    count = 0
    while _months_before(term_ends, count * months) > period[1]:
        count += 1
    return count


def _open_refund(money: Money, now: datetime) -> RefundWindow | None:
    """The refund that applies now: the open window that closes first (Full before Partial)."""
    open_windows = sorted((w for w in money.refund_windows if w.until >= now), key=lambda w: w.until)
    return open_windows[0] if open_windows else None


def _refund_kind(money: Money, at: datetime, *, seat_tranche_open: bool = False) -> Literal["full", "partial", "none", "unknown"]:
    """Which refund applies at ``at``: the open refund window that closes first (Full before
    Partial); "none" when refund windows were read and all have closed, "unknown" when none was read.

    A seat tranche still open after every refund window has closed (seats added later, with their
    own allowedUntilDateTime) refunds prorated: "License-based: prorated refund within 7 calendar
    days" (new-commerce-cancellation-policy); ASSUMPTION that the subscription's refundOptions
    describe its first purchase and a later tranche's window is its own 7 days.
    """
    window = _open_refund(money, at)
    if window is not None:
        return window.kind
    if seat_tranche_open:
        return "partial"
    return "none" if money.refund_windows else "unknown"


def _refund_amount(money: Money, kind: Literal["full", "partial"], now: datetime, seats: int | None) -> Amount:
    """Full: unit price × seats for the billing period paid (new-commerce-cancellation-policy
    "full refund"). Partial: prorated by whole days left in the current billing period at ``now``
    (Microsoft says "prorated"; the day arithmetic is an assumption)."""
    if kind == "full":
        return money.times(1, seats)
    period = billing_period(money, now)
    if period is None:
        return Amount(value=None, currency=money.currency)
    start, end = period
    days_in_period = (end.date() - start.date()).days
    days_left = (end.date() - now.date()).days
    if days_in_period <= 0:
        return Amount(value=None, currency=money.currency)
    return money.times(Decimal(days_left) / Decimal(days_in_period), seats)


def _refund(
    money: Money, now: datetime, seats: int | None = None, *, seat_tranche_open: bool = False
) -> tuple[Amount | None, Literal["full", "partial"] | None]:
    """What cancelling (or reducing ``seats``) now gives back: refund windows read and all closed:
    nothing back (0); no refund window read at all: unknown (None)."""
    kind = _refund_kind(money, now, seat_tranche_open=seat_tranche_open)
    if kind == "none":
        return Amount(value=Decimal(0), currency=money.currency), None
    if kind == "unknown":
        return None, None
    return _refund_amount(money, kind, now, seats), kind


def _keeps_paying(money: Money, now: datetime) -> Amount:
    """Keeping the item to its term end: unit price × quantity × billing periods left after the
    current one (monthly); annual/triennial/one-time were paid upfront: nothing more, nothing
    back (assumption: upfront payment per billingCycle, partner-center-api.md §3.2)."""
    left = _periods_left_after_current(money, now)
    if left is None:
        return Amount(value=None, currency=money.currency)
    return money.times(left)


# ---- Options ----


def options(money: Money, now: datetime) -> tuple[ExitOption, ...]:
    """Every way out of the item, in a fixed order: cancel now, reduce seats (one per open
    tranche, or one closed), auto-renew off, transfer, wait. Closed ones say why."""
    found: list[ExitOption] = [_cancel_now(money, now), *_reduce_seats(money, now)]
    term_ends = money.term_ends
    keeps = _keeps_paying(money, now) if term_ends is not None and term_ends > now else None
    if money.never_cancellable:
        # A savings plan renews only if set to; Offboard never changes it (assumption): its exits
        # are the transfer or waiting out the term (cancel-savings-plan.md).
        found.append(ExitOption(kind=ExitKind.AUTO_RENEW_OFF, available=False, why_not=WhyNot.NEVER_CANCELLABLE))
    elif money.auto_renew is False:
        found.append(ExitOption(kind=ExitKind.AUTO_RENEW_OFF, available=False, why_not=WhyNot.AUTO_RENEW_ALREADY_OFF))
    elif term_ends is None:
        found.append(ExitOption(kind=ExitKind.AUTO_RENEW_OFF, available=False, why_not=WhyNot.NO_TERM_END))
    else:
        found.append(ExitOption(kind=ExitKind.AUTO_RENEW_OFF, until=term_ends, keeps_paying=keeps, keeps_paying_until=term_ends))
    # A transfer moves the item and its remaining billing to the new partner: "The source partner
    # is financially responsible up to the transfer date" (CloudCockpit, a vendor claim).
    found.append(ExitOption(kind=ExitKind.TRANSFER))
    if term_ends is None:
        found.append(ExitOption(kind=ExitKind.WAIT, available=False, why_not=WhyNot.NO_TERM_END))
    elif money.auto_renew is True and not money.never_cancellable:
        found.append(ExitOption(kind=ExitKind.WAIT, until=term_ends, available=False, why_not=WhyNot.RENEWS))
    else:
        found.append(ExitOption(kind=ExitKind.WAIT, until=term_ends, keeps_paying=keeps, keeps_paying_until=term_ends))
    return tuple(found)


def _cancel_now(money: Money, now: datetime) -> ExitOption:
    if money.never_cancellable:
        return ExitOption(kind=ExitKind.CANCEL_NOW, available=False, why_not=WhyNot.NEVER_CANCELLABLE)
    until = money.cancellable_until
    if until is None:
        # "For subscriptions that are not allowed to be cancelled, this value is null" (.NET SDK).
        return ExitOption(kind=ExitKind.CANCEL_NOW, available=False, why_not=WhyNot.NO_WINDOW)
    if until < now:
        return ExitOption(kind=ExitKind.CANCEL_NOW, until=until, available=False, why_not=WhyNot.WINDOW_CLOSED)
    refund, kind = _refund(money, now)
    return ExitOption(kind=ExitKind.CANCEL_NOW, until=until, refund=refund, refund_kind=kind)


def _reduce_seats(money: Money, now: datetime) -> list[ExitOption]:
    """One option per open tranche: its seats can be reduced until its allowedUntilDateTime
    (refundableQuantity, .NET SDK); the refund follows the refund window open now (assumption)."""
    if money.never_cancellable:
        return [ExitOption(kind=ExitKind.REDUCE_SEATS, available=False, why_not=WhyNot.NEVER_CANCELLABLE)]
    tranches = sorted((t for t in money.refundable_seats if t.until >= now and t.quantity > 0), key=lambda t: t.until)
    if not tranches:
        return [ExitOption(kind=ExitKind.REDUCE_SEATS, available=False, why_not=WhyNot.NO_SEATS_REDUCIBLE)]
    found = []
    for tranche in tranches:
        refund, kind = _refund(money, now, tranche.quantity, seat_tranche_open=True)
        found.append(ExitOption(kind=ExitKind.REDUCE_SEATS, until=tranche.until, seats=tranche.quantity, refund=refund, refund_kind=kind))
    return found


# ---- Plans ----


def plan_totals(items: Iterable[HasMoney], now: datetime) -> tuple[Totals, ...]:
    """One :class:`Totals` per currency (sorted; unknown currency last), over the items with money.

    refundable now: the refund of cancelling each item that can be cancelled now;
    committed until term end: what each item not cancellable now still bills until its term ends
    (monthly periods after the current one). An item counts as unpriced when either amount it
    contributes is unknown; it then adds nothing. Items without money are not counted.
    """
    by_currency: dict[str | None, list[Decimal | int]] = {}
    for item in items:
        money = item.money
        if money is None:
            continue
        sums = by_currency.setdefault(money.currency, [Decimal(0), Decimal(0), 0])
        cancel = _cancel_now(money, now)
        if cancel.available:
            amount = cancel.refund
        elif money.term_ends is not None and money.term_ends <= now:
            amount = Amount(value=Decimal(0), currency=money.currency)  # the term is over: nothing more
        else:
            amount = _keeps_paying(money, now)  # unknown without a term end or a price
        if money.currency is None or amount is None or amount.value is None:
            sums[2] += 1
            continue
        sums[0 if cancel.available else 1] += amount.value
    ordered = sorted(by_currency.items(), key=lambda entry: (entry[0] is None, entry[0] or ""))
    return tuple(
        Totals(
            currency=currency,
            refundable_now=Amount(value=Decimal(sums[0]) if currency else None, currency=currency),
            committed_until_term_end=Amount(value=Decimal(sums[1]) if currency else None, currency=currency),
            unpriced_items=int(sums[2]),
        )
        for currency, sums in ordered
    )


def _refund_possible(money: Money, at: datetime, now: datetime) -> Decimal | None:
    """The most Partner Center would give back for what is still possible at ``at``, priced as of
    ``now`` (so that two moments compare what is lost, not a day's proration): cancelling the
    whole subscription while its cancellation date has not passed, else reducing the seats of the
    tranches still open. None: unknown (no price, or no refund window read)."""
    values: list[Decimal | None] = []
    if money.cancellable_until is not None and at <= money.cancellable_until:
        values.append(_possible(money, _refund_kind(money, at), now, None))
    seats = sum(t.quantity for t in money.refundable_seats if at <= t.until and t.quantity > 0)
    if seats:
        values.append(_possible(money, _refund_kind(money, at, seat_tranche_open=True), now, seats))
    if any(value is None for value in values):
        return None
    return max((value for value in values if value is not None), default=Decimal(0))


def _possible(money: Money, kind: str, now: datetime, seats: int | None) -> Decimal | None:
    if kind == "none":
        return Decimal(0)
    if kind not in ("full", "partial"):
        return None
    return _refund_amount(money, "full" if kind == "full" else "partial", now, seats).value


def _window_ends(money: Money, now: datetime) -> list[datetime]:
    """Every moment still to come at which something refundable ends: the cancellation date, a
    refund window's end (only while the subscription can be cancelled: a refund window with no
    cancellation possible gives nothing back), a seat tranche's allowedUntilDateTime."""
    if money.never_cancellable:
        return []
    ends = set()
    usable = money.cancellable_until is not None and money.cancellable_until > now
    if usable:
        assert money.cancellable_until is not None
        ends.add(money.cancellable_until)
        ends.update(w.until for w in money.refund_windows if now < w.until <= money.cancellable_until)
    ends.update(t.until for t in money.refundable_seats if t.until > now and t.quantity > 0)
    return sorted(ends)


def _at_stake(money: Money, end: datetime, now: datetime) -> Amount | None:
    """What the window ending at ``end`` takes away: the refund possible just before it ends minus
    the refund still possible just after, both priced as of ``now``; None when nothing is lost.
    Without a price, whether something is lost is told by pricing each seat at 1 (the amount is
    then unknown: "Partner Center gives no price")."""
    just_after = end + timedelta(microseconds=1)
    before, after = _refund_possible(money, end, now), _refund_possible(money, just_after, now)
    if before is not None and after is not None:
        lost = before - after
        return Amount(value=lost, currency=money.currency) if lost > 0 else None
    probe = money.model_copy(update={"unit_price": Decimal(1), "currency": money.currency or "XXX", "quantity": money.quantity or 1})
    before, after = _refund_possible(probe, end, now), _refund_possible(probe, just_after, now)
    if before is not None and after is not None and before - after <= 0:
        return None
    return Amount(value=None, currency=money.currency)


def closing_windows(items: Sequence[HasMoney], now: datetime, within: timedelta) -> list[ClosingWindow]:
    """Every window (cancellation, refund, seat tranche) of the items ending within ``within`` of
    ``now`` that takes a refund away, soonest first, with the refund it takes away (unknown:
    value None). Windows of one item ending at the same moment are one entry; a Full refund
    window closing while a Partial one stays open is at stake for the difference only; seats
    still reducible after the cancellation date are not at stake at that date."""
    found: list[ClosingWindow] = []
    for item in items:
        money = item.money
        if money is None:
            continue
        for end in _window_ends(money, now):
            if end > now + within:
                break
            amount = _at_stake(money, end, now)
            if amount is not None:
                found.append(ClosingWindow(item, end, amount))
    found.sort(key=lambda c: c.window_end)
    return found


# Azure reservations: "The sum total of all canceled reservation commitment in your billing scope
# (such as EA, Microsoft Customer Agreement, and Microsoft Partner Agreement) can't exceed USD
# 50,000 in a 12-month rolling window"; refunds are self-service in the Azure portal
# (azure-docs exchange-and-refund-azure-reservations.md; ../shared/reference/anchors.md §4).
RESERVATION_REFUND_LIMIT = Amount(value=Decimal(50000), currency="USD")
