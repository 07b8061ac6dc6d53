"""Money on the cards (issue 21): prices, each way out of a blocker with its money and its date,
a plan's totals, and which transfer request would clear an item.

Everything shown comes from :mod:`partner_center.money` (what Partner Center says: refund
options, refundable seats, the cancellation date, the term, the billing cycle, the partner's unit
price on the order line item). Nothing is invented: an amount Partner Center gives no price for
is written "Partner Center gives no price". Amounts are written by Babel in the reader's locale
and the partner's billing currency ("€1,234.56", "1 234,56 €").

The options of one blocker are drawn side by side (a ColumnSet, one column per way out), each
column one TextBlock whose lines are markdown paragraphs, to keep a page of twenty items well
inside Teams' message size.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from babel import numbers

from partner_center.blockers import BlockerKind
from partner_center.money import Amount, ExitKind, ExitOption, Money, Totals, options, plan_totals
from partner_center.transfers import TRANSFERABLE_KINDS
from removal.case import CaseItem, CaseTransfer, Outcome, RemovalCase

from .adaptive import facts, literal, text
from .format import as_utc, format_date_relative, format_datetime, relative_days
from .texts import babel_locale, t

__all__ = (
    "RESERVATION_CANCEL_LIMIT_USD",
    "amount_text",
    "dates_in_options",
    "format_money",
    "money_blocks",
    "price_line",
    "still_billed",
    "totals_blocks",
    "transfer_for",
    "window_date",
)

# "The sum total of all canceled reservation commitment in your billing scope (such as EA,
# Microsoft Customer Agreement, and Microsoft Partner Agreement) can't exceed USD 50,000 in a
# 12-month rolling window" (MicrosoftDocs/azure-docs, exchange-and-refund-azure-reservations.md;
# ../shared/reference/anchors.md §4).
RESERVATION_CANCEL_LIMIT_USD = Decimal(50_000)
# Partner Center's billingCycle values a price is written per; "none" is billed once, like one_time.
_CYCLES = {
    "monthly": "monthly",
    "annual": "annual",
    "triennial": "triennial",
    "biennial": "biennial",
    "one_time": "one_time",
    "none": "one_time",
}


def format_money(value: Decimal, currency: str, locale: str) -> str:
    """``Decimal("1234.56"), "EUR"`` → ``"€1,234.56"`` (en-US), ``"1 234,56 €"`` (fr, ru)."""
    return str(numbers.format_currency(value, currency, locale=babel_locale(locale)))


def amount_text(amount: Amount | None, locale: str) -> str:
    """An amount in the reader's locale, or "Partner Center gives no price" where it has none."""
    if amount is None or amount.value is None or not amount.currency:
        return t(locale, "money.no_price")
    return format_money(amount.value, amount.currency, locale)


def window_date(moment: datetime, now: datetime, locale: str) -> str:
    """A window's end, to the minute (windows close mid-day): "Nov 22, 2026, 6:00 PM UTC (tomorrow)"."""
    return t(locale, "date.with_relative", date=format_datetime(moment, locale), relative=_relative(moment, now, locale))


def price_line(money: Money, locale: str) -> str:
    """ "Price: €250.00 a month (€25.00 each)", or "Price: Partner Center gives no price"."""
    total = money.times(1)
    if total.value is None or money.unit_price is None:
        return t(locale, "money.price.unknown")
    cycle = _CYCLES.get((money.billing_cycle or "").lower(), "other")
    key = f"money.price.{cycle}"
    unit = Amount(value=money.unit_price, currency=money.currency)
    return t(locale, key, total=amount_text(total, locale), unit=amount_text(unit, locale))


def transfer_for(case: RemovalCase, item: CaseItem) -> CaseTransfer | None:
    """The pending transfer request (active, not decided yet) one of whose line items moves ``item`` away."""
    return next((transfer for transfer in case.pending_transfers if item.key in transfer.clears), None)


def dates_in_options(item: CaseItem, now: datetime) -> frozenset[str]:
    """Which of the item's own dates its option columns already show, still to come: the window's
    end (cancel now, until the cancellation date) and the term's end (keep it / auto-renew off)."""
    if item.money is None:
        return frozenset()
    shown = set()
    for option in options(item.money, now):
        if not option.available:
            continue
        if option.kind is ExitKind.CANCEL_NOW and option.until is not None and item.window_ends is not None:
            if as_utc(option.until) == as_utc(item.window_ends) and item.kind is not BlockerKind.RESERVATION:
                shown.add("window")
        if option.kind in (ExitKind.AUTO_RENEW_OFF, ExitKind.WAIT) and option.keeps_paying_until is not None and item.term_ends is not None:
            if as_utc(option.keeps_paying_until) == as_utc(item.term_ends):
                shown.add("term")
    return frozenset(shown)


