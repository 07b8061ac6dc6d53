"""The words for the case's data, shared by the cards: items, actions, people, the customer.

Each helper returns finished text from the catalog (cards/texts.py); none builds a sentence
from pieces. Names that come from outside the bot (Partner Center's customer and subscription
names, Teams display names) come out escaped with :func:`literal`: cards render text as markdown,
and a name like ``[Approve here](https://…)`` must not become a link in the bot's own voice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from partner_center.blockers import Action, BlockerKind
from removal.case import CaseItem, CustomerRef, ItemError, Person

from .adaptive import bullets, facts, literal, text
from .format import as_utc, format_date_relative
from .texts import has_message, t

__all__ = (
    "AZURE_RESERVATIONS_URL",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_NAME_LENGTH",
    "action_phrase",
    "consequences",
    "customer_facts",
    "customer_name",
    "customer_ref",
    "described",
    "done_phrase",
    "error_lines",
    "gdap_line",
    "item_dates",
    "item_error_lines",
    "item_label",
    "person_name",
    "proposal",
    "status_word",
)

# Where a person cancels an Azure reservation (Offboard cannot: ../shared/reference/partner-center-api.md).
AZURE_RESERVATIONS_URL = "https://portal.azure.com/#view/Microsoft_Azure_Reservations/ReservationsBrowseBlade"

_LICENCES = frozenset({BlockerKind.LEGACY_SUBSCRIPTION, BlockerKind.NCE_INSIDE_WINDOW, BlockerKind.NCE_PAST_WINDOW})
_UNITS = frozenset({BlockerKind.SOFTWARE_INSIDE_WINDOW, BlockerKind.SOFTWARE_PAST_WINDOW, BlockerKind.RESERVATION})
# Longer names and error descriptions are cut ("…"), so that a page always fits in a Teams message.
MAX_NAME_LENGTH = 120
MAX_DESCRIPTION_LENGTH = 300
# What removing the relationship does, as Microsoft documents it ("Removes your delegation admin privileges
# for the customer, if applicable": learn.microsoft.com/partner-center/customers/remove-a-relationship),
# and what it does not: nothing Microsoft documents says it ends GDAP relationships, which auto-extend
# until terminated (../shared/reference/anchors.md §3.2), nor the partner's guests, contact addresses
# and apps in the customer's tenant (§3.4). Those end only through the access (teardown) items a person
# approves, which "consequence.gdap" says.
_CONSEQUENCES = (
    "consequence.customer_list",
    "consequence.support",
    "consequence.dap",
    "consequence.gdap",
    "consequence.purchases",
)


def item_label(item: CaseItem, locale: str) -> str:
    """``"Office 365 E3 (25 licences)"``: the name (escaped) and, where it means something, the
    quantity; a GDAP relationship with its number of roles, DAP as "DAP (delegated admin privileges)"."""
    if item.kind is BlockerKind.DAP:
        return t(locale, "item.dap")
    # Cut first: cutting after escaping could split a backslash from the character it escapes.
    name = literal(_shorten(item.name or item.item_id, MAX_NAME_LENGTH))
    if item.quantity is None:
        return name
    if item.kind is BlockerKind.GDAP:
        return t(locale, "item.gdap_roles", name=name, count=item.quantity)
    if item.kind in _LICENCES:
        return t(locale, "item.licences", name=name, count=item.quantity)
    if item.kind in _UNITS:
        return t(locale, "item.units", name=name, count=item.quantity)
    return name


def described(item: CaseItem, locale: str) -> str:
    """The item with what it is, for a line that stands alone: ``"guest user Jane Doe (jane@…)"``,
    ``"GDAP relationship Support (3 roles)"``; a blocker is its label."""
    if item.kind.is_teardown and item.kind is not BlockerKind.DAP:
        return t(locale, f"item.described.{item.kind.value}", item=item_label(item, locale))
    return item_label(item, locale)


def gdap_line(item: CaseItem, now: datetime, locale: str, *, microsoft_default: bool = False) -> str:
    """A GDAP relationship in one line: ``"Support: status active, roles granted: 3; ends Nov 24,
    2027 (in 368 days); auto-extends by 180 days at its end"``. The status is Graph's, as Graph spells
    it (what a person finds in Partner Center → Admin relationships)."""
    name = literal(_shorten(item.name or item.item_id, MAX_NAME_LENGTH))
    parts = [t(locale, "access.gdap.item", name=name, status=literal(item.status or "unknown"), roles=item.quantity or 0)]
    if item.term_ends is not None:
        parts.append(t(locale, "access.gdap.ends", date=format_date_relative(item.term_ends, now, locale)))
    if item.auto_renew:
        parts.append(t(locale, "access.gdap.auto_extends"))
    elif item.auto_renew is False:
        parts.append(t(locale, "access.gdap.no_auto_extend"))
    if microsoft_default:
        parts.append(t(locale, "access.gdap.microsoft_default"))
    return "; ".join(parts)


def action_phrase(item: CaseItem, locale: str) -> str:
    """``"suspend Office 365 E3 (25 licences)"``, to sit inside a sentence."""
    return t(locale, f"action.{item.action.value}", item=item_label(item, locale))


def done_phrase(item: CaseItem, locale: str) -> str:
    """What was carried out on the item: the action approved (and run), which a later read may
    have turned into another (auto-renew turned off, the item now waits for its term end)."""
    action = item.decided_on.action if item.decided_on is not None else item.action
    return t(locale, f"action.{action.value}", item=item_label(item, locale))


def proposal(item: CaseItem, now: datetime, locale: str) -> str:
    """What the bot proposes for the item or, where it cannot act, what a person must do and until when."""
    key = f"proposal.{item.action.value}"
    if item.action is Action.CANCEL_AZURE_SUBSCRIPTIONS_AND_SUSPEND_PLAN:
        return t(locale, key, count=len(item.azure_subscription_ids))
    if item.action is Action.CANCEL_IN_AZURE_PORTAL:
        return t(locale, key, url=AZURE_RESERVATIONS_URL)
    if item.action in (Action.TURN_OFF_AUTO_RENEW, Action.WAIT_FOR_TERM_END, Action.TRANSFER_OR_WAIT):
        if item.term_ends is None:
            return t(locale, f"{key}.no_date")
        return t(locale, key, date=format_date_relative(item.term_ends, now, locale))
    if item.action is Action.NOTE_UNKNOWN_STATUS and item.kind is BlockerKind.GDAP:
        return t(locale, f"{key}.gdap")  # Microsoft Graph's status, not Partner Center's
    return t(locale, key)


def item_dates(item: CaseItem, now: datetime, locale: str, *, shown_elsewhere: frozenset[str] = frozenset()) -> list[str]:
    """The item's dates in words: cancellation window, term end or expiry, each with relative days.

    ``shown_elsewhere``: ``"window"`` and/or ``"term"``, dates the card already shows next to the
    item's options (cards/money.py), left out here to keep a page of priced items small."""
    lines = []
    if item.window_ends is not None and "window" not in shown_elsewhere:
        key = "item.window_ends" if as_utc(item.window_ends) >= as_utc(now) else "item.window_ended"
        lines.append(t(locale, key, date=format_date_relative(item.window_ends, now, locale)))
    if item.term_ends is not None and "term" not in shown_elsewhere:
        future = as_utc(item.term_ends) >= as_utc(now)
        if item.kind is BlockerKind.RESERVATION:
            key = "item.expires" if future else "item.expired"
        else:
            key = "item.term_ends" if future else "item.term_ended"
        lines.append(t(locale, key, date=format_date_relative(item.term_ends, now, locale)))
    return lines


