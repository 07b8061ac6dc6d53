"""Notification cards: posted as a new thread in the notification channels and 1:1 to the
requester when a removal ends, fails, is cancelled, has items that failed, needs a person,
becomes possible, waits for people too long (a reminder, then an escalation to the approvers),
or a term end approaches; and for notifications other systems send through
``POST /api/notifications``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from partner_center.blockers import Action
from removal.case import CaseItem, CaseState, RemovalCase

from .adaptive import action, adaptive_card, bullets, facts, literal, open_url, text
from .format import format_date, format_date_relative, format_datetime
from .result import relationship_link, removed_lines
from .texts import DEFAULT_LOCALE, has_message, t
from .verbs import Verb
from .words import action_phrase, customer_name, done_phrase, item_error_lines, item_label, person_name

__all__ = (
    "MAX_ITEM_LINES",
    "NotificationKind",
    "case_link",
    "external_notification_card",
    "half_offboarded_since",
    "notification_card",
)

NotificationKind = Literal[
    "removed", "failed", "ready", "reminder", "cancelled", "items_failed", "needs_person", "waiting_reminder", "escalation"
]
# Item lines a notification lists at most; the rest are counted, so the card stays small.
MAX_ITEM_LINES = 15
# The kinds about a case waiting for people (a reminder, then an escalation): their text says
# since when, and what it waits for (approvals or the final confirmation).
_WAITS = frozenset({"waiting_reminder", "escalation"})
# The kinds that can end a case whose relationship is already removed (its access teardown
# given up on): their title and text say so (``notify.<kind>.removed.*``).
_AFTER_REMOVAL = frozenset({"failed", "needs_person"})


def notification_card(
    kind: NotificationKind,
    case: RemovalCase,
    *,
    now: datetime,
    items: Sequence[CaseItem] | None = None,
    approvers: Sequence[str] = (),
    plan_message_id: str = "",
    locale: str = DEFAULT_LOCALE,
) -> dict[str, Any]:
    """What happened to ``case``, with who asked and a way back to it.

    Buttons: "Open the removal" (a Teams link to the message the removal was asked in, when the
    case has one) and "Show status" (``status_page``: the case's status card, from any chat).
    ``items``: for a term-end ``reminder``, the subscriptions whose term ends soon; for
    ``cancelled``, what was already carried out (it stays); for ``items_failed``, the items
    Partner Center refused or failed, each with its error. ``approvers``: for an ``escalation``,
    who is asked to decide (names or Entra object ids). ``plan_message_id``: the Teams message
    showing the case's plan, which the link opens (else the message the removal was asked in). A case that changed Partner Center and is
    not finished says since when the customer is half-offboarded. A case failed or given up on
    after its relationship was removed (in the access teardown) says that what failed is the
    removal of the partner's access, when the relationship was removed, and gives the
    relationship request link (as the result card does).
    """
    customer = customer_name(case.customer)
    # Given up on once the relationship was removed (the teardown after it): what failed is the
    # removal of the partner's access, not of the relationship, and the card says which.
    after_removal = kind in _AFTER_REMOVAL and case.removed_at is not None
    message = f"notify.{kind}.removed" if after_removal else f"notify.{kind}"
    title = t(locale, f"{message}.title", customer=customer)
    body: list[dict[str, Any]] = [text(title, size="Medium", weight="Bolder")]
    if kind in _WAITS:
        since = format_datetime(case.state_since or case.requested_at, locale)
        body.append(text(t(locale, f"notify.{kind}.{_wait_of(case)}.text", customer=customer, since=since), spacing="Small"))
    else:
        body.append(text(t(locale, f"{message}.text", customer=customer), spacing="Small"))
    link_buttons: list[dict[str, Any]] = []
    if after_removal:
        body.extend(removed_lines(case, locale))
        link_buttons = relationship_link(case, locale)[1]
    body.extend(_items(kind, list(items or ()), now, locale))
    half = half_offboarded_since(case)
    if half is not None:
        body.append(text(t(locale, "case.half_offboarded", since=format_datetime(half, locale)), weight="Bolder", spacing="Medium"))
    pairs = [
        (t(locale, "result.requested_by"), person_name(case.requested_by, locale)),
        (t(locale, "notify.requested_on"), format_date(case.requested_at, locale)),
    ]
    if approvers:
        pairs.append((t(locale, "notify.approvers"), ", ".join(literal(name) for name in approvers)))
    if case.error is not None:
        if case.error.reason and has_message(f"error.reason.{case.error.reason}"):
            pairs.append((t(locale, "notify.why"), t(locale, f"error.reason.{case.error.reason}")))
        pairs.append((t(locale, "notify.error"), case.error.description[:300]))
        if case.error.correlation_id:
            pairs.append((t(locale, "result.correlation_id"), case.error.correlation_id))
    body.append(facts(pairs))
    buttons = [action(t(locale, "notify.show_status"), Verb.STATUS_PAGE, {"caseId": case.id, "page": 0}), *link_buttons]
    link = case_link(case, message_id=plan_message_id)
    if link:
        buttons.insert(0, open_url(t(locale, "notify.open"), link))
    return adaptive_card(body, buttons, fallback_text=title, lang=locale)


def half_offboarded_since(case: RemovalCase) -> datetime | None:
    """Since when the customer is half-offboarded: Partner Center was changed for it (an item is
    done) and the relationship is still there (the case has not removed it); None otherwise, and
    for a case whose relationship was removed (:attr:`RemovalCase.removed_at`) but that did not
    end as removed: its access teardown runs, is paused, or was given up on.

    The time is when the first execution began (:attr:`RemovalCase.changes_since`); for a case
    stored before that was kept, the latest decision on an item carried out (what let it run).
    """
    if not case.done or case.state is CaseState.REMOVED or case.removed_at is not None:
        return None
    if case.changes_since is not None:
        return case.changes_since
    decided = [item.decided_at for item in case.done if item.decided_at is not None]
    return max(decided) if decided else None


def _wait_of(case: RemovalCase) -> str:
    """What a waiting case waits for, in the message ids: approvals, or the final confirmation."""
    return "ready" if case.state is CaseState.READY else "awaiting_approval"


def _items(kind: NotificationKind, items: list[CaseItem], now: datetime, locale: str) -> list[dict[str, Any]]:
    """The item lines of a notification: term ends, what was done, or what failed and why."""
    if kind == "cancelled":
        return _done(items, locale)
    shown = items[:MAX_ITEM_LINES]
    lines: list[dict[str, Any]] = []
    for item in shown:
        if kind == "items_failed":
            lines.append(text(t(locale, "notify.items_failed.item", action=action_phrase(item, locale)), spacing="Small"))
            lines.extend(text(line, subtle=True, spacing="None") for line in item_error_lines(item, locale))
        else:
            ends = format_date_relative(item.term_ends, now, locale) if item.term_ends else ""
            lines.append(text(t(locale, "notify.reminder.item", item=item_label(item, locale), date=ends), spacing="None"))
    if len(items) > len(shown):
        lines.append(text(t(locale, "blocked.more", count=len(items) - len(shown)), subtle=True, spacing="Small"))
    return lines


def _done(items: list[CaseItem], locale: str) -> list[dict[str, Any]]:
    """What a cancelled case had already carried out: it stays as it is (the cancel undoes nothing)."""
    if not items:
        return [text(t(locale, "cancelled.nothing_done"), spacing="Small")]
    lines = [
        text(t(locale, "cancelled.done.heading"), weight="Bolder", spacing="Medium"),
        bullets([done_phrase(item, locale) for item in items[:MAX_ITEM_LINES]], spacing="Small"),
    ]
    if len(items) > MAX_ITEM_LINES:
        lines.append(text(t(locale, "blocked.more", count=len(items) - MAX_ITEM_LINES), subtle=True, spacing="Small"))
    if any(item.decided_on is not None and item.decided_on.action is Action.SUSPEND for item in items):
        lines.append(text(t(locale, "cancelled.reactivate"), subtle=True, spacing="Small"))
    return lines


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


def case_link(case: RemovalCase, *, message_id: str = "") -> str:
    """A Teams link to message ``message_id`` of the channel thread the removal was asked in (by
    default the message it was asked in); '' outside channels."""
    conversation = case.conversation.get("conversation") or {}
    conversation_id = str(conversation.get("id", ""))
    tenant = str(conversation.get("tenantId", "") or conversation.get("tenant_id", ""))
    if ";messageid=" not in conversation_id:
        return ""
    channel, root = conversation_id.split(";messageid=", 1)
    message = message_id or root
    return f"https://teams.microsoft.com/l/message/{channel}/{message}?tenantId={tenant}&parentMessageId={root}"