def money_blocks(case: RemovalCase, item: CaseItem, now: datetime, locale: str) -> list[dict[str, Any]]:
    """The item's price and its ways out side by side, each with its money and its date; for a
    reservation, Microsoft's refund rules; without money, only the transfer that would clear it."""
    transfer = transfer_for(case, item)
    money = item.money
    if money is None:
        if transfer is None:
            return []
        return [text(t(locale, "money.transfer.clears", partner=_partner(transfer, locale)), spacing="None")]
    blocks = [text(price_line(money, locale), subtle=True, spacing="None")]
    if money.price_quantity_differs and money.priced:
        # The amounts multiply today's seats by the price of the order line that bought fewer or
        # more (an assumption): said, rather than every figure hidden for a changed seat count.
        blocks.append(
            text(
                t(locale, "money.price.quantity_differs", ordered=money.price_quantity or 0, current=money.quantity or 0),
                subtle=True,
                spacing="None",
            )
        )
    columns = [column for option in options(money, now) if (column := _column(option, item, transfer, now, locale)) is not None]
    if columns:
        blocks.append({"type": "ColumnSet", "columns": columns, "spacing": "Small"})
    if item.kind is BlockerKind.RESERVATION:
        limit = format_money(RESERVATION_CANCEL_LIMIT_USD, "USD", locale)
        blocks.append(text(t(locale, "money.reservation.rules", limit=limit), subtle=True, spacing="None"))
    return blocks


def totals_blocks(case: RemovalCase, now: datetime, locale: str) -> list[dict[str, Any]]:
    """The plan's totals per currency: refundable if cancelled now, what the items that cannot be
    cancelled now still bill until their terms end if auto-renew is turned off (the catalog says
    exactly that), and how many items Partner Center gives no price for. Items already carried out
    (cancelled, not yet cleared by the next read) refund nothing more and are left out. Nothing
    when no item has money (a case planned before prices were read)."""
    items = [item for item in case.blocker_items if not item.cleared and item.outcome is not Outcome.DONE]
    if not any(item.money is not None for item in items):
        return []
    totals = plan_totals(items, now)
    blocks: list[dict[str, Any]] = [text(t(locale, "money.totals.heading"), weight="Bolder", spacing="Medium")]
    several = sum(1 for total in totals if total.currency) > 1
    pairs = [pair for total in totals if total.currency for pair in _total_pairs(total, several, locale)]
    if pairs:
        blocks.append(facts(pairs))
    # Unpriced: an amount unknown (no price on the order line item, no currency), or nothing
    # read about the item's money at all; either way the totals leave it out, and say so.
    unpriced = sum(total.unpriced_items for total in totals) + sum(1 for item in items if item.money is None)
    if unpriced:
        blocks.append(text(t(locale, "money.totals.unpriced", count=unpriced), subtle=True, spacing="None"))
    return blocks


def _total_pairs(total: Totals, several: bool, locale: str) -> list[tuple[str, str]]:
    suffix = f" ({total.currency})" if several else ""
    return [
        (t(locale, "money.totals.refundable_now") + suffix, amount_text(total.refundable_now, locale)),
        (t(locale, "money.totals.committed") + suffix, amount_text(total.committed_until_term_end, locale)),
    ]


def _column(option: ExitOption, item: CaseItem, transfer: CaseTransfer | None, now: datetime, locale: str) -> dict[str, Any] | None:
    lines = _option_lines(option, item, transfer, now, locale)
    if not lines:
        return None
    # One TextBlock per column, its lines markdown paragraphs: a page of twenty priced items
    # must stay inside Teams' message size.
    return {"type": "Column", "width": "stretch", "items": [{"type": "TextBlock", "text": "\n\n".join(lines), "wrap": True}]}


def _option_lines(option: ExitOption, item: CaseItem, transfer: CaseTransfer | None, now: datetime, locale: str) -> list[str]:
    """What one way out gives back or keeps costing, and until when; [] for one not worth a column
    (closed, or said elsewhere: the window's end is in the item's dates, the savings plan's
    "cannot be cancelled" in its proposal)."""
    kind = option.kind
    if kind is ExitKind.TRANSFER:
        return _transfer_lines(item, transfer, now, locale)
    if not option.available:
        return []
    if item.kind is BlockerKind.RESERVATION and kind is not ExitKind.WAIT:
        return []  # a reservation is cancelled in the Azure portal: its rules are said below
    if kind is ExitKind.CANCEL_NOW:
        return [t(locale, "money.option.cancel_now"), *_refund_lines(option, item, now, locale)]
    if kind is ExitKind.REDUCE_SEATS:
        return [t(locale, "money.option.reduce_seats", count=option.seats or 0), *_refund_lines(option, item, now, locale)]
    if kind in (ExitKind.AUTO_RENEW_OFF, ExitKind.WAIT):
        return [t(locale, f"money.option.{kind.value}"), *_keeps_paying_lines(option, now, locale)]
    return []


