"""The partner's access as teardown items (issue 19) on the cards, in English, French and Russian:
the plan lists them under "Access the partner still has" (not under what blocks), each with what it
is and what approving it does; the timing sentence and its one button while approvals are asked
for; the confirmation, decision, status and notification cards name them; the result card says
what access remains.
"""

from __future__ import annotations

from typing import Any

import pytest

from cards import (
    MAX_CARD_BYTES,
    card_size_bytes,
    confirmation_card,
    decision_recorded_card,
    final_confirmation_card,
    notification_card,
    plan_card,
    removing_card,
    result_card,
    status_card,
    t,
)
from cards.words import status_word
from partner_center.blockers import Action, RemovalPlan
from partner_center.models import CompanyProfile, Customer
from removal.case import CaseItem, CaseState, Decision, Outcome, RemovalCase, TeardownTiming

from .factories import ANN, BOB, NOW, decided, failed, legacy_item, make_large_case
from .reading import buttons, seen, text_elements, visible_texts
from .schema import assert_valid_card
from .teardown_items import INVENTORY, UNREAD_APPS, access_case, app_item, contacts_item, dap_item, gdap_item, guest_item, teardown_items

LOCALES = ("en-US", "fr-FR", "ru-RU")
IRREVERSIBLE = {"en-US": "irreversible", "fr-FR": "irréversible", "ru-RU": "необратимо"}
_TEARDOWN_ACTIONS = (
    Action.DELETE_GUEST,
    Action.CLEAR_CONTACTS,
    Action.DELETE_SERVICE_PRINCIPAL,
    Action.REMOVE_DAP,
    Action.TERMINATE_GDAP,
    Action.DELETE_GDAP_REQUEST,
)


def _section(card: dict[str, Any], locale: str) -> list[str]:
    """The plan's texts from "Access the partner still has" on (buttons last)."""
    texts = visible_texts(card)
    return texts[texts.index(t(locale, "access.heading")) :]


def _timing_buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [button for button in buttons(card) if button.get("verb") == "teardown_timing"]


def _facts(card: dict[str, Any]) -> dict[str, str]:
    return {fact["title"]: fact["value"] for element in card["body"] if element["type"] == "FactSet" for fact in element["facts"]}


# ---- The plan ----


def test_what_blocks_counts_only_the_blockers() -> None:
    card = plan_card(access_case(), now=NOW)
    assert_valid_card(card)
    facts = _facts(card)
    assert facts["Active legacy subscriptions"] == "1"
    for kind in ("partner_guest", "partner_contacts", "partner_app", "dap", "gdap"):
        assert t("en-US", f"kind.{kind}") not in facts
    texts = visible_texts(card)
    # The one blocker is listed before the consequences; the access items after the access heading.
    assert texts.index("**Office 365 E3 (25 licenses)**") < texts.index(t("en-US", "consequences.heading"))
    assert texts.index("**Jane Doe (jane@sandbox-partner.onmicrosoft.com)**") > texts.index(t("en-US", "access.heading"))


def test_access_alone_does_not_block_the_removal() -> None:
    card = plan_card(access_case(blockers=[]), now=NOW)
    text = seen(card)
    assert t("en-US", "plan.nothing_blocks") in text
    assert t("en-US", "plan.counts.heading") not in text
    assert "Fabrikam - Offboard support: status active, roles granted: 3" in text


