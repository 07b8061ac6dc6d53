"""The remove-relationship conversation, as a waterfall.

    resolve ─(several matches: choice card)─▶ plan ─▶ the case is opened; first question posted

A dry run (``plan <customer>``) stops after the plan card. From then on the case lives in the
case store, not in this dialog: every click on its cards is handled by
:class:`removal.decisions.CaseDecisions` from the stored case, so clicks reach the right case
from any conversation and any bot instance, and a duplicate click changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

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
from partner_center.access import AccessInventory, PartnerAccessReader
from removal import CaseState, CustomerRef, Person, RemovalCase
from removal.access import AccessPolicy, Refusal
from removal.audit import AuditEvent, AuditTrail, actor_of
from removal.decisions import CaseDecisions
from removal.store import CaseAlreadyOpen, CaseStore
from removal.transfers import read_transfers
from removal.workflow import RemovalWorkflow

from .card_prompt import CustomerChoicePrompt, expect
from .turn import Turn

__all__ = ("CaseMessageNotes", "Installations", "InstalledPlace", "RemovalServices", "RemoveRelationshipDialog")

_CHOICE = "card_action"  # the prompt's id, as dialog states stored before it was renamed hold it


# What the dialogs ask of two stores the Teams edge owns. Dialogs may not import bot (the layers
# in pyproject.toml), so they name only what they call; bot's classes fit by their shape.


class InstalledPlace(Protocol):
    """A place the bot is installed in (bot.installations.Installation)."""

    @property
    def key(self) -> str: ...

    @property
    def scope(self) -> str: ...  # "channel", "groupChat" or "personal"


class Installations(Protocol):
    """Where the bot is installed (bot.installations.InstallationStore)."""

    async def remember(self, turn_context: TurnContext) -> InstalledPlace | None: ...

    async def subscribe(self, key: str) -> bool: ...


class CaseMessageNotes(Protocol):
    """Which Teams messages show a case (bot.case_messages.CaseMessageBook)."""

    async def opened(self, case: RemovalCase, *, plan: str, step: str) -> None: ...


@dataclass(frozen=True, slots=True)
class RemovalServices:
    """What the conversation needs, injected by the composition root."""

    client: PartnerCenterClient
    store: CaseStore
    workflow: RemovalWorkflow
    decisions: CaseDecisions
    audit: AuditTrail
    clock: Callable[[], datetime]
    # Where the bot is installed; None: the notify commands are off.
    installations: Installations | None = None
    # Which Teams messages show a case; None: not noted.
    messages: CaseMessageNotes | None = None
    # Who may do what (the edge checks people; the dialog asks it about customers).
    access: AccessPolicy = field(default_factory=AccessPolicy)
    # Reads the access the partner still has (the plan's "Access the partner still has"); None: not shown.
    partner_access: PartnerAccessReader | None = None

    async def record(self, person: Person, action: str, case: RemovalCase | None = None, **fields: Any) -> None:
        """Audit what a person did."""
        actor, at = actor_of(person), self.clock()
        if case is not None:
            await self.audit.record(AuditEvent.about(case, at=at, action=action, actor=actor, **fields))
        else:
            await self.audit.record(AuditEvent(at=at, action=action, actor=actor, **fields))


class RemoveRelationshipDialog(ComponentDialog):
    """Options: ``{"query": "Contoso", "dry_run": False}``."""

    def __init__(self, services: RemovalServices) -> None:
        super().__init__(RemoveRelationshipDialog.__name__)
        self._services = services
        self.add_dialog(WaterfallDialog("remove", [self._resolve, self._plan]))
        self.add_dialog(CustomerChoicePrompt(_CHOICE))
        self.initial_dialog_id = "remove"

    # ---- resolve ─▶ plan ----

    async def _resolve(self, step: WaterfallStepContext) -> DialogTurnResult:
        options, turn = step.options or {}, Turn.of(step.context)
        step.values["dry_run"] = bool(options.get("dry_run"))
        # The requester is who typed the command, not whoever later clicks the customer choice.
        step.values["requested_by"] = turn.person.model_dump()
        query = str(options.get("query", ""))
        locale = turn.locale
        try:
            matches = await resolve_customers(self._services.client, query)
        except PartnerCenterError as error:
            await turn.reply.post(cards.partner_center_error_card(error, locale=locale))
            return await step.end_dialog()
        if not matches:
            await turn.reply.post(
                cards.error_card(
                    cards.t(locale, "customer.none.title"), cards.t(locale, "customer.none.text", query=cards.literal(query)), locale=locale
                )
            )
            return await step.end_dialog()
        if len(matches) == 1:
            return await step.next({"customer_id": matches[0].id})
        refs = [CustomerRef(id=c.id or "", name=c.name, domain=c.domain) for c in matches]
        await turn.reply.post(cards.customer_choice_card(query, refs, locale=locale))
        # Only the person who typed the command chooses (under four-eyes the requester is who
        # asked, so nobody else may pick the customer in their name), among the customers offered.
        return await step.begin_dialog(_CHOICE, expect(by=turn.person, among=[ref.id for ref in refs]))

    async def _plan(self, step: WaterfallStepContext) -> DialogTurnResult:
        customer_id = step.result["customer_id"]
        turn, services = Turn.of(step.context), self._services
        locale, show = turn.locale, turn.reply.show
        if services.access.is_protected(customer_id):
            await self._refuse_protected(turn, customer_id)
            return await step.end_dialog()
        try:
            customer = await services.client.get_customer(customer_id)
            if customer.relationship_to_partner is Relationship.NONE:
                await show(
                    cards.error_card(
                        cards.t(locale, "customer.already_removed.title"),
                        cards.t(locale, "customer.already_removed.text", customer=cards.literal(customer.name or customer_id)),
                        locale=locale,
                    )
                )
                return await step.end_dialog()
            if customer.relationship_to_partner is not Relationship.RESELLER:
                await show(
                    cards.error_card(
                        cards.t(locale, "customer.not_reseller.title"),
                        cards.t(
                            locale,
                            "customer.not_reseller.text",
                            customer=cards.literal(customer.name),
                            relationship=customer.relationship_to_partner.value,
                        ),
                        locale=locale,
                    )
                )
                return await step.end_dialog()
            open_case = None if step.values["dry_run"] else await services.store.open_for_customer(customer_id)
            if open_case is not None:
                await self._point_to(step.context, turn, open_case)
                return await step.end_dialog()
            plan = await plan_removal(services.client, customer, now=services.clock())
        except NotFoundError:
            await show(
                cards.error_card(
                    cards.t(locale, "customer.none.title"),
                    cards.t(locale, "customer.none.text", query=cards.literal(customer_id)),
                    locale=locale,
                )
            )
            return await step.end_dialog()
        except PartnerCenterError as error:
            await show(cards.partner_center_error_card(error, locale=locale))
            return await step.end_dialog()

        requested_by = Person.model_validate(step.values.get("requested_by") or turn.person.model_dump())
        # Read before the case opens: what it finds becomes the case's teardown items.
        access = await self._read_access(customer_id, allow_delegated_access=customer.allow_delegated_access)
        case = RemovalCase.open(plan, requested_by=requested_by, at=services.clock(), access=access)
        # The transfer requests other partners created for the customer, shown next to the plan
        # (which blockers they would clear); not readable: none shown, the re-checks read again.
        transfers = await read_transfers(services.client, customer_id)
        if transfers:
            case.refresh_transfers(transfers)
        if step.values["dry_run"]:
            await services.record(turn.person, "plan.viewed", case, detail=_blocker_counts(case))
            await show(cards.plan_card(case, dry_run=True, now=services.clock(), locale=locale))
            return await step.end_dialog()
        await self._open(step.context, turn, case, can_remove_now=plan.can_remove_now)
        return await step.end_dialog()

    async def _read_access(self, customer_id: str, *, allow_delegated_access: bool | None) -> AccessInventory | None:
        """The access the partner still has to the customer; None when Graph is not wired (the
        plan then neither shows it nor offers to remove it). Never fails the plan: a part that
        cannot be read is an entry of the inventory saying why."""
        reader = self._services.partner_access
        if reader is None:
            return None
        return await reader.read(customer_id, now=self._services.clock(), allow_delegated_access=allow_delegated_access)

    async def _open(self, context: TurnContext, turn: Turn, case: RemovalCase, *, can_remove_now: bool) -> None:
        """Store the case (the customer's only open one), then post its plan and first card."""
        services, locale, now = self._services, turn.locale, self._services.clock()
        case.conversation = turn.reference
        case.locale = locale
        if case.next_pending is None:
            case.move_to(CaseState.READY if can_remove_now else CaseState.WAITING, at=case.requested_at)
        try:
            await services.store.create(case)
        except CaseAlreadyOpen as open_case:  # asked twice at once, in two conversations
            await self._point_to(context, turn, open_case.case)
            return
        await services.record(turn.person, "removal.requested", case, detail=_blocker_counts(case))
        await services.store.attach(turn.conversation_id, case.id)
        plan_message_id = await turn.reply.show(cards.plan_card(case, now=now, locale=locale))
        step_message_id = await turn.reply.post(cards.case_card(case, now=now, locale=locale))
        if services.messages is not None:
            await services.messages.opened(case, plan=plan_message_id, step=step_message_id)

    async def _refuse_protected(self, turn: Turn, customer_id: str) -> None:
        """A protected customer (or the partner's own tenant) is never planned nor removed."""
        services, locale = self._services, turn.locale
        await services.record(turn.person, Refusal.PROTECTED.value, result="refused", customer_id=customer_id)
        await turn.reply.show(
            cards.error_card(
                cards.t(locale, "access.refused.title"),
                cards.t(locale, "access.protected.text", customer=cards.literal(customer_id)),
                locale=locale,
            )
        )

    async def _point_to(self, context: TurnContext, turn: Turn, case: RemovalCase) -> None:
        """The customer already has an open case: show it rather than start a second one. A
        waiting case is re-checked now (its answer goes to the conversation it was asked in)."""
        services, locale = self._services, turn.locale
        if case.state is CaseState.WAITING:
            await services.workflow.recheck(case.id)
            if case.conversation.get("conversation", {}).get("id") == turn.conversation_id:
                return
            case = await services.store.get(case.id) or case
        await context.send_activity(
            cards.t(
                locale,
                "remove.open_elsewhere",
                customer=cards.literal(case.customer.name),
                person=cards.literal(case.requested_by.name),
                date=cards.format_date(case.requested_at, locale),
            )
        )
        await turn.reply.post(cards.case_card(case, now=services.clock(), locale=locale))


def _blocker_counts(case: RemovalCase) -> str:
    teardown = len(case.teardown_items)
    access = f", {teardown} access item(s)" if teardown else ""
    return f"{len(case.blocker_items)} blocker(s){access}, {len(case.to_decide)} to decide"
