"""``fanout``: "approve all remaining" on the customer with 1,000 subscriptions (Tailspin Toys:
900 legacy to suspend, 100 new-commerce to cancel inside their window), against the sandbox at
50 ms a request and 6,000 requests a minute per resource family.

Elapsed is from the click to the case leaving "executing" (every item carried out and
Partner Center read afresh), as stored in the bot's SQLite file. The bound is what no client
could beat: the larger of requests ÷ rate and requests × latency ÷ requests in flight.

The serial baseline does the same work the way the PowerShell cmdlet does, one request after
the other, on a copy of the customer (with ``--quick``, on its first 100 items, scaled up).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.buttons import button_data, buttons
from partner_center import PartnerCenterConfig, PartnerLimits, RateSettings, carry_out, connect, plan_removal
from removal import CaseState, Outcome, RemovalCase
from removal.executor import execute_approved
from removal.store import CaseStore
from storage import SqliteStore

from .profiling import Profiler
from .report import Figure, Report
from .stack import Stack, running_stack

__all__ = ("run",)

LATENCY_MS = 50
RATE_PER_MINUTE = 6000
CUSTOMER = "Tailspin Toys"
SERIAL_COPY = "Tailspin Toys (serial copy)"
# Items carried out at once by the executor; each item's requests go one after the other.
IN_FLIGHT = inspect.signature(execute_approved).parameters["concurrency"].default


def tailspin_copy() -> dict[str, object]:
    return {
        "id": "3d4e5f6a-7b8c-4d9e-8f1a-2b3c4d5e6f99",
        "companyName": SERIAL_COPY,
        "domain": "tailspincopy.onmicrosoft.com",
        "generate": {"legacyActive": 900, "nceInsideWindow": 100, "legacyOffers": ["O365_E1", "O365_E3"], "nceOffers": ["M365_BB_NCE"]},
    }


async def open_removal(stack: Stack, customer: str) -> tuple[str, dict]:
    """``remove <customer>`` in a fresh chat; the id and content of the card with "approve all"."""
    chat = stack.chat("a:bench-fanout")
    status, _, _ = await chat.say(f"remove {customer}")
    if status != 201:
        raise RuntimeError(f"remove answered {status}")
    for call in reversed(stack.connector.sent):
        if call.card and "approve_all" in {b["verb"] for b in buttons(call.card).values()}:
            return call.activity_id, call.card
    raise RuntimeError("no card with approve all")


async def stored_case(path: Path) -> RemovalCase | None:
    store = SqliteStore(path)
    try:
        cases = await CaseStore(store).open_cases()
        return cases[0] if cases else None
    finally:
        await store.close()


async def approve_all(stack: Stack, profiler: Profiler) -> tuple[float, list[dict], RemovalCase, dict[str, float]]:
    card_id, card = await open_removal(stack, CUSTOMER)
    await stack.clear_sandbox_requests()
    chat = stack.chat("a:bench-fanout")
    database = stack.folder / "offboard.db"
    async with profiler.recording("fanout", stack.bot.pid):
        cpu_before, started = stack.cpu_seconds(), time.perf_counter()
        status, _, _ = await chat.post(chat.click(card_id, "approve_all", button_data(card, "approve_all")))
        if status != 200:
            raise RuntimeError(f"approve all answered {status}")
        while True:
            case = await stored_case(database)
            if case is not None and case.state is not CaseState.EXECUTING:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    cpu = {f"{name}_cpu_s": used - cpu_before[name] for name, used in stack.cpu_seconds().items()}
    return elapsed, await stack.sandbox_requests(), case, cpu


async def serial(stack: Stack, *, items: int | None) -> tuple[float, int, int]:
    """Seconds, requests and items for the serial way, on the copy of the customer."""
    config = PartnerCenterConfig.sandbox(stack.sandbox_url)
    client = connect(config, session=stack.http, limits=PartnerLimits(RateSettings(RATE_PER_MINUTE, 60, max_concurrency=1)))
    [customer] = await client.find_customers("CompanyName", SERIAL_COPY)
    if customer.id is None:
        raise RuntimeError(f"{SERIAL_COPY} has no id in the sandbox")
    plan = await plan_removal(client, customer, now=datetime.now(UTC))
    actionable = plan.actionable[:items] if items else plan.actionable
    await stack.clear_sandbox_requests()
    started = time.perf_counter()
    for blocker in actionable:
        await carry_out(client, customer.id, blocker)
    return time.perf_counter() - started, len(await stack.sandbox_requests()), len(actionable)


async def run(report: Report, *, quick: bool, profiler: Profiler) -> None:
    env = {"OFFBOARD_REQUESTS_PER_MINUTE": str(RATE_PER_MINUTE)}
    async with running_stack(
        name="fanout", seed_customers=[tailspin_copy()], latency_ms=LATENCY_MS, rate_per_minute=RATE_PER_MINUTE, bot_env=env
    ) as stack:
        elapsed, log, case, cpu = await approve_all(stack, profiler)
        serial_seconds, serial_requests, serial_items = await serial(stack, items=20 if quick else None)
    items = len(case.items)
    failed = sum(item.outcome is Outcome.FAILED for item in case.items)
    done = sum(item.outcome is Outcome.DONE for item in case.items)
    requests = len(log)
    throttled = sum(entry["status"] == 429 for entry in log)
    bound = max(requests / (RATE_PER_MINUTE / 60), requests * (LATENCY_MS / 1000) / IN_FLIGHT)
    serial_all = serial_seconds * items / serial_items  # scaled up when --quick ran part of it
    report.add(Figure(
        "fanout.elapsed", elapsed, "s", "<= 1.15 x bound, 0 failed items",
        ok=elapsed <= 1.15 * bound and failed == 0 and done == items and case.state is CaseState.READY,
        baseline=bound,
        details={
            "items": items, "done": done, "failed": failed, "state": case.state.value, "requests": requests,
            "answered_429": throttled, "answered_5xx": sum(entry["status"] >= 500 for entry in log),
            "latency_ms": LATENCY_MS, "rate_per_minute": RATE_PER_MINUTE, "items_in_flight": IN_FLIGHT, **cpu,
        },
    ))  # fmt: skip
    report.add(Figure(
        "fanout.serial_ratio", serial_all / elapsed, "x faster than serial", "informative",
        ok=True,
        details={
            "serial_s": serial_all, "serial_items_measured": serial_items, "serial_requests_measured": serial_requests,
            "serial_scaled_up": serial_items != items,
        },
    ))  # fmt: skip
