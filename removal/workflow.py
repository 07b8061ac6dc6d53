"""The long-running halves of a removal, run in the background, each under the case's lease.

- :meth:`RemovalWorkflow.execute`: carry out the approved actions (status card updated in
  place), then :meth:`recheck`.
- :meth:`RemovalWorkflow.recheck`: read Partner Center afresh: if nothing blocks, post the final
  confirmation; if new blockers need a decision, ask; otherwise say what still blocks and wait.
- :meth:`RemovalWorkflow.remove`: check afresh, remove the relationship, verify it, fetch the
  relationship request link, and turn the "removing…" card into the result card. If Partner
  Center changed since the final confirmation, nothing is removed: the card says what blocks
  now and new blockers are asked about.
- :meth:`RemovalWorkflow.resume`: at start and then periodically, take over executing and
  removing cases whose lease has expired (their instance died) and finish them, and carry on
  paused cases once Partner Center answers again.

Partner Center not answering (after the client's retries: :func:`is_unavailable`) is not a
failure of the case: an executing or removing case is *paused* (the conversation is told, in
its language, that it will resume by itself), a waiting case just waits for the next check.

Every state change goes through :meth:`CaseStore.update` (ETag-checked, transitions checked), so
a cancel from another instance is never overwritten. No botbuilder here: messages go through a
:class:`Messenger` (the Teams edge implements it).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Protocol

import cards
from partner_center import (
    Customer,
    PartnerCenterClient,
    PartnerCenterError,
    Relationship,
    RemovalPlan,
    is_unavailable,
    plan_removal,
)

from .audit import AuditEvent, AuditTrail, actor_of, item_of
from .background import BackgroundTasks
from .case import CaseItem, CaseState, InvalidTransition, ItemError, Outcome, Person, RemovalCase
from .executor import execute_approved
from .lease import Leases, LeaseTaken
from .notifications import CaseNotifications
from .store import CaseStore, Unchanged

__all__ = ("Messenger", "RemovalWorkflow")

_log = logging.getLogger(__name__)


class Messenger(Protocol):
    """Posts and updates cards in a conversation, outside of a turn."""

    async def post(self, conversation: dict[str, Any], card: dict[str, Any]) -> str: ...

    async def update(self, conversation: dict[str, Any], activity_id: str, card: dict[str, Any]) -> None: ...


class RemovalWorkflow:
    def __init__(
        self,
        *,
        client: PartnerCenterClient,
        store: CaseStore,
        messenger: Messenger,
        audit: AuditTrail,
        leases: Leases,
        background: BackgroundTasks,
        clock: Callable[[], datetime],
        notifications: CaseNotifications | None = None,
        progress_interval: float = 1.5,
    ) -> None:
        self._notifications = notifications
        self._audit = audit
        self._client = client
        self._store = store
        self._messenger = messenger
        self._leases = leases
        self._background = background
        self._clock = clock
        self._progress_interval = progress_interval

    # ---- Starting work (after the HTTP answer is written: see BackgroundTasks.holding) ----

    def start_execution(self, case_id: str) -> None:
        self._background.start(self.execute(case_id), name=f"execute {case_id}")

    def start_removal(self, case_id: str) -> None:
        self._background.start(self.remove(case_id), name=f"remove {case_id}")

    def refresh_plan(self, case_id: str) -> None:
        """Redraw the case's plan card for everyone in the conversation (it shows the state)."""
        self._background.start(self._refresh_plan(case_id), name=f"plan card {case_id}")

    async def resume(self) -> int:
        """Start every executing or removing case nobody holds, and every paused case if Partner
        Center answers again; returns how many were started."""
        started = 0
        answering: bool | None = None  # asked once a round, and only when a case is paused
        for case in await self._store.open_cases():
            if case.state is CaseState.PAUSED:
                if answering is None:
                    answering = await self._client.is_answering()
                if answering and await self._unpause(case.id):
                    started += 1
                continue
            if case.state not in (CaseState.EXECUTING, CaseState.REMOVING) or not await self._leases.is_free(case.id):
                continue
            _log.info("resuming case %s (%s, %s)", case.id, case.customer.name, case.state.value)
            (self.start_execution if case.state is CaseState.EXECUTING else self.start_removal)(case.id)
            started += 1
        return started

    # ---- The work ----

    async def execute(self, case_id: str) -> RemovalCase | None:
        try:
            async with self._leases.hold(case_id) as lease:
                case = await self._store.get(case_id)
                if case is None or case.state is not CaseState.EXECUTING:
                    return case
                run = await execute_approved(
                    case_id,
                    client=self._client,
                    store=self._store,
                    lease=lease,
                    on_progress=self._show_progress,
                    on_item=self._record_item,
                    progress_interval=self._progress_interval,
                )
                case = run.case
                if case.state is not CaseState.EXECUTING or lease.lost:
                    await self._show_progress(case)
                    return case  # cancelled meanwhile, or another instance carries on
                if run.unavailable is not None:
                    return await self._pause(case_id, run.unavailable)
                case = await self.recheck(case_id)
                await self._show_progress(case)  # the status card ends on the new state
                return case
        except LeaseTaken:
            _log.info("case %s is being executed by another instance", case_id)
            return await self._store.get(case_id)

    async def recheck(self, case_id: str) -> RemovalCase:
        """Read Partner Center afresh; offer the final confirmation, ask about new blockers, or
        explain what still blocks. The card is posted before the state is saved, so a crash in
        between repeats the card rather than losing it."""
        case = await self._get(case_id)
        now = self._clock()
        try:
            plan = await plan_removal(self._client, _customer_of(case), now=now)
        except PartnerCenterError as error:
            if is_unavailable(error):
                if case.may_move_to(CaseState.PAUSED):
                    return await self._pause(case_id, error)
                _log.warning("case %s not re-checked, Partner Center is not answering: %s", case_id, error.description)
                return case  # waiting: the next check will do
            await self._messenger.post(case.conversation, cards.partner_center_error_card(error, locale=case.locale))
            failed = await self._fail(case_id, error)
            if failed.state is CaseState.FAILED and self._notifications is not None:
                await self._notifications.failed(failed)
            return failed
        was_waiting = case.state is CaseState.WAITING
        fresh = case.model_copy(deep=True)
        fresh.refresh(plan)
        target = _state_after(fresh, can_remove_now=plan.can_remove_now)
        if not fresh.may_move_to(target) and target is not fresh.state:
            return fresh  # cancelled meanwhile: say nothing more
        fresh.state = target
        message_id = await self._messenger.post(case.conversation, cards.case_card(fresh, now=now, locale=case.locale))

        def apply(current: RemovalCase) -> None:
            current.refresh(plan)
            current.move_to(target)
            if target is CaseState.READY:
                current.final_message_id = message_id
            elif target is CaseState.AWAITING_APPROVAL:
                current.status_message_id = message_id

        try:
            case, _ = await self._store.update(case_id, apply)
        except InvalidTransition:
            return await self._get(case_id)
        await self._refresh_plan(case_id)
        if was_waiting and case.state is CaseState.READY and self._notifications is not None:
            await self._notifications.ready(case)
        return case

    async def remove(self, case_id: str) -> RemovalCase | None:
        try:
            async with self._leases.hold(case_id):
                return await self._remove(case_id)
        except LeaseTaken:
            _log.info("case %s is being removed by another instance", case_id)
            return await self._store.get(case_id)

    async def _remove(self, case_id: str) -> RemovalCase | None:
        case = await self._store.get(case_id)
        if case is None or case.state is not CaseState.REMOVING:
            return case
        locale, now = case.locale, self._clock()
        approver = case.approved_by or case.requested_by
        try:
            # Already gone (a resumed case whose PATCH landed before the crash or the silence,
            # or someone used the portal): no plan needed, and the client writes nothing.
            if await self._client.read_relationship(case.customer.id) is not Relationship.NONE:
                # Never trust the plan from memory: the world may have changed since the click.
                plan = await plan_removal(self._client, _customer_of(case), now=now)
                if not plan.can_remove_now:
                    return await self._refuse_removal(case, plan)
            result = await self._client.remove_relationship(case.customer.id)
        except PartnerCenterError as error:
            if is_unavailable(error):
                # The PATCH may have landed: the resumed removal reads the relationship first.
                return await self._pause(case_id, error)
            await self._record_removal(case, approver, "failed", error.description, error.correlation_id)
            case = await self._fail(case_id, error)
            await self._refresh_plan(case_id)
            await self._update_final(case, cards.partner_center_error_card(error, locale=locale))
            if self._notifications is not None:
                await self._notifications.failed(case)
            return case
        detail = "relationship already none: nothing sent" if result.already_removed else "relationship read back as none"
        await self._record_removal(case, approver, "ok", detail, result.correlation_id)
        try:
            link = await self._client.get_relationship_request_url()
        except PartnerCenterError:
            link = ""
            _log.warning("removed %s but could not fetch the relationship request link", case.customer.id)

        def removed(current: RemovalCase) -> None:
            current.move_to(CaseState.REMOVED)
            current.removed_at = self._clock()
            current.removal_correlation_id = result.correlation_id
            current.relationship_request_url = link

        case, _ = await self._store.update(case_id, removed)
        await self._refresh_plan(case_id)
        await self._update_final(case, cards.result_card(case, locale=locale))
        if self._notifications is not None:
            await self._notifications.removed(case)
        return case

    # ---- Partner Center changed, or stopped answering ----

    async def _refuse_removal(self, case: RemovalCase, plan: RemovalPlan) -> RemovalCase:
        """The final confirmation was given, but Partner Center changed since: remove nothing,
        say what blocks now, and ask about what needs a decision (or wait for what does not)."""
        now, locale = self._clock(), case.locale

        def back(current: RemovalCase) -> None:
            current.refresh(plan)
            current.move_to(_state_after(current, can_remove_now=False))

        case, _ = await self._store.update(case.id, back)
        blocking = [item for item in case.still_blocking if item.since_plan or not item.action.is_automatic]
        await self._audit.record(AuditEvent.about(
            case, at=now, action="removal.blocked", actor="offboard", result="refused",
            detail="Partner Center changed since the final confirmation: " + ", ".join(item_of(i) for i in blocking[:10]),
        ))
        await self._refresh_plan(case.id)
        await self._update_final(case, cards.still_blocked_card(case, now=now, locale=locale, changed=True))
        if case.state is CaseState.AWAITING_APPROVAL:
            message_id = await self._messenger.post(case.conversation, cards.case_card(case, now=now, locale=locale))
            case, _ = await self._store.update(case.id, lambda c: setattr(c, "status_message_id", message_id))
        return case

    async def _pause(self, case_id: str, error: PartnerCenterError) -> RemovalCase:
        """Partner Center is not answering: pause the case and say so; :meth:`resume` carries
        on once it answers. Items not yet carried out stay as they are (not failed)."""
        now = self._clock()
        try:
            case, _ = await self._store.update(case_id, lambda c: c.pause_for(ItemError.from_error(error), at=now))
        except InvalidTransition:
            return await self._get(case_id)  # cancelled meanwhile
        _log.warning("case %s paused: Partner Center is not answering (%s)", case_id, error.description)
        await self._audit.record(AuditEvent.about(
            case, at=now, action="case.paused", actor="offboard", result="paused",
            detail=error.description, correlation_id=error.correlation_id,
        ))
        card = cards.paused_card(case, now=now, locale=case.locale)
        assert case.pause is not None
        if case.pause.resume_to is CaseState.REMOVING:
            await self._update_final(case, card)  # the "removing…" card
        else:
            await self._messenger.post(case.conversation, card)
            await self._show_progress(case)
        await self._refresh_plan(case_id)
        return case

    async def _unpause(self, case_id: str) -> bool:
        """Back to the state the case was paused in, and carry on (once, whichever instance)."""

        def back(current: RemovalCase) -> CaseState:
            if current.state is not CaseState.PAUSED:
                raise Unchanged(None)  # resumed by another instance, or cancelled
            return current.unpause()

        try:
            case, resumed_to = await self._store.update(case_id, back)
        except InvalidTransition:
            return False
        if resumed_to is None:
            return False
        _log.info("case %s resumed (%s): Partner Center answers again", case_id, resumed_to.value)
        await self._audit.record(AuditEvent.about(case, at=self._clock(), action="case.resumed", actor="offboard", result="ok"))
        await self._messenger.post(case.conversation, cards.resumed_card(case, locale=case.locale))
        if resumed_to is CaseState.REMOVING:
            await self._update_final(case, cards.removing_card(case, locale=case.locale))
            self.start_removal(case_id)
        else:
            await self._show_progress(case)
            self.start_execution(case_id)
        await self._refresh_plan(case_id)
        return True

    # ---- Inside ----

    async def _get(self, case_id: str) -> RemovalCase:
        case = await self._store.get(case_id)
        if case is None:
            raise KeyError(case_id)
        return case

    async def _fail(self, case_id: str, error: PartnerCenterError) -> RemovalCase:
        def failed(current: RemovalCase) -> None:
            current.move_to(CaseState.FAILED)
            current.error = ItemError.from_error(error)

        try:
            case, _ = await self._store.update(case_id, failed)
        except InvalidTransition:
            return await self._get(case_id)
        return case

    async def _show_progress(self, case: RemovalCase) -> None:
        if case.status_message_id:
            card = cards.status_card(case, now=self._clock(), locale=case.locale)
            await self._messenger.update(case.conversation, case.status_message_id, card)

    async def _update_final(self, case: RemovalCase, card: dict[str, Any]) -> None:
        if case.final_message_id:
            await self._messenger.update(case.conversation, case.final_message_id, card)
        else:
            await self._messenger.post(case.conversation, card)

    async def _refresh_plan(self, case_id: str) -> None:
        case = await self._store.get(case_id)
        if case is not None and case.plan_message_id:
            card = cards.plan_card(case, now=self._clock(), locale=case.locale)
            await self._messenger.update(case.conversation, case.plan_message_id, card)

    async def _record_item(self, case: RemovalCase, item: CaseItem) -> None:
        failed = item.outcome is Outcome.FAILED
        await self._audit.record(AuditEvent.about(
            case,
            at=self._clock(),
            action="item.failed" if failed else "item.done",
            actor="offboard",
            item=item_of(item),
            result="failed" if failed else "ok",
            detail=item.error.description if item.error else "",
            correlation_id=item.error.correlation_id if item.error else "",
        ))

    async def _record_removal(self, case: RemovalCase, approver: Person, result: str, detail: str, correlation_id: str) -> None:
        await self._audit.record(AuditEvent.about(
            case,
            at=self._clock(),
            action="removal.done" if result == "ok" else "removal.failed",
            actor=actor_of(approver),
            result=result,
            detail=detail,
            correlation_id=correlation_id,
        ))


def _state_after(case: RemovalCase, *, can_remove_now: bool) -> CaseState:
    """Where a fresh read of Partner Center leaves the case."""
    if can_remove_now:
        return CaseState.READY
    if case.next_pending is not None:
        return CaseState.AWAITING_APPROVAL  # new blockers appeared: someone must decide on them
    return CaseState.WAITING


def _customer_of(case: RemovalCase) -> Customer:
    return Customer.model_validate(
        {
            "id": case.customer.id,
            "companyProfile": {"tenantId": case.customer.id, "companyName": case.customer.name, "domain": case.customer.domain},
            "relationshipToPartner": "reseller",
        }
    )
