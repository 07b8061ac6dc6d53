"""The money rules (partner_center.money): refunds, prorating, keeping to term end, seat
tranches, savings plans, totals per currency, closing windows, and no price invented."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from partner_center.blockers import money_of_subscription
from partner_center.models import Order, Subscription
from partner_center.money import (
    Amount,
    ExitKind,
    ExitOption,
    Money,
    RefundWindow,
    SeatTranche,
    WhyNot,
    billing_period,
    checked_unit_price,
    closing_windows,
    options,
    plan_totals,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _nce(**changes: object) -> Money:
    """50 seats at EUR 10.00 a month, bought 2 days ago on a monthly-billed P1Y term."""
    base = Money(
        currency="EUR",
        unit_price=Decimal("10.00"),
        quantity=50,
        billing_cycle="monthly",
        term="P1Y",
        term_ends=datetime(2027, 3, 8, tzinfo=UTC),
        cancellable_until=NOW + timedelta(days=5),
        refund_windows=(
            RefundWindow(kind="full", until=NOW + timedelta(hours=12)),
            RefundWindow(kind="partial", until=NOW + timedelta(days=5)),
        ),
        refundable_seats=(SeatTranche(quantity=50, until=NOW + timedelta(days=5)),),
        auto_renew=True,
    )
    return base.model_copy(update=changes)


def _option(found: tuple[ExitOption, ...], kind: ExitKind) -> ExitOption:
    [option] = [o for o in found if o.kind is kind]
    return option


def test_cancelling_inside_the_full_refund_window_gives_back_the_period_paid() -> None:
    cancel = _option(options(_nce(), NOW), ExitKind.CANCEL_NOW)
    assert cancel.available and cancel.refund_kind == "full"
    assert cancel.refund == Amount(value=Decimal("500.00"), currency="EUR")
    assert cancel.until == NOW + timedelta(days=5)


def test_after_the_full_window_the_refund_is_prorated_by_days_left_in_the_period() -> None:
    later = NOW + timedelta(days=1)  # 2026-03-11; the period runs 2026-03-08 .. 2026-04-08 (31 days)
    cancel = _option(options(_nce(), later), ExitKind.CANCEL_NOW)
    assert cancel.refund_kind == "partial"
    assert cancel.refund == Amount(value=(Decimal(500) * 28 / 31).quantize(Decimal("0.01")), currency="EUR")


def test_past_the_cancellation_window_cancel_is_closed_and_says_why() -> None:
    cancel = _option(options(_nce(), NOW + timedelta(days=6)), ExitKind.CANCEL_NOW)
    assert not cancel.available and cancel.why_not is WhyNot.WINDOW_CLOSED and cancel.refund is None


def test_no_cancellation_date_means_no_cancel() -> None:
    cancel = _option(options(_nce(cancellable_until=None), NOW), ExitKind.CANCEL_NOW)
    assert not cancel.available and cancel.why_not is WhyNot.NO_WINDOW


def test_cancellable_with_every_refund_window_closed_refunds_nothing() -> None:
    money = _nce(cancellable_until=NOW + timedelta(days=30), refund_windows=(RefundWindow(kind="full", until=NOW - timedelta(days=1)),))
    assert _option(options(money, NOW), ExitKind.CANCEL_NOW).refund == Amount(value=Decimal(0), currency="EUR")


def test_without_refund_options_the_refund_is_unknown_not_zero() -> None:
    cancel = _option(options(_nce(refund_windows=()), NOW), ExitKind.CANCEL_NOW)
    assert cancel.available and cancel.refund is None and cancel.refund_kind is None


def test_without_a_price_every_amount_is_unknown_and_nothing_is_invented() -> None:
    money = _nce(unit_price=None)
    found = options(money, NOW)
    assert _option(found, ExitKind.CANCEL_NOW).refund == Amount(value=None, currency="EUR")
    assert _option(found, ExitKind.AUTO_RENEW_OFF).keeps_paying == Amount(value=None, currency="EUR")


def test_auto_renew_off_keeps_paying_the_monthly_periods_after_the_current_one() -> None:
    off = _option(options(_nce(), NOW), ExitKind.AUTO_RENEW_OFF)
    # Current period 2026-03-08..2026-04-08; 11 more monthly periods until 2027-03-08.
    assert off.available and off.keeps_paying == Amount(value=Decimal("5500.00"), currency="EUR")
    assert off.keeps_paying_until == datetime(2027, 3, 8, tzinfo=UTC)
    assert not _option(options(_nce(), NOW), ExitKind.WAIT).available  # it would renew


@pytest.mark.parametrize("cycle", ["annual", "triennial", "one_time"])
def test_paid_upfront_keeps_paying_nothing_more(cycle: str) -> None:
    term = "P3Y" if cycle == "triennial" else "P1Y"
    off = _option(options(_nce(billing_cycle=cycle, term=term), NOW), ExitKind.AUTO_RENEW_OFF)
    assert off.keeps_paying == Amount(value=Decimal("0.00"), currency="EUR")


def test_with_auto_renew_already_off_the_way_is_to_wait() -> None:
    found = options(_nce(auto_renew=False, cancellable_until=NOW - timedelta(days=1)), NOW)
    assert _option(found, ExitKind.AUTO_RENEW_OFF).why_not is WhyNot.AUTO_RENEW_ALREADY_OFF
    wait = _option(found, ExitKind.WAIT)
    assert wait.available and wait.until == datetime(2027, 3, 8, tzinfo=UTC) and wait.keeps_paying is not None


def test_seats_are_reducible_per_tranche_until_its_own_date() -> None:
    money = _nce(
        refundable_seats=(
            SeatTranche(quantity=20, until=NOW + timedelta(hours=30)),
            SeatTranche(quantity=5, until=NOW + timedelta(days=5)),
        ),
    )
    reductions = [o for o in options(money, NOW) if o.kind is ExitKind.REDUCE_SEATS]
    assert [(o.seats, o.until) for o in reductions] == [(20, NOW + timedelta(hours=30)), (5, NOW + timedelta(days=5))]
    assert reductions[0].refund == Amount(value=Decimal("200.00"), currency="EUR")
    after = [o for o in options(money, NOW + timedelta(hours=31)) if o.kind is ExitKind.REDUCE_SEATS]
    assert [o.seats for o in after] == [5]
    none_left = [o for o in options(money, NOW + timedelta(days=6)) if o.kind is ExitKind.REDUCE_SEATS]
    assert len(none_left) == 1 and none_left[0].why_not is WhyNot.NO_SEATS_REDUCIBLE


def test_a_savings_plan_cannot_be_cancelled_transfer_or_wait() -> None:
    plan = Money(
        currency="USD",
        unit_price=Decimal("730"),
        quantity=1,
        billing_cycle="monthly",
        term="P3Y",
        term_ends=NOW + timedelta(days=700),
        never_cancellable=True,
    )
    found = options(plan, NOW)
    assert _option(found, ExitKind.CANCEL_NOW).why_not is WhyNot.NEVER_CANCELLABLE
    assert _option(found, ExitKind.TRANSFER).available
    wait = _option(found, ExitKind.WAIT)
    assert wait.available and wait.until == NOW + timedelta(days=700)
    assert wait.keeps_paying is not None and wait.keeps_paying.value is not None and wait.keeps_paying.value > 0


def test_billing_periods_follow_the_term_end_day_even_at_month_end() -> None:
    money = _nce(term_ends=datetime(2026, 5, 31, tzinfo=UTC))
    assert billing_period(money, datetime(2026, 3, 1, tzinfo=UTC)) == (datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
    assert billing_period(money, datetime(2026, 6, 1, tzinfo=UTC)) is None  # past the term
    assert billing_period(_nce(billing_cycle=None, term=None), NOW) is None


@dataclass(frozen=True)
class _Item:
    money: Money | None


def test_totals_per_currency_with_the_unpriced_counted_apart() -> None:
    items = [
        _Item(_nce()),  # refundable now: 500.00 EUR
        _Item(_nce(cancellable_until=NOW - timedelta(days=1))),  # committed: 5500.00 EUR
        _Item(_nce(currency="USD", unit_price=Decimal(2), quantity=3, cancellable_until=None)),  # committed 66.00 USD
        _Item(_nce(unit_price=None)),  # EUR, no price
        _Item(Money()),  # nothing known at all
        _Item(None),  # a teardown item: no money
    ]
    totals = {t.currency: t for t in plan_totals(items, NOW)}
    assert list(totals) == ["EUR", "USD", None]
    assert totals["EUR"].refundable_now == Amount(value=Decimal("500.00"), currency="EUR")
    assert totals["EUR"].committed_until_term_end == Amount(value=Decimal("5500.00"), currency="EUR")
    assert totals["EUR"].unpriced_items == 1
    assert totals["USD"].committed_until_term_end.value == Decimal("66.00")
    assert totals[None].unpriced_items == 1 and totals[None].refundable_now.value is None
    assert plan_totals([], NOW) == ()


def test_a_window_30_hours_from_closing_is_announced_with_its_amount() -> None:
    closing = _nce(
        refund_windows=(RefundWindow(kind="full", until=NOW + timedelta(hours=30)),),
        cancellable_until=NOW + timedelta(hours=30),
        refundable_seats=(),
    )
    far = _nce(refund_windows=(), cancellable_until=NOW + timedelta(days=5), refundable_seats=())
    gone = _nce(cancellable_until=NOW - timedelta(hours=1), refund_windows=(), refundable_seats=())
    items = [_Item(far), _Item(closing), _Item(gone), _Item(None)]
    [(item, end, amount)] = closing_windows(items, NOW, timedelta(hours=48))
    assert item is items[1] and end == NOW + timedelta(hours=30)
    assert amount == Amount(value=Decimal("500.00"), currency="EUR")
    assert closing_windows(items, NOW, timedelta(hours=24)) == []


def test_a_full_refund_window_closing_while_the_partial_one_stays_open_risks_only_the_difference() -> None:
    # Full refund for 12 hours (500.00), then prorated until the cancellation date in 5 days:
    # 29 of the 31 days of the billing period 8 March - 8 April are left (500.00 x 29/31 = 467.74).
    [(_, end, amount)] = closing_windows([_Item(_nce())], NOW, timedelta(hours=48))
    assert end == NOW + timedelta(hours=12) and amount == Amount(value=Decimal("32.26"), currency="EUR")
    # Every window within the warning time is returned, not only the earliest: the cancellation
    # date, the partial window and the seat tranche all end in 5 days (one entry).
    found = closing_windows([_Item(_nce())], NOW, timedelta(days=6))
    assert [(end, amount.value) for _, end, amount in found] == [
        (NOW + timedelta(hours=12), Decimal("32.26")),
        (NOW + timedelta(days=5), Decimal("467.74")),
    ]


def _proseware_like() -> Money:
    """25 seats, prorated refund until the cancellation date in 30 hours; 20 seats reducible until
    then, the 5 added later 4 days (sandbox seed's Proseware, in euros)."""
    return _nce(
        quantity=25,
        cancellable_until=NOW + timedelta(hours=30),
        refund_windows=(RefundWindow(kind="partial", until=NOW + timedelta(hours=30)),),
        refundable_seats=(
            SeatTranche(quantity=20, until=NOW + timedelta(hours=30)),
            SeatTranche(quantity=5, until=NOW + timedelta(days=4)),
        ),
    )


def test_the_cancellation_date_risks_only_the_seats_not_reducible_later() -> None:
    # 29 of 31 days left: 20 seats x 10.00 x 29/31 = 187.10 at stake at the cancellation date, the
    # 5 seats added later (46.77) only when their own window ends.
    [(_, end, amount)] = closing_windows([_Item(_proseware_like())], NOW, timedelta(hours=48))
    assert end == NOW + timedelta(hours=30) and amount.value == Decimal("187.10")
    later = NOW + timedelta(days=3)
    [(_, end, amount)] = closing_windows([_Item(_proseware_like())], later, timedelta(hours=48))
    # On 13 March: 26 of 31 days left, 5 x 10.00 x 26/31 = 41.94.
    assert end == NOW + timedelta(days=4) and amount.value == Decimal("41.94")


def test_refund_windows_with_no_cancellation_possible_are_not_announced() -> None:
    no_window = _nce(cancellable_until=None, refundable_seats=())
    past = _nce(cancellable_until=NOW - timedelta(hours=1), refundable_seats=())
    assert closing_windows([_Item(no_window), _Item(past)], NOW, timedelta(days=6)) == []


def test_a_window_without_a_price_is_announced_with_no_amount() -> None:
    [(_, end, amount)] = closing_windows([_Item(_proseware_like().model_copy(update={"unit_price": None}))], NOW, timedelta(hours=48))
    assert end == NOW + timedelta(hours=30) and amount == Amount(value=None, currency="EUR")


def test_a_price_contradicted_by_its_extended_price_is_unknown() -> None:
    assert checked_unit_price(Decimal("10.50"), Decimal("262.50"), 25, "EUR") == Decimal("10.50")
    assert checked_unit_price(Decimal("10.50"), None, 25, "EUR") == Decimal("10.50")  # nothing to check against
    assert checked_unit_price(Decimal("262.50"), Decimal("262.50"), 25, "EUR") is None  # the line's total, not per seat
    assert checked_unit_price(Decimal("10.50"), Decimal("262.51"), 25, "EUR") is None  # off by a cent


def test_amounts_are_rounded_to_the_currencys_own_decimals() -> None:
    yen = Money(currency="JPY", unit_price=Decimal("1234.5"), quantity=1)
    assert yen.times(1).value == Decimal("1235")
    dinar = Money(currency="KWD", unit_price=Decimal("1.2345"), quantity=1)
    assert dinar.times(1).value == Decimal("1.235")
    assert Money(currency="EUR", unit_price=Decimal("1.005"), quantity=1).times(1).value == Decimal("1.01")


def test_money_refuses_dates_without_a_timezone() -> None:
    naive = datetime(2026, 3, 10, 12, 0)
    with pytest.raises(ValidationError):
        Money(term_ends=naive)
    with pytest.raises(ValidationError):
        Money(cancellable_until=naive)
    with pytest.raises(ValidationError):
        RefundWindow(kind="full", until=naive)
    with pytest.raises(ValidationError):
        SeatTranche(quantity=1, until=naive)


def test_a_savings_plan_has_no_window_to_announce() -> None:
    plan = Money(term_ends=NOW + timedelta(hours=1), never_cancellable=True)
    assert closing_windows([_Item(plan)], NOW, timedelta(hours=48)) == []


def test_money_of_a_subscription_is_read_from_its_own_fields_and_its_order_price() -> None:
    subscription = Subscription.from_wire(
        {
            "id": "sub-1",
            "quantity": 25,
            "orderId": "order-1",
            "billingCycle": "Monthly",
            "termDuration": "P1Y",
            "autoRenewEnabled": True,
            "commitmentEndDate": "2027-03-08T00:00:00Z",
            "cancellationAllowedUntilDate": "2026-03-15T00:00:00.0000000Z",
            "refundOptions": [
                {"type": "Partial", "expiresAt": "2026-03-15T00:00:00Z"},
                {"type": "Full", "expiresAfter": "2026-03-11T00:00:00Z"},
            ],
            "refundableQuantity": {"totalQuantity": 25, "details": [{"quantity": 25, "allowedUntilDateTime": "2026-03-15T00:00:00Z"}]},
        }
    )
    order = Order.from_wire(
        {
            "id": "order-1",
            "currencyCode": "EUR",
            "lineItems": [
                {
                    "lineItemNumber": 0,
                    "subscriptionId": "sub-1",
                    "quantity": 25,
                    "pricing": {"listPrice": 12, "discountedPrice": 11, "price": "10.50", "extendedPrice": 262.5},
                }
            ],
        }
    )
    money = money_of_subscription(subscription, order)
    assert (money.currency, money.unit_price, money.quantity, money.billing_cycle, money.term) == (
        "EUR",
        Decimal("10.50"),
        25,
        "monthly",
        "P1Y",
    )
    assert [w.kind for w in money.refund_windows] == ["full", "partial"]
    assert money.refundable_seats == (SeatTranche(quantity=25, until=datetime(2026, 3, 15, tzinfo=UTC)),)
    unpriced = money_of_subscription(
        subscription, Order.from_wire({"id": "order-1", "currencyCode": "EUR", "lineItems": [{"subscriptionId": "sub-1"}]})
    )
    assert unpriced.unit_price is None and not unpriced.priced
    assert money_of_subscription(subscription, None).currency is None
    assert money.price_quantity == 25 and not money.price_quantity_differs


def test_a_subscription_priced_from_a_line_whose_extended_price_disagrees_has_no_price() -> None:
    subscription = Subscription.from_wire({"id": "sub-1", "quantity": 30, "orderId": "order-1", "billingCycle": "Monthly"})
    line = {"lineItemNumber": 0, "subscriptionId": "sub-1", "quantity": 25}
    total_as_price = Order.from_wire(
        {"id": "order-1", "currencyCode": "EUR", "lineItems": [{**line, "pricing": {"price": 262.5, "extendedPrice": 262.5}}]}
    )
    money = money_of_subscription(subscription, total_as_price)
    assert money.unit_price is None and money.times(1).value is None  # "Partner Center gives no price"
    consistent = Order.from_wire(
        {"id": "order-1", "currencyCode": "EUR", "lineItems": [{**line, "pricing": {"price": 10.5, "extendedPrice": 262.5}}]}
    )
    money = money_of_subscription(subscription, consistent)
    assert money.unit_price == Decimal("10.5") and money.price_quantity == 25 and money.price_quantity_differs
