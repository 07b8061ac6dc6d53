"""The root dialog: reads a typed command and routes it.

``remove <customer>`` (also ``offboard``) and ``plan <customer>`` (a dry run) start the
remove-relationship dialog; ``status``, ``cancel`` and ``help`` are answered at once, also in the
middle of a removal (they interrupt without losing it); a command too long to be one is told so;
anything else gets help.
"""

from __future__ import annotations

from botbuilder.dialogs import (
    ComponentDialog,
    Dialog,
    DialogContext,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.schema import ActivityTypes

import cards
from partner_center import PartnerCenterError, resolve_customers
from removal import CaseState

from .commands import MAX_COMMAND_LENGTH, Command, parse_command
from .remove_dialog import RemovalServices, RemoveRelationshipDialog, cancel_case
from .turn import CARD_ACTION, locale_of, post

__all__ = ("MainDialog",)

# A new removal may start over a case in these states; in the others, it is still in progress.
_REPLACEABLE = (CaseState.WAITING, CaseState.FAILED, CaseState.CANCELLED, CaseState.REMOVED)


class MainDialog(ComponentDialog):
    def __init__(self, services: RemovalServices) -> None:
        super().__init__(MainDialog.__name__)
        self._services = services
        self._remove = RemoveRelationshipDialog(services)
        self.add_dialog(self._remove)
        self.add_dialog(WaterfallDialog("route", [self._route]))
        self.initial_dialog_id = "route"

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        """Typed commands in the middle of a removal: answer or interrupt, then carry on."""
        if _typed_text(inner_dc) is not None:
            command = parse_command(_typed_text(inner_dc) or "")
            interrupted = await self._interrupt(inner_dc, command)
            if interrupted is not None:
                return interrupted
        return await super().on_continue_dialog(inner_dc)

    async def _interrupt(self, dc: DialogContext, command: Command) -> DialogTurnResult | None:
        case = await self._services.store.current_for(dc.context.activity.conversation.id)
        locale = locale_of(dc.context)
        if command.name == "cancel":
            if case is not None:
                await cancel_case(dc.context, self._services, case)
            else:
                await dc.context.send_activity(cards.t(locale, "cancel.nothing"))
            await dc.cancel_all_dialogs()
            return await dc.end_dialog()
        if command.name == "help":
            await post(dc.context, cards.help_card(locale=locale))
            return Dialog.end_of_turn
        if command.name == "too_long":
            await dc.context.send_activity(cards.t(locale, "command.too_long", limit=MAX_COMMAND_LENGTH))
            return Dialog.end_of_turn
        if command.name == "status":
            await self._status(dc)
            return Dialog.end_of_turn
        if command.name == "history":
            await self._history(dc, command.argument)
            return Dialog.end_of_turn
        if command.name == "notify":
            await self._notify_here(dc)
            return Dialog.end_of_turn
        if command.name in ("remove", "plan"):
            if case is not None and case.state not in _REPLACEABLE and command.name == "remove":
                await dc.context.send_activity(cards.t(locale, "remove.in_progress", customer=cards.literal(case.customer.name)))
                return Dialog.end_of_turn
            # The earlier conversation is over (or this is a dry run): start afresh.
            await dc.cancel_all_dialogs()
            return await dc.begin_dialog("route")
        await post(dc.context, cards.help_card(locale=locale))
        return Dialog.end_of_turn

    async def _route(self, step: WaterfallStepContext) -> DialogTurnResult:
        text = _typed_text(step) or ""
        command = parse_command(text)
        locale = locale_of(step.context)
        if command.name in ("remove", "plan"):
            current = await self._services.store.current_for(step.context.activity.conversation.id)
            if command.name == "remove" and current is not None and current.state not in _REPLACEABLE:
                await step.context.send_activity(cards.t(locale, "remove.in_progress", customer=cards.literal(current.customer.name)))
                return await step.end_dialog()
            return await step.replace_dialog(
                self._remove.id, {"query": command.argument, "dry_run": command.name == "plan"}
            )
        if command.name == "status":
            await self._status(step)
        elif command.name == "history":
            await self._history(step, command.argument)
        elif command.name == "notify":
            await self._notify_here(step)
        elif command.name == "cancel":
            case = await self._services.store.current_for(step.context.activity.conversation.id)
            if case is not None:
                await cancel_case(step.context, self._services, case)
            else:
                await step.context.send_activity(cards.t(locale, "cancel.nothing"))
        elif command.name == "too_long":
            await step.context.send_activity(cards.t(locale, "command.too_long", limit=MAX_COMMAND_LENGTH))
        else:
            await post(step.context, cards.help_card(locale=locale))
        return await step.end_dialog()

    async def _notify_here(self, dc: DialogContext) -> None:
        """``notify here`` in a team channel: that channel gets the notifications from now on."""
        locale, installations = locale_of(dc.context), self._services.installations
        place = await installations.remember(dc.context) if installations is not None else None
        if place is None or place.scope != "channel":
            await dc.context.send_activity(cards.t(locale, "notify.here.not_channel"))
            return
        added = await installations.subscribe(place.key)
        # Who made a channel receive every removal's notifications, and which channel.
        await self._services.record(
            dc.context, "notify.subscribed", item=place.key, result="ok" if added else "unchanged",
            detail="" if added else "the channel was subscribed already",
        )
        await dc.context.send_activity(cards.t(locale, "notify.here.done" if added else "notify.here.already"))

    async def _history(self, dc: DialogContext, query: str) -> None:
        """What the audit trail holds for a customer; removed customers are found by name too."""
        locale, services = locale_of(dc.context), self._services
        try:
            found = [{"id": c.id or "", "name": c.name} for c in await resolve_customers(services.client, query)]
        except PartnerCenterError:
            found = []
        known = {c["id"] for c in found}
        found += [c for c in await services.audit.customers_named(query) if c["id"] not in known]
        if len(found) != 1:
            names = ", ".join(cards.literal(c["name"]) for c in found[:10])
            key = "history.ambiguous" if found else "customer.none.text"
            await dc.context.send_activity(cards.t(locale, key, query=cards.literal(query), names=names))
            return
        [customer] = found
        events = await services.audit.history(customer["id"])
        await post(dc.context, cards.history_card(customer["name"] or customer["id"], events, locale=locale))

    async def _status(self, dc: DialogContext) -> None:
        locale = locale_of(dc.context)
        case = await self._services.store.current_for(dc.context.activity.conversation.id)
        if case is None:
            await dc.context.send_activity(cards.t(locale, "status.nothing"))
            return
        await post(dc.context, cards.status_card(case, now=self._services.clock(), locale=locale))


def _typed_text(dc: DialogContext) -> str | None:
    """The text of a typed message; None for card clicks and other activities."""
    activity = dc.context.activity
    if activity.type != ActivityTypes.message or dc.context.turn_state.get(CARD_ACTION) is not None:
        return None
    return activity.text or ""
