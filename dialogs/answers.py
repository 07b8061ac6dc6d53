"""The commands answered at once, with no dialog state: ``status``, ``history``, ``notify here``,
``help``, and a command too long to be one. Each is a plain function of the turn; the Teams edge
routes typed commands to them by name (also while a customer choice waits: it keeps waiting).
"""

from __future__ import annotations

from botbuilder.core import TurnContext

import cards
from partner_center import PartnerCenterError, resolve_customers

from .commands import MAX_COMMAND_LENGTH
from .remove_dialog import RemovalServices
from .turn import Turn

__all__ = ("answer_help", "answer_history", "answer_notify_here", "answer_status", "answer_too_long")


async def answer_help(context: TurnContext, turn: Turn, services: RemovalServices, argument: str) -> None:
    await turn.reply.post(cards.help_card(locale=turn.locale))


async def answer_too_long(context: TurnContext, turn: Turn, services: RemovalServices, argument: str) -> None:
    await context.send_activity(cards.t(turn.locale, "command.too_long", limit=MAX_COMMAND_LENGTH))


async def answer_status(context: TurnContext, turn: Turn, services: RemovalServices, argument: str) -> None:
    case = await services.store.current_for(turn.conversation_id)
    if case is None:
        await context.send_activity(cards.t(turn.locale, "status.nothing"))
        return
    await turn.reply.post(cards.status_card(case, now=services.clock(), locale=turn.locale))


async def answer_history(context: TurnContext, turn: Turn, services: RemovalServices, argument: str) -> None:
    """What the audit trail holds for a customer; removed customers are found by name too."""
    query, locale = argument, turn.locale
    try:
        found = [{"id": c.id or "", "name": c.name} for c in await resolve_customers(services.client, query)]
    except PartnerCenterError:
        found = []
    known = {c["id"] for c in found}
    found += [c for c in await services.audit.customers_named(query) if c["id"] not in known]
    if len(found) != 1:
        names = ", ".join(cards.literal(c["name"]) for c in found[:10])
        key = "history.ambiguous" if found else "customer.none.text"
        await context.send_activity(cards.t(locale, key, query=cards.literal(query), names=names))
        return
    [customer] = found
    events = await services.audit.history(customer["id"])
    await turn.reply.post(cards.history_card(customer["name"] or customer["id"], events, locale=locale))


async def answer_notify_here(context: TurnContext, turn: Turn, services: RemovalServices, argument: str) -> None:
    """``notify here`` in a team channel: that channel gets the notifications from now on."""
    installations = services.installations
    place = await installations.remember(context) if installations is not None else None
    if installations is None or place is None or place.scope != "channel":
        await context.send_activity(cards.t(turn.locale, "notify.here.not_channel"))
        return
    added = await installations.subscribe(place.key)
    # Who made a channel receive every removal's notifications, and which channel.
    await services.record(
        turn.person,
        "notify.subscribed",
        item=place.key,
        result="ok" if added else "unchanged",
        detail="" if added else "the channel was subscribed already",
    )
    await context.send_activity(cards.t(turn.locale, "notify.here.done" if added else "notify.here.already"))
