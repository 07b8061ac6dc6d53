"""What a click on a case's card does to the case: one ETag-checked change, whoever clicks where.

Clicks are handled from the stored case alone, not from a conversation's dialog state, so that a
click reaching any bot instance, in any conversation, twice (a double click, a Teams retry) or
late (an old card) does the same thing: the first one changes the case, the others find it
changed and get the case's current card. Only the click whose change was written starts the
background work (execution or removal), so a duplicate can never write to Partner Center twice.

No botbuilder here: the Teams edge parses the click, checks who may make it, shows the card of
the returned case (and notes which message shows it), then calls :meth:`CaseDecisions.begin` for
work the click started. The edge may hand over the case it read for its access check (``read``),
so a click reads the case once; the write is still checked against that read's ETag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from .audit import AuditEvent, AuditTrail, actor_of, item_of
from .case import (
    CaseItem,
    CaseState,
    Decision,
    Person,
    RemovalCase,
    TeardownTiming,
    TransferDecision,
    TransferOutcome,
)
from .notifications import CaseNotifications
from .store import CaseStore, StoredCase, Unchanged
from .transfers import transfer_audit
from .workflow import RemovalWorkflow

__all__ = ("Applied", "CaseDecisions", "Effect")


class Effect(StrEnum):
    CHANGED = "changed"  # recorded; nothing to start
    STARTS_EXECUTION = "starts_execution"  # the last decision: carry out the approved actions
    STARTS_REMOVAL = "starts_removal"  # the final confirmation
    STARTS_TRANSFER = "starts_transfer"  # a transfer request accepted or rejected: send it
    ALREADY = "already"  # a duplicate: the case already shows this click's effect
    NOT_NOW = "not_now"  # the case has moved on (or the item is not one to decide)
    NO_CASE = "no_case"  # no such case (forged or from another store)


@dataclass(frozen=True, slots=True)
class Applied:
    case: RemovalCase | None
    effect: Effect
    # The transfer request a transfer decision was about ("" for any other click).
    transfer_id: str = ""
    # The clicked card showed the transfer's line items otherwise than they now read.
    stale: bool = False

    @property
    def starts_work(self) -> bool:
        return self.effect in (Effect.STARTS_EXECUTION, Effect.STARTS_REMOVAL, Effect.STARTS_TRANSFER)


class CaseDecisions:
    def __init__(
        self,
        *,
        store: CaseStore,
        workflow: RemovalWorkflow,
        audit: AuditTrail,
        clock: Callable[[], datetime],
        notifications: CaseNotifications | None = None,
    ) -> None:
        self._store = store
        self._workflow = workflow
        self._audit = audit
        self._clock = clock
        self._notifications = notifications

    async def decide(
        self,
        case_id: str,
        item_key: str,
        decision: Decision,
        *,
        by: Person,
        proposal: str = "",
        may_approve: Callable[[RemovalCase, CaseItem], bool] | None = None,
        read: StoredCase | None = None,
    ) -> Applied:
        """``proposal``: the fingerprint of what the clicked card showed (a card drawn before a
        re-check changed the item decides nothing); ``may_approve``: checked on the case as it is
        written (four-eyes), so that a change in between cannot slip an approval through;
        ``read``: the case as the caller already read it (see :meth:`_apply`)."""
        now = self._clock()

        def change(case: RemovalCase) -> Effect:
            item = case.item(item_key)
            if case.state is not CaseState.AWAITING_APPROVAL or item is None or not item.needs_decision:
                raise Unchanged(Effect.ALREADY if item is not None and item.decision is decision else Effect.NOT_NOW)
            if item.decision is not Decision.PENDING:
                raise Unchanged(Effect.ALREADY)
            if proposal and proposal != item.proposal.fingerprint:
                raise Unchanged(Effect.NOT_NOW)  # the card is older than what the item now proposes
            if decision is Decision.APPROVED and item_key in case.moving_keys:
                raise Unchanged(Effect.NOT_NOW)  # an accepted transfer is moving it to the other partner
            if decision is Decision.APPROVED and may_approve is not None and not may_approve(case, item):
                raise Unchanged(Effect.NOT_NOW)
            case.decide(item_key, decision, by=by, at=now)
            return _after_a_decision(case, at=now)

        applied = await self._apply(case_id, change, read=read)
        if applied.case is not None and applied.effect in (Effect.CHANGED, Effect.STARTS_EXECUTION):
            item = applied.case.item(item_key)
            assert item is not None
            await self._record(applied.case, by, f"item.{decision.value}", item=item_of(item))
        return applied

    async def approve_all(
        self,
        case_id: str,
        *,
        by: Person,
        only: Callable[[CaseItem], bool] | None = None,
        pending: str = "",
        read: StoredCase | None = None,
    ) -> Applied:
        """Approve every pending item (those ``only`` selects: four-eyes leaves the requester's
        irreversible ones to a second approver). ``pending``: the fingerprint of the pending items
        the clicked card showed; if they changed since, nothing is approved."""
        now = self._clock()
        counted: list[int] = []

        def change(case: RemovalCase) -> Effect:
            counted.clear()  # a conflict runs this again on the fresh case
            if case.state is not CaseState.AWAITING_APPROVAL:
                raise Unchanged(Effect.ALREADY if case.state is CaseState.EXECUTING else Effect.NOT_NOW)
            if pending and pending != case.pending_fingerprint:
                raise Unchanged(Effect.NOT_NOW)  # items were added or changed since the card was drawn
            approved = case.approve_all_remaining(by=by, at=now, only=only)
            if not approved:
                raise Unchanged(Effect.NOT_NOW)
            counted.append(approved)
            return _after_a_decision(case, at=now)

        applied = await self._apply(case_id, change, read=read)
        if applied.case is not None and applied.effect in (Effect.CHANGED, Effect.STARTS_EXECUTION):
            left = len([item for item in applied.case.to_decide if item.decision is Decision.PENDING])
            detail = f"{counted[0]} item(s)" + (f", {left} left for a second approver" if left else "")
            await self._record(applied.case, by, "items.approved_all", detail=detail)
        return applied

    async def choose_teardown_timing(self, case_id: str, timing: TeardownTiming, *, by: Person, read: StoredCase | None = None) -> Applied:
        """Carry out the approved teardown items before the relationship's removal (with the
        other approved actions) or after it. Only while the case awaits approval: once it
        executes, what runs when is under way (a late click changes nothing). And only until a
        teardown item is decided (:attr:`RemovalCase.teardown_timing_settled`)."""

        def change(case: RemovalCase) -> Effect:
            if case.state is not CaseState.AWAITING_APPROVAL:
                raise Unchanged(Effect.NOT_NOW)
            if case.teardown_timing is timing:
                raise Unchanged(Effect.ALREADY)  # a double click, or two people choosing the same
            if case.teardown_timing_settled:
                raise Unchanged(Effect.NOT_NOW)
            case.teardown_timing = timing
            return Effect.CHANGED

        applied = await self._apply(case_id, change, read=read)
        if applied.effect is Effect.CHANGED and applied.case is not None:
            await self._record(applied.case, by, "teardown.timing", detail=timing.value)
        return applied

    async def accept_transfer(
        self,
        case_id: str,
        transfer_id: str,
        line_item_ids: list[str] | None,
        *,
        by: Person,
        lines: str = "",
        may_decide: Callable[[RemovalCase], bool] | None = None,
        read: StoredCase | None = None,
    ) -> Applied:
        """Accept an outgoing transfer request (``line_item_ids``: only those line items; None:
        all of them). The workflow then submits it to Partner Center and follows it until it
        completes (:meth:`RemovalWorkflow.carry_out_transfer`).

        Refused (NOT_NOW) when the request is not (or no longer) active, has expired, was
        rejected, names line items it does not have, or the case is past the point where the
        relationship is being removed; a second click finds it accepted (ALREADY).
        ``may_decide``: checked on the case as it is written (four-eyes: accepting moves the
        subscriptions to the other partner for good, as a cancellation cannot be undone).
        ``lines``: the fingerprint of the line items the clicked card showed
        (:attr:`CaseTransfer.lines_fingerprint`); if they changed since, nothing is accepted and
        the answer is marked stale. Refused too while an item of the chosen lines is approved,
        being carried out or done (the bot is cancelling it). The lines accepted are recorded
        one by one, so that exactly those the approver saw are sent."""
        return await self._decide_transfer(
            case_id, transfer_id, TransferDecision.ACCEPTED, line_item_ids, by=by, lines=lines, may_decide=may_decide, read=read
        )

    async def reject_transfer(
        self,
        case_id: str,
        transfer_id: str,
        *,
        by: Person,
        may_decide: Callable[[RemovalCase], bool] | None = None,
        read: StoredCase | None = None,
    ) -> Applied:
        """Reject (decline) an outgoing transfer request; the workflow sends it to Partner Center."""
        return await self._decide_transfer(case_id, transfer_id, TransferDecision.REJECTED, None, by=by, may_decide=may_decide, read=read)

    async def _decide_transfer(
        self,
        case_id: str,
        transfer_id: str,
        decision: TransferDecision,
        line_item_ids: list[str] | None,
        *,
        by: Person,
        lines: str = "",
        may_decide: Callable[[RemovalCase], bool] | None,
        read: StoredCase | None,
    ) -> Applied:
        now = self._clock()
        stale: list[bool] = []

        def change(case: RemovalCase) -> Effect:
            stale.clear()  # a conflict runs this again on the fresh case
            transfer = case.transfer(transfer_id)
            if transfer is None:
                raise Unchanged(Effect.NOT_NOW)  # not a request of this customer's (forged, or from another case)
            # A decision whose sending Partner Center refused, on a request it still lists as
            # Active, may be made again (tried again, or the other way).
            again = transfer.may_be_decided_again
            if transfer.decision is decision and not again:
                raise Unchanged(Effect.ALREADY)  # a double click, or two approvers at once
            if (transfer.decision is not TransferDecision.PENDING and not again) or not _open_to_transfer_decisions(case):
                raise Unchanged(Effect.NOT_NOW)
            if not transfer.is_active or (transfer.expires_at is not None and transfer.expires_at <= now):
                raise Unchanged(Effect.NOT_NOW)  # completed, expired or cancelled since the card was drawn
            if lines and lines != transfer.lines_fingerprint:
                stale.append(True)
                raise Unchanged(Effect.NOT_NOW)  # the card showed other line items or quantities
            chosen = [line.id for line in transfer.line_items]  # exactly the lines the card showed
            if line_item_ids is not None:
                chosen = list(dict.fromkeys(line_item_ids))
                if not chosen or any(transfer.line(line_id) is None for line_id in chosen):
                    raise Unchanged(Effect.NOT_NOW)  # line items the request does not have
            if decision is TransferDecision.ACCEPTED and case.transfer_conflicts(transfer, chosen):
                # The bot is cancelling (or cancelled) what the transfer would move: one or the
                # other, never both (the card says which items stand in the way).
                raise Unchanged(Effect.NOT_NOW)
            if may_decide is not None and not may_decide(case):
                raise Unchanged(Effect.NOT_NOW)
            transfer.decision = decision
            transfer.decided_by = by
            transfer.decided_at = now
            transfer.accepted_lines = chosen if decision is TransferDecision.ACCEPTED else None
            transfer.outcome = TransferOutcome.NOT_STARTED
            transfer.error = None
            return Effect.STARTS_TRANSFER

        applied = await self._apply(case_id, change, read=read)
        case = applied.case
        if case is None:
            return applied
        if applied.effect is Effect.STARTS_TRANSFER:
            transfer = case.transfer(transfer_id)
            assert transfer is not None
            await self._record(case, by, f"transfer.{decision.value}", **transfer_audit(transfer))
        return Applied(case, applied.effect, transfer_id=transfer_id, stale=bool(stale))

    async def confirm_removal(self, case_id: str, *, by: Person, read: StoredCase | None = None) -> Applied:
        now = self._clock()

        def change(case: RemovalCase) -> Effect:
            if case.state in (CaseState.REMOVING, CaseState.REMOVED):
                raise Unchanged(Effect.ALREADY)
            if case.state is not CaseState.READY:
                raise Unchanged(Effect.NOT_NOW)
            case.move_to(CaseState.REMOVING, at=now)
            case.approved_by = by
            return Effect.STARTS_REMOVAL

        applied = await self._apply(case_id, change, read=read)
        if applied.effect is Effect.STARTS_REMOVAL and applied.case is not None:
            await self._record(applied.case, by, "removal.confirmed")
        return applied

    async def cancel(self, case_id: str, *, by: Person, read: StoredCase | None = None) -> Applied:
        """Stop the case; Partner Center changes already made stay. Not once removal has begun.

        The cancel that was written (one, however many clicks) is audited, then announced to the
        channels and the requester with what was already done: a customer left half-offboarded
        must not be a surprise to anyone."""
        now = self._clock()

        def change(case: RemovalCase) -> Effect:
            if case.state is CaseState.CANCELLED:
                raise Unchanged(Effect.ALREADY)
            if not case.may_move_to(CaseState.CANCELLED):
                raise Unchanged(Effect.NOT_NOW)
            case.move_to(CaseState.CANCELLED, at=now)
            return Effect.CHANGED

        applied = await self._apply(case_id, change, read=read)
        if applied.effect is Effect.CHANGED and applied.case is not None:
            await self._record(applied.case, by, "removal.cancelled", detail=f"{len(applied.case.done)} action(s) already done")
            if self._notifications is not None:  # never raises: the cancel stands whatever Teams says
                await self._notifications.cancelled(applied.case)
        return applied

    async def begin(self, applied: Applied) -> None:
        """Start the work a click started (in the background). The edge notes first which of its
        messages is to show that work."""
        case = applied.case
        assert case is not None and applied.starts_work
        if applied.effect is Effect.STARTS_EXECUTION:
            self._workflow.start_execution(case.id)
        elif applied.effect is Effect.STARTS_TRANSFER:
            self._workflow.start_transfer(case.id, applied.transfer_id)
        else:
            self._workflow.start_removal(case.id)

    async def _apply(self, case_id: str, change: Callable[[RemovalCase], Effect], *, read: StoredCase | None) -> Applied:
        """``change`` written to the case with one ETag-checked read-modify-write.

        ``read``: the case as the edge already read it to check who may click (the first attempt
        starts from it instead of reading it again: one read per click, not two). It is handed
        over; its ETag guards the write, so a click in between makes the change run again on the
        fresh case, exactly as without it."""
        state_before: list[CaseState] = []

        def noting_the_state(case: RemovalCase) -> Effect:
            state_before.append(case.state)  # the last one is what the written change started from
            return change(case)

        try:
            case, effect = await self._store.update(case_id, noting_the_state, read=read)
        except KeyError:
            return Applied(None, Effect.NO_CASE)
        if effect not in (Effect.ALREADY, Effect.NOT_NOW) and case.state is not state_before[-1]:
            # The plan card shows the case's state, nothing a single decision changes: redraw it
            # only when the state moved (one Teams update per step, not one per click).
            self._workflow.refresh_plan(case.id)
        return Applied(case, effect)

    async def _record(self, case: RemovalCase, by: Person, action: str, **fields: Any) -> None:
        await self._audit.record(AuditEvent.about(case, at=self._clock(), action=action, actor=actor_of(by), **fields))


def _open_to_transfer_decisions(case: RemovalCase) -> bool:
    """A transfer is decided while the relationship stands and the case is open: not once its
    removal has begun (the subscriptions are then the removal's concern, or gone with it)."""
    return case.is_open and case.state is not CaseState.REMOVING and case.removed_at is None


def _after_a_decision(case: RemovalCase, *, at: datetime) -> Effect:
    if case.next_pending is not None:
        return Effect.CHANGED
    case.move_to(CaseState.EXECUTING, at=at)
    return Effect.STARTS_EXECUTION
