"""The last question before the relationship is removed."""

from __future__ import annotations

from typing import Any

from removal.case import Decision, Outcome, RemovalCase, TeardownTiming

from .adaptive import action, adaptive_card, text
from .format import format_date
from .texts import DEFAULT_LOCALE, t
from .verbs import Verb
from .words import consequences, customer_facts, customer_name, person_name

__all__ = ("final_confirmation_card",)


def final_confirmation_card(case: RemovalCase, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """ "Nothing blocks any more. Remove the reseller relationship with Contoso Ltd?"

    Says in words that this cannot be undone from the partner's side, lists what the removal
    does and does not do (it does not end GDAP relationships: only the approved access items do;
    those that run after the removal are counted) and who requested it. Buttons: "Remove relationship" (``confirm_removal``) and
    "Not now" (``cancel_case``).
    """
    title = t(locale, "final.title", customer=customer_name(case.customer))
    body = [
        text(title, size="Medium", weight="Bolder"),
        customer_facts(case.customer, locale),
        text(t(locale, "final.irreversible"), weight="Bolder", spacing="Medium"),
        *consequences(locale),
        *_teardown_after(case, locale),
        text(
            t(locale, "final.requested_by", person=person_name(case.requested_by, locale), date=format_date(case.requested_at, locale)),
            subtle=True,
            spacing="Medium",
        ),
    ]
    buttons = [
        action(t(locale, "final.remove"), Verb.CONFIRM_REMOVAL, {"caseId": case.id}),
        action(t(locale, "final.not_now"), Verb.CANCEL_CASE, {"caseId": case.id}),
    ]
    return adaptive_card(body, buttons, fallback_text=title, lang=locale)


def _teardown_after(case: RemovalCase, locale: str) -> list[dict[str, Any]]:
    """The approved access items still to run, when they run after the removal."""
    if case.teardown_timing is not TeardownTiming.AFTER:
        return []
    waiting = [i for i in case.teardown_items if i.decision is Decision.APPROVED and i.outcome is not Outcome.DONE and not i.cleared]
    return [text(t(locale, "final.teardown_after", count=len(waiting)), spacing="Small")] if waiting else []