def test_the_plan_says_what_each_item_is_and_what_approving_it_does_in_english() -> None:
    section = "\n".join(_section(plan_card(access_case(), now=NOW), "en-US"))
    expected = [
        "Guest users from your domains in the customer's tenant",
        "**Jane Doe (jane@sandbox-partner.onmicrosoft.com)**",
        "Proposed: delete this guest user from the customer's tenant: they lose whatever access the tenant gave them. This is irreversible.",
        "- technical notifications: it@partner.example\r- privacy contact: privacy@partner.example",
        "Proposed: remove your addresses from the customer's notification and privacy contacts, so that Microsoft stops sending you its"
        " notices about this customer. It can be undone: the customer can add them back.",
        "**Partner monitoring**",
        "Proposed: delete this app's service principal from the customer's tenant: the permissions the customer granted it end.",
        "DAP (delegated admin privileges): still granted. Removing the relationship removes it.",
        "Proposed: remove DAP now",
        "Fabrikam - Offboard support: status active, roles granted: 3; ends Jun 9, 2027 (in 200 days); auto-extends by 180 days at its end",
        "MLT\\_0f1e2d3c: status active, roles granted: 8; ends Jun 9, 2027 (in 200 days); created by Microsoft (the DAP-to-GDAP transition)",
        "Proposed: terminate this GDAP relationship: your admin agents lose these admin roles in the customer's tenant. This is"
        " irreversible: to restore them, the customer must approve a new relationship.",
        "Draft request: status created, roles granted: 2; ends Jun 9, 2027 (in 200 days); does not auto-extend",
        "Proposed: delete this relationship request, which was never sent to the customer (status created). This is irreversible.",
        "the customer may decline it, and it expires after 90 days if nobody approves it",
        "Old support: status terminationRequested",
        "its termination is under way; Microsoft completes it",
    ]
    missing = [words for words in expected if words not in section]
    assert not missing


@pytest.mark.parametrize("locale", LOCALES)
def test_the_plan_shows_every_teardown_item_with_its_proposal_in_the_readers_language(locale: str) -> None:
    case = access_case()
    card = plan_card(case, now=NOW, locale=locale)
    section = "\n".join(_section(card, locale))
    assert t(locale, "access.gdap.item", name="Fabrikam - Offboard support", status="active", roles=3) in section
    assert t(locale, "access.gdap.microsoft_default") in section
    assert t(locale, "access.dap.yes") in section
    assert t(locale, "access.contacts.privacy") in section
    for item in case.teardown_items:
        assert t(locale, f"proposal.{item.action.value}") in section, item.action
    assert t("en-US", "access.heading") not in seen(card) or locale == "en-US"


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        (
            "fr-FR",
            ["Fabrikam - Offboard support : statut active, rôles accordés : 3", "résilier cette relation GDAP", "utilisateur invité"],
        ),
        (
            "ru-RU",
            [
                "Fabrikam - Offboard support: статус active, предоставлено ролей: 3",
                "расторгнуть это отношение GDAP",
                "гостевого пользователя",
            ],
        ),
    ],
)
def test_french_and_russian_are_real_translations(locale: str, words: list[str]) -> None:
    section = "\n".join(_section(plan_card(access_case(), now=NOW, locale=locale), locale))
    assert all(word in section for word in words), section
    assert "Proposed:" not in section and "This is irreversible" not in section


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("action", _TEARDOWN_ACTIONS)
def test_irreversible_items_say_so_and_clearing_contacts_says_it_can_be_undone(action: Action, locale: str) -> None:
    proposed = t(locale, f"proposal.{action.value}")
    effect = t(locale, f"confirm.effect.{action.value}")
    if action.is_irreversible:
        assert IRREVERSIBLE[locale] in proposed and IRREVERSIBLE[locale] in effect
    else:
        assert IRREVERSIBLE[locale] not in proposed and IRREVERSIBLE[locale] not in effect


def test_terminating_gdap_says_the_roles_are_lost_and_only_the_customer_restores_them() -> None:
    effect = t("en-US", "confirm.effect.terminate_gdap")
    assert "your admin agents lose these admin roles in the customer's tenant" in effect
    assert "the customer must approve a new GDAP relationship" in effect


