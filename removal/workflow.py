"""The long-running halves of a removal, run in the background, each under the case's lease.

- :meth:`RemovalWorkflow.execute`: carry out the approved actions (the progress shown as it
  goes), then :meth:`recheck`.
- :meth:`RemovalWorkflow.recheck`: read Partner Center afresh: if nothing blocks, post the final
  confirmation; if new blockers need a decision, ask; otherwise say what still blocks and wait.
- :meth:`RemovalWorkflow.remove`: check afresh, remove the relationship, verify it, fetch the
  relationship request link; then carry out the approved teardown items left (the partner's
  access beside the relationship: guests, contacts, apps, DAP, GDAP, in that order), read that
  access afresh, and show the result. If Partner Center changed since the final confirmation,
  nothing is removed: what blocks now is shown and new blockers are asked about.
- :meth:`RemovalWorkflow.resume`: at start and then periodically, take over executing and
  removing cases whose lease has expired (their instance died) and finish them, and carry on
  paused cases once the service they wait for (Partner Center, or Microsoft Graph) answers again.
- :meth:`RemovalWorkflow.access_changed`: a removed case whose result says GDAP access is still
  ending has its access read again (Partner Center's GDAP events; a sweep could call it too); the
  result card is redrawn only when what it says changed.

Partner Center (or Graph) not answering (after the client's retries: :func:`is_unavailable`) is
not a failure of the case: an executing or removing case is *paused* (the conversation is told,
in its language, that it will resume by itself), a waiting case just waits for the next check.
A removing case paused while it tears down the partner's access after the removal keeps its
removal (:attr:`RemovalCase.removed_at`): resumed, it carries on with the teardown and does not
remove, nor audit the removal, again.

**Teardown timing.** The approved teardown items run with the other approved actions when the
case says :attr:`TeardownTiming.BEFORE`, else (the default) once the relationship is removed.

**State first, then messages.** Every state change goes through :meth:`CaseStore.update`
(ETag-checked, transitions checked), so a cancel from another instance is never overwritten, and
it is written *before* anything is said about it: the stored state is the truth, and a message
Teams refuses never blocks, repeats or undoes a transition. What happened is said through a
:class:`~removal.display.CaseDisplay` (the Teams edge chooses the cards and the messages). When
Teams says the bot is no longer in the case's conversation (:class:`ConversationGone`), that is
recorded on the case; from then on the display shows what people must see or act on (the final
confirmation, new questions, what blocks, the result) in the notification channels and to the
requester 1:1 instead.

**No endless loops.** An attempt of the background work that fails (Partner Center stops
answering again right after the case resumed, or something unexpected raises) is counted on the
case, and the resume sweep leaves the case alone for a while that doubles with each failure
(capped). After ``max_attempts`` failures of the same kind in a row the case is failed with the
reason "needs a person" (:data:`NEEDS_PERSON`), and that is announced once.

**Intent before each write.** The audit gets an intent record (``item.started``,
``removal.started``) before each Partner Center write, and the outcome after it; the removal
PATCH is not sent by an instance that lost the case's lease.

No botbuilder and no cards here: the display and the notifications are ports the edge implements.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from partner_center import (
    Customer,
    PartnerCenterClient,
    PartnerCenterError,
    Relationship,
    RemovalPlan,
    is_unavailable,
    plan_removal,
)
from partner_center.access import AccessInventory, PartnerAccessReader
from partner_center.errors import NoRelationshipError, RemovalUnclearError
from partner_center.models import CompanyProfile
from partner_center.teardown import Service, Teardown

from .audit import AuditEvent, AuditTrail, actor_of, item_of
from .background import BackgroundTasks
from .case import (
    CaseItem,
    CaseState,
    CaseTransfer,
    Decision,
    ErrorReason,
    InvalidTransition,
    ItemError,
    Outcome,
    Person,
    Proposal,
    RemovalCase,
    TeardownTiming,
    TransferDecision,
    TransferOutcome,
)
from .display import CaseDisplay
from .executor import Execution, execute_approved
from .lease import Lease, Leases, LeaseTaken
from .messaging import ConversationGone
from .notifications import CaseNotifications
from .store import CaseStore, Unchanged
from .transfers import lines_to_bring, read_transfers, transfer_audit

__all__ = ("ConversationGone", "RemovalWorkflow")

_log = logging.getLogger(__name__)

# Kinds of failed attempts (see FailedAttempts.kind).
_UNAVAILABLE = "unavailable"
# How long (wall clock) a case waiting for Azure to apply a cancellation ("about 10 mins",
# developer/cancel-an-azure-subscription) is re-checked every few minutes before only the
# hourly re-check is left (assumption: a margin of six times Microsoft's figure).
_AZURE_SOON_FOR = 3600.0


class RemovalWorkflow:
    def __init__(
        self,
        *,
        client: PartnerCenterClient,
        store: CaseStore,
        display: CaseDisplay,
        audit: AuditTrail,
        leases: Leases,
        background: BackgroundTasks,
        clock: Callable[[], datetime],
        notifications: CaseNotifications | None = None,
        progress_interval: float = 1.5,
        max_attempts: int = 5,
        backoff_initial: float = 0.0,
        backoff_max: float = 900.0,
        wall_clock: Callable[[], float] = time.time,
        azure_recheck_seconds: float = 180.0,
        partner_access: PartnerAccessReader | None = None,
        teardown: Teardown | None = None,
    ) -> None:
        """
        :param display: where what happens to a case is shown (its conversation; the notification
            channels and the requester once it is gone).
        :param max_attempts: failed attempts of the same kind in a row before a case is failed
            as needing a person.
        :param backoff_initial: seconds the resume sweep waits after a first failed attempt;
            doubled after each further one, up to ``backoff_max`` (the app: the resume
            interval; 0: no wait, for callers that run :meth:`resume` themselves).
        :param partner_access: reads what access the partner still has (kept on the case at each
            re-check, and after the removal); None: not read.
        :param teardown: carries out the approved teardown items; None: they are not carried out
            (they stay as they are, and the result says the access remains).
        :param wall_clock: when to try again is stored with the case and compared by every
            instance, so it is the wall clock (``time.time``), never the sandbox's movable one.
        """
        self._notifications = notifications
        self._audit = audit
        self._client = client
        self._partner_access = partner_access
        self._teardown = teardown
        self._store = store
        self._display = display
        self._leases = leases
        self._background = background
        self._clock = clock
        self._progress_interval = progress_interval
        self._max_attempts = max_attempts
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._wall_clock = wall_clock
        # A case waiting for Azure to apply the cancellation of Azure subscriptions (about ten
        # minutes) is re-checked by the resume sweep every this many seconds, not hourly; when
        # each case was last (in this instance).
        self._azure_recheck_seconds = azure_recheck_seconds
        self._azure_rechecked: dict[str, float] = {}
        self._azure_waiting_since: dict[str, float] = {}

    # ---- Starting work (after the HTTP answer is written: see BackgroundTasks.holding) ----

    def start_execution(self, case_id: str) -> None:
        self._background.start(self.execute(case_id), name=f"execute {case_id}")

    def start_removal(self, case_id: str) -> None:
        self._background.start(self.remove(case_id), name=f"remove {case_id}")

    def start_transfer(self, case_id: str, transfer_id: str) -> None:
        """Send an approver's decision about a transfer request to Partner Center, then follow it."""
        self._background.start(self.carry_out_transfer(case_id, transfer_id), name=f"transfer {case_id} {transfer_id}")

    def refresh_plan(self, case_id: str) -> None:
        """Redraw the case's plan card for everyone in the conversation (it shows the state)."""
        self._background.start(self._refresh_plan(case_id), name=f"plan card {case_id}")

    async def resume(self) -> int:
        """Start every executing or removing case nobody holds, and every paused case if Partner
        Center answers again; returns how many were started. A case whose last attempt failed
        is left alone until its backoff has passed."""
        started = 0
        answering: dict[Service, bool] = {}  # each service asked once a round, and only when a case waits for it
        for case in await self._store.open_cases():
            if not self._due(case):
                continue
            # Transfer decisions not sent yet (the instance died, Partner Center was silent) are
            # sent; those sent are followed until Partner Center says they completed.
            for transfer in _transfers_to_send(case):
                self.start_transfer(case.id, transfer.id)
            if case.transfers_under_way and await self._leases.is_free(case.id):
                self._background.start(self.follow_transfers(case.id, why="resume sweep"), name=f"follow transfers {case.id}")
            if case.state is CaseState.WAITING:
                if _waits_for_azure(case) and self._azure_recheck_due(case.id):
                    started += await self._recheck_azure(case.id)
                continue
            if case.state is CaseState.PAUSED:
                service = case.pause.service if case.pause is not None else Service.PARTNER_CENTER
                if service not in answering:
                    answering[service] = await self._is_answering(service)
                if answering[service] and await self._unpause(case.id):
                    started += 1
                continue
            if case.state not in (CaseState.EXECUTING, CaseState.REMOVING) or not await self._leases.is_free(case.id):
                continue
            _log.info("resuming case %s (%s, %s)", case.id, case.customer.name, case.state.value)
            (self.start_execution if case.state is CaseState.EXECUTING else self.start_removal)(case.id)
            started += 1
        return started

    async def _is_answering(self, service: Service) -> bool:
        """Whether ``service`` answers now (Microsoft Graph: through the teardown's client; with
        none configured, nothing can have paused on it, so Partner Center is asked)."""
        graph = self._teardown.graph if self._teardown is not None else None
        if service is Service.GRAPH and graph is not None:
            return await graph.is_answering()
        return await self._client.is_answering()

    # ---- The work ----

    async def execute(self, case_id: str) -> RemovalCase | None:
        try:
            async with self._leases.hold(case_id) as lease:
                try:
                    return await self._execute(case_id, lease)
                except Exception as error:  # counted, backed off, and in the end given up on  # noqa: BLE001
                    return await self._attempt_failed(case_id, error)
        except LeaseTaken:
            _log.info("case %s is being executed by another instance", case_id)
            return await self._store.get(case_id)

    async def _execute(self, case_id: str, lease: Lease) -> RemovalCase | None:
        case = await self._store.get(case_id)
        if case is None or case.state is not CaseState.EXECUTING:
            return case
        done_before = len(case.done)
        failed_here: list[str] = []

        async def on_item(current: RemovalCase, item: CaseItem, removed: str) -> None:
            if item.outcome is Outcome.FAILED:
                failed_here.append(item.key)
            await self._record_item(current, item, removed)

        run = await execute_approved(
            case_id,
            client=self._client,
            store=self._store,
            lease=lease,
            on_progress=self._show_progress,
            on_item=on_item,
            before_item=self._record_intent,
            progress_interval=self._progress_interval,
            teardown=self._teardown,
            # After the removal (the default), the teardown items wait for it: see _tear_down.
            selects=_not_moving(case, None if case.teardown_timing is TeardownTiming.BEFORE else _is_blocker),
        )
        case = run.case
        progressed = len(case.done) > done_before
        failed = [item for item in case.items if item.key in failed_here and item.outcome is Outcome.FAILED]
        if case.state is not CaseState.EXECUTING or lease.lost:
            await self._show_progress(case)  # cancelled meanwhile, or another instance carries on
        elif run.unavailable is not None:
            case = await self._pause(case_id, run.unavailable, progressed=progressed, service=run.service)
        else:
            case = await self.recheck(case_id, progressed=progressed)
            # The execution's progress ends on the new state (what the re-check asks is shown
            # on its own).
            await self._show_progress(case)
        if failed and self._notifications is not None:
            await self._notifications.items_failed(case, failed)  # once: this run's failures
        return case

    def _azure_recheck_due(self, case_id: str) -> bool:
        """Time (wall clock) for the soon re-check of a case waiting for Azure: a few minutes since
        the last one, or since this instance first saw the case waiting."""
        now = self._wall_clock()
        first = self._azure_waiting_since.setdefault(case_id, now)
        last = self._azure_rechecked.setdefault(case_id, now)
        if now - last < self._azure_recheck_seconds or now - first > _AZURE_SOON_FOR:
            # Past an hour, something else holds it (an Azure subscription reactivated in the
            # Azure portal, say): the hourly re-check carries on, and says what it finds.
            return False
        self._azure_rechecked[case_id] = now
        return True

    async def _recheck_azure(self, case_id: str) -> int:
        """Re-check a case waiting for Azure to apply a cancellation; once Partner Center shows no
        active Azure subscription the case executes again (suspends the plan). 1 if it did."""
        try:
            async with self._leases.hold(case_id):
                case = await self._store.get(case_id)
                if case is None or case.state is not CaseState.WAITING:
                    return 0
                case = await self.recheck(case_id, quiet=True)
        except LeaseTaken:
            return 0
        except Exception:  # one case's trouble must not stop the sweep  # noqa: BLE001
            _log.exception("re-checking case %s (waiting for Azure) failed", case_id)
            return 0
        if case.state is not CaseState.EXECUTING:
            return 0
        self._azure_rechecked.pop(case_id, None)
        self._azure_waiting_since.pop(case_id, None)
        self.start_execution(case_id)
        return 1

    async def recheck(self, case_id: str, *, progressed: bool = False, quiet: bool = False) -> RemovalCase:
        """Read Partner Center afresh; offer the final confirmation, ask about new blockers, or
        explain what still blocks. The new state is saved first, then the card is posted.

        :param progressed: the execution before it got something done (a pause now is not the
            same failure repeating).
        """
        case = await self._get(case_id)
        now = self._clock()
        try:
            plan = await plan_removal(self._client, _customer_of(case), now=now)
        except PartnerCenterError as error:
            if is_unavailable(error):
                if case.may_move_to(CaseState.PAUSED):
                    return await self._pause(case_id, error, progressed=progressed)
                _log.warning("case %s not re-checked, Partner Center is not answering: %s", case_id, error.description)
                return case  # waiting: the next check will do
            return await self._failed_by(case_id, error)
        # Never fails the re-check: what cannot be read is an entry of the inventory.
        inventory = await self._partner_access.read(case.customer.id, now=now) if self._partner_access is not None else None
        # Never fails it either: transfers that cannot be read are left as the case knew them.
        transfers = await read_transfers(self._client, case.customer.id)
        before = case.state
        fresh = case.model_copy(deep=True)
        fresh.refresh(plan, access=inventory)
        target = _state_after(fresh, can_remove_now=plan.can_remove_now)
        if not fresh.may_move_to(target) and target is not fresh.state:
            return fresh  # cancelled meanwhile: say nothing more

        def apply(current: RemovalCase) -> list[CaseTransfer]:
            settled = current.refresh_transfers([t.model_copy(deep=True) for t in transfers]) if transfers is not None else []
            current.refresh(plan, access=inventory)
            current.move_to(target, at=now)
            current.clear_failed_attempts()
            return settled

        try:
            case, settled = await self._store.update(case_id, apply)
        except InvalidTransition:
            return await self._get(case_id)
        await self._record_settled(case, settled)
        # Only a change of state is worth the channels' attention if the conversation is gone
        # (a waiting case re-checked every hour would otherwise post there every hour).
        moved = case.state is not before
        if quiet and not moved:
            return case  # a soon re-check that found nothing new: the card already posted says why
        await self._show(case, lambda shown: self._display.next_step(shown, moved=moved))
        await self._refresh_plan(case_id)
        if moved and case.state is CaseState.READY and self._notifications is not None and case.conversation_gone_at is None:
            # (Gone: the final confirmation itself went to the channels and the requester.)
            await self._notifications.ready(case)
        return case

    # ---- Outgoing transfers ----

    async def carry_out_transfer(self, case_id: str, transfer_id: str) -> RemovalCase | None:
        """Send what an approver decided about a transfer request (accept: Partner Center's
        ``PATCH .../transfers/{id}``, learn.microsoft.com/partner-center/developer/update-a-transfer;
        reject: the client's decline), then follow it (:meth:`follow_transfers`).

        Under the case's lease, once: a transfer already sent (or not decided) is left alone.
        Partner Center not answering leaves it unsent (the resume sweep sends it later);
        Partner Center refusing fails it with Partner Center's words, shown on the plan."""
        try:
            async with self._leases.hold(case_id) as lease:
                case = await self._store.get(case_id)
                transfer = case.transfer(transfer_id) if case is not None else None
                if case is None or transfer is None or transfer not in _transfers_to_send(case):
                    return case
                await self._send_transfer(case, transfer, lease)
        except LeaseTaken:
            _log.info("case %s is held by another instance; transfer %s is sent by the resume sweep", case_id, transfer_id)
            return await self._store.get(case_id)
        return await self.follow_transfers(case_id, why="sent")

    async def _send_transfer(self, case: RemovalCase, transfer: CaseTransfer, lease: Lease) -> None:
        approver = transfer.decided_by or case.requested_by
        accepted = transfer.decision is TransferDecision.ACCEPTED
        action = "transfer.accept" if accepted else "transfer.reject"
        audited = transfer_audit(transfer)
        await self._audit.record(
            AuditEvent.about(case, at=self._clock(), action=f"{action}.started", actor=actor_of(approver), result="intent", **audited)
        )
        if lease.lost:
            return
        try:
            # (The client reads the transfer first: one no longer Active is refused with nothing
            # sent, one already Completed is not sent again.)
            if accepted and transfer.proposed:
                # Listed without line items: the accept brings those the approver saw.
                bring = await lines_to_bring(self._client, case.customer.id, transfer)
                await self._client.accept_transfer(case.customer.id, transfer.id, None, bring=bring)
            elif accepted:
                await self._client.accept_transfer(case.customer.id, transfer.id, transfer.accepted_lines)
            else:
                await self._client.reject_transfer(case.customer.id, transfer.id)
        except PartnerCenterError as error:
            if is_unavailable(error):
                _log.warning("case %s: transfer %s not sent, Partner Center is not answering: %s", case.id, transfer.id, error.description)
                await self._record_own(
                    case,
                    f"{action}.not_sent",
                    "stopped",
                    correlation_id=error.correlation_id,
                    **{**audited, "detail": f"Partner Center not answering: {error.description}"[:1000]},
                )
                return  # left unsent: the resume sweep sends it once Partner Center answers
            failed = ItemError.from_error(error)

            def refused(current: RemovalCase) -> None:
                kept = current.transfer(transfer.id)
                if kept is None or kept.outcome is not TransferOutcome.NOT_STARTED:
                    raise Unchanged(None)
                kept.outcome, kept.error = TransferOutcome.FAILED, failed

            await self._store.update(case.id, refused)
            await self._record_own(
                case,
                "transfer.failed",
                "failed",
                correlation_id=error.correlation_id,
                **{**audited, "detail": f"{error.description} ({error.code})"[:1000]},
            )
            await self._refresh_plan(case.id)
            return

        def sent(current: RemovalCase) -> None:
            kept = current.transfer(transfer.id)
            if kept is None or kept.outcome is not TransferOutcome.NOT_STARTED:
                raise Unchanged(None)
            kept.outcome = TransferOutcome.SUBMITTED

        await self._store.update(case.id, sent)
        await self._audit.record(
            AuditEvent.about(case, at=self._clock(), action=f"{action}.sent", actor=actor_of(approver), result="ok", **audited)
        )

    async def follow_transfers(self, case_id: str, *, why: str = "") -> RemovalCase | None:
        """Read the customer's transfer requests afresh (after sending a decision, on the resume
        sweep, after Partner Center's ``transfer-*`` events): what completed is audited
        (``transfer.completed`` with its line items) and, for an accepted transfer, the case is
        re-checked, so that the blockers it moved away leave the plan (cleared, as any blocker
        gone from Partner Center) and the case goes on to the final confirmation as usual.
        A line item Partner Center failed keeps its ``transferError`` (shown on the cards)."""
        case = await self._store.get(case_id)
        if case is None or not case.is_open:
            return case
        transfers = await read_transfers(self._client, case.customer.id)
        if transfers is None:
            return case  # not readable now: followed again by the next sweep or event

        def merge(current: RemovalCase) -> list[CaseTransfer] | None:
            before = [t.model_dump() for t in current.transfers]
            settled = current.refresh_transfers([t.model_copy(deep=True) for t in transfers])
            if [t.model_dump() for t in current.transfers] == before:
                raise Unchanged(None)  # nothing new: nothing written, nothing redrawn
            return settled

        case, settled = await self._store.update(case_id, merge)
        if settled is None:
            return case
        await self._record_settled(case, settled, why=why)
        await self._refresh_plan(case_id)
        moved_away = any(t.decision is TransferDecision.ACCEPTED and t.outcome is TransferOutcome.COMPLETED for t in settled)
        if moved_away and case.state in _RECHECKED_AFTER_A_TRANSFER:
            try:
                async with self._leases.hold(case_id):
                    return await self.recheck(case_id)
            except LeaseTaken:
                _log.info("case %s: re-checked after its transfer by the instance holding it", case_id)
        return await self._store.get(case_id)

    async def _record_settled(self, case: RemovalCase, settled: list[CaseTransfer], *, why: str = "") -> None:
        """Audit what Partner Center says became of transfers that were sent (once: only the
        update that settled them returns them)."""
        for transfer in settled:
            audited = transfer_audit(transfer)
            failed = [line for line in transfer.chosen_lines if line.error is not None]
            if transfer.outcome is TransferOutcome.COMPLETED:
                action, result = (
                    ("transfer.completed", "ok") if transfer.decision is TransferDecision.ACCEPTED else ("transfer.declined", "ok")
                )
            else:
                action, result = "transfer.failed", "failed"
            if failed and transfer.outcome is TransferOutcome.COMPLETED:
                result = "partial"  # some line items moved, some Partner Center failed
            detail = audited["detail"]
            if failed:
                detail += "; failed: " + ", ".join(f"{line.id}: {line.error.description}" for line in failed if line.error is not None)
            if why:
                detail += f" (read after {why})"
            # Each line's status and error as Partner Center read them.
            extra = {
                **audited["extra"],
                "line_items": [
                    {
                        "id": line.id,
                        "subscription_id": line.subscription_id,
                        "name": line.name,
                        "quantity": line.quantity,
                        "status": line.status,
                        "error": line.error.description if line.error is not None else "",
                    }
                    for line in transfer.chosen_lines
                ],
            }
            await self._record_own(case, action, result, **{**audited, "detail": detail[:1000], "extra": extra})
            for line in failed:
                assert line.error is not None
                await self._record_own(
                    case,
                    "transfer.line_failed",
                    "failed",
                    **{
                        **transfer_audit(transfer, lines=[line]),
                        "detail": f"line item {line.id} ({line.subscription_id}): {line.error.description}"[:1000],
                    },
                )

    async def remove(self, case_id: str) -> RemovalCase | None:
        try:
            async with self._leases.hold(case_id) as lease:
                try:
                    return await self._remove(case_id, lease)
                except Exception as error:  # counted, backed off, and in the end given up on  # noqa: BLE001
                    return await self._attempt_failed(case_id, error)
        except LeaseTaken:
            _log.info("case %s is being removed by another instance", case_id)
            return await self._store.get(case_id)

    async def _remove(self, case_id: str, lease: Lease) -> RemovalCase | None:
        case = await self._store.get(case_id)
        if case is None or case.state is not CaseState.REMOVING:
            return case
        if case.removed_at is None:  # (set: a resumed case, removed before it paused or its instance died)
            case = await self._remove_relationship(case, lease)
            if case is None or case.state is not CaseState.REMOVING or case.removed_at is None:
                return case  # refused, failed, paused, or left to the lease's holder
        return await self._after_the_removal(case, lease)

    async def _remove_relationship(self, case: RemovalCase, lease: Lease) -> RemovalCase | None:
        """Check afresh, send the PATCH, confirm it, and store that the relationship is removed
        (the case stays removing: the teardown comes next). Returns the case as stored; it has
        no :attr:`~RemovalCase.removed_at` when nothing was removed."""
        case_id = case.id
        now = self._clock()
        approver = case.approved_by or case.requested_by
        try:
            # Already gone (a resumed case whose PATCH landed before the crash or the silence,
            # or someone used the portal): no plan needed, and the client writes nothing. Only a
            # read showing "none" says so: a 403/20002 reads as UNKNOWN (20002 also comes from a
            # DAP/GDAP revocation, microsoft/Partner-Smart-Office#12), and then the PATCH is sent
            # and its outcome confirmed positively by the client, or reported as unclear.
            relationship = await self._client.read_relationship(case.customer.id)
            writes = relationship is not Relationship.NONE
            if writes:
                # Never trust the plan from memory: the world may have changed since the click.
                try:
                    plan: RemovalPlan | None = await plan_removal(self._client, _customer_of(case), now=now)
                except NoRelationshipError:
                    if relationship is not Relationship.UNKNOWN:
                        raise
                    # The customer's items cannot be read either (403/20002): Partner Center
                    # itself refuses a removal that something still blocks.
                    plan = None
                if plan is not None and not plan.can_remove_now:
                    return await self._refuse_removal(case, plan)
            if lease.lost:
                # Another instance may hold the case now: the PATCH is its to send, or not.
                _log.warning("case %s: lost the lease before the removal; nothing sent, left to its holder", case_id)
                return await self._store.get(case_id)
            if writes:
                await self._record_removal(case, approver, "intent", "PATCH relationshipToPartner: none", "")
                if lease.lost:  # lost while the intent was written: close it, send nothing
                    await self._record_removal(case, approver, "stopped", "lease lost: nothing sent", "")
                    return await self._store.get(case_id)
            result = await self._client.remove_relationship(case.customer.id, domain=case.customer.domain)
        except PartnerCenterError as error:
            if is_unavailable(error):
                # The PATCH may have landed: the resumed removal reads the relationship first.
                return await self._pause(case_id, error)
            if isinstance(error, RemovalUnclearError):
                # Never "removed" without a positive signal: the case fails with a reason that
                # says to check in Partner Center, and the audit says "unclear".
                await self._record_removal(case, approver, "unclear", error.description, error.correlation_id)
                case, moved = await self._fail(case_id, error, reason=ErrorReason.REMOVAL_UNCLEAR)
            else:
                await self._record_removal(case, approver, "failed", error.description, error.correlation_id)
                case, moved = await self._fail(case_id, error)
            await self._refresh_plan(case_id)
            refused = error  # (the lambda reads it; the name ``error`` ends with this block)
            await self._show(case, lambda shown: self._display.removal_failed(shown, refused))
            if moved and self._notifications is not None:
                await self._notifications.failed(case)
            return case
        if not result.request_id:
            detail = f"relationship already none (confirmed by {result.confirmed_by}): nothing sent"
        elif result.already_removed:
            detail = f"removal PATCH refused, but relationship confirmed none by {result.confirmed_by}"
        else:
            detail = f"relationship confirmed none by {result.confirmed_by}"
        await self._record_removal(case, approver, "ok", detail, result.correlation_id)
        try:
            link = await self._client.get_relationship_request_url()
        except PartnerCenterError:
            link = ""
            _log.warning("removed %s but could not fetch the relationship request link", case.customer.id)

        def removed(current: RemovalCase) -> None:
            # Whatever happens next (the teardown paused, given up on), the relationship is gone.
            current.removed_at = self._clock()
            current.removal_correlation_id = result.correlation_id
            current.relationship_request_url = link

        updated, _ = await self._store.update(case_id, removed)
        return updated

    async def _after_the_removal(self, case: RemovalCase, lease: Lease) -> RemovalCase | None:
        """The relationship is removed: carry out the approved teardown items left, read the
        partner's access afresh, then the case is removed and people are told."""
        torn_down = self._teardown is not None and _teardown_work(case)
        if torn_down:
            done_before = len(case.done)
            run = await self._tear_down(case.id, lease)
            case = run.case
            if case.state is not CaseState.REMOVING or lease.lost:
                return case  # given up on meanwhile, or another instance carries on
            if run.unavailable is not None:
                # Graph (or Partner Center) not answering: resumed later, without a second removal.
                return await self._pause(case.id, run.unavailable, progressed=len(case.done) > done_before, service=run.service)
        inventory = await self._read_access_after_removal(case)

        def removed(current: RemovalCase) -> None:
            if inventory is not None:
                current.refresh(None, access=inventory)  # the read-back of the teardown
            current.move_to(CaseState.REMOVED, at=self._clock())

        case, _ = await self._store.update(case.id, removed)
        await self._refresh_plan(case.id)
        if torn_down:
            await self._show_progress(case)  # the teardown's progress ends on the result
        await self._show(case, self._display.removed)
        if self._notifications is not None and case.conversation_gone_at is None:
            # (Gone: the result card itself went to the channels and the requester.)
            await self._notifications.removed(case)
        return case

    async def _tear_down(self, case_id: str, lease: Lease) -> Execution:
        """Carry out the approved teardown items not done yet (in the removing state)."""
        return await execute_approved(
            case_id,
            client=self._client,
            store=self._store,
            lease=lease,
            on_progress=self._show_progress,
            on_item=self._record_item,
            before_item=self._record_intent,
            progress_interval=self._progress_interval,
            teardown=self._teardown,
            running_in=CaseState.REMOVING,
            selects=_tears_down_now,
        )

    async def _read_access_after_removal(self, case: RemovalCase) -> AccessInventory | None:
        """The partner's access read afresh for the result (None: not read, as it was not at
        plan time either). Never fails: what cannot be read is an entry saying so."""
        if self._partner_access is None or case.partner_access is None:
            return None
        return await self._partner_access.read(case.customer.id, now=self._clock())

    async def access_changed(self, case_id: str, *, why: str = "") -> RemovalCase | None:
        """The partner's access to a removed case's customer may have changed (Partner Center
        said a GDAP relationship was terminated or expired; a sweep may ask too): read it afresh
        and, if what the result says changed (a relationship that was ending now reads ended),
        store it, audit it and redraw the result card. Only a removed case whose result shows
        some access still ending is read; anything else is left as it is. Idempotent: a read
        that finds what the case already shows changes nothing and says nothing.

        :param why: what prompted it (the event's name), for the audit.
        :returns: the case as stored (None: no such case).
        """
        case = await self._store.get(case_id)
        if case is None or case.state is not CaseState.REMOVED or not case.access_ending or self._partner_access is None:
            return case
        try:
            async with self._leases.hold(case_id):
                return await self._reread_access(case, why)
        except LeaseTaken:
            _log.info("case %s: its access is being read by another instance", case_id)
            return await self._store.get(case_id)

    async def _reread_access(self, case: RemovalCase, why: str) -> RemovalCase:
        assert self._partner_access is not None
        now = self._clock()
        # Never fails: what cannot be read is an entry of the inventory (and its items are kept).
        inventory = await self._partner_access.read(case.customer.id, now=now)

        def reread(current: RemovalCase) -> list[str] | None:
            if current.state is not CaseState.REMOVED or not current.access_ending:
                raise Unchanged(None)
            before = _result_shows(current)
            ending = list(current.access_ending)
            current.refresh(None, access=inventory)
            if _result_shows(current) == before:
                raise Unchanged(None)  # nothing the result says changed: the stored case stays as it is
            still = {item.key for item in current.access_ending}
            return [item_of(item) for item in ending if item.key not in still]

        case, ended = await self._store.update(case.id, reread)
        if ended is None:
            return case
        detail = "access read again" + (f" after {why}" if why else "")
        if ended:
            detail += ": no longer ending (ended): " + ", ".join(ended)
        detail += "; no partner access remains" if case.no_access_remains else "; some partner access remains or is to check"
        await self._audit.record(
            AuditEvent.about(case, at=now, action="access.reread", actor="offboard", result="ok", detail=detail[:1000])
        )
        await self._refresh_plan(case.id)
        await self._show(case, self._display.removed)  # the result card, brought up to date
        return case

    # ---- Partner Center changed, or stopped answering, or refused ----

    async def _refuse_removal(self, case: RemovalCase, plan: RemovalPlan) -> RemovalCase:
        """The final confirmation was given, but Partner Center changed since: remove nothing,
        say what blocks now, and ask about what needs a decision (or wait for what does not)."""
        now = self._clock()

        def back(current: RemovalCase) -> None:
            current.refresh(plan)
            current.move_to(_state_after(current, can_remove_now=False), at=now)
            current.clear_failed_attempts()

        case, _ = await self._store.update(case.id, back)
        blocking = [item for item in case.still_blocking if item.since_plan or not item.action.is_automatic]
        await self._audit.record(
            AuditEvent.about(
                case,
                at=now,
                action="removal.blocked",
                actor="offboard",
                result="refused",
                detail="Partner Center changed since the final confirmation: " + ", ".join(item_of(i) for i in blocking[:10]),
            )
        )
        await self._refresh_plan(case.id)
        await self._show(case, self._display.refused)
        return case

    async def _pause(
        self, case_id: str, error: PartnerCenterError, *, progressed: bool = False, service: Service = Service.PARTNER_CENTER
    ) -> RemovalCase:
        """``service`` (Partner Center, or Microsoft Graph) is not answering: pause the case and
        say so; :meth:`resume` carries on once that service answers. Items not yet carried out stay as they are (not failed). Pausing
        again and again with nothing done in between is a failing attempt like any other: after
        ``max_attempts`` of them the case needs a person."""
        now = self._clock()

        def pause(current: RemovalCase) -> CaseState | None:
            was = current.state
            if self._count_failure(current, _UNAVAILABLE, error.description, progressed=progressed):
                return was
            current.pause_for(ItemError.from_error(error), at=now, service=service)
            return None

        try:
            case, given_up_from = await self._store.update(case_id, pause)
        except InvalidTransition:
            return await self._get(case_id)  # cancelled meanwhile
        if given_up_from is not None:
            return await self._gave_up(case, given_up_from)
        _log.warning("case %s paused: %s is not answering (%s)", case_id, _named(service), error.description)
        await self._audit.record(
            AuditEvent.about(
                case,
                at=now,
                action="case.paused",
                actor="offboard",
                result="paused",
                detail=f"{_named(service)} not answering: {error.description}",
                correlation_id=error.correlation_id,
            )
        )
        await self._show(case, self._display.paused)
        await self._refresh_plan(case_id)
        return case

    async def _unpause(self, case_id: str) -> bool:
        """Back to the state the case was paused in, and carry on (once, whichever instance)."""

        def back(current: RemovalCase) -> CaseState:
            if current.state is not CaseState.PAUSED:
                raise Unchanged(None)  # resumed by another instance, or cancelled
            return current.unpause(at=self._clock())

        try:
            case, resumed_to = await self._store.update(case_id, back)
        except InvalidTransition:
            return False
        if resumed_to is None:
            return False
        _log.info("case %s resumed (%s): the service it waited for answers again", case_id, resumed_to.value)
        await self._audit.record(AuditEvent.about(case, at=self._clock(), action="case.resumed", actor="offboard", result="ok"))
        await self._show(case, self._display.resumed)
        (self.start_removal if resumed_to is CaseState.REMOVING else self.start_execution)(case_id)
        await self._refresh_plan(case_id)
        return True

    async def _failed_by(self, case_id: str, error: PartnerCenterError) -> RemovalCase:
        """Partner Center refused the re-check (a 4xx): the case fails, then people are told."""
        case, moved = await self._fail(case_id, error)
        if moved:
            await self._show(case, lambda shown: self._display.failed(shown, error))
            await self._refresh_plan(case_id)
            if self._notifications is not None:
                await self._notifications.failed(case)
        return case

    # ---- Failed attempts: back off, then give up ----

    def _due(self, case: RemovalCase) -> bool:
        """The case's backoff after a failed attempt (if any) has passed."""
        retry_at = case.failed_attempts.retry_at
        return retry_at is None or retry_at <= self._wall_now()

    def _retry_at(self, count: int) -> datetime:
        delay = min(self._backoff_initial * 2 ** min(count - 1, 32), self._backoff_max)
        return self._wall_now() + timedelta(seconds=delay)

    def _wall_now(self) -> datetime:
        return datetime.fromtimestamp(self._wall_clock(), UTC)

    def _count_failure(self, case: RemovalCase, kind: str, detail: str, *, progressed: bool = False) -> bool:
        """Count a failed attempt on ``case`` (inside an update); give up on it, and say True,
        once ``max_attempts`` of the same kind failed in a row."""
        count = case.note_failed_attempt(kind, detail, retry_at=self._retry_at, progressed=progressed)
        if count < self._max_attempts:
            return False
        case.give_up(_gave_up_because(kind, count, detail), at=self._clock())
        return True

    async def _attempt_failed(self, case_id: str, error: Exception) -> RemovalCase | None:
        """Something unexpected stopped the work on the case (a bug, storage): log it, count it
        on the case so the sweep backs off, and give up after ``max_attempts`` in a row."""
        _log.error("work on case %s failed", case_id, exc_info=error)
        kind, detail = f"error:{type(error).__name__}", str(error)[:300] or type(error).__name__

        def count(current: RemovalCase) -> CaseState | None:
            was = current.state
            if was not in (CaseState.EXECUTING, CaseState.REMOVING):
                raise Unchanged(None)  # moved on meanwhile: nothing of this attempt is left to retry
            return was if self._count_failure(current, kind, detail) else None

        try:
            case, given_up_from = await self._store.update(case_id, count)
        except Exception:  # the store itself failing: the sweep tries again (without backoff)  # noqa: BLE001
            _log.exception("could not count the failed attempt on case %s", case_id)
            return None
        return await self._gave_up(case, given_up_from) if given_up_from is not None else case

    async def _gave_up(self, case: RemovalCase, was: CaseState) -> RemovalCase:
        """Tell everyone the case needs a person (once: only the update that failed it, from
        state ``was``, gets here)."""
        assert case.error is not None
        _log.error("case %s (%s) needs a person: %s", case.id, case.customer.name, case.error.description)
        try:
            await self._record_own(case, "case.needs_person", "failed", detail=case.error.description)
        except Exception:  # the storage may be why it failed: people must still be told  # noqa: BLE001
            _log.exception("could not audit that case %s needs a person", case.id)
        removing = was is CaseState.REMOVING or (
            was is CaseState.PAUSED and case.pause is not None and case.pause.resume_to is CaseState.REMOVING
        )
        await self._show(case, lambda shown: self._display.needs_person(shown, was_removing=removing))
        await self._refresh_plan(case.id)
        if self._notifications is not None:
            await self._notifications.needs_person(case)
        return case

    # ---- Messages: never block a transition ----

    async def _show(self, case: RemovalCase, show: Callable[[RemovalCase], Awaitable[None]]) -> None:
        """Say what happened to ``case`` through the display. Never raises: the state is saved
        already. A conversation found gone is recorded on the case (and on the caller's copy)."""
        try:
            await show(case)
        except ConversationGone:
            await self._conversation_gone(case)
        except Exception:  # a display is not to raise; if it does, the state still stands  # noqa: BLE001
            _log.exception("could not show what happened to case %s", case.id)

    async def _show_progress(self, case: RemovalCase) -> None:
        await self._show(case, self._display.progress)

    async def _refresh_plan(self, case_id: str) -> None:
        case = await self._store.get(case_id)
        if case is not None:
            await self._show(case, self._display.plan_changed)

    async def _conversation_gone(self, case: RemovalCase) -> None:
        """Teams says the bot is no longer in the case's conversation: note it on the case (and
        on the copy the caller holds), so that nothing more is sent there."""
        at = self._clock()
        case.conversation_gone_at = case.conversation_gone_at or at

        def mark(current: RemovalCase) -> bool:
            if current.conversation_gone_at is not None:
                raise Unchanged(False)
            current.conversation_gone_at = at
            return True

        try:
            _, marked = await self._store.update(case.id, mark)
            if marked:
                _log.warning(
                    "case %s: the bot is no longer in its conversation; its messages go to the notification channels "
                    "and the requester instead",
                    case.id,
                )
                await self._audit.record(
                    AuditEvent.about(
                        case,
                        at=at,
                        action="case.conversation_gone",
                        actor="offboard",
                        result="gone",
                        detail="Teams: the bot is no longer in the conversation",
                    )
                )
        except Exception:  # noting it is worth a try, not worth stopping the work for  # noqa: BLE001
            _log.exception("could not note that case %s lost its conversation", case.id)

    # ---- Inside ----

    async def _get(self, case_id: str) -> RemovalCase:
        case = await self._store.get(case_id)
        if case is None:
            raise KeyError(case_id)
        return case

    async def _fail(self, case_id: str, error: PartnerCenterError, *, reason: ErrorReason = ErrorReason.NONE) -> tuple[RemovalCase, bool]:
        """Fail the case with Partner Center's words (and the bot's ``reason``, if any); whether
        this call failed it."""

        def failed(current: RemovalCase) -> bool:
            if not current.is_open:
                raise Unchanged(False)
            current.move_to(CaseState.FAILED, at=self._clock())
            current.error = ItemError.from_error(error)
            if reason:
                current.error.reason = reason
            return True

        try:
            return await self._store.update(case_id, failed)
        except InvalidTransition:
            return await self._get(case_id), False

    async def _record_own(self, case: RemovalCase, action: str, result: str, **fields: Any) -> None:
        """A record of what Offboard itself did (not a person's click), now."""
        await self._audit.record(AuditEvent.about(case, at=self._clock(), action=action, actor="offboard", result=result, **fields))

    async def _record_intent(self, case: RemovalCase, item: CaseItem) -> None:
        """Before an item's Partner Center write: what is about to be done, on what."""
        await self._record_own(case, "item.started", "intent", item=item_of(item), detail=_work_of(item.decided_on or item.proposal))

    async def _record_item(self, case: RemovalCase, item: CaseItem, removed: str = "") -> None:
        """After an item's Partner Center (or Graph) write, or after its intent when the run
        stopped before the write (``item.not_started``). ``removed``: what a teardown item's
        carrying out reported it removed, the detail of its ``item.done``."""
        failed = item.outcome is Outcome.FAILED
        action, result = ("item.failed", "failed") if failed else ("item.done", "ok")
        if item.outcome is Outcome.NOT_STARTED:
            action, result = "item.not_started", "stopped"
        await self._record_own(
            case,
            action,
            result,
            item=item_of(item),
            detail=item.error.description if item.error else removed,
            correlation_id=item.error.correlation_id if item.error else "",
        )

    async def _record_removal(self, case: RemovalCase, approver: Person, result: str, detail: str, correlation_id: str) -> None:
        action = {
            "intent": "removal.started",
            "ok": "removal.done",
            "stopped": "removal.not_started",
            "unclear": "removal.unclear",
        }.get(result, "removal.failed")
        await self._audit.record(
            AuditEvent.about(
                case,
                at=self._clock(),
                action=action,
                actor=actor_of(approver),
                result=result,
                detail=detail,
                correlation_id=correlation_id,
            )
        )


