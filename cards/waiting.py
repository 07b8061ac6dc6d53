"""Why the relationship cannot be removed yet, and what to do next."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from partner_center.actions import AZURE_CANCELLING
from partner_center.blockers import Action
from removal.case import CaseItem, Decision, Outcome, RemovalCase, SincePlan

from .adaptive import adaptive_card, container, open_url, text
from .format import as_utc, format_date, format_date_relative
from .texts import DEFAULT_LOCALE, t
from .words import AZURE_RESERVATIONS_URL, customer_name, customer_ref, error_lines, item_label, person_name

__all__ = ("MAX_BLOCKED_LINES", "blocking_reason", "still_blocked_card")

# Enough to act on; the rest is counted ("…and 985 more items") so the card stays small.
MAX_BLOCKED_LINES = 15
_ORDER = ("back", "new", "failed", "skipped", "pending", "queued", "running", "azure_cancelling", "wait", "reservation", "other")
_RETRY = frozenset({"failed", "skipped", "pending", "queued", "running", "other"})


def blocking_reason(item: CaseItem) -> str | None:
    """Why ``item`` still blocks the removal (one of ``back``, ``new``, ``failed``, ``skipped``,
    ``pending``, ``queued``, ``running``, ``wait``, ``reservation``, ``other``), or None when it
    does not (any more: Partner Center no longer reports it)."""
    if not item.blocks_removal or item.cleared:
        return None
    if item.outcome is Outcome.FAILED:
        return "failed"
    if item.action in (Action.WAIT_FOR_TERM_END, Action.TRANSFER_OR_WAIT):
        return "wait"  # a savings plan cannot be cancelled: it ends with its term (or a transfer)
    if item.action is Action.CANCEL_IN_AZURE_PORTAL:
        return "reservation"
    if item.outcome is Outcome.DONE:
        # Auto-renew is off, but the subscription runs until its term ends.
        return "wait" if item.action is Action.TURN_OFF_AUTO_RENEW else None
    if item.outcome is Outcome.RUNNING:
        return "running"
    if item.outcome is Outcome.NOT_STARTED and item.error is not None and item.error.reason == AZURE_CANCELLING:
        return "azure_cancelling"  # the Azure subscriptions' cancels were sent; Azure applies them
    if not item.action.is_automatic:
        return "other"
    if item.decision is Decision.PENDING and item.since_plan in (SincePlan.BACK, SincePlan.NEW):
        return str(item.since_plan)  # Partner Center changed since the plan
    return {Decision.SKIPPED: "skipped", Decision.APPROVED: "queued"}.get(item.decision, "pending")


def still_blocked_card(case: RemovalCase, *, now: datetime, locale: str = DEFAULT_LOCALE, changed: bool = False) -> dict[str, Any]:
    """The removal cannot go ahead: what still blocks and why, then what to do next.

    ``changed``: the final confirmation was given, but Partner Center changed since (a
    subscription reactivated, one bought): the card says that nothing was removed.

    Skipped items say by whom; failed ones give Partner Center's code and correlation id;
    new-commerce subscriptions past their window give the date they end; reservations point to
    the Azure portal. At most :data:`MAX_BLOCKED_LINES` items are listed, the rest counted.
    """
    rank = {name: position for position, name in enumerate(_ORDER)}
    blocked = sorted(
        ((item, reason) for item in case.items if (reason := blocking_reason(item)) is not None),
        key=lambda pair: rank[pair[1]],
    )
    title = t(locale, "blocked.title", customer=customer_name(case.customer))
    body: list[dict[str, Any]] = [text(title, size="Medium", weight="Bolder")]
    if blocked:
        body.append(text(t(locale, "blocked.changed" if changed else "blocked.intro")))
    else:
        body.append(text(t(locale, "plan.nothing_blocks")))
    body.extend(_line(item, reason, now, locale) for item, reason in blocked[:MAX_BLOCKED_LINES])
    if len(blocked) > MAX_BLOCKED_LINES:
        body.append(text(t(locale, "blocked.more", count=len(blocked) - MAX_BLOCKED_LINES), subtle=True, spacing="Small"))
    reasons = {reason for _, reason in blocked}
    next_steps = _next_steps(case, [item for item, reason in blocked if reason == "wait"], reasons, now, locale)
    if next_steps:
        body.append(text(t(locale, "blocked.next.heading"), weight="Bolder", spacing="Medium", separator=True))
        body.extend(text(step, spacing="Small") for step in next_steps)
    buttons = [open_url(t(locale, "link.azure_reservations"), AZURE_RESERVATIONS_URL)] if "reservation" in reasons else []
    return adaptive_card(body, buttons, fallback_text=title, lang=locale)


def _line(item: CaseItem, reason: str, now: datetime, locale: str) -> dict[str, Any]:
    label = item_label(item, locale)
    details: list[str] = []
    if reason == "skipped":
        when = format_date(item.decided_at, locale) if item.decided_at else t(locale, "value.not_recorded")
        head = t(locale, "blocked.skipped", item=label, person=person_name(item.decided_by, locale), date=when)
    elif reason == "failed":
        head = t(locale, "blocked.failed", item=label)
        details = error_lines(item.error, locale) if item.error else []
    elif reason == "wait":
        if item.term_ends is None:
            head = t(locale, "blocked.wait.no_date", item=label)
        else:
            head = t(locale, "blocked.wait", item=label, date=format_date_relative(item.term_ends, now, locale))
    elif reason == "reservation":
        head = t(locale, "blocked.reservation", item=label, url=AZURE_RESERVATIONS_URL)
    else:
        head = t(locale, f"blocked.{reason}", item=label)
    return container([text(head), *(text(line, subtle=True, spacing="None") for line in details)], spacing="Small")


def _next_steps(case: RemovalCase, waiting: list[CaseItem], reasons: set[str], now: datetime, locale: str) -> list[str]:
    ref = customer_ref(case.customer)
    steps = []
    if waiting:
        ends = [item.term_ends for item in waiting if item.term_ends is not None]
        if ends:
            steps.append(t(locale, "blocked.next.wait", customer_ref=ref, date=format_date_relative(max(ends, key=as_utc), now, locale)))
        else:
            steps.append(t(locale, "blocked.next.wait.no_date", customer_ref=ref))
    if "reservation" in reasons:
        steps.append(t(locale, "blocked.next.reservation", customer_ref=ref))
    if reasons & {"back", "new"}:
        steps.append(t(locale, "blocked.next.decide"))
    if reasons & _RETRY:
        steps.append(t(locale, "blocked.next.retry", customer_ref=ref))
    return steps
