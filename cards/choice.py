"""The card that asks which customer was meant when a search finds several."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from removal.case import CustomerRef

from .adaptive import action, action_set, adaptive_card, literal, text
from .texts import DEFAULT_LOCALE, t
from .verbs import Verb

__all__ = ("MAX_CHOICES", "customer_choice_card")

MAX_CHOICES = 10


def customer_choice_card(query: str, customers: Sequence[CustomerRef], *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """One button per matching customer (name and domain), at most :data:`MAX_CHOICES`.

    Each button is ``choose_customer`` with ``{"customerId"}``. When more customers match, the
    card says how many and asks for a more precise name, domain or tenant id. The query is shown
    as typed (:func:`literal`).
    """
    if not customers:
        title = t(locale, "choice.none", query=literal(query))
        return adaptive_card(
            [text(title, size="Medium", weight="Bolder"), text(t(locale, "choice.none.hint"))],
            fallback_text=title,
            lang=locale,
        )
    title = t(locale, "choice.title", query=literal(query))
    body = [text(title, size="Medium", weight="Bolder"), text(t(locale, "choice.prompt"))]
    # One ActionSet per customer: a vertical list, and no set exceeds Teams' 6 buttons.
    for customer in customers[:MAX_CHOICES]:
        body.append(action_set([action(_label(customer, locale), Verb.CHOOSE_CUSTOMER, {"customerId": customer.id})], spacing="Small"))
    if len(customers) > MAX_CHOICES:
        body.append(text(t(locale, "choice.more", shown=MAX_CHOICES, total=len(customers)), subtle=True, spacing="Medium"))
    return adaptive_card(body, fallback_text=title, lang=locale)


def _label(customer: CustomerRef, locale: str) -> str:
    if customer.domain:
        return t(locale, "customer.label.domain", name=customer.name, domain=customer.domain)
    return customer.name or customer.id
