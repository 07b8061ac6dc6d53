"""The remove-relationship conversation, as waterfalls.

    resolve ─▶ plan ─▶ decide (one item per turn, loops) ─▶ [execution in the background]
                  │                                              │
                  └──── nothing to decide ───────────────────────┴─▶ finish: final confirmation ─▶ remove

A dry run (``plan <customer>``) stops after the plan card. Card clicks reach these steps through
:class:`CardActionPrompt`; long Partner Center work runs in :class:`RemovalWorkflow` so every
click is answered at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext

import cards
from partner_center import (
    NotFoundError,
    PartnerCenterClient,
    PartnerCenterError,
    Relationship,
    plan_removal,
    resolve_customers,
)
from removal import CaseState, CustomerRef, Decision, Person, RemovalCase
from removal.audit import AuditEvent, AuditTrail
from removal.background import BackgroundTasks
from removal.store import CaseStore
from removal.workflow import RemovalWorkflow

from .card_prompt import CardActionPrompt, expect
from .turn import locale_of, post, show

__all__ = ("RemoveRelationshipDialog", "RemovalServices", "cancel_case", "person_of")

_CARD = "card_action"
_DECIDE = "decide"
_FINISH = "finish"


@dataclass(frozen=True, slots=True)
class RemovalServices:
    """What the conversation needs, injected by the composition root."""

    client: PartnerCenterClient
    store: CaseStore
    workflow: RemovalWorkflow
    background: BackgroundTasks
    audit: AuditTrail
    clock: Callable[[], datetime]

    async def record(self, turn_context: TurnContext, action: str, case: RemovalCase | None = None, **fields: Any) -> None:
        """Audit what a person did in this turn."""
        person = person_of(turn_context)
        if case is not None:
            fields = {"customer_id": case.customer.id, "customer_name": case.customer.name, "case_id": case.id, **fields}
        await self.audit.record(AuditEvent(
            at=self.clock(), action=action, actor=f"{person.name} ({person.aad_object_id or person.id})", **fields
        ))


def person_of(turn_context: TurnContext) -> Person:
    sender = turn_context.activity.from_property
    return Person(
        id=sender.id if sender else "unknown",
        name=(sender.name or "") if sender else "",
        aad_object_id=(sender.aad_object_id or "") if sender else "",
    )


async def cancel_case(turn_context: TurnContext, services: RemovalServices, case: RemovalCase) -> None:
    """End a case cleanly and say what was already done (Partner Center changes stay)."""
    if case.is_open:
        case.state = CaseState.CANCELLED
        await services.store.save(case)
        await services.record(turn_context, "removal.cancelled", case, detail=f"{len(case.done)} action(s) already done")
    await services.store.attach(turn_context.activity.conversation.id, None)
    await show(turn_context, cards.cancelled_card(case, locale=locale_of(turn_context)))


class RemoveRelationshipDialog(ComponentDialog):
    """Options: ``{"query": "Contoso", "dry_run": False}``."""

    def __init__(self, services: RemovalServices) -> None:
        super().__init__(RemoveRelationshipDialog.__name__)
        self._services = services
        self.add_dialog(WaterfallDialog("remove", [self._resolve, self._plan]))
        self.add_dialog(WaterfallDialog(_DECIDE, [self._ask, self._record]))
        self.add_dialog(WaterfallDialog(_FINISH, [self._await_confirmation, self._remove]))
        self.add_dialog(CardActionPrompt(_CARD))
        self.initial_dialog_id = "remove"

    # ---- resolve ─▶ plan ----

    async def _resolve(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options or {}
        step.values["dry_run"] = bool(options.get("dry_run"))
        query = str(options.get("query", ""))
        locale = locale_of(step.context)
        try:
            matches = await resolve_customers(self._services.client, query)
        except PartnerCenterError as error:
            await post(step.context, cards.partner_center_error_card(error, locale=locale))
            return await step.end_dialog()
        if not matches:
            await post(step.context, cards.error_card(
                cards.t(locale, "customer.none.title"), cards.t(locale, "customer.none.text", query=query), locale=locale
            ))
            return await step.end_dialog()
        if len(matches) == 1:
            return await step.next({"customer_id": matches[0].id})
        refs = [CustomerRef(id=c.id or "", name=c.name, domain=c.domain) for c in matches]
        await post(step.context, cards.customer_choice_card(query, refs, locale=locale))
        return await step.begin_dialog(_CARD, expect("choose_customer"))

    async def _plan(self, step: WaterfallStepContext) -> DialogTurnResult:
        customer_id = step.result["customer_id"]
        context, services, locale = step.context, self._services, locale_of(step.context)
        try:
            customer = await services.client.get_customer(customer_id)
            if customer.relationship_to_partner is Relationship.NONE:
                await show(context, cards.error_card(
                    cards.t(locale, "customer.already_removed.title"),
                    cards.t(locale, "customer.already_removed.text", customer=customer.name or customer_id),
                    locale=locale,
                ))
                return await step.end_dialog()
            if customer.relationship_to_partner is not Relationship.RESELLER:
                await show(context, cards.error_card(
                    cards.t(locale, "customer.not_reseller.title"),
                    cards.t(locale, "customer.not_reseller.text", customer=customer.name, relationship=customer.relationship_to_partner.value),
                    locale=locale,
                ))
                return await step.end_dialog()
            plan = await plan_removal(services.client, customer, now=services.clock())
        except NotFoundError:
            await show(context, cards.error_card(
                cards.t(locale, "customer.none.title"), cards.t(locale, "customer.none.text", query=customer_id), locale=locale
            ))
            return await step.end_dialog()
        except PartnerCenterError as error:
            await show(context, cards.partner_center_error_card(error, locale=locale))
            return await step.end_dialog()

        case = RemovalCase.open(plan, requested_by=person_of(context), at=services.clock())
        await services.record(
            context,
            "plan.viewed" if step.values["dry_run"] else "removal.requested",
            case,
            detail=f"{len(case.items)} blocker(s), {len(case.to_decide)} to decide",
        )
        if step.values["dry_run"]:
            await show(context, cards.plan_card(case, dry_run=True, now=services.clock(), locale=locale))
            return await step.end_dialog()
        case.conversation = TurnContext.get_conversation_reference(context.activity).serialize()
        case.plan_message_id = await show(context, cards.plan_card(case, now=services.clock(), locale=locale))
        await services.store.save(case)
        await services.store.attach(context.activity.conversation.id, case.id)
        if case.next_pending is not None:
            return await step.replace_dialog(_DECIDE, {"case_id": case.id, "first": True})
        if plan.can_remove_now:
            case.state = CaseState.READY
            case.final_message_id = await post(context, cards.final_confirmation_card(case, locale=locale))
            await services.store.save(case)
            return await step.replace_dialog(_FINISH, {"case_id": case.id})
        case.state = CaseState.WAITING
        await services.store.save(case)
        await post(context, cards.still_blocked_card(case, now=services.clock(), locale=locale))
        return await step.end_dialog()

    # ---- decide: one item per turn ----

    async def _ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        case_id = step.options["case_id"]
        step.values["case_id"] = case_id
        case = await self._services.store.get(case_id)
        item = case.next_pending if case else None
        if case is None or item is None:
            return await step.end_dialog()
        card = cards.confirmation_card(case, item, now=self._services.clock(), locale=locale_of(step.context))
        # The first question is a new message; the next ones replace the card just clicked.
        await (post(step.context, card) if step.options.get("first") else show(step.context, card))
        return await step.begin_dialog(_CARD, expect("decide", "approve_all", "cancel_case", case_id=case_id))

    async def _record(self, step: WaterfallStepContext) -> DialogTurnResult:
        action, services, context = step.result, self._services, step.context
        case = await services.store.get(step.values["case_id"])
        if case is None or not case.is_open:
            return await step.end_dialog()
        if action["verb"] == "cancel_case":
            await cancel_case(context, services, case)
            return await step.end_dialog()
        person, now = person_of(context), services.clock()
        if action["verb"] == "approve_all":
            count = case.approve_all_remaining(by=person, at=now)
            await services.record(context, "items.approved_all", case, detail=f"{count} item(s)")
        else:
            decision = Decision.APPROVED if action["decision"] == "approve" else Decision.SKIPPED
            try:
                item = case.decide(action["item_key"], decision, by=person, at=now)
            except KeyError:
                item = None  # a forged or stale key: nothing to record; ask the next question
            if item is not None:
                await services.record(context, f"item.{decision.value}", case, item=f"{item.action.value} {item.name} ({item.item_id})")
        await services.store.save(case)
        if case.next_pending is not None:
            return await step.replace_dialog(_DECIDE, {"case_id": case.id})
        return await self._start_execution(step, case)

    async def _start_execution(self, step: WaterfallStepContext, case: RemovalCase) -> DialogTurnResult:
        services, locale = self._services, locale_of(step.context)
        case.state = CaseState.EXECUTING
        case.status_message_id = await show(step.context, cards.status_card(case, now=services.clock(), locale=locale))
        await services.store.save(case)
        services.background.start(services.workflow.execute(case.id, locale=locale), name=f"execute {case.id}")
        return await step.replace_dialog(_FINISH, {"case_id": case.id})

    # ---- finish: final confirmation ─▶ remove ----

    async def _await_confirmation(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["case_id"] = step.options["case_id"]
        return await step.begin_dialog(_CARD, expect("confirm_removal", "cancel_case", case_id=step.options["case_id"]))

    async def _remove(self, step: WaterfallStepContext) -> DialogTurnResult:
        services, context, locale = self._services, step.context, locale_of(step.context)
        case = await services.store.get(step.values["case_id"])
        if case is None or not case.is_open:
            return await step.end_dialog()
        if step.result["verb"] == "cancel_case":
            await cancel_case(context, services, case)
            return await step.end_dialog()
        if case.state is not CaseState.READY:
            # Still executing, or waiting: the confirmation is not on offer yet.
            await show(context, cards.status_card(case, now=services.clock(), locale=locale))
            return await step.replace_dialog(_FINISH, {"case_id": case.id})
        case.state = CaseState.REMOVING
        await services.store.save(case)
        await services.record(context, "removal.confirmed", case)
        message_id = await show(context, cards.removing_card(case, locale=locale))
        services.background.start(
            services.workflow.remove(case.id, approver=person_of(context), message_id=message_id, locale=locale),
            name=f"remove {case.id}",
        )
        await services.store.attach(context.activity.conversation.id, None)
        return await step.end_dialog()

