"""The last question before the relationship is removed."""

from __future__ import annotations

from typing import Any

from removal.case import RemovalCase

from .adaptive import action, adaptive_card, text
from .format import format_date
from .texts import DEFAULT_LOCALE, t
from .verbs import Verb
from .words import consequences, customer_facts, customer_name, person_name

__all__ = ("final_confirmation_card",)


def final_confirmation_card(case: RemovalCase, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """ "Nothing blocks any more. Remove the reseller relationship with Contoso Ltd?"

    Says in words that this cannot be undone from the partner's side, lists what the removal
    does and does not do (it does not end GDAP relationships) and who requested it. Buttons: "Remove relationship" (``confirm_removal``) and
    "Not now" (``cancel_case``).
    """
    title = t(locale, "final.title", customer=customer_name(case.customer))
    body = [
        text(title, size="Medium", weight="Bolder"),
        customer_facts(case.customer, locale),
        text(t(locale, "final.irreversible"), weight="Bolder", spacing="Medium"),
        *consequences(locale),
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
