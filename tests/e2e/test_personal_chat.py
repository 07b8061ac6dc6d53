"""The personal chat: a dry run and a cancelled removal in French, a plan in Russian, an ambiguous name.

The person's Teams language is set the way Teams sets it, in each activity's ``locale``
(:class:`tests.e2e.stack.TeamsLanguage`); everything else is the Playground page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cards import t

from .playground import buttons_of, card, cards_with_button, click, eventually, open_conversation, say, shot
from .stack import Stack


def test_in_french_a_dry_run_then_a_removal_cancelled_midway(page: Any, stack: Stack, screenshots: Path) -> None:
    stack.language.locale = "fr-FR"
    open_conversation(page, "Personal Chat")

    say(page, "plan Société Générale des Fromages")
    plan = card(page, "Plan de suppression pour Société Générale des Fromages")
    plan.wait_for()
    text = plan.inner_text()
    assert t("fr-FR", "plan.dry_run") in text
    assert "(12 licences)" in text and "Réservations Azure" in text
    assert not buttons_of(plan) or t("fr-FR", "plan.cancel") not in buttons_of(plan)  # a dry run has nothing to cancel
    shot(page, plan, screenshots / "playground-plan-fr.png")
    assert stack.customer("Société Générale des Fromages")["subscriptionsByStatus"] == {"active": 1}

    customer = "ООО «Ромашка»"
    say(page, f"supprimer {customer}")
    card(page, f"Plan de suppression pour {customer}").wait_for()
    skip = t("fr-FR", "button.skip")
    pending = cards_with_button(page, skip)
    pending.first.wait_for()
    assert t("fr-FR", "confirm.progress", position=1, total=2) in pending.first.inner_text()
    click(page, pending.first, buttons_of(pending.first)[0])  # approve the first of two
    assert t("fr-FR", "confirm.progress", position=2, total=2) in pending.first.inner_text()

    say(page, "annuler")
    cancelled = card(page, t("fr-FR", "cancelled.title", customer=customer))
    cancelled.wait_for()
    assert t("fr-FR", "cancelled.nothing_done") in cancelled.inner_text()
    eventually(
        lambda: t("fr-FR", "plan.cancel") not in buttons_of(card(page, f"Plan de suppression pour {customer}")),
        30,
        "the plan loses its cancel button",
    )
    # Nothing was carried out: the approval of one item of two starts nothing on its own.
    assert stack.customer(customer)["subscriptionsByStatus"] == {"active": 2}
    assert stack.customer(customer)["relationshipToPartner"] == "reseller"


def test_in_russian_the_plan_of_a_customer(page: Any, stack: Stack, screenshots: Path) -> None:
    stack.language.locale = "ru-RU"
    open_conversation(page, "Personal Chat")
    say(page, "план Tailwind Traders")
    plan = card(page, "План удаления: клиент Tailwind Traders")
    plan.wait_for()
    text = plan.inner_text()
    assert t("ru-RU", "plan.dry_run") in text
    assert "(35 лицензий)" in text and "(4 лицензии)" in text, text  # 35 → many, 4 → few
    shot(page, plan, screenshots / "playground-plan-ru.png")


def test_an_ambiguous_name_is_resolved_through_the_choice_card(page: Any, stack: Stack) -> None:
    open_conversation(page, "Personal Chat")
    say(page, "remove Contoso")
    choice = card(page, "Several customers match “Contoso”")
    choice.wait_for()
    names = buttons_of(choice)
    assert any("Contoso Pharma" in name for name in names) and any("Contoso Retail" in name for name in names)
    pharma = next(name for name in names if "Contoso Pharma" in name)
    click(page, choice, pharma)
    plan = card(page, "Removal plan for Contoso Pharma")
    plan.wait_for()
    assert "Cancel this removal" in buttons_of(plan)
    click(page, plan, "Cancel this removal")
    card(page, "The removal of the reseller relationship with Contoso Pharma is cancelled").wait_for()
    assert stack.customer("Contoso Pharma")["relationshipToPartner"] == "reseller"