@pytest.mark.parametrize("locale", LOCALES)
def test_the_plan_says_when_approved_items_run_and_offers_the_other_timing(locale: str) -> None:
    after = plan_card(access_case(), now=NOW, locale=locale)
    assert t(locale, "access.timing.after") in seen(after)
    assert t(locale, "access.timing.before") not in seen(after)
    [switch] = _timing_buttons(after)
    assert switch["type"] == "Action.Execute"
    assert switch["title"] == t(locale, "access.timing.switch.before")
    assert switch["data"] == {"caseId": "case0001", "timing": "before"}
    assert switch["fallback"]["data"] == {"caseId": "case0001", "timing": "before", "verb": "teardown_timing"}

    before = plan_card(access_case(teardown_timing=TeardownTiming.BEFORE), now=NOW, locale=locale)
    assert t(locale, "access.timing.before") in seen(before)
    [switch] = _timing_buttons(before)
    assert switch["title"] == t(locale, "access.timing.switch.after")
    assert switch["data"] == {"caseId": "case0001", "timing": "after"}


def test_a_dry_run_shows_the_inventory_and_the_proposals_without_buttons() -> None:
    card = plan_card(access_case(), dry_run=True, now=NOW)
    assert_valid_card(card)
    text = seen(card)
    assert t("en-US", "proposal.terminate_gdap") in text and "**Jane Doe (jane@sandbox-partner.onmicrosoft.com)**" in text
    assert t("en-US", "access.timing.after") not in text
    assert [button for button in buttons(card) if button["type"] != "Action.OpenUrl"] == []


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(access_case(state=CaseState.EXECUTING), id="executing"),
        pytest.param(access_case(state=CaseState.READY), id="ready"),
        pytest.param(access_case([gdap_item(Action.NOTE_GDAP_PENDING, status="approvalPending")]), id="only-shown-items"),
        pytest.param(access_case([decided(gdap_item(), Decision.APPROVED, outcome=Outcome.DONE)]), id="all-done"),
        pytest.param(access_case([gdap_item().model_copy(update={"cleared": True})]), id="no-longer-found"),
    ],
)
def test_no_timing_button_when_nothing_is_left_to_decide_or_approvals_are_over(case: RemovalCase) -> None:
    card = plan_card(case, now=NOW)
    assert _timing_buttons(card) == []
    assert t("en-US", "access.timing.after") not in seen(card)


def test_an_item_no_longer_found_says_so() -> None:
    card = plan_card(access_case([guest_item().model_copy(update={"cleared": True})]), now=NOW)
    section = _section(card, "en-US")
    guest = section.index("**Jane Doe (jane@sandbox-partner.onmicrosoft.com)**")
    assert section[guest + 2] == "No longer found at the last check."


def test_parts_not_checked_say_what_is_needed_and_what_to_check_by_hand() -> None:
    inventory = INVENTORY.model_copy(update={"unchecked": (UNREAD_APPS,)})
    section = _section(plan_card(access_case(inventory=inventory), now=NOW), "en-US")
    needs = section.index("Apps of your tenant in the customer's tenant: cannot be checked: needs Application.Read.All.")
    assert section[needs + 1] == t("en-US", "access.check.service_principals")


def test_gdap_and_dap_read_and_absent_are_said() -> None:
    inventory = INVENTORY.model_copy(update={"gdap": (), "dap": False})
    text = seen(plan_card(access_case([guest_item()], inventory=inventory), now=NOW))
    assert t("en-US", "access.gdap.none") in text and t("en-US", "access.dap.no") in text


def test_nothing_found_says_so() -> None:
    inventory = INVENTORY.model_copy(update={"gdap": (), "dap": False, "guests": (), "contacts": (), "service_principals": ()})
    section = _section(plan_card(access_case([], inventory=inventory), now=NOW), "en-US")
    assert section[1] == t("en-US", "access.none")


