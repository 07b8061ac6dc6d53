"""Burst benchmark: N Partner Center reads against a throttling sandbox, in one process.

Prints, for the same burst, two runs side by side (compare the ratio, not the seconds):
- "unpaced": the client's own limiter far above the sandbox's rate, so the sandbox answers 429s
  and the retry policy waits them out;
- "paced": the client's limiter set just under the sandbox's rate: no 429 at all.

    .venv/bin/python -m bench.burst --calls 1000 --sandbox-rate 200 --window 1
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp

from partner_center import PartnerCenterConfig, PartnerLimits, RateSettings, RetryPolicy, connect
from pc_sandbox import SandboxOptions, running_sandbox


async def _run(calls: int, sandbox_rate: int, window: float, client_rate: int, label: str) -> None:
    options = SandboxOptions(rate_limit=sandbox_rate, rate_window_seconds=window)
    async with running_sandbox(options=options, host="127.0.0.1", port=0) as sandbox, aiohttp.ClientSession() as http:
        client = connect(
            PartnerCenterConfig.sandbox(sandbox.base_url),
            session=http,
            limits=PartnerLimits(RateSettings(requests_per_period=client_rate, period_seconds=window, max_concurrency=64)),
            retry=RetryPolicy(attempts=30, timeout_seconds=600, wait_initial=0.1, wait_max=2.0, wait_jitter=0.5),
        )
        [tailspin] = await client.find_customers("CompanyName", "Tailspin Toys")
        if tailspin.id is None:
            raise RuntimeError("Tailspin Toys has no id in the sandbox")
        subscriptions = await client.list_subscriptions(tailspin.id)
        targets = [subscriptions[i % len(subscriptions)].id for i in range(calls)]
        await http.delete(f"{sandbox.base_url}/_sandbox/requests")
        started = time.perf_counter()
        await asyncio.gather(*(client.get_subscription(tailspin.id, sid) for sid in targets))
        elapsed = time.perf_counter() - started
        async with http.get(f"{sandbox.base_url}/_sandbox/requests") as response:
            log = (await response.json())["items"]
        throttled = sum(r["status"] == 429 for r in log)
        failed = sum(r["status"] not in (200, 429) for r in log)
        ideal = calls / sandbox_rate * window
        print(
            f"{label:>8}: {calls} calls ok, {elapsed:6.2f} s (ideal {ideal:.2f} s, x{elapsed / ideal:.2f}), "
            f"{len(log)} requests sent, {throttled} answered 429, {failed} other failures"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--sandbox-rate", type=int, default=200, help="requests allowed per window by the sandbox")
    parser.add_argument("--window", type=float, default=1.0, help="rate window, seconds")
    args = parser.parse_args()
    print(f"sandbox allows {args.sandbox_rate} requests per {args.window:g} s per resource family")
    await _run(args.calls, args.sandbox_rate, args.window, 1_000_000, "unpaced")
    await _run(args.calls, args.sandbox_rate, args.window, int(args.sandbox_rate * 0.9), "paced")


if __name__ == "__main__":
    asyncio.run(main())
