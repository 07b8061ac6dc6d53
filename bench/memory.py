"""``memory``: the bot's resident memory idle, then with 1,000 open cases of 20 blockers each
and 100 more conversations in the middle of a dialog (a customer choice waiting for a click).

Cases are kept in the bot's memory (``OFFBOARD_STORAGE=memory``, the sandbox's default): the
worst case, since SQLite or Blob storage keep them out of the process. The client's pacing is
lifted (the sandbox does not throttle here): this bench is about memory, not Partner Center's rate. Bytes per open case is
(with − idle) ÷ cases, so it also carries the 100 waiting dialogs.
"""

from __future__ import annotations

import asyncio
import time

import psutil

from .profiling import Profiler
from .report import Figure, Report
from .stack import Stack, bench_customer, running_stack

__all__ = ("run",)

_PREFIX = "Bench Memory"
_BLOCKERS = 20
_WAITING_DIALOGS = 100
TARGET_BYTES_PER_CASE = 50_000


def _rss(stack: Stack) -> int:
    return psutil.Process(stack.bot.pid).memory_info().rss


async def _open_cases(stack: Stack, count: int) -> None:
    async def remove(number: int) -> None:
        status, _, _ = await stack.chat(f"a:bench-memory-{number:04d}").say(f"remove {_PREFIX} {number:04d}")
        if status != 201:
            raise RuntimeError(f"remove answered {status}")

    for start in range(0, count, 20):
        await asyncio.gather(*(remove(n) for n in range(start, min(count, start + 20))))


async def _wait_mid_dialog(stack: Stack, count: int) -> None:
    # "remove Bench Memory" matches many customers: the bot asks which one and waits.
    await asyncio.gather(*(stack.chat(f"a:bench-dialog-{n:04d}").say(f"remove {_PREFIX}") for n in range(count)))


async def run(report: Report, *, quick: bool, profiler: Profiler) -> None:
    cases = 300 if quick else 1000
    customers = [bench_customer(_PREFIX, n, subscriptions=_BLOCKERS) for n in range(cases)]
    async with running_stack(
        name="memory", seed_customers=customers, bot_env={"OFFBOARD_STORAGE": "memory", "OFFBOARD_REQUESTS_PER_MINUTE": "100000"}
    ) as stack:
        await stack.chat("a:bench-memory-warmup").say("help")
        await _open_cases(stack, 5)  # warm-up: first plan, first case, first cards
        idle, cpu_before, started = _rss(stack), stack.cpu_seconds(), time.perf_counter()
        await _open_cases(stack, cases)
        await _wait_mid_dialog(stack, _WAITING_DIALOGS)
        loaded, cpu_after, elapsed = _rss(stack), stack.cpu_seconds(), time.perf_counter() - started
        choices = sum(1 for call in stack.connector.sent if call.conversation_id.startswith("a:bench-dialog-") and call.card)
    per_case = (loaded - idle) / cases
    report.add(Figure(
        "memory.per_open_case", per_case, "bytes", f"<= {TARGET_BYTES_PER_CASE}", ok=per_case <= TARGET_BYTES_PER_CASE and choices >= _WAITING_DIALOGS,
        details={
            "idle_rss_mib": idle / 2**20, "loaded_rss_mib": loaded / 2**20, "open_cases": cases, "blockers_per_case": _BLOCKERS,
            "conversations_mid_dialog": _WAITING_DIALOGS, "choice_cards_sent": choices, "storage": "memory",
            "seconds_to_open": elapsed, **{f"{name}_cpu_s": cpu_after[name] - cpu_before[name] for name in cpu_after},
        },
    ))  # fmt: skip
