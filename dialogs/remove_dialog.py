"""The remove-relationship conversation, as a waterfall.

    resolve ─(several matches: choice card)─▶ plan ─▶ the case is opened; first question posted

A dry run (``plan <customer>``) stops after the plan card. From then on the case lives in the
case store, not in this dialog: every click on its cards is handled by
:class:`removal.decisions.CaseDecisions` from the stored case, so clicks reach the right case
from any conversation and any bot instance, and a duplicate click changes nothing twice.
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
from removal import CaseState, CustomerRef, Person, RemovalCase
from removal.access import AccessPolicy, Refusal
from removal.audit import AuditEvent, AuditTrail, actor_of
from removal.decisions import CaseDecisions, Effect
from removal.store import CaseAlreadyOpen, CaseStore
from removal.workflow import RemovalWorkflow

from .card_prompt import CardActionPrompt, expect
from .turn import conversation_reference, locale_of, post, show

__all__ = ("RemoveRelationshipDialog", "RemovalServices", "cancel_case", "person_of")

_CARD = "card_action"


@dataclass(frozen=True, slots=True)
class RemovalServices:
    """What the conversation needs, injected by the composition root."""

    client: PartnerCenterClient
    store: CaseStore
    workflow: RemovalWorkflow
    decisions: CaseDecisions
    audit: AuditTrail
    clock: Callable[[], datetime]
    # Where the bot is installed (bot.installations.InstallationStore); None: notifications off.
    installations: Any = None
    # Who may do what (the edge checks people; the dialog asks it about customers).
    access: AccessPolicy = AccessPolicy()

    async def record(self, turn_context: TurnContext, action: str, case: RemovalCase | None = None, **fields: Any) -> None:
        """Audit what a person did in this turn."""
        actor, at = actor_of(person_of(turn_context)), self.clock()
        if case is not None:
            await self.audit.record(AuditEvent.about(case, at=at, action=action, actor=actor, **fields))
        else:
            await self.audit.record(AuditEvent(at=at, action=action, actor=actor, **fields))


def person_of(turn_context: TurnContext) -> Person:
    sender = turn_context.activity.from_property
    return Person(
        id=sender.id if sender else "unknown",
        name=(sender.name or "") if sender else "",
        aad_object_id=(sender.aad_object_id or "") if sender else "",
    )


async def cancel_case(turn_context: TurnContext, services: RemovalServices, case: RemovalCase) -> None:
    """End a case cleanly and say what was already done (Partner Center changes stay)."""
    locale = locale_of(turn_context)
    if not case.is_open:  # the conversation's last case is over: nothing to cancel
        await services.store.attach(turn_context.activity.conversation.id, None)
        await turn_context.send_activity(cards.t(locale, "cancel.nothing"))
        return
    applied = await services.decisions.cancel(case.id, by=person_of(turn_context))
    if applied.effect is Effect.NOT_NOW:
        await turn_context.send_activity(cards.t(locale, "cancel.too_late", customer=cards.literal(case.customer.name)))
        return
    await services.store.attach(turn_context.activity.conversation.id, None)
    await show(turn_context, cards.case_card(applied.case or case, now=services.clock(), locale=locale))


class RemoveRelationshipDialog(ComponentDialog):
    """Options: ``{"query": "Contoso", "dry_run": False}``."""

    def __init__(self, services: RemovalServices) -> None:
        super().__init__(RemoveRelationshipDialog.__name__)
        self._services = services
        self.add_dialog(WaterfallDialog("remove", [self._resolve, self._plan]))
        self.add_dialog(CardActionPrompt(_CARD))
        self.initial_dialog_id = "remove"

    # ---- resolve ─▶ plan ----

    async def _resolve(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options or {}
        step.values["dry_run"] = bool(options.get("dry_run"))
        # The requester is who typed the command, not whoever later clicks the customer choice.
        step.values["requested_by"] = person_of(step.context).model_dump()
        query = str(options.get("query", ""))
        locale = locale_of(step.context)
        try:
            matches = await resolve_customers(self._services.client, query)
        except PartnerCenterError as error:
            await post(step.context, cards.partner_center_error_card(error, locale=locale))
            return await step.end_dialog()
        if not matches:
            await post(step.context, cards.error_card(
                cards.t(locale, "customer.none.title"), cards.t(locale, "customer.none.text", query=cards.literal(query)), locale=locale
            ))
            return await step.end_dialog()
        if len(matches) == 1:
            return await step.next({"customer_id": matches[0].id})
        refs = [CustomerRef(id=c.id or "", name=c.name, domain=c.domain) for c in matches]
        await post(step.context, cards.customer_choice_card(query, refs, locale=locale))
        # Only the person who typed the command chooses (under four-eyes the requester is who
        # asked, so nobody else may pick the customer in their name), among the customers offered.
        return await step.begin_dialog(
            _CARD, expect("choose_customer", by=person_of(step.context), among=[ref.id for ref in refs])
        )

    async def _plan(self, step: WaterfallStepContext) -> DialogTurnResult:
        customer_id = step.result["customer_id"]
        context, services, locale = step.context, self._services, locale_of(step.context)
        if services.access.is_protected(customer_id):
            await self._refuse_protected(context, customer_id)
            return await step.end_dialog()
        try:
            customer = await services.client.get_customer(customer_id)
            if customer.relationship_to_partner is Relationship.NONE:
                await show(context, cards.error_card(
                    cards.t(locale, "customer.already_removed.title"),
                    cards.t(locale, "customer.already_removed.text", customer=cards.literal(customer.name or customer_id)),
                    locale=locale,
                ))
                return await step.end_dialog()
            if customer.relationship_to_partner is not Relationship.RESELLER:
                await show(context, cards.error_card(
                    cards.t(locale, "customer.not_reseller.title"),
                    cards.t(locale, "customer.not_reseller.text", customer=cards.literal(customer.name), relationship=customer.relationship_to_partner.value),
                    locale=locale,
                ))
                return await step.end_dialog()
            open_case = None if step.values["dry_run"] else await services.store.open_for_customer(customer_id)
            if open_case is not None:
                await self._point_to(context, open_case)
                return await step.end_dialog()
            plan = await plan_removal(services.client, customer, now=services.clock())
        except NotFoundError:
            await show(context, cards.error_card(
                cards.t(locale, "customer.none.title"), cards.t(locale, "customer.none.text", query=cards.literal(customer_id)), locale=locale
            ))
            return await step.end_dialog()
        except PartnerCenterError as error:
            await show(context, cards.partner_center_error_card(error, locale=locale))
            return await step.end_dialog()

        requested_by = Person.model_validate(step.values.get("requested_by") or person_of(context).model_dump())
        case = RemovalCase.open(plan, requested_by=requested_by, at=services.clock())
        if step.values["dry_run"]:
            await services.record(context, "plan.viewed", case, detail=_blocker_counts(case))
            await show(context, cards.plan_card(case, dry_run=True, now=services.clock(), locale=locale))
            return await step.end_dialog()
        await self._open(context, case, can_remove_now=plan.can_remove_now)
        return await step.end_dialog()

    async def _open(self, context: TurnContext, case: RemovalCase, *, can_remove_now: bool) -> None:
        """Store the case (the customer's only open one), then post its plan and first card."""
        services, locale, now = self._services, locale_of(context), self._services.clock()
        case.conversation = conversation_reference(context)
        case.locale = locale
        if case.next_pending is None:
            case.move_to(CaseState.READY if can_remove_now else CaseState.WAITING, at=case.requested_at)
        try:
            await services.store.create(case)
        except CaseAlreadyOpen as open_case:  # asked twice at once, in two conversations
            await self._point_to(context, open_case.case)
            return
        await services.record(context, "removal.requested", case, detail=_blocker_counts(case))
        await services.store.attach(context.activity.conversation.id, case.id)
        plan_message_id = await show(context, cards.plan_card(case, now=now, locale=locale))
        step_message_id = await post(context, cards.case_card(case, now=now, locale=locale))

        def remember_messages(current: RemovalCase) -> None:
            current.plan_message_id = plan_message_id
            if current.state is CaseState.READY:
                current.final_message_id = step_message_id
            else:
                current.status_message_id = step_message_id

        await services.store.update(case.id, remember_messages)

    async def _refuse_protected(self, context: TurnContext, customer_id: str) -> None:
        """A protected customer (or the partner's own tenant) is never planned nor removed."""
        services, locale = self._services, locale_of(context)
        await services.record(context, Refusal.PROTECTED.value, result="refused", customer_id=customer_id)
        await show(context, cards.error_card(
            cards.t(locale, "access.refused.title"), cards.t(locale, "access.protected.text", customer=cards.literal(customer_id)),
            locale=locale,
        ))

    async def _point_to(self, context: TurnContext, case: RemovalCase) -> None:
        """The customer already has an open case: show it rather than start a second one. A
        waiting case is re-checked now (its answer goes to the conversation it was asked in)."""
        services, locale = self._services, locale_of(context)
        if case.state is CaseState.WAITING:
            await services.workflow.recheck(case.id)
            if case.conversation.get("conversation", {}).get("id") == context.activity.conversation.id:
                return
            case = await services.store.get(case.id) or case
        await context.send_activity(cards.t(
            locale, "remove.open_elsewhere",
            customer=cards.literal(case.customer.name), person=cards.literal(case.requested_by.name), date=cards.format_date(case.requested_at, locale),
        ))
        await post(context, cards.case_card(case, now=services.clock(), locale=locale))


def _blocker_counts(case: RemovalCase) -> str:
    return f"{len(case.items)} blocker(s), {len(case.to_decide)} to decide"
