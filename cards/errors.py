"""A failure, said plainly: what went wrong and the ids a support ticket asks for. No stack traces."""

from __future__ import annotations

from typing import Any

from partner_center.errors import MfaRequiredError, PartnerCenterError

from .adaptive import adaptive_card, facts, text
from .texts import DEFAULT_LOCALE, t

__all__ = ("error_card", "partner_center_error_card")


def error_card(
    title: str,
    message: str,
    *,
    code: str = "",
    correlation_id: str = "",
    request_id: str = "",
    locale: str = DEFAULT_LOCALE,
) -> dict[str, Any]:
    """A card for a failure; ``title`` and ``message`` are already in the user's language.

    The code, correlation id and request id are shown when given, with a line saying to pass
    them on if the failure repeats.
    """
    body = [text(title, size="Medium", weight="Bolder"), text(message)]
    pairs = [
        (t(locale, key), value)
        for key, value in (("error.code", code), ("error.correlation_id", correlation_id), ("error.request_id", request_id))
        if value
    ]
    if pairs:
        body.append(facts(pairs))
        body.append(text(t(locale, "error.support"), subtle=True, spacing="Medium"))
    return adaptive_card(body, fallback_text=f"{title}\n\n{message}", lang=locale)


def partner_center_error_card(error: PartnerCenterError, *, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """Partner Center refused or failed: its description, code, correlation and request ids.

    401 / 900421 (the app+user consent lacks MFA) gets its own words: a person with MFA must
    renew the consent; Partner Center's description follows."""
    if isinstance(error, MfaRequiredError):
        return error_card(
            t(locale, "error.mfa.title"),
            f"{t(locale, 'error.mfa.text')}\n\n{error.description}",
            code=error.code,
            correlation_id=error.correlation_id,
            request_id=error.request_id,
            locale=locale,
        )
    return error_card(
        t(locale, "error.partner_center.title"),
        error.description,
        code=error.code,
        correlation_id=error.correlation_id,
        request_id=error.request_id,
        locale=locale,
    )
