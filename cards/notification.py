"""Notification cards: posted as a new thread in the notification channels and 1:1 to the
requester when a removal ends, fails, becomes possible, or a term end approaches; and for
notifications other systems send through ``POST /api/notifications``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from removal.case import CaseItem, RemovalCase

from .adaptive import action, adaptive_card, facts, literal, open_url, text
from .format import format_date, format_date_relative
from .texts import DEFAULT_LOCALE, t
from .verbs import Verb
from .words import customer_name, item_label, person_name

__all__ = ("NotificationKind", "case_link", "external_notification_card", "notification_card")

NotificationKind = Literal["removed", "failed", "ready", "reminder"]


def notification_card(
    kind: NotificationKind,
    case: RemovalCase,
    *,
    now: datetime,
    items: list[CaseItem] | None = None,
    locale: str = DEFAULT_LOCALE,
) -> dict[str, Any]:
    """What happened to ``case``, with who asked and a way back to it.

    Buttons: "Open the removal" (a Teams link to the message the removal was asked in, when the
    case has one) and "Show status" (``status_page``: the case's status card, from any chat).
    ``items``: for a reminder, the subscriptions whose term ends soon.
    """
    title = t(locale, f"notify.{kind}.title", customer=customer_name(case.customer))
    body: list[dict[str, Any]] = [text(title, size="Medium", weight="Bolder")]
    body.append(text(t(locale, f"notify.{kind}.text", customer=customer_name(case.customer)), spacing="Small"))
    for item in items or []:
        ends = format_date_relative(item.term_ends, now, locale) if item.term_ends else ""
        body.append(text(t(locale, "notify.reminder.item", item=item_label(item, locale), date=ends), spacing="None"))
    pairs = [
        (t(locale, "result.requested_by"), person_name(case.requested_by, locale)),
        (t(locale, "notify.requested_on"), format_date(case.requested_at, locale)),
    ]
    if case.error is not None:
        pairs.append((t(locale, "notify.error"), case.error.description[:300]))
        if case.error.correlation_id:
            pairs.append((t(locale, "result.correlation_id"), case.error.correlation_id))
    body.append(facts(pairs))
    buttons = [action(t(locale, "notify.show_status"), Verb.STATUS_PAGE, {"caseId": case.id, "page": 0})]
    link = case_link(case)
    if link:
        buttons.insert(0, open_url(t(locale, "notify.open"), link))
    return adaptive_card(body, buttons, fallback_text=title, lang=locale)


def external_notification_card(
    title: str, message: str, url: str = "", *, from_elsewhere: bool = True, locale: str = DEFAULT_LOCALE
) -> dict[str, Any]:
    """A notification with no case behind it: sent by another system (a ticketing tool; then it
    says so, ``from_elsewhere``), or an event from Partner Center.

    ``title`` and ``message`` are shown as written (:func:`literal`), never as markdown: another
    system's text (or a customer's name in it) must not put a link or bold text in the bot's voice.
    """
    shown = literal(title)
    body = [text(shown, size="Medium", weight="Bolder")]
    if message:
        body.append(text(literal(message), spacing="Small"))
    if from_elsewhere:
        body.append(text(t(locale, "notify.external.from"), subtle=True, spacing="Small"))
    return adaptive_card(body, [open_url(t(locale, "notify.external.open"), url)] if url else [], fallback_text=shown, lang=locale)


def case_link(case: RemovalCase) -> str:
    """A Teams link to the channel message the removal was asked in ('' outside channels)."""
    conversation = case.conversation.get("conversation") or {}
    conversation_id = str(conversation.get("id", ""))
    tenant = str(conversation.get("tenantId", "") or conversation.get("tenant_id", ""))
    if ";messageid=" not in conversation_id:
        return ""
    channel, root = conversation_id.split(";messageid=", 1)
    message = case.plan_message_id or root
    return f"https://teams.microsoft.com/l/message/{channel}/{message}?tenantId={tenant}&parentMessageId={root}"