def _state_after(case: RemovalCase, *, can_remove_now: bool) -> CaseState:
    """Where a fresh read of Partner Center (and of the partner's access) leaves the case."""
    if any(item.decision is Decision.PENDING and not item.cleared for item in case.to_decide):
        # Something found needs a decision (a new guest, a GDAP relationship): asked before the
        # final confirmation, which would otherwise remove the relationship without it.
        return CaseState.AWAITING_APPROVAL
    if can_remove_now:
        return CaseState.READY
    if case.next_pending is not None:
        return CaseState.AWAITING_APPROVAL  # new blockers appeared: someone must decide on them
    if any(_azure_plan_can_go_on(item) for item in case.items):
        return CaseState.EXECUTING  # Azure applied the cancellation: suspend the plan now
    return CaseState.WAITING


# The states in which a completed transfer re-checks the case (the others: the work under way
# re-checks it when it ends, or the relationship is being removed).
_RECHECKED_AFTER_A_TRANSFER = frozenset({CaseState.AWAITING_APPROVAL, CaseState.WAITING, CaseState.READY})


def _transfers_to_send(case: RemovalCase) -> list[CaseTransfer]:
    """Transfers decided but not sent yet (while the relationship stands)."""
    if not case.is_open or case.state is CaseState.REMOVING or case.removed_at is not None:
        return []
    return [t for t in case.transfers if t.decision is not TransferDecision.PENDING and t.outcome is TransferOutcome.NOT_STARTED]