def _refund_lines(option: ExitOption, item: CaseItem, now: datetime, locale: str) -> list[str]:
    """The refund and until when: a refund of this kind lasts until its refund window closes (a
    full refund first, then prorated: refundOptions), the option itself until its own date (the
    cancellation date, or the seat tranche's allowedUntilDateTime)."""
    window = _refund_window_end(item.money, option, now)
    if window is not None and option.until is not None and as_utc(window) < as_utc(option.until):
        line = t(
            locale, f"money.refund.{option.refund_kind}_until", amount=amount_text(option.refund, locale), date=_when(window, now, locale)
        )
    else:
        line = _refund_line(option, locale)
    if option.until is None:
        return [line]
    return [line, t(locale, "money.until", date=_when(option.until, now, locale))]


def _when(moment: datetime, now: datetime, locale: str) -> str:
    """A window's end: to the minute when it is less than two days away, else the day."""
    seconds = (as_utc(moment) - as_utc(now)).total_seconds()
    return window_date(moment, now, locale) if 0 <= seconds < 48 * 3600 else format_date_relative(moment, now, locale)


def _refund_window_end(money: Money | None, option: ExitOption, now: datetime) -> datetime | None:
    """The end of the open refund window the option's refund comes from (the first to close)."""
    if money is None or option.refund_kind is None:
        return None
    ends = [window.until for window in money.refund_windows if window.kind == option.refund_kind and as_utc(window.until) >= as_utc(now)]
    return min(ends, key=as_utc) if ends else None


def _refund_line(option: ExitOption, locale: str) -> str:
    refund = option.refund
    if refund is None:
        return t(locale, "money.refund.unknown")  # no refund option read: Partner Center does not say
    if option.refund_kind is None:
        return t(locale, "money.refund.none")  # every refund window has closed
    return t(locale, f"money.refund.{option.refund_kind}", amount=amount_text(refund, locale))


def still_billed(item: CaseItem, now: datetime) -> Amount | None:
    """What keeping ``item`` to its term end still bills (auto-renew off, or waiting it out):
    the money a transfer moves to the other partner; None when there is no such way."""
    if item.money is None:
        return None
    for option in options(item.money, now):
        if option.kind in (ExitKind.AUTO_RENEW_OFF, ExitKind.WAIT) and option.available and option.keeps_paying is not None:
            return option.keeps_paying
    return None


def _keeps_paying_lines(option: ExitOption, now: datetime, locale: str) -> list[str]:
    until = option.keeps_paying_until or option.until
    date = format_date_relative(until, now, locale) if until is not None else t(locale, "value.not_recorded")
    paying = option.keeps_paying
    if paying is not None and paying.value is not None and paying.value == 0:
        return [t(locale, "money.keeps_paying.nothing_more", date=date)]
    return [t(locale, "money.keeps_paying", amount=amount_text(paying, locale), date=date)]


def _transfer_lines(item: CaseItem, transfer: CaseTransfer | None, now: datetime, locale: str) -> list[str]:
    """A pending transfer request that covers the item, or, for an item a transfer can carry that
    cannot be cancelled now, that the customer's new partner can request one."""
    if transfer is not None:
        lines = [t(locale, "money.option.transfer_to", partner=_partner(transfer, locale))]
        moving = still_billed(item, now)
        if moving is not None:
            lines.append(t(locale, "money.transfer.moves", amount=amount_text(moving, locale)))
        if transfer.expires_at is not None:
            lines.append(t(locale, "money.transfer.expires", date=format_date_relative(transfer.expires_at, now, locale)))
        return lines
    money = item.money
    cannot_cancel = money is not None and (
        money.never_cancellable or money.cancellable_until is None or as_utc(money.cancellable_until) < as_utc(now)
    )
    if item.kind in TRANSFERABLE_KINDS and cannot_cancel and item.kind is not BlockerKind.RESERVATION:
        return [t(locale, "money.option.transfer"), t(locale, "money.transfer.possible")]
    return []


def _partner(transfer: CaseTransfer, locale: str) -> str:
    return literal(transfer.target_partner) if transfer.target_partner else t(locale, "transfer.partner_unknown")


def _relative(moment: datetime, now: datetime, locale: str) -> str:
    """Hours when the moment is less than two days away ("in 30 hours"), else days."""
    seconds = (as_utc(moment) - as_utc(now)).total_seconds()
    if 0 <= seconds < 48 * 3600:
        return t(locale, "relative.hours", count=max(1, int(seconds // 3600)))
    return relative_days(moment, now, locale)
