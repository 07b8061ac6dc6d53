"""The long-running halves of a removal, run in the background after a click.

- :meth:`RemovalWorkflow.execute`: carry out the approved actions (status card updated in
  place), then read Partner Center afresh: if nothing blocks, post the final confirmation;
  otherwise explain what still blocks and leave the case waiting.
- :meth:`RemovalWorkflow.remove`: check afresh, remove the relationship, verify it, fetch the
  relationship request link, and turn the "removing…" card into the result card.

No botbuilder here: messages go through a :class:`Messenger` (the Teams edge implements it).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Protocol

import cards
from partner_center import Customer, PartnerCenterClient, PartnerCenterError, plan_removal

from .audit import AuditEvent, AuditTrail
from .case import CaseItem, CaseState, ItemError, Outcome, Person, RemovalCase
from .executor import execute_approved
from .store import CaseStore

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
        clock: Callable[[], datetime],
        progress_interval: float = 1.5,
    ) -> None:
        self._audit = audit
        self._client = client
        self._store = store
        self._messenger = messenger
        self._clock = clock
        self._progress_interval = progress_interval

    async def execute(self, case_id: str, *, locale: str) -> RemovalCase | None:
        case = await self._store.get(case_id)
        if case is None or case.state is CaseState.CANCELLED:
            return case

        async def show_progress(current: RemovalCase) -> None:
            if current.status_message_id:
                card = cards.status_card(current, now=self._clock(), locale=locale)
                await self._messenger.update(current.conversation, current.status_message_id, card)

        async def record_item(item: CaseItem) -> None:
            failed = item.outcome is Outcome.FAILED
            await self._audit.record(AuditEvent(
                at=self._clock(),
                action="item.failed" if failed else "item.done",
                actor="offboard",
                customer_id=case.customer.id,
                customer_name=case.customer.name,
                case_id=case.id,
                item=f"{item.action.value} {item.name} ({item.item_id})",
                result="failed" if failed else "ok",
                detail=item.error.description if item.error else "",
                correlation_id=item.error.correlation_id if item.error else "",
            ))

        case = await execute_approved(
            case,
            client=self._client,
            store=self._store,
            on_progress=show_progress,
            on_item=record_item,
            progress_interval=self._progress_interval,
        )
        if (await self._store.get(case_id) or case).state is CaseState.CANCELLED:
            return case
        case = await self.recheck(case, locale=locale)
        await show_progress(case)  # the status card ends on the new state, not "carrying out"
        return case

    async def recheck(self, case: RemovalCase, *, locale: str) -> RemovalCase:
        """Read Partner Center afresh; offer the final confirmation or explain what blocks."""
        now = self._clock()
        try:
            plan = await plan_removal(self._client, self._customer(case), now=now)
        except PartnerCenterError as error:
            case.state = CaseState.FAILED
            case.error = ItemError.from_error(error)
            await self._store.save(case)
            await self._messenger.post(case.conversation, cards.partner_center_error_card(error, locale=locale))
            return case
        case.refresh(plan)
        if plan.can_remove_now:
            case.state = CaseState.READY
            await self._store.save(case)
            case.final_message_id = await self._messenger.post(
                case.conversation, cards.final_confirmation_card(case, locale=locale)
            )
        else:
            case.state = CaseState.WAITING
            await self._store.save(case)
            await self._messenger.post(case.conversation, cards.still_blocked_card(case, now=now, locale=locale))
        await self._store.save(case)
        return case

    async def remove(self, case_id: str, *, approver: Person, message_id: str, locale: str) -> RemovalCase | None:
        case = await self._store.get(case_id)
        if case is None or case.state is not CaseState.REMOVING:
            return case
        now = self._clock()
        try:
            # Never trust the plan from memory: the world may have changed since the click.
            plan = await plan_removal(self._client, self._customer(case), now=now)
            case.refresh(plan)
            if not plan.can_remove_now:
                case.state = CaseState.WAITING
                await self._store.save(case)
                card = cards.still_blocked_card(case, now=now, locale=locale)
                await self._messenger.update(case.conversation, message_id, card)
                return case
            result = await self._client.remove_relationship(case.customer.id)
        except PartnerCenterError as error:
            case.state = CaseState.FAILED
            case.error = ItemError.from_error(error)
            await self._store.save(case)
            await self._record_removal(case, approver, "failed", error.description, error.correlation_id)
            await self._messenger.update(case.conversation, message_id, cards.partner_center_error_card(error, locale=locale))
            return case
        await self._record_removal(case, approver, "ok", "relationship read back as none", result.correlation_id)
        case.state = CaseState.REMOVED
        case.approved_by = approver
        case.removed_at = self._clock()
        case.removal_correlation_id = result.correlation_id
        try:
            case.relationship_request_url = await self._client.get_relationship_request_url()
        except PartnerCenterError:
            _log.warning("removed %s but could not fetch the relationship request link", case.customer.id)
        await self._store.save(case)
        await self._messenger.update(case.conversation, message_id, cards.result_card(case, locale=locale))
        return case

    async def _record_removal(self, case: RemovalCase, approver: Person, result: str, detail: str, correlation_id: str) -> None:
        await self._audit.record(AuditEvent(
            at=self._clock(),
            action="removal.done" if result == "ok" else "removal.failed",
            actor=f"{approver.name} ({approver.aad_object_id or approver.id})",
            customer_id=case.customer.id,
            customer_name=case.customer.name,
            case_id=case.id,
            result=result,
            detail=detail,
            correlation_id=correlation_id,
        ))

    @staticmethod
    def _customer(case: RemovalCase) -> Customer:
        return Customer.model_validate(
            {
                "id": case.customer.id,
                "companyProfile": {"tenantId": case.customer.id, "companyName": case.customer.name, "domain": case.customer.domain},
                "relationshipToPartner": "reseller",
            }
        )

