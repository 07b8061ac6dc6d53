"""Carry out a case's approved actions against Partner Center, recording each outcome.

Runs in the background (an invoke must be answered within seconds; a thousand suspensions take
minutes at Partner Center's rate). After each item the case is saved, and ``on_progress`` is
called at most every ``progress_interval`` seconds (plus once at the end) so the status card is
updated in place without flooding Teams' per-conversation send limit.
"""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

from partner_center import PartnerCenterClient, PartnerCenterError, carry_out

from .case import CaseItem, CaseState, ItemError, Outcome, RemovalCase
from .store import CaseStore

__all__ = ("execute_approved",)

Progress = Callable[[RemovalCase], Awaitable[None]]


async def execute_approved(
    case: RemovalCase,
    *,
    client: PartnerCenterClient,
    store: CaseStore,
    on_progress: Progress,
    on_item: Callable[[CaseItem], Awaitable[None]] | None = None,
    concurrency: int = 8,
    progress_interval: float = 1.5,
) -> RemovalCase:
    """Run every approved, not yet done item; return the case with outcomes recorded.

    Items already ``DONE`` are not run again (a resumed case); the client itself skips writes
    that Partner Center shows as already done.
    """
    case.state = CaseState.EXECUTING
    await store.save(case)
    await on_progress(case)
    to_run = [i for i in case.approved if i.outcome is not Outcome.DONE]
    gate = asyncio.Semaphore(concurrency)
    last_report = time.monotonic()
    report_lock = asyncio.Lock()

    async def stopped() -> bool:
        # Someone cancelled the case meanwhile: keep that state, start nothing new.
        if await store.state_of(case.id) is CaseState.CANCELLED:
            case.state = CaseState.CANCELLED
        return case.state is CaseState.CANCELLED

    async def run(item: CaseItem) -> None:
        nonlocal last_report
        async with gate:
            if await stopped():
                return
            item.outcome = Outcome.RUNNING
            try:
                await carry_out(client, case.customer.id, item.to_blocker())
            except PartnerCenterError as error:
                item.outcome = Outcome.FAILED
                item.error = ItemError.from_error(error)
            else:
                item.outcome = Outcome.DONE
                item.error = None
        if on_item is not None:
            await on_item(item)
        async with report_lock:
            await stopped()
            await store.save(case)
            if time.monotonic() - last_report >= progress_interval:
                last_report = time.monotonic()
                await on_progress(case)

    await asyncio.gather(*(run(item) for item in to_run))
    await stopped()
    await store.save(case)
    await on_progress(case)
    return case
