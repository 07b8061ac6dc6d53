"""The controllable clock and what time does: NCE expiry and renewal, seed dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pc_sandbox import SandboxClock
from pc_sandbox.clock import add_duration, format_iso
from pc_sandbox.seed import resolve_date

from ._helpers import (
    CONTOSO_PHARMA,
    START,
    TAILWIND,
    error_code,
    patch_subscription,
    subscription_where,
    user_headers_for,
)


def test_frozen_clock_moves_only_when_told():
    clock = SandboxClock(START, frozen=True)
    assert clock.now() == START
    assert clock.advance(timedelta(days=8)) == START + timedelta(days=8)
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert clock.set(later) == later == clock.now()


def test_running_clock_ticks_from_its_start():
    clock = SandboxClock(START)
    assert START <= clock.now() < START + timedelta(seconds=5)
    assert abs(SandboxClock().now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_clock_refuses_naive_times_and_going_backwards():
    with pytest.raises(ValueError, match="timezone-aware"):
        SandboxClock(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="only advances forward"):
        SandboxClock(START).advance(timedelta(days=-1))


def test_relative_seed_dates_and_formats():
    assert format_iso(resolve_date("now+3d", START)) == "2026-03-05T09:00:00Z"
    assert format_iso(resolve_date("now-40d", START)) == "2026-01-21T09:00:00Z"
    assert format_iso(resolve_date("now+12h", START)) == "2026-03-02T21:00:00Z"
    assert resolve_date("now", START) == START
    assert format_iso(resolve_date("2026-11-24T10:00:00Z", START)) == "2026-11-24T10:00:00Z"


def test_terms_use_calendar_arithmetic():
    assert add_duration(datetime(2026, 1, 31, tzinfo=UTC), "P1M") == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_duration(START, "P1Y") == START.replace(year=2027)
    assert add_duration(START, "P3Y") == START.replace(year=2029)


async def test_nce_without_auto_renew_expires_at_term_end(client, clock, user_headers):
    nce = await subscription_where(client, user_headers, TAILWIND, productType="OnlineServicesNCE")
    assert nce["autoRenewEnabled"] is False and nce["status"] == "active"
    clock.advance(timedelta(days=31))
    headers = await user_headers_for(client)
    expired = await subscription_where(client, headers, TAILWIND, productType="OnlineServicesNCE")
    assert expired["status"] == "expired"
    assert expired["attributes"]["etag"] != nce["attributes"]["etag"]


async def test_nce_with_auto_renew_renews_and_opens_a_new_window(client, clock, user_headers):
    nce = await subscription_where(client, user_headers, CONTOSO_PHARMA, productType="OnlineServicesNCE")
    assert nce["commitmentEndDate"] == "2026-09-18T09:00:00Z"  # now+200d
    clock.advance(timedelta(days=201))
    headers = await user_headers_for(client)
    renewed = await subscription_where(client, headers, CONTOSO_PHARMA, productType="OnlineServicesNCE")
    assert renewed["status"] == "active"
    assert renewed["commitmentEndDate"] == "2027-09-18T09:00:00Z"
    # Was "2026-09-25T09:00:00Z" (term-end instant + 7 days), which is 1-2 days early: the term end
    # date is inclusive of the whole day, the renewal starts at 2026-09-19T00:00Z and completes
    # after the processing delay (4 h by default), and the 7 days run from completion
    # (create-a-new-subscription.md).
    assert renewed["cancellationAllowedUntilDate"] == "2026-09-26T04:00:00Z"
    cancelled = await patch_subscription(client, headers, CONTOSO_PHARMA, renewed, status="deleted")
    assert cancelled.status == 200


async def test_nce_window_closes_with_time(client, clock, user_headers):
    clock.advance(timedelta(days=8))
    headers = await user_headers_for(client)
    software = await subscription_where(client, headers, TAILWIND, productType="Software")
    response = await patch_subscription(client, headers, TAILWIND, software, status="deleted")
    assert response.status == 400
    assert error_code(await response.json()) == 900117


async def test_operator_clock_endpoints(client):
    assert await (await client.get("/_sandbox/clock")).json() == {"now": "2026-03-02T09:00:00Z"}
    moved = await client.post("/_sandbox/clock", json={"advanceDays": 2})
    assert await moved.json() == {"now": "2026-03-04T09:00:00Z"}
    moved = await client.post("/_sandbox/clock", json={"advanceHours": 12})
    assert await moved.json() == {"now": "2026-03-04T21:00:00Z"}
    moved = await client.post("/_sandbox/clock", json={"set": "2026-06-01T00:00:00Z"})
    assert await moved.json() == {"now": "2026-06-01T00:00:00Z"}
    assert (await client.post("/_sandbox/clock", json={"advanceDays": -1})).status == 400
    assert (await client.post("/_sandbox/clock", json={"bogus": 1})).status == 400
