"""The removal in progress, and its result with the link to re-establish the relationship."""

from __future__ import annotations

from typing import Any

from partner_center.blockers import Action
from removal.case import CaseItem, Decision, Outcome, RemovalCase

from .adaptive import adaptive_card, container, facts, open_url, text
from .format import format_datetime
from .partner_access import unchecked_lines
from .texts import DEFAULT_LOCALE, t
from .words import customer_name, described, error_lines, item_error_lines, person_name

__all__ = ("relationship_link", "removal_unclear_card", "removed_lines", "removing_card", "result_card")


def removing_card(case: RemovalCase, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """ "Removing the reseller relationship with Contoso Ltd…" while Partner Center works; once
    it is removed (``removed_at``, the case still removing), that it was removed and when, and that
    the approved access items are being carried out."""
    if case.removed_at is None:
        title = t(locale, "removing.title", customer=customer_name(case.customer))
        body = [text(title, size="Medium", weight="Bolder"), text(t(locale, "removing.body"))]
    else:
        # The removal went through; the approved access items run now (the "after" timing):
        # Partner Center is no longer processing anything, and the card must not say it is.
        title = t(locale, "removing.teardown.title", customer=customer_name(case.customer))
        body = [text(title, size="Medium", weight="Bolder"), *removed_lines(case, locale, link=False)]
        body.append(text(t(locale, "removing.teardown"), weight="Bolder"))
    if case.approved_by is not None:
        body.append(text(t(locale, "removing.approved_by", person=person_name(case.approved_by, locale)), subtle=True))
    return adaptive_card(body, fallback_text=title, lang=locale)


def result_card(case: RemovalCase, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """The relationship is removed: who requested, who approved, when, the removal's correlation
    id, the partner's access now (:func:`_access_now`), and the relationship request link (an "Relationship request link" button and the URL as text) that the
    customer's global admin must accept to re-establish the relationship."""
    title = t(locale, "result.title", customer=customer_name(case.customer))
    not_recorded = t(locale, "value.not_recorded")
    pairs = [
        *_who_and_whom(case, locale),
        (t(locale, "result.removed_at"), format_datetime(case.removed_at, locale) if case.removed_at else not_recorded),
    ]
    if case.removal_correlation_id:
        pairs.append((t(locale, "result.correlation_id"), case.removal_correlation_id))
    link, buttons = relationship_link(case, locale)
    body = [text(title, size="Medium", weight="Bolder"), facts(pairs), *_access_now(case, locale), *link]
    return adaptive_card(body, buttons, fallback_text=title, lang=locale)


def relationship_link(case: RemovalCase, locale: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The relationship request link that re-establishes the removed relationship (what it is
    for, the URL as text, and its button), or where to find it when it could not be read: the
    blocks and the buttons, for every card about a case whose relationship is removed."""
    if not case.relationship_request_url:
        return [text(t(locale, "result.link.missing"), spacing="Medium")], []
    blocks = [
        text(t(locale, "result.link.explain"), spacing="Medium"),
        text(case.relationship_request_url, spacing="Small"),
    ]
    return blocks, [open_url(t(locale, "result.link.button"), case.relationship_request_url)]


def removed_lines(case: RemovalCase, locale: str, *, link: bool = True) -> list[dict[str, Any]]:
    """For a case whose relationship is removed but that did not end as removed (its access
    teardown runs, paused, or was given up on): that the relationship was removed, and when, in
    bold (whoever reads that the case failed must not think the customer still has it as their
    reseller); then, with ``link``, the relationship request link (its button:
    :func:`relationship_link`). None for a case whose relationship was not removed."""
    if case.removed_at is None:
        return []
    lines = [text(t(locale, "case.removed_on", when=format_datetime(case.removed_at, locale)), weight="Bolder", spacing="Small")]
    if link:
        lines.extend(relationship_link(case, locale)[0])
    return lines


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


def _access_now(case: RemovalCase, locale: str) -> list[dict[str, Any]]:
    """ "Partner access now", as read after the removal and the teardown items: none remains; or
    what remains (skipped, failed, not carried out), the GDAP relationships whose termination
    Microsoft is completing, and the parts that could not be checked, with where to look by hand.
    The removal itself ends DAP only (../shared/reference/anchors.md §3.2): nothing else is
    assumed gone unless a read said so."""
    body = [text(t(locale, "result.access.heading"), weight="Bolder", spacing="Medium")]
    if case.partner_access is None:
        body.append(text(t(locale, "result.access.not_read"), spacing="Small"))
        return body
    if case.no_access_remains:
        body.append(text(t(locale, "result.access.none"), spacing="Small"))
        return body
    body.extend(_remaining(item, locale) for item in case.access_remaining)
    body.extend(text(t(locale, "result.access.ending", item=described(item, locale)), spacing="Small") for item in case.access_ending)
    for entry in case.access_unchecked:
        body.extend(unchecked_lines(entry, locale))
    return body


def _remaining(item: CaseItem, locale: str) -> dict[str, Any]:
    what = described(item, locale)
    details: list[str] = []
    if item.outcome is Outcome.FAILED:
        line = t(locale, "result.access.failed", item=what)
        details = item_error_lines(item, locale)
    elif item.decision is Decision.SKIPPED:
        line = t(locale, "result.access.skipped", item=what, person=person_name(item.decided_by, locale))
    elif item.action is Action.NOTE_GDAP_PENDING:
        line = t(locale, "result.access.pending_approval", item=what)
    elif not item.action.is_automatic:
        line = t(locale, "result.access.not_acted_on", item=what)
    else:
        line = t(locale, "result.access.not_run", item=what)
    return container([text(line), *(text(detail, subtle=True, spacing="None") for detail in details)], spacing="Small")


def _who_and_whom(case: RemovalCase, locale: str) -> list[tuple[str, str]]:
    """The customer, who asked and who approved: the facts every removal outcome card starts with."""
    not_recorded = t(locale, "value.not_recorded")
    return [
        (t(locale, "customer.name"), customer_name(case.customer)),
        (t(locale, "customer.tenant_id"), case.customer.id or not_recorded),
        (t(locale, "result.requested_by"), person_name(case.requested_by, locale)),
        (t(locale, "result.approved_by"), person_name(case.approved_by, locale) if case.approved_by else not_recorded),
    ]
