"""``plan``: from ``remove Tailspin Toys`` (1,000 subscriptions) to its plan card in the chat,
with the sandbox at 50 ms a request.

The bound is what the Partner Center reads alone take when nothing else does: the rounds that
must follow one another (find the customer by name and domain at once; read it; then its
subscriptions, reservations, software and orders at once; then the Azure entitlements of its
Azure plans, if any), each a page at a time, times the latency. The requests of each run are
counted from the sandbox's log, so a change that adds a call shows here.

Each run is followed by ``cancel`` (not timed), so that the next ``remove`` plans afresh.
"""

from __future__ import annotations

import statistics
import time

from bench.buttons import buttons

from .fanout import CUSTOMER, LATENCY_MS
from .profiling import Profiler
from .report import Figure, Report
from .stack import Stack, running_stack

__all__ = ("run",)

_TARGET_RATIO = 2.0


def sequential_rounds(log: list[dict]) -> int:
    """Rounds of reads that must wait for one another, from the requests that were made."""

    def pages(family: str) -> int:
        return max(1, sum(1 for entry in log if entry["path"].endswith(family)))

    lists = max(pages("/subscriptions"), pages("/orders"), sum("entitlementType=software" in e["query"] for e in log) or 1)
    azure = 1 if any("/azureEntitlements" in entry["path"] for entry in log) else 0
    return 1 + 1 + lists + azure  # search, read the customer, the lists, the Azure entitlements


def _is_plan(card: dict | None) -> bool:
    verbs = {button["verb"] for button in buttons(card).values()} if card else set()
    return "cancel_case" in verbs and "decide" not in verbs


async def time_to_plan(stack: Stack, run_number: int) -> tuple[float, list[dict], int]:
    chat = stack.chat(f"a:bench-plan-{run_number}")
    await stack.clear_sandbox_requests()
    sent_before = len(stack.connector.calls)
    started = time.monotonic()
    status, _, _ = await chat.say(f"remove {CUSTOMER}")
    if status != 201:
        raise RuntimeError(f"remove answered {status}")
    plan = next((call for call in stack.connector.calls[sent_before:] if _is_plan(call.card)), None)
    if plan is None:
        raise RuntimeError("no plan card was sent")
    log = await stack.sandbox_requests()
    await chat.say("cancel")
    return plan.at - started, log, len(str(plan.body))


async def run(report: Report, *, quick: bool, profiler: Profiler) -> None:
    runs = 3 if quick else 7
    async with running_stack(name="plan", latency_ms=LATENCY_MS) as stack:
        await time_to_plan(stack, 0)  # warm-up: first imports, first connections
        timings = []
        async with profiler.recording("plan", stack.bot.pid):
            for number in range(1, runs + 1):
                timings.append(await time_to_plan(stack, number))
    elapsed = statistics.median(seconds for seconds, _, _ in timings)
    _, log, _ = timings[0]
    rounds = sequential_rounds(log)
    bound = rounds * LATENCY_MS / 1000
    report.add(Figure(
        "plan.time_to_card", elapsed, "s", f"<= {_TARGET_RATIO:g} x bound", ok=elapsed <= _TARGET_RATIO * bound, baseline=bound,
        details={
            "runs": runs, "fastest_s": min(s for s, _, _ in timings), "slowest_s": max(s for s, _, _ in timings),
            "partner_center_requests": len(log), "sequential_rounds": rounds, "latency_ms": LATENCY_MS, "subscriptions": 1000,
        },
    ))  # fmt: skip
