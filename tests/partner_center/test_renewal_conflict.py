"""A 409 while Partner Center processes a renewal is waited out and resubmitted, not an item
failure (issue 17; ../shared/reference/fidelity-audit.md #6): "Subscriptions may take up to 24 hours to complete their
renewal… the partner will get an error response (409: Conflict for API requests). Partners can
resubmit the request after waiting for two minutes" (learn.microsoft.com/partner-center/
create-a-new-subscription). The wait is ``RetryPolicy.renewal_wait_seconds``: short here."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from partner_center import (
    ConflictError,
    PartnerCenterConfig,
    PartnerLimits,
    RateSettings,
    SubscriptionStatus,
    connect,
)
from partner_center.blockers import is_new_commerce
from pc_sandbox import SandboxOptions
from pc_sandbox.subscription_rules import SubscriptionLifecycle
from tests._helpers import FAST_RETRY, customer_named, operator, sandbox_requests

# ---- 409 while a renewal is processed (create-a-new-subscription.md) ----


def _term_over(commitment_end: datetime) -> datetime:
    day = commitment_end.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def _pharma_nce_at_renewal(client: Any, http: aiohttp.ClientSession, sandbox: Any) -> tuple[str, str]:
    pharma = await customer_named(client, "Contoso Pharma")
    [nce] = [s for s in await client.list_subscriptions(pharma.id) if is_new_commerce(s)]
    assert nce.auto_renew_enabled is True
    start = _term_over(nce.commitment_end_date)
    await operator(http, sandbox, "clock", {"set": start.isoformat().replace("+00:00", "Z")})
    return pharma.id, nce.id


def _client(sandbox: Any, http: aiohttp.ClientSession, **retry: Any) -> Any:
    return connect(
        PartnerCenterConfig.sandbox(sandbox.base_url),
        session=http,
        limits=PartnerLimits(RateSettings(requests_per_period=100_000, period_seconds=60, max_concurrency=32)),
        retry=dataclasses.replace(FAST_RETRY, **retry),
    )


@pytest.mark.parametrize("sandbox_options", [SandboxOptions(lifecycle=SubscriptionLifecycle(renewal_processing=timedelta(seconds=3)))])
async def test_a_409_during_renewal_is_waited_out_and_resubmitted_not_failed(
    sandbox: Any, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(sandbox, http, renewal_wait_seconds=1.0, renewal_resubmits=8)
    customer_id, subscription_id = await _pharma_nce_at_renewal(client, http, sandbox)
    with caplog.at_level(logging.WARNING, logger="partner_center.client"):
        result = await client.turn_off_auto_renew(customer_id, subscription_id)
    assert result.auto_renew_enabled is False and result.status is SubscriptionStatus.ACTIVE
    statuses = [r["status"] for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    assert statuses[0] == 409 and statuses[-1] == 200 and set(statuses[:-1]) == {409}
    waits = [r.getMessage() for r in caplog.records if "renewal" in r.getMessage()]
    assert len(waits) == len(statuses) - 1 and "waiting 1 s before resubmitting" in waits[0]


@pytest.mark.parametrize("sandbox_options", [SandboxOptions(lifecycle=SubscriptionLifecycle(renewal_processing=timedelta(hours=20)))])
async def test_the_renewal_wait_is_bounded_then_the_409_is_raised(sandbox: Any, http: aiohttp.ClientSession) -> None:
    client = _client(sandbox, http, renewal_wait_seconds=0.05, renewal_resubmits=2)
    customer_id, subscription_id = await _pharma_nce_at_renewal(client, http, sandbox)
    with pytest.raises(ConflictError) as caught:
        await client.turn_off_auto_renew(customer_id, subscription_id)
    assert caught.value.status == 409
    statuses = [r["status"] for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    assert statuses == [409, 409, 409]  # the first try and two resubmissions
