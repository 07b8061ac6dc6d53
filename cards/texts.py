"""Every user-facing string of the cards, by message id, with named placeholders.

``t(locale, key, **values)`` looks a message up and fills it in. Only English exists today; an
unknown locale gets English. A later change moves the catalog to per-locale gettext files
(French, Russian), so every sentence lives here whole, with named placeholders: cards never glue
sentences together from fragments.

A message with plural forms is a :class:`Plural`; ``t`` picks the form from the ``count`` value
(gettext's ``ngettext``). Integer values are written with the locale's digit grouping ("1,000").

Example::

    t("en-US", "plan.title", customer="Contoso Ltd")   # 'Removal plan for Contoso Ltd'
    t("fr-FR", "relative.future", count=3)             # 'in 3 days' (no French catalog yet)
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

__all__ = ("DEFAULT_LOCALE", "Plural", "message_ids", "t")

DEFAULT_LOCALE = "en-US"


@dataclass(frozen=True, slots=True)
class Plural:
    """The singular and plural forms of one message (English has two)."""

    one: str
    other: str


_ENGLISH: dict[str, str | Plural] = {
    # ---- Dates, numbers, people ----
    "date.short": "{day} {month} {year}",
    "date.month.1": "Jan",
    "date.month.2": "Feb",
    "date.month.3": "Mar",
    "date.month.4": "Apr",
    "date.month.5": "May",
    "date.month.6": "Jun",
    "date.month.7": "Jul",
    "date.month.8": "Aug",
    "date.month.9": "Sep",
    "date.month.10": "Oct",
    "date.month.11": "Nov",
    "date.month.12": "Dec",
    "time.short": "{hour}:{minute} UTC",
    "datetime.short": "{date}, {time}",
    "date.with_relative": "{date} ({relative})",
    "relative.today": "today",
    "relative.tomorrow": "tomorrow",
    "relative.yesterday": "yesterday",
    "relative.future": Plural("in {count} day", "in {count} days"),
    "relative.past": Plural("{count} day ago", "{count} days ago"),
    "person.unknown": "an unknown user",
    "value.not_recorded": "not recorded",
    # ---- The customer ----
    "customer.name": "Customer",
    "customer.domain": "Domain",
    "customer.tenant_id": "Tenant id",
    "customer.label.domain": "{name} ({domain})",
    # ---- One item, as a person recognises it ----
    "item.licences": Plural("{name} ({count} licence)", "{name} ({count} licences)"),
    "item.units": Plural("{name} ({count} unit)", "{name} ({count} units)"),
    "item.status": "Status in Partner Center: {status}",
    "item.window_ends": "Cancellation window ends {date}",
    "item.window_ended": "Cancellation window ended {date}",
    "item.term_ends": "Term ends {date}",
    "item.term_ended": "Term ended {date}",
    "item.expires": "Expires {date}",
    "item.expired": "Expired {date}",
    # ---- Kinds of blocker (headings and counts) ----
    "kind.legacy_subscription": "Active legacy subscriptions",
    "kind.nce_inside_window": "New-commerce subscriptions inside their cancellation window",
    "kind.nce_past_window": "New-commerce subscriptions past their cancellation window",
    "kind.azure_plan": "Azure plans",
    "kind.software_inside_window": "Software purchases inside their cancellation window",
    "kind.software_past_window": "Software purchases past their cancellation window",
    "kind.reservation": "Azure reservations",
    # ---- What the bot proposes, in words (plan lines) ----
    "proposal.suspend": "Proposed: suspend it. It can be reactivated later.",
    "proposal.cancel_subscription": "Proposed: cancel it. This is irreversible.",
    "proposal.turn_off_auto_renew": "Proposed: turn off auto-renew. It can no longer be cancelled, so a person must wait until its term ends on {date} before the relationship can be removed.",
    "proposal.turn_off_auto_renew.no_date": "Proposed: turn off auto-renew. It can no longer be cancelled, so a person must wait until its term ends before the relationship can be removed.",
    "proposal.cancel_azure_subscriptions_and_suspend_plan": Plural(
        "Proposed: cancel its {count} active Azure subscription (its resources stop; irreversible), then suspend the plan.",
        "Proposed: cancel its {count} active Azure subscriptions (their resources stop; irreversible), then suspend the plan.",
    ),
    "proposal.cancel_order": "Proposed: cancel the order. This is irreversible.",
    "proposal.wait_for_term_end": "Offboard cannot clear this: it can no longer be cancelled and auto-renew is off. A person must wait until its term ends on {date}.",
    "proposal.wait_for_term_end.no_date": "Offboard cannot clear this: it can no longer be cancelled and auto-renew is off. A person must wait until its term ends.",
    "proposal.cancel_in_azure_portal": "Offboard cannot clear this: a person must cancel the reservation in the [Azure portal]({url}). Offboard then checks again.",
    "proposal.report_only": "For information: its cancellation window has ended, so nobody can cancel it. It does not block the removal.",
    # ---- What removing the relationship does ----
    "consequences.heading": "What removing the relationship does",
    "consequence.customer_list": "The customer leaves your customer list.",
    "consequence.support": "You stop being a support contact for the customer.",
    "consequence.dap": "Your delegated admin privileges (DAP) for the customer are removed.",
    "consequence.purchases": "You can no longer buy anything for this customer.",
    # ---- Paging ----
    "paging.items": "Items {first}–{last} of {total} (page {page} of {pages})",
    "paging.previous": "Previous page",
    "paging.next": "Next page",
    # ---- Customer choice ----
    "choice.title": "Several customers match “{query}”",
    "choice.prompt": "Which one do you mean?",
    "choice.more": "Showing {shown} of {total} matches. Type a more precise name, a domain or a tenant id to narrow the search.",
    "choice.none": "No customer matches “{query}”",
    "choice.none.hint": "Type a company name (or its beginning), a domain or a tenant id.",
    # ---- Removal plan ----
    "plan.title": "Removal plan for {customer}",
    "plan.counts.heading": "What blocks the removal",
    "plan.items.heading": "The items",
    "plan.nothing_blocks": "Nothing blocks the removal.",
    "plan.dry_run": "This is a dry run: nothing was changed.",
    "plan.dry_run.hint": "To remove the relationship, type **remove {customer_ref}**.",
    "plan.next_step": "Next, Offboard asks an approver to confirm each action, one at a time. Nothing changes before that.",
    "plan.cancel": "Cancel this removal",
    "plan.state": "Now: {state}",
    "link.azure_reservations": "Open Azure reservations",
    # ---- Confirmation of one item ----
    "confirm.question.suspend": "Suspend {item}?",
    "confirm.question.cancel_subscription": "Cancel {item}?",
    "confirm.question.turn_off_auto_renew": "Turn off auto-renew for {item}?",
    "confirm.question.cancel_azure_subscriptions_and_suspend_plan": Plural(
        "Cancel {count} Azure subscription, then suspend {item}?",
        "Cancel {count} Azure subscriptions, then suspend {item}?",
    ),
    "confirm.question.cancel_order": "Cancel the software order {item}?",
    "confirm.effect.suspend": "Suspending turns the subscription off for the customer's users. It can be undone: the subscription can be reactivated later.",
    "confirm.effect.cancel_subscription": "Cancelling is irreversible: the subscription ends and cannot be brought back. Any refund follows Microsoft's cancellation policy.",
    "confirm.effect.turn_off_auto_renew": "The subscription will not renew. It can no longer be cancelled, so it keeps running, and blocks the removal, until its term ends. This can be undone: auto-renew can be turned back on.",
    "confirm.effect.cancel_azure_subscriptions_and_suspend_plan": Plural(
        "This cancels {count} Azure subscription: its resources stop, and this is irreversible. Then the Azure plan is suspended.",
        "This cancels {count} Azure subscriptions: their resources stop, and this is irreversible. Then the Azure plan is suspended.",
    ),
    "confirm.effect.cancel_order": "Cancelling the software order is irreversible. Any refund follows Microsoft's policy.",
    "confirm.window": "It can be cancelled until {date}.",
    "confirm.term": "Its term ends {date}.",
    "confirm.skip_note": "Skipping leaves it as it is; while it stands, the relationship cannot be removed.",
    "confirm.progress": "Item {position} of {total}",
    "confirm.context": "Removal of the reseller relationship with {customer}, requested by {person}.",
    "confirm.not_decidable": "Offboard cannot carry out this item itself, so there is nothing to confirm.",
    "button.suspend": "Suspend",
    "button.cancel_subscription": "Cancel subscription",
    "button.turn_off_auto_renew": "Turn off auto-renew",
    "button.cancel_azure_subscriptions_and_suspend_plan": "Cancel Azure subscriptions and suspend plan",
    "button.cancel_order": "Cancel order",
    "button.skip": "Skip",
    "button.approve_all": "Approve all remaining ({count})",
    "button.stop": "Stop",
    # ---- An action on an item, as a phrase inside a sentence ----
    "action.suspend": "suspend {item}",
    "action.cancel_subscription": "cancel {item}",
    "action.turn_off_auto_renew": "turn off auto-renew for {item}",
    "action.cancel_azure_subscriptions_and_suspend_plan": "cancel the Azure subscriptions of {item} and suspend the plan",
    "action.cancel_order": "cancel the software order {item}",
    "action.wait_for_term_end": "wait for the term of {item} to end",
    "action.cancel_in_azure_portal": "cancel {item} in the Azure portal",
    "action.report_only": "note {item}",
    # ---- A decision, recorded ----
    "decided.approved": "✓ Approved: {action} — by {person}, {time}",
    "decided.skipped": "Skipped: {action} — by {person}, {time}",
    "decided.pending": "Waiting for a decision: {action}",
    # ---- States of a case ----
    "state.planning": "Finding what blocks the removal",
    "state.awaiting_approval": "Waiting for approvals",
    "state.executing": "Carrying out the approved actions",
    "state.waiting": "Waiting: some items must end or be cleared by a person first",
    "state.ready": "Nothing blocks any more: waiting for the final confirmation",
    "state.removing": "Removing the relationship",
    "state.removed": "Relationship removed",
    "state.failed": "Failed",
    "state.cancelled": "Cancelled: nothing more will be changed",
    # ---- Status of execution ----
    "status.title": "Removal of the reseller relationship with {customer}",
    "status.state": "State",
    "status.updated": "Updated {time}",
    "status.count.done": "Done",
    "status.count.failed": "Failed",
    "status.count.running": "Running",
    "status.count.queued": "Waiting to run",
    "status.count.skipped": "Skipped",
    "status.count.pending": "Waiting for a decision",
    "status.count.manual": "For a person to clear",
    "status.count.info": "For information only",
    "status.item.done": "✓ Done: {action}",
    "status.item.failed": "✗ Failed: {action}",
    "status.item.running": "… Running: {action}",
    "status.item.queued": "Waiting to run: {action}",
    "status.item.skipped": "— Skipped: {action} (by {person})",
    "status.item.pending": "Waiting for a decision: {action}",
    "status.item.manual": "For a person: {item}",
    "status.item.info": "Not blocking: {item}",
    "status.no_items": "There is nothing for Offboard to carry out.",
    "error.partner_center": "Partner Center error {code}: {description}",
    "error.partner_center.no_code": "Partner Center error: {description}",
    "error.correlation": "Correlation id: {correlation_id}",
    "error.request": "Request id: {request_id}",
    # ---- Final confirmation ----
    "final.title": "Nothing blocks any more. Remove the reseller relationship with {customer}?",
    "final.irreversible": "This cannot be undone from our side: only the customer can re-establish the relationship, by accepting a new relationship request from you.",
    "final.requested_by": "Requested by {person} on {date}.",
    "final.remove": "Remove relationship",
    "final.not_now": "Not now",
    # ---- Still blocked ----
    "blocked.title": "The reseller relationship with {customer} cannot be removed yet",
    "blocked.intro": "Partner Center refuses the removal while these remain:",
    "blocked.skipped": "{item}: skipped by {person} on {date}; it is still active.",
    "blocked.failed": "{item}: the action failed.",
    "blocked.wait": "{item}: a new-commerce subscription past its cancellation window; it must run until its term ends on {date}.",
    "blocked.wait.no_date": "{item}: a new-commerce subscription past its cancellation window; it must run until its term ends (Partner Center gave no date).",
    "blocked.reservation": "{item}: an Azure reservation; a person must cancel it in the [Azure portal]({url}).",
    "blocked.pending": "{item}: nobody has approved or skipped it yet.",
    "blocked.queued": "{item}: approved, not carried out yet.",
    "blocked.running": "{item}: being carried out now.",
    "blocked.other": "{item}: still there.",
    "blocked.more": Plural("…and {count} more item.", "…and {count} more items."),
    "blocked.next.heading": "What to do next",
    "blocked.next.wait": "Type **remove {customer_ref}** again after {date}. Offboard also checks again on its own and tells you when the removal can go ahead.",
    "blocked.next.wait.no_date": "Type **remove {customer_ref}** again once their terms have ended. Offboard also checks again on its own and tells you when the removal can go ahead.",
    "blocked.next.reservation": "Cancel the reservations in the Azure portal, then type **remove {customer_ref}** again.",
    "blocked.next.retry": "Look at the failed, skipped and undecided items above, then type **remove {customer_ref}** again.",
    # ---- Removing and removed ----
    "removing.title": "Removing the reseller relationship with {customer}…",
    "removing.body": "Partner Center is processing the removal. This card changes when it is done.",
    "removing.approved_by": "Approved by {person}.",
    "result.title": "The reseller relationship with {customer} is removed",
    "result.requested_by": "Requested by",
    "result.approved_by": "Approved by",
    "result.removed_at": "Removed on",
    "result.correlation_id": "Correlation id",
    "result.link.explain": "To re-establish the relationship, send the customer this relationship request link. Their global admin must accept it:",
    "result.link.button": "Relationship request link",
    "result.link.missing": "The relationship request link could not be read. You can get it in Partner Center under Customers, Request a reseller relationship.",
    # ---- Cancelled ----
    "cancelled.title": "The removal of the reseller relationship with {customer} is cancelled",
    "cancelled.nothing_more": "Offboard changes nothing more for this customer.",
    "cancelled.nothing_done": "Nothing was changed in Partner Center.",
    "cancelled.done.heading": "Already carried out (these stay as they are):",
    "cancelled.reactivate": "Suspended subscriptions can be reactivated in Partner Center if needed.",
    # ---- Short replies of the conversation ----
    "status.nothing": "No removal is in progress in this conversation. Type **remove** _customer_ to start one.",
    "notify.removed.title": "Relationship with {customer} removed",
    "notify.removed.text": "The reseller relationship with {customer} was removed. The result card in the removal's conversation has the link to re-establish it.",
    "notify.failed.title": "Removal for {customer} failed",
    "notify.failed.text": "Partner Center refused or failed the removal for {customer}. Nothing more will happen until someone looks at it.",
    "notify.ready.title": "{customer} can now be removed",
    "notify.ready.text": "Nothing blocks the removal for {customer} any more. An approver can give the final confirmation.",
    "notify.reminder.title": "Reminder: a term ends soon for {customer}",
    "notify.reminder.text": "These subscriptions of {customer} end soon; the removal can go ahead after that:",
    "notify.reminder.item": "• {item}: ends {date}",
    "notify.requested_on": "Requested on",
    "notify.error": "Error",
    "notify.show_status": "Show status",
    "notify.open": "Open the removal",
    "notify.external.from": "Sent to Offboard by another system.",
    "notify.external.open": "Open",
    "notify.here.done": "This channel will get Offboard's notifications (removals completed or failed, cases ready, reminders).",
    "notify.here.already": "This channel already gets Offboard's notifications.",
    "notify.here.not_channel": "Type **notify here** in a team channel to send notifications there.",
    "notify.mention": "this concerns your removal request.",
    "notify.relationship_back.title": "Relationship re-established with {customer}",
    "notify.relationship_back.text": "{customer} accepted the reseller relationship request: {customer} is a reseller customer again.",
    "cancel.too_late": "The removal for {customer} has already been sent to Partner Center: it can no longer be cancelled.",
    "cancel.nothing": "There is no removal to cancel in this conversation.",
    "remove.open_elsewhere": "{customer} already has an open removal, requested by {person} on {date}. Here is where it stands; it carries on where it was asked.",
    "remove.in_progress": "A removal for {customer} is already in progress here. Type **status** to see it, or **cancel** to stop it first.",
    "customer.none.title": "No customer found",
    "customer.none.text": "No customer matches “{query}”. Type a company name (or its beginning), a domain or a tenant id.",
    "customer.already_removed.title": "The relationship is already removed",
    "customer.already_removed.text": "{customer} is no longer your reseller customer: there is nothing to remove.",
    "customer.not_reseller.title": "Not a reseller relationship",
    "customer.not_reseller.text": "Your relationship with {customer} is “{relationship}”, not reseller. Offboard removes reseller relationships only.",
    "action.stale.title": "This card is out of date",
    "action.stale.text": "The removal it belongs to has moved on or ended. Type **status** to see where it stands.",
    "action.invalid": "Offboard could not understand this button: {reason}",
    "access.not_approver.title": "Only approvers can decide",
    "access.not_approver.text": "{person}, you are not one of the approvers of removals, so nothing was changed. Ask an approver to click, or your administrator to add you (OFFBOARD_APPROVERS).",
    "access.four_eyes.text": "{person}, you requested this removal: a second approver must confirm it. Nothing was changed.",
    "access.tenant": "Offboard only works for its partner's own organisation; this request came from another tenant and was refused.",
    "history.title": "History of {customer}",
    "history.ambiguous": "Several customers match '{query}': {names}. Type the full name, the domain or the tenant id.",
    "history.empty": "Offboard has no record of any action for {customer}.",
    "history.more": "…and {count} earlier events (export them all with `python -m bot.audit export`).",
    "error.partner_center.title": "Partner Center refused the request",
    "error.unexpected": "Sorry, something went wrong in Offboard. Try again in a moment; if it keeps happening, tell your administrator.",
    # ---- Errors ----
    "error.code": "Error code",
    "error.correlation_id": "Correlation id",
    "error.request_id": "Request id",
    "error.support": "If this keeps happening, give these ids to your administrator or to Microsoft support.",
    # ---- Help ----
    "help.title": "Offboard removes the reseller relationship with a customer",
    "help.intro": "Mention me with one of these commands. Name the customer by company name (or its beginning), domain or tenant id.",
    "help.remove": "**remove** _customer_ (or **offboard** _customer_): finds what blocks the removal, asks an approver to confirm each action, then removes the reseller relationship.",
    "help.remove.example": "Examples: **remove Contoso**, **remove 3f2504e0-4f89-11d3-9a0c-0305e82c3301**",
    "help.plan": "**plan** _customer_: shows the removal plan and changes nothing (a dry run).",
    "help.plan.example": "Example: **plan contoso.onmicrosoft.com**",
    "help.history": "**history** _customer_: who requested, decided and did what for this customer, with Partner Center's correlation ids.",
    "help.status": "**status**: shows the progress of the current removal.",
    "help.cancel": "**cancel**: stops the current removal; nothing more is changed.",
    "help.notify": "**notify here** (in a team channel): this channel gets a thread when a removal completes, fails or can go ahead.",
    "help.help": "**help**: shows this card.",
}

_CATALOGS: dict[str, dict[str, str | Plural]] = {"en": _ENGLISH}
_FORMATTER = string.Formatter()


def t(locale: str, key: str, **values: Any) -> str:
    """The message ``key`` in ``locale`` (English when there is no catalog), filled with ``values``.

    :param locale: a Teams locale such as ``"en-US"`` or ``"fr-FR"``.
    :param key: the message id, e.g. ``"plan.title"``.
    :param values: the placeholders; ``count`` picks the plural form; integers get digit grouping.
    :raises KeyError: for an unknown message id, or a placeholder without a value.
    """
    message = _lookup(locale, key)
    if isinstance(message, Plural):
        if "count" not in values:
            raise KeyError(f"card message {key!r} has plural forms and needs a 'count' value")
        message = message.one if values["count"] == 1 else message.other
    filled = {name: _value(value, locale) for name, value in values.items()}
    missing = [name for name in _placeholders(message) if name not in filled]
    if missing:
        raise KeyError(f"card message {key!r} needs a value for {', '.join(map(repr, missing))}")
    return message.format_map(filled)


def message_ids() -> tuple[str, ...]:
    """Every message id of the (English) catalog, sorted: for tests and catalog extraction."""
    return tuple(sorted(_ENGLISH))


def _lookup(locale: str, key: str) -> str | Plural:
    catalog = _CATALOGS.get(_language(locale), _ENGLISH)
    if key in catalog:
        return catalog[key]
    if key in _ENGLISH:
        return _ENGLISH[key]
    raise KeyError(f"no card message {key!r} in the text catalog (cards/texts.py)")


def _language(locale: str) -> str:
    return (locale or "").replace("_", "-").split("-", 1)[0].lower()


def _placeholders(message: str) -> list[str]:
    return [name for _, name, _, _ in _FORMATTER.parse(message) if name]


def _value(value: Any, locale: str) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        from .format import format_number  # imported here: format.py uses t() for dates

        return format_number(value, locale)
    return value
