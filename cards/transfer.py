"""Transfer requests from the customer's next partner (issue 21): the plan's "Transfers" section
and the card that asks an approver to accept one.

Another partner creates the request; the current (source) partner, Offboard's user, accepts and
submits it, or declines it (learn.microsoft.com/partner-center/developer/transfer-entity-resources,
update-a-transfer). Accepting moves the subscriptions, and with them their remaining term and its
billing, to the other partner: which blockers of the plan that clears is read from the case
(``CaseTransferLine.clears``).

Buttons: ``show_transfer`` ``{caseId, transferId}`` (the confirmation card), ``accept_transfer``
``{caseId, transferId, lines}`` (every line item; ``lines``: the fingerprint of the line items
shown) or with ``lineItems`` (only those), ``reject_transfer`` ``{caseId, transferId}`` (on the
confirmation card only).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from partner_center.money import Amount
from partner_center.transfers import MAX_LINE_ITEMS_PER_SUBMIT
from removal.case import CaseItem, CaseTransfer, CaseTransferLine, RemovalCase, TransferDecision, TransferOutcome

from .adaptive import action, action_set, adaptive_card, bullets, container, literal, text
from .format import as_utc, format_date_relative, format_datetime
from .money import amount_text, still_billed
from .texts import DEFAULT_LOCALE, t
from .verbs import Verb
from .words import MAX_NAME_LENGTH, customer_name, error_lines, item_label, person_name

__all__ = ("MAX_TRANSFERS_SHOWN", "MAX_TRANSFER_LINES", "transfer_confirmation_card", "transfers_section")

# Line items listed per transfer, and transfers listed on the plan: the rest are counted, so that
# a plan page stays inside Teams' message size (a request may carry hundreds of subscriptions).
MAX_TRANSFER_LINES = 10
MAX_TRANSFERS_SHOWN = 5
# Lines listed on the confirmation card: what moves, each one named.
_MAX_CONFIRM_LINES = 40


def transfers_section(case: RemovalCase, *, now: datetime, dry_run: bool, locale: str) -> list[dict[str, Any]]:
    """The plan's "Transfers requested by other partners": each request with its target partner,
    its expiry, its line items and which blockers they would clear; while the case is open, a
    pending one has "Accept…" (its confirmation card) and "Reject". Nothing when there is none."""
    shown = [transfer for transfer in case.transfers if transfer.is_active or transfer.decision is not TransferDecision.PENDING]
    if not shown:
        return []
    body: list[dict[str, Any]] = [text(t(locale, "transfer.heading"), weight="Bolder", spacing="Medium", separator=True)]
    for transfer in shown[:MAX_TRANSFERS_SHOWN]:
        body.append(_transfer_block(case, transfer, now=now, buttons=not dry_run and case.is_open, locale=locale))
    if len(shown) > MAX_TRANSFERS_SHOWN:
        body.append(text(t(locale, "transfer.more", count=len(shown) - MAX_TRANSFERS_SHOWN), subtle=True, spacing="Small"))
    return body


def transfer_confirmation_card(case: RemovalCase, transfer_id: str, *, now: datetime, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """ "Accept the transfer to Fabrikam Partners?": what moves (each line item, the blocker it
    clears and what it still costs until its term ends), that billing moves to the other partner
    from the transfer date, that it cannot be undone; Accept (all, or only the line items that
    clear this plan's blockers), Reject.

    A request already decided, or no longer active, is shown with where it stands, without buttons.

    :raises ValueError: when ``transfer_id`` is not a transfer of ``case``.
    """
    transfer = case.transfer(transfer_id)
    if transfer is None:
        raise ValueError(f"transfer {transfer_id!r} is not a transfer request of case {case.id!r}")
    partner = _partner(transfer, locale)
    question = t(locale, "transfer.confirm.question", partner=partner)
    body: list[dict[str, Any]] = [
        text(question, size="Medium", weight="Bolder"),
        text(
            t(locale, "confirm.context", customer=customer_name(case.customer), person=person_name(case.requested_by, locale)),
            subtle=True,
            spacing="None",
        ),
    ]
    body.extend(text(line, subtle=True, spacing="None") for line in _dates(transfer, now, locale))
    body.append(text(t(locale, "transfer.confirm.moves", count=len(transfer.line_items)), weight="Bolder", spacing="Medium"))
    if transfer.proposed:
        # Partner Center lists the request without line items: these are the plan's, proposed.
        body.append(text(t(locale, "transfer.confirm.proposed", partner=partner), subtle=True, spacing="None"))
    lines = [_line_text(case, line, locale) for line in transfer.line_items[:_MAX_CONFIRM_LINES]]
    if lines:
        body.append(bullets(lines, spacing="Small"))
    if len(transfer.line_items) > _MAX_CONFIRM_LINES:
        body.append(text(t(locale, "blocked.more", count=len(transfer.line_items) - _MAX_CONFIRM_LINES), subtle=True, spacing="None"))
    body.extend(_money_moving(case, transfer, now, locale))
    # "The source partner is financially responsible up to the transfer date" and gets a prorated
    # credit for a prepaid term: CloudCockpit, a vendor's description (anchors.md §1.3, §4);
    # Microsoft's transfer pages do not state the billing.
    body.append(text(t(locale, "transfer.confirm.billing", partner=partner)))
    body.append(text(t(locale, "transfer.confirm.irreversible", partner=partner), weight="Bolder"))
    if not (transfer.open_to_decision and case.is_open):
        body.extend(text(line, spacing="Small") for line in _where_it_stands(transfer, locale))
        return adaptive_card(body, fallback_text=question, lang=locale)
    if transfer.decision is not TransferDecision.PENDING:
        # Decided, but Partner Center refused it and still lists the request as Active: say why,
        # and offer the choice again.
        body.extend(text(line, spacing="Small") for line in _where_it_stands(transfer, locale))
    conflicts = case.transfer_conflicts(transfer, None)
    if conflicts:
        labels = [item_label(item, locale) for item in conflicts[:_MAX_CONFIRM_LINES]]
        body.append(text(t(locale, "transfer.confirm.conflict", count=len(conflicts)), weight="Bolder", spacing="Medium"))
        body.append(bullets(labels, spacing="Small"))
    if len(transfer.line_items) > MAX_LINE_ITEMS_PER_SUBMIT:
        # "25-item transfer limit": a vendor's claim (CloudCockpit), not a Microsoft page; not
        # enforced here, said (Partner Center answers for itself).
        body.append(text(t(locale, "transfer.confirm.many_lines", limit=MAX_LINE_ITEMS_PER_SUBMIT), subtle=True, spacing="Medium"))
    body.append(text(t(locale, "transfer.confirm.reject_note", partner=partner), subtle=True, spacing="Medium"))
    return adaptive_card(body, _confirm_buttons(case, transfer, locale), fallback_text=question, lang=locale)


def _transfer_block(case: RemovalCase, transfer: CaseTransfer, *, now: datetime, buttons: bool, locale: str) -> dict[str, Any]:
    partner = _partner(transfer, locale)
    cleared = sum(1 for line in transfer.line_items if line.clears)
    items: list[dict[str, Any]] = [
        text(
            t(locale, "transfer.summary", partner=partner, count=len(transfer.line_items), clears=cleared),
            weight="Bolder",
            spacing="Small",
        )
    ]
    items.extend(text(line, subtle=True, spacing="None") for line in _dates(transfer, now, locale))
    lines = [_line_text(case, line, locale) for line in transfer.line_items[:MAX_TRANSFER_LINES]]
    if lines:
        items.append(bullets(lines, spacing="None"))
    if len(transfer.line_items) > MAX_TRANSFER_LINES:
        items.append(text(t(locale, "blocked.more", count=len(transfer.line_items) - MAX_TRANSFER_LINES), subtle=True, spacing="None"))
    items.extend(text(line, spacing="None") for line in _where_it_stands(transfer, locale))
    if buttons and transfer.open_to_decision:
        # Accepting and rejecting are both on the confirmation card, after what they mean is said
        # (a reject by the source partner is not documented: see transfer.confirm.reject_note).
        data = {"caseId": case.id, "transferId": transfer.id}
        items.append(action_set([action(t(locale, "transfer.button.review"), Verb.SHOW_TRANSFER, data)], spacing="Small"))
    return container(items, spacing="Small")


def _confirm_buttons(case: RemovalCase, transfer: CaseTransfer, locale: str) -> list[dict[str, Any]]:
    data = {"caseId": case.id, "transferId": transfer.id}
    # The line items (ids, quantities) this card shows: a click after they changed accepts nothing.
    accept = {**data, "lines": transfer.lines_fingerprint}
    blocked = {item.key for item in case.transfer_conflicts(transfer, None)}
    buttons = []
    if not blocked:
        buttons.append(action(t(locale, "transfer.button.accept_all", count=len(transfer.line_items)), Verb.ACCEPT_TRANSFER, accept))
    # Partial acceptance: only the line items that clear this plan's blockers (and none the bot
    # is cancelling), where that is fewer than all of them.
    clearing = [line.id for line in transfer.line_items if line.clears and line.clears not in blocked]
    if 0 < len(clearing) < len(transfer.line_items):
        buttons.append(
            action(
                t(locale, "transfer.button.accept_clearing", count=len(clearing)),
                Verb.ACCEPT_TRANSFER,
                {**accept, "lineItems": clearing},
            )
        )
    buttons.append(action(t(locale, "transfer.button.reject"), Verb.REJECT_TRANSFER, data))
    return buttons


def _dates(transfer: CaseTransfer, now: datetime, locale: str) -> list[str]:
    lines = []
    if transfer.created_at is not None:
        lines.append(t(locale, "transfer.created", date=format_date_relative(transfer.created_at, now, locale)))
    if transfer.expires_at is not None:
        key = "transfer.expires" if as_utc(transfer.expires_at) >= as_utc(now) else "transfer.expired"
        lines.append(t(locale, key, date=format_date_relative(transfer.expires_at, now, locale)))
    return lines


def _line_text(case: RemovalCase, line: CaseTransferLine, locale: str) -> str:
    name = literal(_shorten(line.name or line.subscription_id or line.id))
    what = t(locale, "transfer.line.quantity", name=name, count=line.quantity) if line.quantity is not None else name
    item = case.item(line.clears) if line.clears else None
    if item is None:
        return t(locale, "transfer.line.not_in_plan", line=what)
    return t(locale, "transfer.line.clears", line=what, item=item_label(item, locale))


def _money_moving(case: RemovalCase, transfer: CaseTransfer, now: datetime, locale: str) -> list[dict[str, Any]]:
    """What the cleared items would still bill here until their terms end (kept), per currency:
    the money that moves to the other partner with them; items Partner Center gives no price for
    are counted, not guessed."""
    sums: dict[str, Decimal] = {}
    unpriced = 0
    for item in _cleared_items(case, transfer):
        amount = still_billed(item, now)
        if amount is None or amount.value is None or not amount.currency:
            unpriced += 1
            continue
        sums[amount.currency] = sums.get(amount.currency, Decimal(0)) + amount.value
    lines = [
        t(locale, "transfer.confirm.money", amount=amount_text(Amount(value=value, currency=currency), locale))
        for currency, value in sorted(sums.items())
    ]
    if unpriced:
        lines.append(t(locale, "money.totals.unpriced", count=unpriced))
    return [text(line, spacing="Small") for line in lines]


def _cleared_items(case: RemovalCase, transfer: CaseTransfer) -> list[CaseItem]:
    return [item for key in dict.fromkeys(line.clears for line in transfer.line_items if line.clears) if key and (item := case.item(key))]


def _where_it_stands(transfer: CaseTransfer, locale: str) -> list[str]:
    """An answered request: who decided, and what Partner Center made of it; an unanswered one
    that is no longer active: its status as Partner Center spells it."""
    who = person_name(transfer.decided_by, locale)
    when = format_datetime(transfer.decided_at, locale) if transfer.decided_at else t(locale, "value.not_recorded")
    if transfer.decision is TransferDecision.PENDING:
        return [] if transfer.is_active else [t(locale, "transfer.status", status=literal(transfer.status or "unknown"))]
    lines = [t(locale, f"transfer.decided.{transfer.decision.value}", person=who, time=when)]
    if (
        transfer.decision is TransferDecision.ACCEPTED
        and transfer.accepted_lines is not None
        and len(transfer.accepted_lines) < len(transfer.line_items)
    ):
        lines.append(t(locale, "transfer.accepted_lines", count=len(transfer.accepted_lines)))
    lines.append(t(locale, f"transfer.outcome.{transfer.outcome.value}"))
    if transfer.outcome is TransferOutcome.FAILED and transfer.error is not None:
        lines.extend(error_lines(transfer.error, locale))
    for line in transfer.failed_lines[:MAX_TRANSFER_LINES]:
        assert line.error is not None
        lines.append(t(locale, "transfer.line.failed", line=literal(_shorten(line.name or line.id)), error=literal(line.error.description)))
    return lines


def _partner(transfer: CaseTransfer, locale: str) -> str:
    return literal(_shorten(transfer.target_partner)) if transfer.target_partner else t(locale, "transfer.partner_unknown")


def _shorten(value: str) -> str:
    return value if len(value) <= MAX_NAME_LENGTH else value[: MAX_NAME_LENGTH - 1].rstrip() + "…"
