"""Asking a person about one item, and the small card that records their answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from partner_center.blockers import Action, BlockerKind
from removal.case import CaseItem, Decision, RemovalCase, SincePlan

from .adaptive import action, adaptive_card, text
from .format import format_date_relative, format_time
from .money import money_blocks
from .partner_access import is_microsoft_default
from .texts import DEFAULT_LOCALE, t
from .verbs import CardDecision, Verb
from .words import action_phrase, customer_name, gdap_line, item_label, person_name

__all__ = ("confirmation_card", "decision_recorded_card")

_WINDOW_ACTIONS = frozenset({Action.CANCEL_SUBSCRIPTION, Action.CANCEL_ORDER})


def confirmation_card(case: RemovalCase, item: CaseItem, *, now: datetime, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """ "Suspend Office 365 E3 (25 licences)?": what the action does, whether it can be undone, and buttons.

    An item asked about again because what the bot would do changed after someone approved or
    skipped it (:attr:`SincePlan.CHANGED`) says so first.

    Buttons: the action (``decide``, ``approve``), "Skip" (``decide``, ``skip``), "Approve all
    remaining (N)" (``approve_all``) when more than one item waits for a decision, "Stop"
    (``cancel_case``).

    :raises ValueError: when the item is not one the bot can carry out (nothing to confirm), or
        is not an item of ``case``.
    """
    to_decide = case.to_decide
    keys = [candidate.key for candidate in to_decide]
    if not item.needs_decision or item.key not in keys:
        raise ValueError(f"item {item.key!r} is not an item of case {case.id!r} that needs a decision")
    question = _question(item, locale)
    body = [
        text(question, size="Medium", weight="Bolder"),
        text(t(locale, "confirm.progress", position=keys.index(item.key) + 1, total=len(keys)), subtle=True, spacing="None"),
        text(
            t(locale, "confirm.context", customer=customer_name(case.customer), person=person_name(case.requested_by, locale)),
            subtle=True,
            spacing="None",
        ),
    ]
    if item.decision is Decision.PENDING and item.since_plan == SincePlan.CHANGED:
        # Approved (or skipped) once, but Partner Center now shows something else to do: say why
        # it is asked again.
        body.append(text(t(locale, "item.since.changed"), weight="Bolder", spacing="Medium"))
    body.append(text(_effect(item, locale), spacing="Medium"))
    if item.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN:
        # The documented choices (../shared/reference/fidelity-audit.md #3): the customer moves its Azure subscriptions
        # away (billing transfer: Skip, and the re-check sees them gone), or the partner cancels
        # them, which is destructive ("compromise", app+user: developer/cancel-an-azure-subscription).
        body.append(text(t(locale, "confirm.azure.choices")))
        body.append(text(t(locale, "confirm.azure.destructive"), weight="Bolder"))
        body.append(text(t(locale, "confirm.azure.after")))
    if item.action in _WINDOW_ACTIONS and item.window_ends is not None:
        body.append(text(t(locale, "confirm.window", date=format_date_relative(item.window_ends, now, locale))))
    if item.action is Action.TURN_OFF_AUTO_RENEW and item.term_ends is not None:
        body.append(text(t(locale, "confirm.term", date=format_date_relative(item.term_ends, now, locale))))
    # What each way out gives back or keeps costing, and until when (issue 21).
    body.extend(money_blocks(case, item, now, locale))
    if item.kind.is_teardown:
        body.extend(_teardown_lines(case, item, now, locale))
    else:
        body.append(text(t(locale, "confirm.skip_note"), subtle=True, spacing="Medium"))
    return adaptive_card(body, _buttons(case, item, locale), fallback_text=question, lang=locale)


def decision_recorded_card(case: RemovalCase, item: CaseItem, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """Replaces a clicked confirmation card: "✓ Approved: suspend Office 365 E3 — by Ann, 12:04 UTC"."""
    what = action_phrase(item, locale)
    if item.decision is Decision.PENDING:
        line = t(locale, "decided.pending", action=what)
    else:
        when = format_time(item.decided_at, locale) if item.decided_at else t(locale, "value.not_recorded")
        line = t(locale, f"decided.{item.decision.value}", action=what, person=person_name(item.decided_by, locale), time=when)
    context = t(locale, "confirm.context", customer=customer_name(case.customer), person=person_name(case.requested_by, locale))
    return adaptive_card([text(line, weight="Bolder"), text(context, subtle=True, spacing="None")], fallback_text=line, lang=locale)


def _teardown_lines(case: RemovalCase, item: CaseItem, now: datetime, locale: str) -> list[dict[str, Any]]:
    """A teardown item: the relationship as Graph shows it (GDAP), when an approval runs (the
    case's timing), and that skipping keeps the access without holding the removal."""
    lines = []
    if item.kind is BlockerKind.GDAP:
        lines.append(text(gdap_line(item, now, locale, microsoft_default=is_microsoft_default(case.partner_access, item)), subtle=True))
    lines.append(text(t(locale, f"confirm.timing.{case.teardown_timing.value}")))
    lines.append(text(t(locale, "confirm.skip_note.teardown"), subtle=True, spacing="Medium"))
    return lines


def _question(item: CaseItem, locale: str) -> str:
    key = f"confirm.question.{item.action.value}"
    if item.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN:
        return t(locale, key, item=item_label(item, locale), count=len(item.azure_subscription_ids))
    return t(locale, key, item=item_label(item, locale))


def _effect(item: CaseItem, locale: str) -> str:
    key = f"confirm.effect.{item.action.value}"
    if item.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN:
        return t(locale, key, count=len(item.azure_subscription_ids))
    return t(locale, key)


def _buttons(case: RemovalCase, item: CaseItem, locale: str) -> list[dict[str, Any]]:
    # Not "key": the Agents Playground's card renderer treats a "key" data field as its own and
    # throws on the click (nothing reaches the bot).
    # "proposal"/"pending": what the card showed, so that a click on a card drawn before a re-check
    # changed the item (or the pending set) approves nothing it did not show.
    decide = {"caseId": case.id, "itemKey": item.key, "proposal": item.proposal.fingerprint}
    buttons = [
        action(t(locale, f"button.{item.action.value}"), Verb.DECIDE, {**decide, "decision": CardDecision.APPROVE.value}),
        action(t(locale, "button.skip"), Verb.DECIDE, {**decide, "decision": CardDecision.SKIP.value}),
    ]
    remaining = sum(1 for candidate in case.to_decide if candidate.decision is Decision.PENDING)
    if remaining > 1:
        buttons.append(
            action(
                t(locale, "button.approve_all", count=remaining), Verb.APPROVE_ALL, {"caseId": case.id, "pending": case.pending_fingerprint}
            )
        )
    buttons.append(action(t(locale, "button.stop"), Verb.CANCEL_CASE, {"caseId": case.id}))
    return buttons
