"""Carry out a case's approved actions against Partner Center, recording each outcome.

Runs in the background (an invoke must be answered within seconds; a thousand suspensions take
minutes at Partner Center's rate), under the case's lease. After each Partner Center write the
outcome is journaled (:meth:`CaseStore.record_outcome`), so a crash loses nothing: a resumed
case skips what is done, and the client re-reads every item before writing it, so an item whose
write was in flight when the process died is recognised as done, not written twice.

Every ``progress_interval`` seconds (and at the end) the journal is folded into the case and
``on_progress`` shows it: the status card is updated in place without flooding Teams'
per-conversation send limit.
"""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

from partner_center import PartnerCenterClient, PartnerCenterError, carry_out

from .case import CaseItem, CaseState, ItemError, Outcome, RemovalCase
from .lease import Lease
from .store import CaseStore

__all__ = ("execute_approved",)

Progress = Callable[[RemovalCase], Awaitable[None]]


async def execute_approved(
    case_id: str,
    *,
    client: PartnerCenterClient,
    store: CaseStore,
    lease: Lease,
    on_progress: Progress,
    on_item: Callable[[RemovalCase, CaseItem], Awaitable[None]] | None = None,
    concurrency: int = 8,
    progress_interval: float = 1.5,
) -> RemovalCase:
    """Run every approved, not yet done item of an executing case; return the case as stored."""
    case = await store.get(case_id)
    if case is None or case.state is not CaseState.EXECUTING:
        raise ValueError(f"case {case_id} is not executing")
    await on_progress(case)
    to_run = [i for i in case.approved if i.outcome is not Outcome.DONE]
    gate = asyncio.Semaphore(concurrency)
    last_report = time.monotonic()
    report_lock = asyncio.Lock()

    async def stopped() -> bool:
        # Cancelled by someone (any instance), or this instance lost the lease: start nothing new.
        return lease.lost or await store.state_of(case_id) is not CaseState.EXECUTING

    async def run(item: CaseItem) -> None:
        nonlocal last_report
        async with gate:
            if await stopped():
                return
            item.outcome = Outcome.RUNNING
            try:
                await carry_out(client, case.customer.id, item.to_blocker())
            except PartnerCenterError as error:
                item.outcome, item.error = Outcome.FAILED, ItemError.from_error(error)
            else:
                item.outcome, item.error = Outcome.DONE, None
            await store.record_outcome(case_id, item.key, item.outcome, item.error)
        if on_item is not None:
            await on_item(case, item)
        if time.monotonic() - last_report >= progress_interval and not report_lock.locked():
            async with report_lock:
                last_report = time.monotonic()
                await on_progress(await _folded(store, case_id))

    await asyncio.gather(*(run(item) for item in to_run))
    return await _folded(store, case_id)


async def _folded(store: CaseStore, case_id: str) -> RemovalCase:
    """The case with the journal folded into its document (one ETag-checked write)."""
    case, _ = await store.update(case_id, lambda case: None)
    return case
