"""The warning to the approvers that Partner Center's app+user sign-in is lapsing or must be
renewed: what is wrong, since when, when it lapses, and exactly what to run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from partner_center.token_health import CONSENT_COMMAND, Reason, TokenHealth

from .adaptive import adaptive_card, facts, text
from .format import format_date_relative, format_datetime
from .texts import DEFAULT_LOCALE, t

__all__ = ("token_health_card",)


def token_health_card(health: TokenHealth, *, now: datetime, check_days: int, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """The warning for an unhealthy ``health`` (a healthy one has nothing to say: ``ValueError``).

    Title and text by :class:`~partner_center.token_health.Reason`; facts: last used, lapses on
    (with how far away), since when; then the fix: the command an admin agent runs, or for a token
    still valid but not renewed, what to check first.
    """
    if health.healthy:
        raise ValueError("a healthy token has no warning")
    reason = health.reason.value
    title = t(locale, f"token.{reason}.title")
    body: list[dict[str, Any]] = [
        text(title, size="Medium", weight="Bolder"),
        text(t(locale, f"token.{reason}.text", days=check_days), spacing="Small"),
    ]
    pairs: list[tuple[str, str]] = []
    if health.last_redeemed_at is not None:
        pairs.append((t(locale, "token.last_used"), format_datetime(health.last_redeemed_at, locale)))
    if health.lapses_at is not None:
        lapse_key = "token.lapsed_on" if health.lapses_at <= now else "token.lapses_on"
        pairs.append((t(locale, lapse_key), format_date_relative(health.lapses_at, now, locale)))
    if health.since is not None and health.reason is not Reason.UNUSED:
        pairs.append((t(locale, "token.since"), format_datetime(health.since, locale)))
    if pairs:
        body.append(facts(pairs))
    fix = "token.fix.check" if health.reason in (Reason.UNUSED, Reason.UNREACHABLE) else "token.fix.consent"
    if health.reason is Reason.APP_CREDENTIAL:
        fix = "token.fix.app_credential"
    elif health.reason is Reason.WRITE_BACK:
        fix = "token.fix.key_vault_role"  # a role to grant, not a new sign-in
    body.append(text(t(locale, fix, command=CONSENT_COMMAND), weight="Bolder", spacing="Medium"))
    # The command alone, as a code block a person copies.
    if health.reason not in (Reason.APP_CREDENTIAL, Reason.WRITE_BACK):
        body.append(text(f"`{CONSENT_COMMAND}`", spacing="Small"))
    return adaptive_card(body, fallback_text=f"{title}\n\n{t(locale, fix, command=CONSENT_COMMAND)}", lang=locale)
