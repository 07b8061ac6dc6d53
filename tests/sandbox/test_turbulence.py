"""Bad days at Partner Center, on demand: bursts of 429, latency spikes, an outage, and what
people change in the portal meanwhile — each one labelled in the request log."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from pc_sandbox import SandboxOptions
from pc_sandbox.__main__ import _parser
from pc_sandbox.bursts import ThrottleBursts
from pc_sandbox.state import STATE

from ._helpers import (
    CONTOSO,
    FABRIKAM,
    WINGTIP,
    fetch_token,
    patch_subscription,
    software_order,
    subscription_where,
    user_headers_for,
)


async def _log(client) -> list[dict]:
    return (await (await client.get("/_sandbox/requests")).json())["items"]


# ---- Bursts of 429 ----


def test_scheduled_bursts_come_at_the_end_of_every_period_with_the_seconds_left() -> None:
    now = [100.0]
    bursts = ThrottleBursts(every=10, seconds=3, monotonic=lambda: now[0])
    seen = {}
    for offset in (0, 6.9, 7.0, 8.5, 9.99, 10.0, 17.2, 26):
        now[0] = 100.0 + offset
        seen[offset] = bursts.retry_after()
    assert seen == {0: None, 6.9: None, 7.0: 3, 8.5: 2, 9.99: 1, 10.0: None, 17.2: 3, 26: None}


def test_an_operator_burst_starts_now_and_outlasts_nothing_else() -> None:
    now = [0.0]
    bursts = ThrottleBursts(every=0, seconds=0, monotonic=lambda: now[0])
    assert bursts.retry_after() is None
    bursts.start(2.5)
    assert bursts.retry_after() == 3
    now[0] = 2.4
    assert bursts.retry_after() == 1
    now[0] = 2.6
    assert bursts.retry_after() is None
    bursts.start(5)
    bursts.clear()
    assert bursts.retry_after() is None


async def test_a_burst_answers_every_request_429_in_the_gateway_format_then_lets_them_through(client, user_headers):
    assert (await client.post("/_sandbox/throttle", json={"seconds": 0})).status == 400
    assert (await client.post("/_sandbox/throttle", json={"seconds": "2"})).status == 400
    started = await client.post("/_sandbox/throttle", json={"seconds": 0.4})
    assert started.status == 200 and (await started.json())["retryAfter"] == 1
    throttled = await client.get(f"/v1/customers/{CONTOSO}", headers=user_headers)
    assert throttled.status == 429 and throttled.headers["Retry-After"] == "1"
    assert await throttled.json() == {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."}
    await asyncio.sleep(0.45)
    assert (await client.get(f"/v1/customers/{CONTOSO}", headers=user_headers)).status == 200
    first, second = await _log(client)
    assert first["status"] == 429 and first["injected"] == ["429-burst"]
    assert second["status"] == 200 and "injected" not in second


# ---- Latency spikes ----


async def test_spikes_delay_requests_and_are_logged(make_client):
    client = await make_client(spike_rate=1.0, spike_ms=200)
    started = time.monotonic()
    assert (await client.get("/v1/customers")).status == 401
    assert time.monotonic() - started >= 0.2
    [entry] = await _log(client)
    assert entry["injected"] == ["spike"]


async def test_spikes_are_reproducible_and_do_not_move_the_faults(make_client):
    async def run(**options) -> list[tuple[int, tuple[str, ...]]]:
        client = await make_client(random_seed=11, **options)
        for _ in range(30):
            await client.get("/v1/customers")
        return [(entry["status"], tuple(entry.get("injected", ()))) for entry in await _log(client)]

    with_spikes = await run(fault_rate=0.3, spike_rate=0.3, spike_ms=1)
    assert with_spikes == await run(fault_rate=0.3, spike_rate=0.3, spike_ms=1)
    assert any("spike" in injected for _, injected in with_spikes)
    without_spikes = await run(fault_rate=0.3)
    assert [status for status, _ in with_spikes] == [status for status, _ in without_spikes]


async def test_an_operator_queues_spikes_for_matching_requests(client, user_headers):
    assert (await client.post("/_sandbox/spikes", json={"ms": -1})).status == 400
    queued = await client.post("/_sandbox/spikes", json={"count": 1, "ms": 250, "pathContains": "/subscriptions", "method": "get"})
    assert queued.status == 201
    assert (await (await client.get("/_sandbox/spikes")).json())["items"] == [
        {"count": 1, "ms": 250.0, "pathContains": "/subscriptions", "method": "GET"}
    ]
    started = time.monotonic()
    await client.get(f"/v1/customers/{CONTOSO}", headers=user_headers)
    assert time.monotonic() - started < 0.25
    started = time.monotonic()
    await client.get(f"/v1/customers/{CONTOSO}/subscriptions", headers=user_headers)
    assert time.monotonic() - started >= 0.25
    assert (await (await client.get("/_sandbox/spikes")).json())["items"] == []


# ---- Outage ----


async def test_an_outage_drops_every_v1_connection_until_it_is_switched_off(client, user_headers):
    legacy = await subscription_where(client, user_headers, CONTOSO, productType="OnlineServices")
    await client.delete("/_sandbox/requests")
    assert (await (await client.post("/_sandbox/outage", json={"on": True})).json()) == {"on": True, "mode": "reset"}
    with pytest.raises(aiohttp.ClientError):
        await patch_subscription(client, user_headers, CONTOSO, legacy, status="suspended")
    # Entra ID is not Partner Center: tokens are still issued, and the operator still answers.
    assert await fetch_token(client, app_only=True)
    assert (await client.get("/_sandbox/outage")).status == 200
    [dropped] = await _log(client)
    assert dropped["status"] == 0 and dropped["injected"] == ["outage-reset"]

    assert (await client.post("/_sandbox/outage", json={"on": True, "mode": "503"})).status == 200
    unavailable = await client.get(f"/v1/customers/{CONTOSO}", headers=user_headers)
    assert unavailable.status == 503 and (await unavailable.json())["code"] == 800003
    assert (await _log(client))[-1]["injected"] == ["outage-503"]

    assert (await client.post("/_sandbox/outage", json={"on": False})).status == 200
    # Back as it was: nothing was written during the outage.
    assert await subscription_where(client, user_headers, CONTOSO, id=legacy["id"]) == legacy


async def test_outage_requests_are_validated_and_reset_ends_it(client, user_headers):
    assert (await client.post("/_sandbox/outage", json={"on": "yes"})).status == 400
    assert (await client.post("/_sandbox/outage", json={"on": True, "mode": "slow"})).status == 400
    await client.post("/_sandbox/outage", json={"on": True, "mode": "503"})
    await client.post("/_sandbox/throttle", json={"seconds": 60})
    await client.post("/_sandbox/reset")
    assert (await (await client.get("/_sandbox/outage")).json())["on"] is False
    assert (await client.get(f"/v1/customers/{CONTOSO}", headers=user_headers)).status == 200


# ---- The request log says what was replayed ----


async def test_a_replayed_write_is_marked_in_the_log(client, user_headers):
    await client.post("/_sandbox/faults", json={"count": 1, "status": 500, "method": "PATCH", "when": "after"})
    legacy = await subscription_where(client, user_headers, CONTOSO, productType="OnlineServices")
    headers = {**user_headers, "MS-RequestId": "8d4e1c0e-0000-4000-8000-00000000000a"}
    assert (await patch_subscription(client, headers, CONTOSO, legacy, status="suspended")).status == 500
    assert (await patch_subscription(client, headers, CONTOSO, legacy, status="suspended")).status == 200
    lost, replayed = [entry for entry in await _log(client) if entry["method"] == "PATCH"]
    assert lost["injected"] == ["5xx-after"] and "replayed" not in lost
    assert replayed["replayed"] is True and "injected" not in replayed


async def test_random_faults_after_processing_lose_the_answer_not_the_write(make_client):
    client = await make_client(fault_after_rate=1.0)
    headers = await user_headers_for(client)
    world = client.server.app[STATE].world
    [legacy] = [s for s in world.customers[CONTOSO].subscriptions.values() if s.product_type == "OnlineServices"]
    lost = await client.patch(f"/v1/customers/{CONTOSO}/subscriptions/{legacy.id}", json={"status": "suspended"}, headers=headers)
    assert lost.status in (500, 503)
    assert legacy.status == "suspended"  # applied; only the answer was lost
    assert (await _log(client))[-1]["injected"] == ["5xx-after"]


# ---- What people change in the portal ----


async def test_portal_changes_suspend_cancel_and_cancel_an_order(client, user_headers):
    legacy = await subscription_where(client, user_headers, CONTOSO, productType="OnlineServices", status="active")
    suspended = await client.post(f"/_sandbox/customers/{CONTOSO}/subscriptions/{legacy['id']}/suspend")
    assert suspended.status == 200 and (await suspended.json())["status"] == "suspended"
    nce = await subscription_where(client, user_headers, CONTOSO, productType="OnlineServicesNCE", status="active")
    cancelled = await client.post(f"/_sandbox/customers/{CONTOSO}/subscriptions/{nce['id']}/cancel")
    body = await cancelled.json()
    assert body["status"] == "deleted" and body["autoRenewEnabled"] is False
    order = await software_order(client, user_headers, WINGTIP)
    response = await client.post(f"/_sandbox/customers/{WINGTIP}/orders/{order['id']}/cancel")
    assert response.status == 200 and (await response.json())["status"] == "cancelled"
    assert (await client.post(f"/_sandbox/customers/{FABRIKAM}/orders/nope/cancel")).status == 404
    assert (await client.post(f"/_sandbox/customers/{CONTOSO}/subscriptions/nope/suspend")).status == 404


# ---- Options and command line ----


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"throttle_burst_every": 5, "throttle_burst_seconds": 0}, "throttle_burst_seconds must be > 0"),
        ({"throttle_burst_every": 5, "throttle_burst_seconds": 5}, "shorter than throttle_burst_every"),
        ({"throttle_burst_every": -1}, "throttle_burst_every and throttle_burst_seconds must be >= 0"),
        ({"spike_rate": 1.5}, "spike_rate"),
        ({"spike_ms": -2}, "spike_ms"),
        ({"fault_after_rate": 1.5}, "fault_after_rate"),
    ],
)
def test_bad_turbulence_options_are_refused(options, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        SandboxOptions(**options)


def test_the_command_line_takes_the_turbulence_flags() -> None:
    args = _parser().parse_args(
        [
            "--throttle-burst-every",
            "8",
            "--throttle-burst-seconds",
            "1.5",
            "--spike-rate",
            "0.05",
            "--spike-ms",
            "2000",
            "--fault-rate",
            "0.2",
            "--fault-after-rate",
            "0.05",
        ]
    )
    assert (args.throttle_burst_every, args.throttle_burst_seconds, args.spike_rate, args.spike_ms) == (8, 1.5, 0.05, 2000)
    assert (args.fault_rate, args.fault_after_rate) == (0.2, 0.05)
