"""``cards``: the largest message the bot sends while removing the customer with 1,000
subscriptions (Tailspin Toys), start to finish: the plan and its pages, the questions, "approve
all", the status card updated as items are done, the final confirmation, the result, the
notifications. Every send, update and invoke answer is measured as the JSON Teams receives.
"""

from __future__ import annotations

import asyncio
import json

from bench.buttons import button_data, buttons

from .fanout import CUSTOMER, open_removal
from .profiling import Profiler
from .report import Figure, Report
from .stack import running_stack

__all__ = ("run",)

LIMIT_BYTES = 80_000
# How an English card says a price (the catalog's "money.price.*": "Price: {total} a month ..."):
# the bench's answers are English.
_PRICE_SHOWN = "Price: "


def _size(body: object) -> int:
    return len(json.dumps(body, ensure_ascii=False).encode("utf-8"))


async def run(report: Report, *, quick: bool, profiler: Profiler) -> None:
    async with running_stack(name="cards", bot_env={"OFFBOARD_REQUESTS_PER_MINUTE": "100000"}) as stack:
        answers: list[object] = []
        card_id, card = await open_removal(stack, CUSTOMER)
        chat = stack.chat("a:bench-fanout")
        plan_id, plan = next((c.activity_id, c.card) for c in stack.connector.sent if c.card and "plan_page" in str(c.card))
        for page in (1, 25, 49):  # the plan's pages: first, middle, last
            _, body, _ = await chat.post(chat.click(plan_id, "plan_page", {**button_data(plan, "plan_page"), "page": page}))
            answers.append(body)
        _, body, _ = await chat.post(chat.click(card_id, "approve_all", button_data(card, "approve_all")))
        answers.append(body)
        for _ in range(600):  # until the final confirmation is posted (at most a minute)
            final = next(
                (c for c in stack.connector.sent if c.card and "confirm_removal" in {b["verb"] for b in buttons(c.card).values()}), None
            )
            if final is not None:
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError("no final confirmation within a minute")
        assert final.card is not None  # found by its button above
        _, body, _ = await chat.post(chat.click(final.activity_id, "confirm_removal", button_data(final.card, "confirm_removal")))
        answers.append(body)
        await asyncio.sleep(2)  # the result card and notifications
        messages = [call.body for call in stack.connector.calls] + [a for a in answers if a]
    sizes = sorted((_size(body) for body in messages), reverse=True)
    # The figure counts only with money on the cards (issue 21): the plan's pages must show prices.
    priced = sum(1 for body in messages if _PRICE_SHOWN in json.dumps(body, ensure_ascii=False))
    report.add(Figure(
        "cards.largest_message", sizes[0], "bytes", f"<= {LIMIT_BYTES}, money shown", ok=sizes[0] <= LIMIT_BYTES and priced > 0,
        details={
            "messages": len(sizes), "second_largest": sizes[1] if len(sizes) > 1 else 0, "median": sizes[len(sizes) // 2],
            "messages_with_prices": priced,
        },
    ))  # fmt: skip
