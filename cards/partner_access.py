"""The plan's "Access the partner still has": GDAP, DAP and the partner's footprints in the
customer's tenant (issue 19), as the case's teardown items, each with what it is and what
approving it does; the parts that could not be read with what a person should check by hand; and,
while approvals are asked for, when the approved items run (before or after the relationship is
removed) with one button to switch, until an item of the section is decided.

The items are decided like the blockers (the confirmation cards ask about each); this section
only shows them, so a person sees the whole of the partner's access before deciding.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from partner_center.access import AccessInventory, AccessPart, ContactEntry, Unchecked, UncheckedReason
from partner_center.blockers import BlockerKind
from partner_center.teardown import teardown_blockers
from removal.case import CaseItem, CaseState, Outcome, RemovalCase, TeardownTiming

from .adaptive import action, action_set, bullets, container, literal, text
from .texts import t
from .verbs import Verb
from .words import gdap_line, item_label, proposal

__all__ = ("access_items", "is_microsoft_default", "other_timing", "partner_access_section", "teardown_to_decide", "unchecked_lines")

# The part of the inventory each teardown kind comes from: its heading and what removing the
# relationship does not do to it (``access.<part>.heading``, ``access.<part>.effect``).
_PART = {
    BlockerKind.PARTNER_GUEST: AccessPart.GUESTS,
    BlockerKind.PARTNER_CONTACTS: AccessPart.CONTACTS,
    BlockerKind.PARTNER_APP: AccessPart.SERVICE_PRINCIPALS,
    BlockerKind.DAP: AccessPart.DAP,
    BlockerKind.GDAP: AccessPart.GDAP,
}
# DAP's one line says it all ("still granted; removing the relationship removes it").
_NO_EFFECT_LINE = frozenset({AccessPart.DAP})


def partner_access_section(
    case: RemovalCase,
    shown: Sequence[CaseItem],
    *,
    now: datetime,
    dry_run: bool,
    locale: str,
) -> list[dict[str, Any]]:
    """The section's blocks; none for a case where access was neither read nor found.

    :param shown: the teardown items of the plan's page (the plan pages them with the blockers).
    :param dry_run: nothing can be decided: the inventory and the proposals, no button.
    """
    teardown = access_items(case)
    inventory = case.partner_access
    if inventory is None and not teardown:
        return []
    body: list[dict[str, Any]] = [text(t(locale, "access.heading"), weight="Bolder", spacing="Medium", separator=True)]
    unchecked = inventory.unchecked if inventory is not None else ()
    if not teardown and not unchecked:
        body.append(text(t(locale, "access.none"), spacing="Small"))
        return body
    for kind, group in groupby(shown, key=lambda item: item.kind):
        body.extend(_group(kind, list(group), inventory, now, locale))
    if teardown and not shown:
        body.append(text(t(locale, "access.on_other_pages", count=len(teardown)), subtle=True, spacing="Small"))
    body.extend(_none_found(teardown, inventory, locale))
    for entry in unchecked:
        body.extend(unchecked_lines(entry, locale))
    if not dry_run and case.state is CaseState.AWAITING_APPROVAL and teardown_to_decide(case):
        body.extend(_timing(case, locale))
    return body


def access_items(case: RemovalCase) -> list[CaseItem]:
    """The case's teardown items; for a case opened before they existed (access read, no item),
    the items its inventory gives, to show (nothing can be decided about them)."""
    if case.teardown_items or case.partner_access is None:
        return case.teardown_items
    return [CaseItem.from_blocker(blocker) for blocker in teardown_blockers(case.partner_access)]


def teardown_to_decide(case: RemovalCase) -> list[CaseItem]:
    """The teardown items the bot can carry out once approved, not done and still found."""
    return [item for item in case.teardown_items if item.needs_decision and item.outcome is not Outcome.DONE and not item.cleared]


def other_timing(timing: TeardownTiming) -> TeardownTiming:
    return TeardownTiming.BEFORE if timing is TeardownTiming.AFTER else TeardownTiming.AFTER


def is_microsoft_default(inventory: AccessInventory | None, item: CaseItem) -> bool:
    """Whether the GDAP relationship of ``item`` is one Microsoft created (the DAP-to-GDAP transition)."""
    if inventory is None or item.kind is not BlockerKind.GDAP:
        return False
    return any(entry.microsoft_default for entry in inventory.gdap if entry.id == item.item_id)


def unchecked_lines(entry: Unchecked, locale: str) -> list[dict[str, Any]]:
    """ "Guest users from your domains: cannot be checked: needs User.Read.All." and what to check by hand."""
    part = t(locale, f"access.part.{entry.part.value}")
    if entry.reason is UncheckedReason.NEEDS:
        line = t(locale, "access.unchecked.needs", part=part, needs=literal(entry.needs))
    else:
        line = t(locale, f"access.unchecked.{entry.reason.value}", part=part)
    return [text(line, spacing="Small"), text(t(locale, f"access.check.{entry.part.value}"), subtle=True, spacing="None")]


def _group(kind: BlockerKind, items: list[CaseItem], inventory: AccessInventory | None, now: datetime, locale: str) -> list[dict[str, Any]]:
    part = _PART[kind]
    blocks: list[dict[str, Any]] = []
    if part not in _NO_EFFECT_LINE:
        blocks.append(text(t(locale, f"access.{part.value}.heading"), weight="Bolder", spacing="Small"))
    blocks.extend(_item(item, inventory, now, locale) for item in items)
    if part not in _NO_EFFECT_LINE:
        blocks.append(text(t(locale, f"access.{part.value}.effect"), subtle=True, spacing="Small"))
    return blocks


def _item(item: CaseItem, inventory: AccessInventory | None, now: datetime, locale: str) -> dict[str, Any]:
    lines = [_headline(item, inventory, now, locale)]
    lines.append(text(proposal(item, now, locale), spacing="None"))
    if item.cleared:
        lines.append(text(t(locale, "access.item.cleared"), subtle=True, spacing="None"))
    return container(lines, spacing="Small")


def _headline(item: CaseItem, inventory: AccessInventory | None, now: datetime, locale: str) -> dict[str, Any]:
    if item.kind is BlockerKind.GDAP:
        return text(gdap_line(item, now, locale, microsoft_default=is_microsoft_default(inventory, item)), spacing="Small")
    if item.kind is BlockerKind.DAP:
        return text(t(locale, "access.dap.yes"), spacing="Small")
    if item.kind is BlockerKind.PARTNER_CONTACTS and inventory is not None and inventory.contacts:
        # Where each address is (notification lists, privacy contact): what the customer sees.
        return bullets([_contact_line(entry, locale) for entry in inventory.contacts], spacing="Small")
    return text(f"**{item_label(item, locale)}**", spacing="Small")


def _contact_line(entry: ContactEntry, locale: str) -> str:
    where = t(locale, "access.contacts.privacy" if entry.is_privacy_contact else f"access.contacts.{entry.where}")
    return t(locale, "access.contacts.item", where=where, addresses=literal(", ".join(entry.addresses)))


def _none_found(teardown: list[CaseItem], inventory: AccessInventory | None, locale: str) -> list[dict[str, Any]]:
    """What was read and found absent, so that a person does not wonder whether it was looked at."""
    if inventory is None:
        return []
    lines = []
    if not any(item.kind is BlockerKind.GDAP for item in teardown) and inventory.unchecked_part(AccessPart.GDAP) is None:
        lines.append(text(t(locale, "access.gdap.none"), spacing="Small"))
    if inventory.dap is False and not any(item.kind is BlockerKind.DAP for item in teardown):
        lines.append(text(t(locale, "access.dap.no"), spacing="Small"))
    return lines


def _timing(case: RemovalCase, locale: str) -> list[dict[str, Any]]:
    """When the approved items run, and the one button that switches it; once an item of the
    section is decided, the timing it was decided under, without a button (the click would be
    refused: :attr:`RemovalCase.teardown_timing_settled`)."""
    timing = case.teardown_timing
    sentence = text(t(locale, f"access.timing.{timing.value}"), weight="Bolder", spacing="Medium")
    if case.teardown_timing_settled:
        return [sentence, text(t(locale, "access.timing.settled"), subtle=True, spacing="None")]
    switch = other_timing(timing)
    button = action(t(locale, f"access.timing.switch.{switch.value}"), Verb.TEARDOWN_TIMING, {"caseId": case.id, "timing": switch.value})
    return [sentence, action_set([button], spacing="Small")]
