"""Retries, throttling and pacing, with the sandbox's request log as witness."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from partner_center import (
    CancellationWindowPassedError,
    ConflictError,
    LimitsRegistry,
    PartnerCenterConfig,
    PartnerLimits,
    RateSettings,
    RetryPolicy,
    SubscriptionStatus,
    ThrottledError,
    UnavailableError,
    connect,
)
from pc_sandbox import SandboxOptions
from tests._helpers import FAST_RETRY, customer_named, operator, sandbox_requests


async def _legacy_subscription(client: Any, name: str = "Contoso Ltd") -> tuple[str, str]:
    customer = await customer_named(client, name)
    for sub in await client.list_subscriptions(customer.id):
        if sub.product_type and sub.product_type.id == "OnlineServices" and sub.status is SubscriptionStatus.ACTIVE:
            return customer.id, sub.id
    raise AssertionError("no active legacy subscription")


async def test_a_5xx_is_retried_with_the_same_ms_request_id(client: Any, sandbox: Any, http: aiohttp.ClientSession) -> None:
    customer_id, subscription_id = await _legacy_subscription(client)
    await operator(
        http, sandbox, "faults", {"count": 2, "status": 503, "pathContains": subscription_id, "method": "PATCH", "when": "before"}
    )
    result = await client.suspend_subscription(customer_id, subscription_id)
    assert result.status is SubscriptionStatus.SUSPENDED
    patches = [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    assert [p["status"] for p in patches] == [503, 503, 200]
    assert len({p["requestId"] for p in patches}) == 1


async def test_a_lost_response_is_retried_and_partner_center_applies_the_write_once(
    client: Any, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    customer_id, subscription_id = await _legacy_subscription(client)
    await operator(
        http, sandbox, "faults", {"count": 1, "status": 500, "pathContains": subscription_id, "method": "PATCH", "when": "after"}
    )
    result = await client.suspend_subscription(customer_id, subscription_id)
    assert result.status is SubscriptionStatus.SUSPENDED
    patches = [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    # The retry carries the old If-Match: applied again it would be a stale-etag 400; the
    # sandbox replays the first answer for the same MS-RequestId instead.
    assert [p["status"] for p in patches] == [500, 200]
    assert patches[0]["requestId"] == patches[1]["requestId"]


@pytest.mark.parametrize("sandbox_options", [SandboxOptions(latency_ms=400)])
async def test_timeouts_are_retried_with_the_same_request_id_then_reported(sandbox: Any, http: aiohttp.ClientSession) -> None:
    from partner_center.client import PartnerCenterClient
    from partner_center.connection import token_provider

    client = PartnerCenterClient(
        session=http,
        base_url=sandbox.base_url,
        tokens=token_provider(PartnerCenterConfig.sandbox(sandbox.base_url)),
        limits=PartnerLimits(RateSettings()),
        retry=RetryPolicy(attempts=3, wait_initial=0.01, wait_max=0.02, wait_jitter=0.0),
        request_timeout=0.1,
    )
    with pytest.raises(UnavailableError) as caught:
        await client.get_customer("00000000-0000-0000-0000-000000000001")
    assert caught.value.request_id and caught.value.correlation_id
    await asyncio.sleep(0.6)  # let the sandbox finish logging the abandoned requests
    attempts = [r for r in await sandbox_requests(http, sandbox) if r["path"].startswith("/v1/customers/")]
    assert len(attempts) == 3 and {r["requestId"] for r in attempts} == {caught.value.request_id}


async def test_other_4xx_are_never_retried(client: Any, sandbox: Any, http: aiohttp.ClientSession) -> None:
    pharma = await customer_named(client, "Contoso Pharma")
    nce = next(s for s in await client.list_subscriptions(pharma.id) if s.cancellation_allowed_until_date)
    with pytest.raises(CancellationWindowPassedError):  # 400 / 900117
        await client.cancel_subscription(pharma.id, nce.id)
    patches = [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    assert [p["status"] for p in patches] == [400]


async def test_an_access_token_partner_center_refuses_is_replaced_once(client: Any, sandbox: Any, http: aiohttp.ClientSession) -> None:
    contoso = await customer_named(client, "Contoso Ltd")
    assert await client.get_relationship_request_url()
    # The sandbox's tokens expire by its clock; MSAL, on wall-clock time, still has them cached.
    sandbox.clock.advance(timedelta(hours=2))
    await http.delete(f"{sandbox.base_url}/_sandbox/requests")
    assert (await client.get_customer(contoso.id)).id == contoso.id
    assert await client.get_relationship_request_url()  # app+user token replaced too
    log = await sandbox_requests(http, sandbox)
    assert [r["status"] for r in log] == [401, 200, 401, 200]
    assert log[0]["requestId"] == log[1]["requestId"] and log[2]["requestId"] == log[3]["requestId"]


@pytest.mark.parametrize("sandbox_options", [SandboxOptions(rate_limit=2, rate_window_seconds=2)])
async def test_a_429_waits_retry_after_then_succeeds_with_the_same_request_id(
    client: Any, sandbox: Any, http: aiohttp.ClientSession
) -> None:
    contoso = await customer_named(client, "Contoso Ltd")  # one of the two requests of the window
    await client.get_customer(contoso.id)
    started = time.perf_counter()
    await client.get_customer(contoso.id)
    elapsed = time.perf_counter() - started
    log = await sandbox_requests(http, sandbox)
    assert [r["status"] for r in log] == [200, 200, 429, 200]
    assert log[2]["requestId"] == log[3]["requestId"]
    assert elapsed >= 1.0, "Retry-After (whole seconds, at least 1) must be waited out before the retry"


@pytest.mark.parametrize("sandbox_options", [SandboxOptions(rate_limit=1, rate_window_seconds=60)])
async def test_throttling_that_outlasts_the_retries_is_a_throttled_error_with_retry_after(
    sandbox: Any, http: aiohttp.ClientSession
) -> None:
    client = connect(
        PartnerCenterConfig.sandbox(sandbox.base_url), session=http, limits=PartnerLimits(RateSettings()), retry=RetryPolicy(attempts=1)
    )
    await client.find_customers("CompanyName", "Contoso")
    with pytest.raises(ThrottledError) as caught:
        await client.find_customers("CompanyName", "Contoso")
    error = caught.value
    assert (error.status, error.code) == (429, "429") and 50 <= error.retry_after <= 60
    assert "Rate limit is exceeded" in error.description and error.request_id and error.correlation_id


async def test_an_etag_stale_on_every_try_is_a_conflict_error_after_one_re_read(sandbox: Any, http: aiohttp.ClientSession) -> None:
    if_match: list[str] = []

    async def make_etag_stale(session: Any, context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        if params.method == "GET" and "/subscriptions/" in params.url.path:
            customer_id, subscription_id = params.url.path.split("/")[3], params.url.path.split("/")[5]
            await operator(http, sandbox, f"customers/{customer_id}/subscriptions/{subscription_id}/touch")

    async def record_if_match(session: Any, context: Any, params: aiohttp.TraceRequestStartParams) -> None:
        if params.method == "PATCH":
            if_match.append(params.headers["If-Match"])

    tracing = aiohttp.TraceConfig()
    tracing.on_request_end.append(make_etag_stale)
    tracing.on_request_start.append(record_if_match)
    async with aiohttp.ClientSession(trace_configs=[tracing]) as traced:
        client = connect(
            PartnerCenterConfig.sandbox(sandbox.base_url), session=traced, limits=PartnerLimits(RateSettings()), retry=FAST_RETRY
        )
        customer_id, subscription_id = await _legacy_subscription(client)
        with pytest.raises(ConflictError) as caught:
            await client.suspend_subscription(customer_id, subscription_id)
    assert caught.value.code == "2055" and caught.value.status == 400
    patches = [r for r in await sandbox_requests(http, sandbox) if r["method"] == "PATCH"]
    assert [p["status"] for p in patches] == [400, 400]
    assert len({p["requestId"] for p in patches}) == 2, "a re-read write is a new call with a new MS-RequestId"
    # The ETag travels in double quotes, as HTTP and Partner Center's docs have it.
    assert len(if_match) == 2 and all(value.startswith('"') and value.endswith('"') for value in if_match)


@pytest.mark.slow
@pytest.mark.parametrize("sandbox_options", [SandboxOptions(rate_limit=200, rate_window_seconds=1)])
async def test_a_burst_of_a_thousand_calls_above_the_rate_completes_handling_every_429(sandbox: Any, http: aiohttp.ClientSession) -> None:
    # The client's own pacing is set far above the sandbox's limit, so the sandbox throttles.
    client = connect(
        PartnerCenterConfig.sandbox(sandbox.base_url),
        session=http,
        limits=PartnerLimits(RateSettings(requests_per_period=1_000_000, period_seconds=60, max_concurrency=64)),
        retry=RetryPolicy(attempts=30, timeout_seconds=120, wait_initial=0.1, wait_max=2.0, wait_jitter=0.5),
    )
    tailspin = await customer_named(client, "Tailspin Toys")
    subscriptions = (await client.list_subscriptions(tailspin.id))[:1000]
    await http.delete(f"{sandbox.base_url}/_sandbox/requests")
    started = time.perf_counter()
    results = await asyncio.gather(*(client.get_subscription(tailspin.id, s.id) for s in subscriptions))
    elapsed = time.perf_counter() - started
    assert [r.id for r in results] == [s.id for s in subscriptions]
    log = await sandbox_requests(http, sandbox)
    throttled = [r for r in log if r["status"] == 429]
    assert throttled, "the burst should have been throttled by the sandbox"
    assert sum(r["status"] == 200 for r in log) == 1000
    assert {r["status"] for r in log} <= {200, 429}
    # Every throttled request came back with its own MS-RequestId and succeeded.
    succeeded = {r["requestId"] for r in log if r["status"] == 200}
    assert {r["requestId"] for r in throttled} <= succeeded
    print(f"\nburst: 1000 calls, {elapsed:.1f} s, {len(throttled)} 429s handled, {len(log)} requests sent")


@pytest.mark.slow
@pytest.mark.parametrize("sandbox_options", [SandboxOptions(rate_limit=60, rate_window_seconds=1)])
async def test_the_client_paces_itself_below_the_configured_rate(sandbox: Any, http: aiohttp.ClientSession) -> None:
    limits = LimitsRegistry(RateSettings(requests_per_period=50, period_seconds=1, max_concurrency=16))
    client = connect(PartnerCenterConfig.sandbox(sandbox.base_url), session=http, limits=limits.for_tenant("sandbox"), retry=FAST_RETRY)
    tailspin = await customer_named(client, "Tailspin Toys")
    subscriptions = (await client.list_subscriptions(tailspin.id))[:150]
    await http.delete(f"{sandbox.base_url}/_sandbox/requests")
    started = time.perf_counter()
    await asyncio.gather(*(client.get_subscription(tailspin.id, s.id) for s in subscriptions))
    elapsed = time.perf_counter() - started
    log = await sandbox_requests(http, sandbox)
    assert [r["status"] for r in log].count(429) == 0
    assert len(log) == 150 and elapsed >= 2.0  # 150 calls at 50 per second: at least two full windows


def test_one_limiter_per_partner_tenant() -> None:
    registry = LimitsRegistry()
    assert registry.for_tenant("Contoso-Partner") is registry.for_tenant("contoso-partner")
    assert registry.for_tenant("a") is not registry.for_tenant("b")


def test_the_429_wait_is_retry_after_then_backs_off_and_is_never_zero() -> None:
    hook = RetryPolicy(wait_initial=0.5, wait_max=30, wait_jitter=0)._backoff_hook()
    assert hook(ThrottledError("throttled", retry_after=3)) == 3.0
    assert hook(ThrottledError("throttled", retry_after=3)) == 3.5
    assert hook(ThrottledError("throttled", retry_after=3)) == 4.0
    no_header = RetryPolicy(wait_initial=0.5, wait_jitter=0)._backoff_hook()
    assert no_header(ThrottledError("throttled", retry_after=0)) == 0.5
    assert no_header(UnavailableError("down")) is True and no_header(ValueError()) is False
