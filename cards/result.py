"""The removal in progress, and its result with the link to re-establish the relationship."""

from __future__ import annotations

from typing import Any

from removal.case import RemovalCase

from .adaptive import adaptive_card, bullets, facts, open_url, text
from .format import format_datetime
from .texts import DEFAULT_LOCALE, t
from .words import customer_name, error_lines, person_name

__all__ = ("removal_unclear_card", "removing_card", "result_card")


def removing_card(case: RemovalCase, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """ "Removing the reseller relationship with Contoso Ltd…" while Partner Center works."""
    title = t(locale, "removing.title", customer=customer_name(case.customer))
    body = [text(title, size="Medium", weight="Bolder"), text(t(locale, "removing.body"))]
    if case.approved_by is not None:
        body.append(text(t(locale, "removing.approved_by", person=person_name(case.approved_by, locale)), subtle=True))
    return adaptive_card(body, fallback_text=title, lang=locale)


def result_card(case: RemovalCase, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """The relationship is removed: who requested, who approved, when, the removal's correlation
    id, what remains to check (GDAP relationships, which the removal does not end), and the
    relationship request link (an "Relationship request link" button and the URL as text) that the
    customer's global admin must accept to re-establish the relationship."""
    title = t(locale, "result.title", customer=customer_name(case.customer))
    not_recorded = t(locale, "value.not_recorded")
    pairs = [
        *_who_and_whom(case, locale),
        (t(locale, "result.removed_at"), format_datetime(case.removed_at, locale) if case.removed_at else not_recorded),
    ]
    if case.removal_correlation_id:
        pairs.append((t(locale, "result.correlation_id"), case.removal_correlation_id))
    body = [text(title, size="Medium", weight="Bolder"), facts(pairs), *_remains(locale)]
    buttons = []
    if case.relationship_request_url:
        body.append(text(t(locale, "result.link.explain"), spacing="Medium"))
        body.append(text(case.relationship_request_url, spacing="Small"))
        buttons.append(open_url(t(locale, "result.link.button"), case.relationship_request_url))
    else:
        body.append(text(t(locale, "result.link.missing"), spacing="Medium"))
    return adaptive_card(body, buttons, fallback_text=title, lang=locale)


def removal_unclear_card(case: RemovalCase, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """The removal PATCH was sent (or refused) but nothing Partner Center said confirms the
    outcome: never "removed". Who requested and approved, then Partner Center's words and ids
    (``case.error``) for the person who checks in Partner Center."""
    title = t(locale, "result.unclear.title", customer=customer_name(case.customer))
    pairs = _who_and_whom(case, locale)
    body = [text(title, size="Medium", weight="Bolder"), text(t(locale, "result.unclear.text")), facts(pairs)]
    if case.error is not None:
        body.extend(text(line, subtle=True, spacing="Small") for line in error_lines(case.error, locale))
    return adaptive_card(body, fallback_text=title, lang=locale)


def _remains(locale: str) -> list[dict[str, Any]]:
    """What the removal left for a person to check: GDAP relationships, which nothing Microsoft
    documents ends with the reseller relationship (../shared/reference/anchors.md §3.2)."""
    return [
        text(t(locale, "result.remains.heading"), weight="Bolder", spacing="Medium"),
        bullets([t(locale, "result.remains.gdap")], spacing="Small"),
    ]


def _who_and_whom(case: RemovalCase, locale: str) -> list[tuple[str, str]]:
    """The customer, who asked and who approved: the facts every removal outcome card starts with."""
    not_recorded = t(locale, "value.not_recorded")
    return [
        (t(locale, "customer.name"), customer_name(case.customer)),
        (t(locale, "customer.tenant_id"), case.customer.id or not_recorded),
        (t(locale, "result.requested_by"), person_name(case.requested_by, locale)),
        (t(locale, "result.approved_by"), person_name(case.approved_by, locale) if case.approved_by else not_recorded),
    ]