def _result_shows(case: RemovalCase) -> tuple[object, ...]:
    """What the result card's "Partner access now" says, to tell whether a fresh read changed it."""
    return (
        case.no_access_remains,
        tuple((item.key, item.outcome, item.status) for item in case.access_remaining),
        tuple((item.key, item.status) for item in case.access_ending),
        case.access_unchecked,
    )


def _is_blocker(item: CaseItem) -> bool:
    """Not a teardown item: what runs before the removal when the teardown waits for it."""
    return not item.kind.is_teardown


def _not_moving(case: RemovalCase, selects: Callable[[CaseItem], bool] | None) -> Callable[[CaseItem], bool] | None:
    """``selects`` without the items an accepted transfer is moving to the other partner
    (:attr:`RemovalCase.moving_keys`): cancelling them would undo the transfer, or fail it."""
    moving = case.moving_keys
    if not moving:
        return selects
    return lambda item: item.key not in moving and (selects is None or selects(item))


def _tears_down_now(item: CaseItem) -> bool:
    """A teardown item to carry out after the removal: one still found at the last read."""
    return item.kind.is_teardown and not item.cleared


def _teardown_work(case: RemovalCase) -> bool:
    """Approved teardown items are left to carry out after the removal."""
    return any(item.outcome is not Outcome.DONE and _tears_down_now(item) for item in case.approved)


