"""The plan shows the GDAP relationships the partner still has with the customer (issue 19), in
English and in French, as a person reads it on the Agents Playground page.

Removing the reseller relationship does not end GDAP: the plan must name each relationship, with its
status, under "Access the partner still has", whatever else that section shows. The relationships
are the sandbox's Graph seed (``pc_sandbox/seed.json``): Fabrikam Inc has two active ones, Société
Générale des Fromages one.
"""

from __future__ import annotations

from typing import Any

from cards import t

from .playground import card, open_conversation, say
from .stack import Stack


def access_section(plan_text: str, locale: str) -> str:
    """The plan card's text from the access heading on (the heading must be there)."""
    heading = t(locale, "access.heading")
    assert heading in plan_text, f"no {heading!r} on the plan:\n{plan_text}"
    return plan_text[plan_text.index(heading) :]


def line_naming(section: str, name: str) -> str:
    """The line of the section that names ``name`` (a relationship's display name)."""
    lines = [line for line in section.splitlines() if name in line]
    assert lines, f"{name!r} is not under the access heading:\n{section}"
    return lines[0]


def read_plan(page: Any, customer: str, locale: str) -> str:
    """Ask for ``customer``'s plan in the personal chat and return the plan card's text."""
    open_conversation(page, "Personal Chat")
    say(page, f"plan {customer}")
    plan = card(page, t(locale, "plan.title", customer=customer))
    plan.wait_for()
    return str(plan.inner_text())


def test_in_english_the_plan_lists_the_gdap_relationships_under_the_partners_access(page: Any, stack: Stack) -> None:
    plan_text = read_plan(page, "Fabrikam Inc", "en-US")
    section = access_section(plan_text, "en-US")
    for relationship in ("Fabrikam - Offboard support", "Fabrikam - Tenant administration"):
        assert "active" in line_naming(section, relationship), relationship
    # A plan is a dry run: nothing was terminated on the way.
    assert stack.customer("Fabrikam Inc")["relationshipToPartner"] == "reseller"


def test_in_french_the_plan_lists_the_gdap_relationship_under_the_partners_access(page: Any, stack: Stack) -> None:
    stack.language.locale = "fr-FR"
    plan_text = read_plan(page, "Société Générale des Fromages", "fr-FR")
    section = access_section(plan_text, "fr-FR")
    assert "active" in line_naming(section, "Fromages - Support")  # Graph's status, shown as Graph says it
    assert t("en-US", "access.heading") not in plan_text  # the section is in French, not only its heading
