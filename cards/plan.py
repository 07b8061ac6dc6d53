"""The removal plan: what blocks removing the relationship, what the bot proposes, what removal does,
and the access the partner still has (the teardown items, cards/partner_access.py)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from itertools import groupby
from typing import Any

from partner_center.actions import AZURE_CANCELLING
from partner_center.blockers import Action, BlockerKind
from removal.case import CaseItem, CaseState, Outcome, RemovalCase

from .adaptive import action, adaptive_card, container, facts, open_url, text
from .money import dates_in_options, money_blocks, totals_blocks
from .paging import Page, page_actions, page_of, page_summary
from .partner_access import access_items, partner_access_section
from .texts import DEFAULT_LOCALE, t
from .transfer import transfers_section
from .verbs import Verb
from .words import (
    AZURE_RESERVATIONS_URL,
    consequences,
    customer_facts,
    customer_name,
    customer_ref,
    item_dates,
    item_label,
    proposal,
    status_word,
)

__all__ = ("plan_card",)

_KIND_ORDER = {kind: position for position, kind in enumerate(BlockerKind)}


def plan_card(
    case: RemovalCase,
    *,
    page: int = 0,
    page_size: int = 20,
    dry_run: bool = False,
    now: datetime,
    locale: str = DEFAULT_LOCALE,
) -> dict[str, Any]:
    """The plan for ``case``: the customer, counts per kind, one page of items grouped by kind.

    Items are ordered by kind, so a page shows whole runs of one kind under its heading: the
    blockers under "What blocks the removal" (counted there), then the teardown items, which do
    not block, under "Access the partner still has" (paged with them). Paging
    buttons are ``plan_page`` with ``{"caseId", "page"}`` (0-based), each only where that page
    exists. A dry run says that nothing was changed and how to start a real removal.

    :param page: the 0-based page; past the end shows the last page.
    :param page_size: items per page (at most 25, so that a page fits in a Teams message).
    :param now: the time the relative dates ("in 3 days") are counted from.
    """
    # The teardown kinds come after the blockers' in BlockerKind, in their safe order.
    items = sorted([*case.blocker_items, *access_items(case)], key=lambda item: _KIND_ORDER[item.kind])
    shown = page_of(len(items), page, page_size)
    on_page = shown.slice(items)
    blockers = case.blocker_items
    title = t(locale, "plan.title", customer=customer_name(case.customer))
    body: list[dict[str, Any]] = [text(title, size="Medium", weight="Bolder"), customer_facts(case.customer, locale)]
    if dry_run:
        body.append(text(t(locale, "plan.dry_run"), weight="Bolder"))
    else:
        # Updated on every change of state, so whoever scrolls back to the plan sees where it is.
        body.append(text(t(locale, "plan.state", state=t(locale, f"state.{case.state.value}")), subtle=True, spacing="None"))
    if not blockers:
        body.append(text(t(locale, "plan.nothing_blocks"), spacing="Medium"))
    else:
        body.append(text(t(locale, "plan.counts.heading"), weight="Bolder", spacing="Medium"))
        body.append(_counts(blockers, locale))
        body.extend(totals_blocks(case, now, locale))
    body.extend(transfers_section(case, now=now, dry_run=dry_run, locale=locale))
    if shown.count > 1:
        body.append(page_summary(shown, locale))
    for kind, group in groupby((item for item in on_page if not item.kind.is_teardown), key=lambda item: item.kind):
        body.append(text(t(locale, f"kind.{kind.value}"), weight="Bolder", spacing="Medium", separator=True))
        body.extend(_item(case, item, now, locale) for item in group)
    body.extend(consequences(locale))
    teardown_shown = [item for item in on_page if item.kind.is_teardown]
    body.extend(partner_access_section(case, teardown_shown, now=now, dry_run=dry_run, locale=locale))
    if dry_run:
        body.append(text(t(locale, "plan.dry_run.hint", customer_ref=customer_ref(case.customer)), spacing="Medium"))
    elif case.state is CaseState.AWAITING_APPROVAL and case.next_pending is not None:
        body.append(text(t(locale, "plan.next_step"), spacing="Medium"))
    return adaptive_card(body, _actions(case, shown, dry_run, locale), fallback_text=title, lang=locale)


def _counts(items: list[CaseItem], locale: str) -> dict[str, Any]:
    counts = Counter(item.kind for item in items)
    return facts([(t(locale, f"kind.{kind.value}"), str(counts[kind])) for kind in BlockerKind if counts[kind]])


def _item(case: RemovalCase, item: CaseItem, now: datetime, locale: str) -> dict[str, Any]:
    lines = [text(f"**{item_label(item, locale)}**", spacing="Small")]
    if item.status:
        lines.append(text(t(locale, "item.status", status=status_word(item.status, locale)), subtle=True, spacing="None"))
    dates = item_dates(item, now, locale, shown_elsewhere=dates_in_options(item, now))
    lines.extend(text(line, subtle=True, spacing="None") for line in dates)
    lines.append(text(proposal(item, now, locale), spacing="None"))
    if item.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN:
        # The non-destructive route (../shared/reference/fidelity-audit.md #3): a billing transfer, seen on re-check.
        lines.append(text(t(locale, "plan.azure.transfer"), subtle=True, spacing="None"))
    if item.error is not None and item.error.reason == AZURE_CANCELLING and item.outcome is Outcome.NOT_STARTED:
        lines.append(text(t(locale, "error.reason.azure_cancelling"), spacing="None"))
    lines.extend(money_blocks(case, item, now, locale))
    return container(lines, spacing="Small")


def _actions(case: RemovalCase, shown: Page, dry_run: bool, locale: str) -> list[dict[str, Any]]:
    buttons = page_actions(shown, Verb.PLAN_PAGE, case.id, locale)
    if any(item.kind is BlockerKind.RESERVATION for item in case.items):
        buttons.append(open_url(t(locale, "link.azure_reservations"), AZURE_RESERVATIONS_URL))
    if not dry_run and case.is_open:
        buttons.append(action(t(locale, "plan.cancel"), Verb.CANCEL_CASE, {"caseId": case.id}))
    return buttons
