"""Carry out a case's approved actions against Partner Center, recording each outcome.

Runs in the background (an invoke must be answered within seconds; a thousand suspensions take
minutes at Partner Center's rate), under the case's lease. After each Partner Center write the
outcome is journaled (:meth:`CaseStore.record_outcome`), so a crash loses nothing: a resumed
case skips what is done, and the client re-reads every item before writing it, so an item whose
write was in flight when the process died is recognised as done, not written twice.

Two kinds of failure are told apart once the client's retries are spent: Partner Center refusing
one item (a 4xx: that item is failed, with Partner Center's words, and the others go on) and
Partner Center not answering at all (no connection, 5xx, 429: :func:`is_unavailable`). The
second is nobody's item's fault: the item goes back to "not started", nothing new is started,
and :attr:`Execution.unavailable` tells the workflow to pause the case until Partner Center is
back. An item cut short :data:`~removal.case.MAX_INTERRUPTIONS` times is failed instead, with a
reason that says so, so that one item Partner Center always fails on cannot hold a case for ever.

Only what a person approved is carried out: each Partner Center call is built from the action
and targets recorded with the approval (:meth:`CaseItem.approved_work`), never from what the
item says now. An approved item whose action or targets are not what was approved (a case
stored before approvals recorded what they approved, say) is not touched: it stays as it was,
a warning is logged, and the re-check that follows every execution asks about it again.

Before each item's first write the executor checks that it may still write: Partner Center
answers, the lease is held, and the case is still executing *as the case document says*
(:meth:`CaseStore.state_of`: its ETag, and the document only when it changed). A cancel stored
on any instance before that check stops the item, whatever order the storage wrote things in;
a write already under way when the cancel lands is finished and journaled, like any other.

The items run phase by phase (:func:`~partner_center.teardown.teardown_phase`): the Partner
Center blockers and the clean-ups in the customer's tenant (guests, contacts, apps: done through
GDAP, so while it stands), then DAP, then GDAP. The items of one phase are one task group: when
one fails hard (a bug in carrying it out, the journal or the audit hooks raising, a storage
error), the others stop before writing and the exception is raised only once none of them is
running, so nothing writes after the caller has released the lease. Once the run stopped
(Partner Center or Graph not answering, the lease lost, the case moved on), no later phase
starts. A teardown item is carried out by :meth:`Teardown.carry_out
<partner_center.teardown.Teardown.carry_out>`, whose account of what it removed is handed to
``on_item`` for the audit.

The same run serves the removal's own state: the workflow carries out the teardown items once
the relationship is removed (``running_in=REMOVING``); the stop check then compares the stored
state with that one, and an approved REMOVE_DAP sends nothing: the removal ended DAP
(:data:`~partner_center.teardown.DAP_ENDED_BY_REMOVAL`, the item's audit detail).

A run that stopped because a service was not answering says which (:attr:`Execution.service`:
Microsoft Graph for the tenant clean-ups and GDAP, Partner Center otherwise), so that the paused
case resumes once that one answers.

Every ``progress_interval`` seconds (and at the end) the journal is folded into the case and
``on_progress`` shows it: the status card is updated in place without flooding Teams'
per-conversation send limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from partner_center import Blocker, PartnerCenterClient, PartnerCenterError, carry_out, is_unavailable
from partner_center.actions import AzureCancellationPending
from partner_center.teardown import Service, Teardown, service_of, teardown_phase

from .case import MAX_INTERRUPTIONS, CaseItem, CaseState, ErrorReason, ItemError, Outcome, Proposal, RemovalCase
from .lease import Lease
from .store import CaseStore

__all__ = ("Execution", "execute_approved")

_log = logging.getLogger(__name__)

Progress = Callable[[RemovalCase], Awaitable[None]]
# After an item's outcome is journaled: the case, the item, and what carrying it out reported it
# removed (a teardown item's account, for the audit; "" otherwise).
ItemHook = Callable[[RemovalCase, CaseItem, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Execution:
    """What a run of :func:`execute_approved` left.

    Attributes:
        case: the case as stored afterwards.
        unavailable: the error that showed Partner Center (or Graph) was not answering (the run
            stopped starting items; the case should pause), or None.
        service: the service that was not answering (what the paused case waits for).
    """

    case: RemovalCase
    unavailable: PartnerCenterError | None = None
    service: Service = Service.PARTNER_CENTER


async def execute_approved(
    case_id: str,
    *,
    client: PartnerCenterClient,
    store: CaseStore,
    lease: Lease,
    on_progress: Progress,
    on_item: ItemHook | None = None,
    before_item: Callable[[RemovalCase, CaseItem], Awaitable[None]] | None = None,
    concurrency: int = 8,
    progress_interval: float = 1.5,
    teardown: Teardown | None = None,
    running_in: CaseState = CaseState.EXECUTING,
    selects: Callable[[CaseItem], bool] | None = None,
) -> Execution:
    """Run every approved, not yet done item of a case in ``running_in`` (those ``selects``
    selects), phase by phase.

    ``teardown`` carries out the teardown items (None: they are not run). ``before_item`` is
    awaited after the stop check and just before the item's first write (the audit's intent
    record), ``on_item`` after its outcome is journaled, with what a teardown item reported it
    removed. If either, the journal or anything unexpected raises, the other items stop (those
    waiting never start, those under way are cancelled, as a crash would cut them short) and
    that exception is raised once all of them have stopped: nothing is still writing when the
    caller releases the lease. A failing ``on_progress`` (Teams refusing a card update) is
    logged and stops nothing.
    """
    case = await store.get(case_id)
    if case is None or case.state is not running_in:
        raise ValueError(f"case {case_id} is not {running_in.value}")
    await _show(on_progress, case)
    phases = _by_phase(_runnable(case, selects=selects, tears_down=teardown is not None))
    gate = asyncio.Semaphore(concurrency)
    last_report = time.monotonic()
    report_lock = asyncio.Lock()
    unavailable: list[tuple[PartnerCenterError, Service]] = []
    # After the removal (the workflow's teardown in REMOVING), DAP went with the relationship.
    relationship_removed = running_in is CaseState.REMOVING and case.removed_at is not None

    async def stopped() -> bool:
        # Partner Center (or Graph) is not answering, this instance lost the lease, or someone
        # (on any instance) moved the case on: start nothing new. The state comes from the case
        # document itself, so a cancel stored before this check is seen by it.
        return bool(unavailable) or lease.lost or await store.state_of(case_id) is not running_in

    async def carried_out(item: CaseItem, work: Blocker) -> str:
        """Carry out one item; what it removed, for the audit ("" for a Partner Center blocker)."""
        if item.kind.is_teardown:
            assert teardown is not None  # (_runnable leaves teardown items out without one)
            return await teardown.carry_out(case.customer.id, work, relationship_removed=relationship_removed)
        await carry_out(client, case.customer.id, work)
        return ""

    async def run(item: CaseItem, work: Blocker) -> None:
        nonlocal last_report
        removed = ""
        async with gate:
            if await stopped():
                return
            if before_item is not None:  # e.g. the audit's intent record: written before the change, never after
                await before_item(case, item)
                if await stopped():  # the intent took a while (a cancel, a lost lease meanwhile)
                    await store.record_outcome(case_id, item.key, Outcome.NOT_STARTED, None)
                    if on_item is not None:
                        await on_item(case, item, "")  # closes the intent: not started
                    return
            item.outcome = Outcome.RUNNING
            try:
                removed = await carried_out(item, work)
            except AzureCancellationPending as waiting:
                # Not a failure: the Azure subscriptions' cancels were sent and take about ten
                # minutes to show; the item stays approved and not started, the case waits, and
                # the workflow's re-check runs it again once none reads active (partner_center.actions).
                item.outcome = Outcome.NOT_STARTED
                item.error = ItemError(
                    description=waiting.description, reason=ErrorReason.AZURE_CANCELLING, correlation_id=waiting.correlation_id
                )
            except PartnerCenterError as error:
                if is_unavailable(error) and item.interruptions + 1 < MAX_INTERRUPTIONS:
                    unavailable.append((error, service_of(work.action) if item.kind.is_teardown else Service.PARTNER_CENTER))
                    item.outcome, item.error = Outcome.NOT_STARTED, None
                    await store.record_interruption(case_id, item.key)
                    return
                item.outcome, item.error = Outcome.FAILED, _item_error(error)
            except Exception as error:
                # A bug: fail this item where people see it, then stop the run (the task group
                # stops the other items before they write).
                _log.exception("carrying out %s of case %s failed: stopping the other items", item.key, case_id)
                item.outcome, item.error = Outcome.FAILED, ItemError(description=f"Unexpected error: {type(error).__name__}")
                await store.record_outcome(case_id, item.key, item.outcome, item.error)
                raise
            else:
                item.outcome, item.error = Outcome.DONE, None
            await store.record_outcome(case_id, item.key, item.outcome, item.error)
        if on_item is not None:
            await on_item(case, item, removed)
        if time.monotonic() - last_report >= progress_interval and not report_lock.locked():
            async with report_lock:
                last_report = time.monotonic()
                await _show(on_progress, await _folded(store, case_id))

    for index, phase in enumerate(phases):
        if index and await stopped():
            break  # a later phase removes what an earlier one may still need (GDAP, for the tenant clean-ups)
        await _all_or_none(run(item, work) for item, work in phase)
    if unavailable:
        error, service = unavailable[0]
        return Execution(await _folded(store, case_id), error, service)
    return Execution(await _folded(store, case_id))


def _runnable(case: RemovalCase, *, selects: Callable[[CaseItem], bool] | None, tears_down: bool) -> list[tuple[CaseItem, Blocker]]:
    """The approved items not done yet (those ``selects`` selects), each with the work its
    approval covers; teardown items only when there is something to carry them out."""
    to_run: list[tuple[CaseItem, Blocker]] = []
    for item in case.approved:
        if item.outcome is Outcome.DONE or (selects is not None and not selects(item)):
            continue
        if item.kind.is_teardown and not tears_down:
            _log.warning("case %s: %s not carried out: nothing to remove the partner's access with", case.id, item.key)
            continue
        work = item.approved_work()
        if work is None:
            _log.warning(
                "case %s: %s not carried out: approved %s, but the bot now proposes %s (it will be asked about again)",
                case.id,
                item.key,
                _described(item.decided_on),
                _described(item.proposal),
            )
            continue
        to_run.append((item, work))
    return to_run


def _by_phase(to_run: list[tuple[CaseItem, Blocker]]) -> list[list[tuple[CaseItem, Blocker]]]:
    """The items grouped by phase, earliest first (each group in the case's order)."""
    phases: dict[int, list[tuple[CaseItem, Blocker]]] = {}
    for item, work in to_run:
        phases.setdefault(teardown_phase(item.kind), []).append((item, work))
    return [phases[phase] for phase in sorted(phases)]


async def _all_or_none(runs: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run the items as one task group: the first to raise cancels the others, and its exception
    (not an ExceptionGroup: callers catch what they know) is raised once every item has stopped.
    A sibling cancelled inside its Partner Center call leaves an intent with no outcome (audit
    export names it); the client reads before it writes, so the resumed case does not repeat it."""
    try:
        async with asyncio.TaskGroup() as group:
            for one in runs:
                group.create_task(one)
    except ExceptionGroup as failed:
        first, *others = failed.exceptions
        for other in others:
            _log.error("another item failed in the same run", exc_info=other)
        raise first from None


async def _show(on_progress: Progress, case: RemovalCase) -> None:
    """Show progress; a message that cannot be delivered never stops the work."""
    try:
        await on_progress(case)
    except Exception:  # noqa: BLE001
        _log.warning("could not show the progress of case %s", case.id, exc_info=True)


def _described(proposal: Proposal | None) -> str:
    if proposal is None:
        return "(not recorded)"
    targets = "; ".join(f"{name}: {', '.join(map(str, value))}" for name, value in proposal if name != "action" and value)
    return f"{proposal.action.value} ({targets})" if targets else proposal.action.value


def _item_error(error: PartnerCenterError) -> ItemError:
    failed = ItemError.from_error(error)
    if is_unavailable(error):  # the last of MAX_INTERRUPTIONS runs: say why the bot gave up
        failed.reason = ErrorReason.UNAVAILABLE_REPEATEDLY
    return failed


async def _folded(store: CaseStore, case_id: str) -> RemovalCase:
    """The case with the journal folded into its document (one ETag-checked write)."""
    case, _ = await store.update(case_id, lambda case: None)
    return case
