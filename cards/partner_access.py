"""The plan's "Access the partner still has": GDAP, DAP and the partner's footprints in the
customer's tenant, each with what removing the relationship does and does not do to it, and the
parts that could not be read with what a person should check by hand (issue 19, item 1).

Nothing here is an action yet: the section informs the decision, it adds no button.
"""

from __future__ import annotations

from typing import Any

from partner_center.access import AccessInventory, AccessPart, ContactEntry, GdapEntry, Unchecked, UncheckedReason

from .adaptive import bullets, literal, text
from .format import format_date
from .texts import t

__all__ = ("MAX_NAMES", "partner_access_section")

# Names listed per part; the rest are counted (a tenant can hold hundreds of guests, and a card
# must stay under Teams' size limit).
MAX_NAMES = 10


def partner_access_section(inventory: AccessInventory, locale: str) -> list[dict[str, Any]]:
    """The section's blocks: a heading, one paragraph per part found, one per part unread."""
    body: list[dict[str, Any]] = [text(t(locale, "access.heading"), weight="Bolder", spacing="Medium", separator=True)]
    if not inventory.found_any and not inventory.unchecked:
        body.append(text(t(locale, "access.none"), spacing="Small"))
        return body
    if inventory.gdap:
        lines = [_gdap_line(entry, locale) for entry in inventory.gdap[:MAX_NAMES]]
        lines.extend(_more(len(inventory.gdap), locale))
        body.append(text(t(locale, "access.gdap.heading"), weight="Bolder", spacing="Small"))
        body.append(bullets(lines, spacing="None"))
        body.append(text(t(locale, "access.gdap.effect"), subtle=True, spacing="None"))
    elif inventory.unchecked_part(AccessPart.GDAP) is None:
        body.append(text(t(locale, "access.gdap.none"), spacing="Small"))
    if inventory.dap is not None:
        body.append(text(t(locale, "access.dap.yes" if inventory.dap else "access.dap.no"), spacing="Small"))
    if inventory.guests:
        names = [literal(f"{guest.name} ({guest.address})" if guest.address else guest.name) for guest in inventory.guests[:MAX_NAMES]]
        _listed(body, "access.guests", names + _more(len(inventory.guests), locale), locale)
    if inventory.contacts:
        _listed(body, "access.contacts", [_contact_line(entry, locale) for entry in inventory.contacts], locale)
    if inventory.service_principals:
        principals = inventory.service_principals
        names = [literal(principal.name or principal.app_id) for principal in principals[:MAX_NAMES]]
        _listed(body, "access.service_principals", names + _more(len(principals), locale), locale)
    for entry in inventory.unchecked:
        body.append(text(_unchecked_line(entry, locale), spacing="Small"))
        body.append(text(t(locale, f"access.check.{entry.part.value}"), subtle=True, spacing="None"))
    return body


def _listed(body: list[dict[str, Any]], key: str, lines: list[str], locale: str) -> None:
    body.append(text(t(locale, f"{key}.heading"), weight="Bolder", spacing="Small"))
    body.append(bullets(lines, spacing="None"))
    body.append(text(t(locale, f"{key}.effect"), subtle=True, spacing="None"))


def _gdap_line(entry: GdapEntry, locale: str) -> str:
    parts = [
        t(
            locale,
            "access.gdap.item",
            name=literal(entry.name or entry.id),
            status=literal(entry.raw_status or entry.status.value),
            roles=entry.roles,
        )
    ]
    if entry.ends_at is not None:
        parts.append(t(locale, "access.gdap.ends", date=format_date(entry.ends_at, locale)))
    if entry.auto_extends:
        parts.append(t(locale, "access.gdap.auto_extends"))
    elif entry.auto_extends is False:
        parts.append(t(locale, "access.gdap.no_auto_extend"))
    if entry.microsoft_default:
        parts.append(t(locale, "access.gdap.microsoft_default"))
    return "; ".join(parts)


def _contact_line(entry: ContactEntry, locale: str) -> str:
    where = t(locale, "access.contacts.privacy" if entry.is_privacy_contact else f"access.contacts.{entry.where}")
    return t(locale, "access.contacts.item", where=where, addresses=literal(", ".join(entry.addresses)))


def _unchecked_line(entry: Unchecked, locale: str) -> str:
    part = t(locale, f"access.part.{entry.part.value}")
    if entry.reason is UncheckedReason.NEEDS:
        return t(locale, "access.unchecked.needs", part=part, needs=literal(entry.needs))
    return t(locale, f"access.unchecked.{entry.reason.value}", part=part)


def _more(total: int, locale: str) -> list[str]:
    return [t(locale, "access.more", more=total - MAX_NAMES)] if total > MAX_NAMES else []
