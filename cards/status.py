"""The progress of a case's execution, updated in place; small even for a thousand items."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from partner_center.actions import AZURE_CANCELLING
from removal.case import CaseItem, CaseState, Decision, Outcome, RemovalCase, SincePlan

from .adaptive import adaptive_card, container, facts, text
from .format import format_datetime, format_time
from .notification import half_offboarded_since
from .paging import page_actions, page_of, page_summary
from .result import relationship_link, removed_lines
from .texts import DEFAULT_LOCALE, t
from .verbs import Verb
from .words import action_phrase, customer_name, described, error_lines, item_error_lines, person_name, proposal

__all__ = ("item_progress", "status_card")

# The order of the lines: what needs attention first.
_ORDER = ("failed", "running", "queued", "pending", "manual", "skipped", "done", "info")
# The order of the counts; the last three only when there are some.
_COUNTS = ("done", "failed", "running", "queued", "skipped", "pending", "manual", "info")
_ALWAYS_COUNTED = frozenset(_COUNTS[:5])


def item_progress(item: CaseItem) -> str:
    """Where an item stands: ``done``, ``failed``, ``running``, ``queued`` (approved, waiting to
    run), ``pending`` (waiting for a decision), ``manual`` (blocks, for a person to clear),
    ``info`` (shown for information, does not block) or ``skipped``."""
    if item.outcome is Outcome.FAILED:
        return "failed"
    if item.outcome is Outcome.RUNNING:
        return "running"
    if item.outcome is Outcome.DONE:
        return "done"
    if not item.action.is_automatic:
        return "manual" if item.blocks_removal else "info"
    if item.decision is Decision.SKIPPED:
        return "skipped"
    if item.decision is Decision.APPROVED:
        return "queued"
    return "pending"


def status_card(
    case: RemovalCase,
    *,
    page: int = 0,
    page_size: int = 20,
    now: datetime,
    locale: str = DEFAULT_LOCALE,
) -> dict[str, Any]:
    """The state in words, counts, then one page of item lines, failed items first.

    A case that changed Partner Center (an item done) and did not remove the relationship says
    since when the customer is half-offboarded (:func:`half_offboarded_since`); one that removed
    it says when, with the relationship request link (:func:`~cards.result.removed_lines`).

    Lines: ✓ done, ✗ failed (with Partner Center's code, description and correlation id),
    … running, — skipped (and by whom); an item waiting for a decision again because what the bot
    would do changed after someone decided says so. Paging buttons are ``status_page`` with
    ``{"caseId", "page"}`` (0-based).

    :param now: when the card is drawn ("Updated 12:04 UTC"), and what relative dates count from.
    """
    rank = {name: position for position, name in enumerate(_ORDER)}
    items = sorted(case.items, key=lambda item: rank[item_progress(item)])
    counts = Counter(item_progress(item) for item in items)
    shown = page_of(len(items), page, page_size)
    title = t(locale, "status.title", customer=customer_name(case.customer))
    body: list[dict[str, Any]] = [
        text(title, size="Medium", weight="Bolder"),
        text(t(locale, "status.updated", time=format_time(now, locale)), subtle=True, spacing="None"),
        facts(
            [(t(locale, "status.state"), t(locale, f"state.{case.state.value}"))]
            + [(t(locale, f"status.count.{name}"), str(counts[name])) for name in _COUNTS if name in _ALWAYS_COUNTED or counts[name]]
        ),
    ]
    half = half_offboarded_since(case)
    if half is not None:  # the worst place to leave a customer: say it, and since when
        body.append(text(t(locale, "case.half_offboarded", since=format_datetime(half, locale)), weight="Bolder", spacing="Small"))
    # Removed, and the teardown after it runs or was given up on: the relationship is gone
    # whatever the state says, and the link to re-establish it is here (not on a result card).
    body.extend(removed_lines(case, locale))
    if case.state is CaseState.PAUSED:
        body.append(text(t(locale, "paused.body"), weight="Bolder", spacing="Small"))
    if case.error is not None:
        body.extend(text(line, spacing="Small") for line in error_lines(case.error, locale))
    if not items:
        body.append(text(t(locale, "status.no_items"), spacing="Medium"))
    elif shown.count > 1:
        body.append(page_summary(shown, locale))
    body.extend(_line(item, now, locale) for item in shown.slice(items))
    buttons = page_actions(shown, Verb.STATUS_PAGE, case.id, locale)
    if case.removed_at is not None:
        buttons.extend(relationship_link(case, locale)[1])
    return adaptive_card(body, buttons, fallback_text=title, lang=locale)


def _line(item: CaseItem, now: datetime, locale: str) -> dict[str, Any]:
    progress = item_progress(item)
    if progress in ("manual", "info"):
        lines = [
            text(t(locale, f"status.item.{progress}", item=described(item, locale))),
            text(proposal(item, now, locale), subtle=True, spacing="None"),
        ]
        return container(lines, spacing="Small")
    if progress == "skipped":
        head = t(locale, "status.item.skipped", action=action_phrase(item, locale), person=person_name(item.decided_by, locale))
    else:
        head = t(locale, f"status.item.{progress}", action=action_phrase(item, locale))
    lines = [text(head)]
    if progress == "pending" and item.since_plan == SincePlan.CHANGED:
        lines.append(text(t(locale, "item.since.changed"), subtle=True, spacing="None"))
    if progress == "failed":
        lines.extend(text(line, subtle=True, spacing="None") for line in item_error_lines(item, locale))
    if progress == "queued" and item.error is not None and item.error.reason == AZURE_CANCELLING:
        # Approved, cancels sent, Azure applying them: why it waits (partner_center.actions).
        lines.append(text(t(locale, "error.reason.azure_cancelling"), subtle=True, spacing="None"))
    return container(lines, spacing="Small")
