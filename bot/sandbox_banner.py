"""Every card the bot shows while it runs on the embedded Partner Center sandbox says so.

Security review row 17: a bot whose Partner Center credentials are missing (or misspelt) runs
against the demo data, and its cards said "removed" without saying that nothing real happened.
:class:`SandboxBanner` is botbuilder middleware that puts one banner at the top of every Adaptive
Card the bot sends: replies, proactive posts, updates of posted cards, and the cards that answer
an ``Action.Execute`` click (an ``invokeResponse`` whose body is ``card_reply``'s
``{"statusCode": 200, "type": <adaptive card>, "value": card}``).

The banner is a Container of style ``warning`` (Adaptive Cards 1.2+, in Teams' host config: an
amber background, readable in the light and dark themes; a TextBlock coloured ``warning`` is pale
yellow on white in Teams) holding one TextBlock, ``sandbox.banner`` from the gettext catalogs, in
the card's own language (its root ``lang``; English without one). It carries the id
:data:`BANNER_ID`, so a card already stamped is left as it is.

Cards are never changed in place: the bot caches and reuses card dicts. The stamped card is a new
dict with a new ``body`` list (the elements themselves are shared, unchanged), in a new
attachment. On an update, botbuilder sends the very Activity object the caller passed (its
``update_activity`` coroutine is bound to it before the handlers run), so that object's
``attachments`` attribute is replaced by a new list; the caller's attachments and cards are not
touched.

Proactive turns are covered: botbuilder 4.17.1's ``CloudAdapter.continue_conversation`` (through
``process_proactive``) and ``create_conversation`` both build a TurnContext and call
``run_pipeline``, which runs the registered middleware whenever the turn has an activity (the
continuation event, or the synthetic "create conversation" event): cloud_adapter_base.py and
bot_adapter.py in botbuilder.core.

Wiring (the composition root, when the bot runs on the sandbox)::

    adapter.use(SandboxBanner())
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from botbuilder.core import InvokeResponse, Middleware, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from cards.adaptive import CARD_CONTENT_TYPE
from cards.texts import t

__all__ = ("BANNER_ID", "SandboxBanner", "banner", "has_banner", "stamp_activity", "stamp_card")

BANNER_ID = "offboard-sandbox-banner"
_FALLBACK_LANGUAGE = "en"


def banner(language: str) -> dict[str, Any]:
    """The banner element in ``language`` (a 2-letter code or a locale; English without a catalog)."""
    return {
        "type": "Container",
        "id": BANNER_ID,
        "style": "warning",
        "items": [{"type": "TextBlock", "text": t(language or _FALLBACK_LANGUAGE, "sandbox.banner"), "wrap": True, "weight": "Bolder"}],
    }


def has_banner(card: dict[str, Any]) -> bool:
    body = card.get("body")
    return isinstance(body, list) and any(isinstance(element, dict) and element.get("id") == BANNER_ID for element in body)


def stamp_card(card: Any) -> Any:
    """``card`` with the banner on top, as a new dict; ``card`` itself when it is not an Adaptive
    Card dict, has a ``body`` that is not a list, or already carries the banner."""
    if not isinstance(card, dict) or card.get("type") != "AdaptiveCard" or has_banner(card):
        return card
    body = card.get("body", [])
    if not isinstance(body, list):
        return card
    language = card.get("lang")
    return {**card, "body": [banner(language if isinstance(language, str) else ""), *body]}


def stamp_activity(activity: Activity) -> None:
    """Stamp the Adaptive Cards ``activity`` carries: its attachments, or the card of an invoke
    answer. The activity's ``attachments`` (or ``value``) is replaced, never the objects in it."""
    if activity.type == ActivityTypes.invoke_response:
        answer = activity.value
        if isinstance(answer, InvokeResponse) and _is_card_answer(answer.body):
            stamped = stamp_card(answer.body["value"])
            if stamped is not answer.body["value"]:
                activity.value = InvokeResponse(status=answer.status, body={**answer.body, "value": stamped})
        return
    if not activity.attachments:
        return
    attachments = []
    changed = False
    for attachment in activity.attachments:
        if getattr(attachment, "content_type", None) == CARD_CONTENT_TYPE:
            stamped = stamp_card(attachment.content)
            if stamped is not attachment.content:
                attachment = copy.copy(attachment)
                attachment.content = stamped
                changed = True
        attachments.append(attachment)
    if changed:
        activity.attachments = attachments


def _is_card_answer(body: Any) -> bool:
    return isinstance(body, dict) and body.get("type") == CARD_CONTENT_TYPE and isinstance(body.get("value"), dict)


class SandboxBanner(Middleware):
    """Middleware: every outgoing Adaptive Card of the turn (sent, updated, or answering an invoke)
    gets the sandbox banner. Use it only when the bot runs on the embedded sandbox."""

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[Any]]) -> Any:
        context.on_send_activities(self._on_send)
        context.on_update_activity(self._on_update)
        return await logic()

    @staticmethod
    async def _on_send(context: TurnContext, activities: Iterable[Activity], next_send: Callable[[], Awaitable[Any]]) -> Any:
        for activity in activities:
            stamp_activity(activity)
        return await next_send()

    @staticmethod
    async def _on_update(context: TurnContext, activity: Activity, next_update: Callable[[], Awaitable[Any]]) -> Any:
        stamp_activity(activity)
        return await next_update()