def test_a_case_opened_from_the_inventory_shows_the_same_items() -> None:
    customer = Customer(id="3f2504e0-4f89-11d3-9a0c-0305e82c3301", company_profile=CompanyProfile(company_name="Fabrikam Inc"))
    case = RemovalCase.open(RemovalPlan(customer, (), NOW), requested_by=ANN, at=NOW, access=INVENTORY)
    section = "\n".join(_section(plan_card(case, now=NOW), "en-US"))
    assert "**Jane Doe (jane@sandbox-partner.onmicrosoft.com)**" in section
    assert "Fabrikam - Offboard support: status active, roles granted: 3; auto-extends by 180 days at its end" in section
    assert "MLT\\_0f1e2d3c: status active, roles granted: 8; created by Microsoft (the DAP-to-GDAP transition)" in section
    assert len(_timing_buttons(plan_card(case, now=NOW))) == 1


def _large() -> RemovalCase:
    guests = [guest_item(f"u-{n}", f"Partner engineer {n} " + "x" * 80 + f" (eng{n}@partner.example)") for n in range(300)]
    return make_large_case(200).model_copy(
        update={"items": [*make_large_case(200).items, *guests, gdap_item()], "partner_access": INVENTORY}
    )


def test_teardown_items_are_paged_with_the_blockers_and_every_page_fits() -> None:
    case = _large()
    seen_guests: list[str] = []
    pages = -(-len(case.items) // 20)
    for page in range(pages):
        card = plan_card(case, page=page, now=NOW)
        assert_valid_card(card)
        assert card_size_bytes(card) < MAX_CARD_BYTES
        assert len(_timing_buttons(card)) == 1  # on every page: the section is always drawn
        seen_guests += [value for value in visible_texts(card) if value.startswith("**Partner engineer")]
    assert len(seen_guests) == len(set(seen_guests)) == 300


def test_a_page_without_access_items_says_where_they_are() -> None:
    card = plan_card(_large(), page=0, now=NOW)
    assert t("en-US", "access.on_other_pages", count=301) in seen(card)
    assert "301 items of this section are on other pages of the plan." in seen(card)


# ---- Confirmation, decision, status, notification ----


@pytest.mark.parametrize("locale", LOCALES)
def test_each_teardown_item_is_asked_about_in_the_readers_language(locale: str) -> None:
    case = access_case()
    asked = [item for item in case.to_decide if item.kind.is_teardown]
    assert {item.action for item in asked} == set(_TEARDOWN_ACTIONS)
    for item in asked:
        card = confirmation_card(case, item, now=NOW, locale=locale)
        assert_valid_card(card)
        text = seen(card)
        assert t(locale, f"confirm.effect.{item.action.value}") in text
        assert t(locale, "confirm.timing.after") in text
        assert t(locale, "confirm.skip_note.teardown") in text and t(locale, "confirm.skip_note") not in text
        approve = buttons(card)[0]
        assert approve["title"] == t(locale, f"button.{item.action.value}")
        assert approve["data"]["decision"] == "approve" and approve["data"]["itemKey"] == item.key


def test_the_gdap_question_names_the_relationship_its_roles_and_that_microsoft_created_it() -> None:
    case = access_case()
    default = next(item for item in case.items if item.item_id == "g-default")
    card = confirmation_card(case, default, now=NOW)
    assert card["body"][0]["text"] == "Terminate the GDAP relationship MLT\\_0f1e2d3c (8 roles)?"
    assert "created by Microsoft (the DAP-to-GDAP transition)" in seen(card)
    guest = confirmation_card(case, case.items[1], now=NOW, locale="fr-FR")
    assert (
        guest["body"][0]["text"]
        == "Supprimer l'utilisateur invité Jane Doe (jane@sandbox-partner.onmicrosoft.com) du locataire du client ?"
    )


def test_with_the_before_timing_the_question_says_it_runs_before_the_removal() -> None:
    case = access_case(teardown_timing=TeardownTiming.BEFORE)
    text = seen(confirmation_card(case, case.items[1], now=NOW, locale="ru-RU"))
    assert "После одобрения это действие выполняется до удаления отношений" in text


def test_the_recorded_decision_names_the_item() -> None:
    item = decided(gdap_item(), Decision.APPROVED)
    card = decision_recorded_card(access_case([item]), item)
    assert card["body"][0]["text"].startswith(
        "✓ Approved: terminate the GDAP relationship Fabrikam - Offboard support (3 roles) — by Bob Martin"
    )
    skipped = decided(dap_item(), Decision.SKIPPED)
    assert "remove DAP (delegated admin privileges)" in seen(decision_recorded_card(access_case([skipped]), skipped))


def _after_removal() -> RemovalCase:
    """Removed: guest skipped, app refused by Graph, contacts approved not run, DAP gone, GDAP
    terminated (Microsoft finishing), one GDAP request waiting for the customer; apps not read."""
    items = [
        decided(guest_item(), Decision.SKIPPED),
        failed(app_item(), code="Authorization_RequestDenied", description="Insufficient privileges to complete the operation."),
        decided(contacts_item(), Decision.APPROVED),
        decided(dap_item(), Decision.APPROVED, outcome=Outcome.DONE).model_copy(update={"cleared": True}),
        decided(gdap_item(), Decision.APPROVED, outcome=Outcome.DONE),
        gdap_item(Action.NOTE_GDAP_PENDING, item_id="g-pending", name="Waiting request", status="approvalPending", roles=1),
    ]
    inventory = INVENTORY.model_copy(update={"unchecked": (UNREAD_APPS,)})
    return access_case(items, blockers=[], state=CaseState.REMOVED, inventory=inventory, approved_by=BOB, removed_at=NOW)


def test_the_status_card_names_teardown_items_and_graphs_error() -> None:
    card = status_card(_after_removal(), now=NOW)
    assert_valid_card(card)
    texts = text_elements(card)
    assert "✗ Failed: delete the app Partner monitoring from the customer's tenant" in texts
    assert "Microsoft Graph error Authorization_RequestDenied: Insufficient privileges to complete the operation." in texts
    assert "✓ Done: terminate the GDAP relationship Fabrikam - Offboard support (3 roles)" in texts
    assert "Not blocking: GDAP relationship Waiting request (1 role)" in texts
    assert "Waiting to run: remove your addresses it@partner.example; privacy@partner.example from the customer's contacts" in texts


def test_a_failed_dap_removal_is_partner_centers_error() -> None:
    item = failed(dap_item(), code="2001", description="Refused.")
    card = notification_card("items_failed", access_case([item]), now=NOW, items=[item], locale="fr-FR")
    assert "Erreur 2001 de l'Espace partenaires : Refused." in seen(card)


def test_the_failed_items_notification_names_the_teardown_item() -> None:
    item = failed(app_item(), code="Authorization_RequestDenied", description="Insufficient privileges.")
    card = notification_card("items_failed", access_case([item]), now=NOW, items=[item])
    assert "✗ delete the app Partner monitoring from the customer's tenant" in seen(card)
    assert "Microsoft Graph error Authorization_RequestDenied: Insufficient privileges." in seen(card)


# ---- Final confirmation and result ----


@pytest.mark.parametrize(("timing", "said"), [(TeardownTiming.AFTER, True), (TeardownTiming.BEFORE, False)])
def test_the_final_confirmation_counts_the_access_items_that_run_after_the_removal(timing: TeardownTiming, said: bool) -> None:
    items = [decided(gdap_item(), Decision.APPROVED), decided(guest_item(), Decision.SKIPPED)]
    card = final_confirmation_card(access_case(items, blockers=[], state=CaseState.READY, teardown_timing=timing))
    assert_valid_card(card)
    line = "After the removal, Offboard carries out 1 approved access item (GDAP, DAP, guests, contacts, apps)."
    assert (line in seen(card)) is said


@pytest.mark.parametrize("locale", LOCALES)
def test_the_result_lists_what_remains_what_ends_and_what_was_not_checked(locale: str) -> None:
    card = result_card(_after_removal(), locale=locale)
    assert_valid_card(card)
    texts = text_elements(card)
    start = texts.index(t(locale, "result.access.heading"))
    section = texts[start + 1 :]

    def described(kind: str, label: str) -> str:
        return t(locale, f"item.described.{kind}", item=label)

    roles = t(locale, "item.gdap_roles", name="Waiting request", count=1)
    expected = [
        t(
            locale,
            "result.access.skipped",
            item=described("partner_guest", "Jane Doe (jane@sandbox-partner.onmicrosoft.com)"),
            person="Bob Martin",
        ),
        t(locale, "result.access.failed", item=described("partner_app", "Partner monitoring")),
        t(locale, "result.access.not_run", item=described("partner_contacts", "it@partner.example; privacy@partner.example")),
        t(locale, "result.access.pending_approval", item=described("gdap", roles)),
        t(
            locale,
            "result.access.ending",
            item=described("gdap", t(locale, "item.gdap_roles", name="Fabrikam - Offboard support", count=3)),
        ),
        t(locale, "access.unchecked.needs", part=t(locale, "access.part.service_principals"), needs="Application.Read.All"),
        t(locale, "access.check.service_principals"),
    ]
    missing = [line for line in expected if line not in section]
    assert not missing
    assert t(locale, "result.access.none") not in texts
    assert not any("DAP" in line and "remains" in line for line in section)  # DAP is gone: not listed


def test_the_result_in_english_reads_as_a_person_reads_it() -> None:
    texts = text_elements(result_card(_after_removal()))
    assert "guest user Jane Doe (jane@sandbox-partner.onmicrosoft.com): skipped by Bob Martin; it remains." in texts
    assert "GDAP relationship Fabrikam - Offboard support (3 roles): termination under way; Microsoft completes it." in texts
    assert "Microsoft Graph error Authorization_RequestDenied: Insufficient privileges to complete the operation." in texts


@pytest.mark.parametrize("locale", LOCALES)
def test_the_result_says_no_partner_access_remains(locale: str) -> None:
    items: list[CaseItem] = [
        decided(item, Decision.APPROVED, outcome=Outcome.DONE).model_copy(update={"cleared": True})
        for item in teardown_items()
        if item.needs_decision
    ]
    card = result_card(access_case(items, blockers=[legacy_item()], state=CaseState.REMOVED), locale=locale)
    assert_valid_card(card)
    texts = text_elements(card)
    assert texts[texts.index(t(locale, "result.access.heading")) + 1] == t(locale, "result.access.none")


def test_the_result_of_a_case_whose_access_was_not_read_says_to_check_by_hand() -> None:
    card = result_card(access_case([], blockers=[], state=CaseState.REMOVED, inventory=None))
    texts = text_elements(card)
    assert texts[texts.index("Partner access now") + 1].startswith("The partner's access (GDAP, DAP, guests, contacts, apps) was not read")
    assert "No partner access remains" not in seen(card)


@pytest.mark.parametrize("locale", LOCALES)
def test_once_removed_the_removing_card_says_the_access_items_run_now(locale: str) -> None:
    removed = removing_card(access_case(state=CaseState.REMOVING, removed_at=NOW), locale=locale)
    assert_valid_card(removed)
    assert t(locale, "removing.teardown") in seen(removed)
    assert t(locale, "removing.teardown") not in seen(removing_card(access_case(state=CaseState.REMOVING), locale=locale))


@pytest.mark.parametrize(
    ("locale", "status", "expected"),
    [
        ("en-US", "approvalPending", "waiting for the customer's approval"),
        ("fr-FR", "terminationRequested", "résiliation demandée"),
        ("ru-RU", "created", "создано (не отправлено клиенту)"),
    ],
)
def test_gdap_statuses_are_said_in_the_readers_language(locale: str, status: str, expected: str) -> None:
    assert status_word(status, locale) == expected
