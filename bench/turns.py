"""``turns``: Teams-shaped traffic from many conversations at once, against Offboard and against
the echo bot (the baseline) on the same adapter, in the same run; and, for comparison, against
the echo bot on botbuilder's adapter as shipped.

Each conversation first opens a removal (``remove Bench Turns 0007``: a plan and the first
question card; not timed). Then every conversation, all at once, sends its share of the load one
activity after the other, as a person would: a message (``status`` or ``help``, alternately),
then a click deciding the item on the question card (the answer is the next question), and so
on. Each customer has more items than a conversation clicks, so no removal starts executing:
the bench measures turns, not Partner Center.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from bench.buttons import button_data, buttons

from .profiling import Profiler
from .report import Figure, Report
from .stack import Chat, Stack, bench_customer, running_stack

__all__ = ("run",)

_PREFIX = "Bench Turns"
_PER_CONVERSATION = 20
_ITEMS = _PER_CONVERSATION // 2 + 2  # more items than clicks: the case never starts executing
# Offboard's turns per second against the echo bot's on the same adapter: at least half (issue 18;
# the echo bot does no work at all, Offboard reads and writes a case and draws a card per turn).
_THROUGHPUT_RATIO = 0.5


@dataclass
class Timings:
    messages: list[float] = field(default_factory=list)
    invokes: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    cpu_seconds: float = 0.0  # the bot process's, user + system, during the load

    @property
    def all(self) -> list[float]:
        return self.messages + self.invokes

    @property
    def throughput(self) -> float:
        return len(self.all) / self.elapsed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _open_removal(chat: Chat, number: int) -> tuple[str, dict[str, Any]]:
    """``remove`` the conversation's own customer; the question card's id and content."""
    status, _, _ = await chat.say(f"remove {_PREFIX} {number:04d}")
    if status != 201:
        raise RuntimeError(f"remove answered {status} in {chat.conversation}")
    for call in reversed(chat.stack.connector.sent):
        if call.conversation_id == chat.conversation and call.card and "decide" in {b["verb"] for b in buttons(call.card).values()}:
            return call.activity_id, call.card
    raise RuntimeError(f"no question card in {chat.conversation}")


async def _converse(chat: Chat, card_id: str, card: dict[str, Any], timings: Timings, *, echo: bool) -> None:
    for step in range(_PER_CONVERSATION):
        if step % 2 == 0:
            status, _, seconds = await chat.say("status" if step % 4 == 0 else "help")
            timings.messages.append(seconds)
            if status not in (200, 201):
                timings.failures.append(f"message {status}")
            continue
        data = {"caseId": "echo", "item": str(step), "decision": "approve"} if echo else button_data(card, "decide", decision="approve")
        status, body, seconds = await chat.post(chat.click(card_id, "decide", data))
        timings.invokes.append(seconds)
        if status != 200 or not isinstance(body, dict) or "value" not in body:
            timings.failures.append(f"invoke {status}")
            continue
        if not echo:
            card = body["value"]
            if "decide" not in {b["verb"] for b in buttons(card).values()}:
                timings.failures.append("the answer to a decision is not the next question")
                return


async def _load(stack: Stack, conversations: int, *, echo: bool, profiler: Profiler) -> Timings:
    chats = [stack.chat(f"a:bench-turns-{n:04d}", user=f"user{n:04d}") for n in range(conversations)]
    if echo:
        opened: list[tuple[str, dict[str, Any]]] = [("echo-card", {}) for _ in chats]
    else:
        # Opening removals is set-up, not load: ten at a time, so that it does not take long.
        opened = []
        for start in range(0, conversations, 10):
            opened += await asyncio.gather(*(_open_removal(chat, n) for n, chat in enumerate(chats[start : start + 10], start)))
    timings = Timings()
    bot = psutil.Process(stack.bot.pid)
    async with profiler.recording("turns-echo" if echo else "turns", stack.bot.pid):
        cpu_before, started = bot.cpu_times(), time.perf_counter()
        await asyncio.gather(
            *(_converse(chat, card_id, card, timings, echo=echo) for chat, (card_id, card) in zip(chats, opened, strict=False))
        )
        timings.elapsed, cpu_after = time.perf_counter() - started, bot.cpu_times()
    timings.cpu_seconds = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    return timings


async def measure(conversations: int, *, bot: str, profiler: Profiler) -> Timings:
    customers = [bench_customer(_PREFIX, n, subscriptions=_ITEMS) for n in range(conversations)] if bot == "offboard" else []
    async with running_stack(name=f"turns-{bot}", seed_customers=customers, bot=bot) as stack:
        return await _load(stack, conversations, echo=bot != "offboard", profiler=profiler)


async def run(report: Report, *, quick: bool, profiler: Profiler) -> None:
    total = 500 if quick else 2000
    conversations = total // _PER_CONVERSATION
    echo = await measure(conversations, bot="echo", profiler=profiler)
    offboard = await measure(conversations, bot="offboard", profiler=profiler)
    stock_echo = await measure(conversations, bot="stock-echo", profiler=profiler)
    details = {
        "activities": total,
        "conversations": conversations,
        "failures": len(offboard.failures),
        "echo_failures": len(echo.failures),
        "p50_ms": percentile(offboard.all, 0.5) * 1000,
        "p99_ms": percentile(offboard.all, 0.99) * 1000,
        "echo_p50_ms": percentile(echo.all, 0.5) * 1000,
        "echo_p99_ms": percentile(echo.all, 0.99) * 1000,
        "message_p50_ms": percentile(offboard.messages, 0.5) * 1000,
        "invoke_p50_ms": percentile(offboard.invokes, 0.5) * 1000,
        "invoke_mean_ms": statistics.fmean(offboard.invokes) * 1000,
        "cpu_ms_per_turn": offboard.cpu_seconds / len(offboard.all) * 1000,
        "echo_cpu_ms_per_turn": echo.cpu_seconds / len(echo.all) * 1000,
        # The same echo bot on botbuilder's CloudAdapter as shipped (bot/adapter.py's remedies off).
        "stock_echo_turns_per_s": stock_echo.throughput,
        "stock_echo_invoke_p99_ms": percentile(stock_echo.invokes, 0.99) * 1000,
        "ratio_to_stock_echo": offboard.throughput / stock_echo.throughput,
    }
    no_failures = not offboard.failures and not echo.failures
    throughput = Figure(
        "turns.throughput", offboard.throughput, "turns/s", f">= {_THROUGHPUT_RATIO} x echo bot",
        ok=no_failures and offboard.throughput >= _THROUGHPUT_RATIO * echo.throughput, baseline=echo.throughput, details=details,
    )  # fmt: skip
    report.add(throughput)
    invoke_p99, echo_invoke_p99 = percentile(offboard.invokes, 0.99) * 1000, percentile(echo.invokes, 0.99) * 1000
    report.add(Figure(
        "turns.invoke_p99", invoke_p99, "ms", "<= 3 x echo bot's p99",
        ok=no_failures and invoke_p99 <= 3 * echo_invoke_p99, baseline=echo_invoke_p99,
    ))  # fmt: skip