def _waits_for_azure(case: RemovalCase) -> bool:
    """An approved Azure-plan item waits for Azure to apply the cancellation of its Azure
    subscriptions ("about 10 mins", learn.microsoft.com/partner-center/developer/cancel-an-azure-subscription)."""
    return any(
        item.error is not None
        and item.error.reason == ErrorReason.AZURE_CANCELLING
        and item.outcome is Outcome.NOT_STARTED
        and not item.cleared
        for item in case.items
    )


def _azure_plan_can_go_on(item: CaseItem) -> bool:
    """A waiting Azure-plan item whose fresh read shows no active Azure subscription any more,
    and whose approval covers suspending the plan (see CaseItem._decided_about)."""
    return (
        item.error is not None
        and item.error.reason == ErrorReason.AZURE_CANCELLING
        and item.outcome is Outcome.NOT_STARTED
        and not item.cleared
        and not item.azure_subscription_ids
        and item.approved_work() is not None
    )


def _work_of(proposal: Proposal) -> str:
    """An action and its targets, for the audit: ``cancel_… (azure_subscription_ids: a, b)``."""
    targets = "; ".join(f"{name}: {', '.join(map(str, value))}" for name, value in proposal if name != "action" and value)
    return f"{proposal.action.value} ({targets})" if targets else proposal.action.value


def _gave_up_because(kind: str, count: int, detail: str) -> str:
    """The case's error description when the bot gives up (the cards add the reason in the
    reader's language: :data:`NEEDS_PERSON`)."""
    what = "Partner Center did not answer" if kind == _UNAVAILABLE else f"Unexpected error ({kind.removeprefix('error:')})"
    return f"{what} on {count} attempts in a row: {detail}"[:500]


def _named(service: Service) -> str:
    """A service's name, for the log and the audit (in English, as they are)."""
    return "Microsoft Graph" if service is Service.GRAPH else "Partner Center"


def _customer_of(case: RemovalCase) -> Customer:
    """The case's customer, as the planner reads it (a reseller relationship: the case is open)."""
    ref = case.customer
    return Customer(
        id=ref.id,
        company_profile=CompanyProfile(tenant_id=ref.id, company_name=ref.name, domain=ref.domain),
        relationship_to_partner=Relationship.RESELLER,
    )