def status_word(status: str, locale: str) -> str:
    """Partner Center's status of an item in the reader's language; one we do not know, as it came."""
    key = f"pc_status.{status.lower()}"
    return t(locale, key) if has_message(key) else status


def person_name(person: Person | None, locale: str) -> str:
    """The person's Teams display name, escaped (a guest's is set by their home tenant)."""
    if person is None or not (person.name or person.id):
        return t(locale, "person.unknown")
    return literal(person.name or person.id)


def customer_name(customer: CustomerRef) -> str:
    """The customer's name as Partner Center has it (the customer can influence it), escaped."""
    return literal(customer.name)


def customer_ref(customer: CustomerRef) -> str:
    """What to type after ``remove`` to find exactly this customer: its domain, else its tenant id
    (else its name), escaped."""
    return literal(customer.domain or customer.id or customer.name)


def customer_facts(customer: CustomerRef, locale: str) -> dict[str, Any]:
    # FactSet values are markdown in Teams too.
    pairs = [(t(locale, "customer.name"), customer_name(customer))]
    if customer.domain:
        pairs.append((t(locale, "customer.domain"), literal(customer.domain)))
    if customer.id:
        pairs.append((t(locale, "customer.tenant_id"), customer.id))
    return facts(pairs)


def consequences(locale: str) -> list[dict[str, Any]]:
    """The "What removing the relationship does" section: the four documented consequences
    (../shared/DESIGN.md), DAP only where the customer still has it, and that GDAP and the
    partner's footprints in the customer's tenant end only through the access items approved."""
    return [
        text(t(locale, "consequences.heading"), weight="Bolder", spacing="Medium"),
        bullets([t(locale, key) for key in _CONSEQUENCES], spacing="Small"),
    ]


def item_error_lines(item: CaseItem, locale: str) -> list[str]:
    """:func:`error_lines` of an item's error, naming who answered: Microsoft Graph for the
    teardown items carried out there (all but DAP, which Partner Center removes)."""
    if item.error is None:
        return []
    return error_lines(item.error, locale, graph=item.kind.is_teardown and item.kind is not BlockerKind.DAP)


def error_lines(error: ItemError, locale: str, *, graph: bool = False) -> list[str]:
    """What Partner Center (or, ``graph``, Microsoft Graph) said: code and description,
    correlation id, request id (for a ticket); first, when the bot gave up for a reason of its
    own, that reason."""
    description = _shorten(error.description, MAX_DESCRIPTION_LENGTH)
    reason: str = error.reason
    if not reason and error.status == 401 and error.code == "900421":
        reason = "mfa_required"  # MFA enforcement on app+user calls: its own words
    lines = [t(locale, f"error.reason.{reason}")] if reason else []
    source = "error.graph" if graph else "error.partner_center"
    if error.code:
        lines.append(t(locale, source, code=error.code, description=description))
    else:
        lines.append(t(locale, f"{source}.no_code", description=description))
    if error.correlation_id:
        lines.append(t(locale, "error.correlation", correlation_id=error.correlation_id))
    if error.request_id:
        lines.append(t(locale, "error.request", request_id=error.request_id))
    if error.needs:
        # What to grant (a Graph permission and role, or a setting): what a person acts on.
        lines.append(t(locale, "error.needs", needs=error.needs))
    return lines


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
