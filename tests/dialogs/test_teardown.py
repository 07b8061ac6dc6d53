"""Issue 19, "Must show": the access the partner still has, torn down as approvable items, through
the whole bot against the real sandbox (its Partner Center and its Microsoft Graph).

Fabrikam Inc holds every kind: two active GDAP relationships, DAP, two partner guests, the
partner's addresses in its contacts (and its privacy contact), one partner service principal.
Removed before the relationship, or after it (the default); with a Graph permission missing; in
French.

What is left is read back from the sandbox: GDAP through the Graph client (the partner's own
relationships need no GDAP), DAP and the relationship through the Partner Center client. The
customer's tenant cannot be read through Graph once no GDAP relationship is active (that is the
point of the teardown, and the test checks that Graph refuses), so its directory is read from the
sandbox's own state.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bench.buttons import button_data, buttons
from cards import t
from partner_center import (
    GraphClient,
    PartnerCenterClient,
    PartnerCenterConfig,
    PartnerLimits,
    RateSettings,
    Relationship,
    connect,
    connect_graph,
    token_provider,
)
from partner_center.blockers import Action, BlockerKind
from partner_center.errors import GraphPermissionError
from partner_center.graph import Needs
from partner_center.graph_models import GdapStatus
from pc_sandbox import SandboxOptions
from pc_sandbox.state import STATE
from removal import CaseState, Decision, RemovalCase
from removal.audit import item_of
from removal.case import TeardownTiming
from tests._helpers import FAST_RETRY
from tests.dialogs.harness import BOB, Conversation, card_text

FABRIKAM = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d04"
PARTNER_DOMAIN = "sandbox-partner.onmicrosoft.com"
GDAP_NAMES = ("Fabrikam - Offboard support", "Fabrikam - Tenant administration")
GUESTS = ("admin@sandbox-partner.onmicrosoft.com", "helpdesk@sandbox-partner.onmicrosoft.com")
PARTNER_CONTACTS = (
    "support@sandbox-partner.onmicrosoft.com",
    "security@sandbox-partner.onmicrosoft.com",
    "privacy@sandbox-partner.onmicrosoft.com",
)
PARTNER_APP = "Sandbox Partner Monitoring"
# Each kind of teardown item Fabrikam holds, and how many.
FABRIKAM_ITEMS = Counter(
    {BlockerKind.PARTNER_GUEST: 2, BlockerKind.PARTNER_CONTACTS: 1, BlockerKind.PARTNER_APP: 1, BlockerKind.DAP: 1, BlockerKind.GDAP: 2}
)
# A terminated relationship reads terminationRequested, terminating, then terminated, one step
# each on the sandbox clock: with no step, it is terminated as soon as it is asked.
AT_ONCE = SandboxOptions(gdap_termination_step=timedelta(0))


class Clients:
    def __init__(self, client: PartnerCenterClient, graph: GraphClient) -> None:
        self.client, self.graph = client, graph


@pytest.fixture
def clients(sandbox: Any, http: aiohttp.ClientSession) -> Clients:
    config = PartnerCenterConfig.sandbox(sandbox.base_url)
    tokens = token_provider(config)  # one provider, one cache, for both clients (as app.py)
    limits = PartnerLimits(RateSettings(requests_per_period=100_000, period_seconds=60, max_concurrency=32))
    client = connect(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens)
    graph = connect_graph(config, session=http, limits=limits, retry=FAST_RETRY, tokens=tokens)
    return Clients(client, graph)


@pytest.fixture
def chat(sandbox: Any, clients: Clients) -> Conversation:
    return Conversation(clients.client, clock=sandbox.clock.now, graph=clients.graph)


# ---- Steps ----


async def _ask_to_remove_fabrikam(chat: Conversation) -> tuple[dict[str, Any], dict[str, Any], RemovalCase]:
    """``remove Fabrikam Inc``: the plan, the first step's card, and the case as stored."""
    plan, step = (await chat.say("remove Fabrikam Inc")).cards
    case = await chat.store.current_for("Convo1")
    assert case is not None and case.state is CaseState.AWAITING_APPROVAL
    return plan, step, case


async def _approve_everything(chat: Conversation, step: dict[str, Any]) -> dict[str, Any]:
    """One "approve all" by the requester (four-eyes is off by default: it approves every item,
    the irreversible ones too); the card offering the final confirmation once the work is done."""
    assert not chat.bot._access.four_eyes  # noqa: SLF001 (the harness's policy: the default)
    await chat.click("approve_all", button_data(step, "approve_all"))
    posted = [activity.attachments[0].content for activity in await chat.settle() if activity.attachments]
    case = await chat.store.current_for("Convo1")
    assert case is not None and case.state is CaseState.READY, case.state if case else None
    assert case.to_decide and all(item.decision is Decision.APPROVED for item in case.to_decide)
    return next(card for card in reversed(posted + chat.updates) if "confirm_removal" in {b["verb"] for b in buttons(card).values()})


async def _confirm(chat: Conversation, final: dict[str, Any]) -> tuple[RemovalCase, dict[str, Any]]:
    """The final confirmation (by a second person, as a careful team would); the removed case and
    the result card."""
    await chat.click("confirm_removal", button_data(final, "confirm_removal"), user=BOB)
    await chat.settle()
    case = await chat.store.get(button_data(final, "confirm_removal")["caseId"])
    assert case is not None and case.state is CaseState.REMOVED, case.state if case else None
    return case, chat.updates[-1]


async def _stored(chat: Conversation, case_id: str) -> RemovalCase:
    case = await chat.store.get(case_id)
    assert case is not None
    return case


# ---- What is left ----


async def _assert_fabrikam_has_no_partner_access_left(sandbox: Any, clients: Clients) -> None:
    relationships = await clients.graph.relationships_with(FABRIKAM)
    assert {r.display_name: r.status for r in relationships} == dict.fromkeys(GDAP_NAMES, GdapStatus.TERMINATED)
    customer = await clients.client.get_customer(FABRIKAM)
    assert customer.relationship_to_partner is Relationship.NONE and customer.allow_delegated_access is False
    # With no active GDAP relationship the partner cannot even read the tenant any more.
    with pytest.raises(GraphPermissionError):
        await clients.graph.partner_guests(FABRIKAM, [PARTNER_DOMAIN])
    directory = sandbox.app[STATE].graph.directory(FABRIKAM)
    assert sorted(user.display_name for user in directory.users.values()) == ["Adele Vance", "Pat Auditor"]  # the customer's own
    organization = directory.organization
    addresses = [
        *organization.technical_notification_mails,
        *organization.security_compliance_notification_mails,
        *organization.marketing_notification_emails,
        organization.privacy_contact_email or "",
    ]
    assert not [address for address in addresses if PARTNER_DOMAIN in address]
    assert organization.technical_notification_mails == ["it@fabrikam.com"] and organization.marketing_notification_emails == [
        "marketing@fabrikam.com"
    ]
    assert [principal.display_name for principal in directory.service_principals.values()] == ["Office 365 Exchange Online"]


# The actions each kind of teardown item is carried out with (the first word of its audit ``item``).
_CARRIED_OUT_WITH = {
    BlockerKind.PARTNER_GUEST: {Action.DELETE_GUEST},
    BlockerKind.PARTNER_CONTACTS: {Action.CLEAR_CONTACTS},
    BlockerKind.PARTNER_APP: {Action.DELETE_SERVICE_PRINCIPAL},
    BlockerKind.DAP: {Action.REMOVE_DAP},
    BlockerKind.GDAP: {Action.TERMINATE_GDAP, Action.DELETE_GDAP_REQUEST},
}


async def _done_records(chat: Conversation, case: RemovalCase) -> dict[str, dict[str, Any]]:
    """The ``item.done`` record of each teardown item (exactly one each), by item key. Matched by
    the item's id and the action its kind is carried out with (the record's ``item`` is
    ``item_of``: "<action> <name> (<id>)"): the contacts item and the DAP item share the
    customer's id, and a GDAP item re-read after its termination proposes nothing more, so its
    action now is not the one it was carried out with."""
    history = await chat.audit.history(FABRIKAM)
    done: dict[str, dict[str, Any]] = {}
    for item in case.teardown_items:
        carried_out_with = _CARRIED_OUT_WITH[item.kind]
        records = [
            r
            for r in history
            if r["action"] == "item.done" and r["item"].endswith(f" ({item.item_id})") and r["item"].split(" ", 1)[0] in carried_out_with
        ]
        assert len(records) == 1, (item_of(item), [r["item"] for r in history if r["action"] == "item.done"])
        done[item.key] = records[0]
    return done


def _assert_the_details_name_what_was_removed(case: RemovalCase, done: dict[str, dict[str, Any]]) -> None:
    details = {item.key: done[item.key]["detail"] for item in case.teardown_items}
    by_kind = {kind: [details[item.key] for item in case.teardown_items if item.kind is kind] for kind in FABRIKAM_ITEMS}
    for address in GUESTS:
        assert any(address in detail for detail in by_kind[BlockerKind.PARTNER_GUEST]), by_kind[BlockerKind.PARTNER_GUEST]
    [contacts] = by_kind[BlockerKind.PARTNER_CONTACTS]
    assert all(address in contacts for address in PARTNER_CONTACTS), contacts
    [app] = by_kind[BlockerKind.PARTNER_APP]
    assert PARTNER_APP in app, app
    [dap] = by_kind[BlockerKind.DAP]
    assert "DAP" in dap and "allowDelegatedAccess" in dap and "false" in dap, dap
    for name in GDAP_NAMES:
        assert any(name in detail and "terminat" in detail for detail in by_kind[BlockerKind.GDAP]), by_kind[BlockerKind.GDAP]


def _assert_the_plan_lists_each(plan: dict[str, Any], case: RemovalCase) -> None:
    text = card_text(plan)
    assert t("en-US", "access.heading") in text
    for words in (*GDAP_NAMES, *GUESTS, *PARTNER_CONTACTS, PARTNER_APP):
        assert words in text, words
    assert Counter(item.kind for item in case.teardown_items) == FABRIKAM_ITEMS
    assert all(not item.blocks_removal for item in case.teardown_items)
    assert case.teardown_timing is TeardownTiming.AFTER  # the default


# ---- Must show ----


async def test_fabrikam_torn_down_before_the_removal(chat: Conversation, sandbox: Any, clients: Clients) -> None:
    plan, step, case = await _ask_to_remove_fabrikam(chat)
    _assert_the_plan_lists_each(plan, case)

    chosen = await chat.click("teardown_timing", button_data(plan, "teardown_timing", timing="before"))
    assert button_data(chosen.invoke_card, "teardown_timing", timing="after")  # the plan now offers the other way
    assert (await _stored(chat, case.id)).teardown_timing is TeardownTiming.BEFORE

    final = await _approve_everything(chat, step)
    # Before: the access is gone while the relationship still stands.
    assert await clients.client.read_relationship(FABRIKAM) is Relationship.RESELLER
    assert (await clients.client.get_customer(FABRIKAM)).allow_delegated_access is False
    # The GDAP relationships finish terminating (Microsoft's side) before the final confirmation.
    sandbox.clock.advance(timedelta(minutes=11))
    case, result = await _confirm(chat, final)

    await _assert_fabrikam_has_no_partner_access_left(sandbox, clients)
    done = await _done_records(chat, case)
    _assert_the_details_name_what_was_removed(case, done)
    history = await chat.audit.history(FABRIKAM)
    started = next(i for i, r in enumerate(history) if r["action"] == "removal.started")
    assert all(history.index(record) < started for record in done.values())  # all of it before the removal
    assert case.no_access_remains
    assert t("en-US", "result.access.none") in card_text(result)


@pytest.mark.parametrize("sandbox_options", [AT_ONCE])
async def test_fabrikam_torn_down_after_the_removal_by_default(chat: Conversation, sandbox: Any, clients: Clients) -> None:
    plan, step, case = await _ask_to_remove_fabrikam(chat)
    _assert_the_plan_lists_each(plan, case)

    final = await _approve_everything(chat, step)
    # After: nothing of the access is touched before the removal.
    assert await clients.client.read_relationship(FABRIKAM) is Relationship.RESELLER
    assert len(await clients.graph.partner_guests(FABRIKAM, [PARTNER_DOMAIN])) == 2
    assert {r.status for r in await clients.graph.relationships_with(FABRIKAM)} == {GdapStatus.ACTIVE}
    case, result = await _confirm(chat, final)

    await _assert_fabrikam_has_no_partner_access_left(sandbox, clients)
    done = await _done_records(chat, case)
    _assert_the_details_name_what_was_removed(case, done)
    history = await chat.audit.history(FABRIKAM)
    removed = next(i for i, r in enumerate(history) if r["action"] == "removal.done")
    assert all(history.index(record) > removed for record in done.values())  # the relationship first, then the access
    assert case.teardown_timing is TeardownTiming.AFTER and case.no_access_remains
    assert t("en-US", "result.access.none") in card_text(result)


@pytest.mark.parametrize("sandbox_options", [AT_ONCE])
async def test_a_missing_graph_permission_is_named_and_the_rest_is_removed(
    chat: Conversation, sandbox: Any, clients: Clients, http: aiohttp.ClientSession
) -> None:
    for permission in ("Application.ReadWrite.All", "Directory.Read.All"):  # nothing left that reads apps
        async with http.delete(f"{sandbox.base_url}/_sandbox/graph/permissions/{permission}") as response:
            assert response.status == 200
    plan, step, case = await _ask_to_remove_fabrikam(chat)
    text = card_text(plan)
    needs = t("en-US", "access.unchecked.needs", part=t("en-US", "access.part.service_principals"), needs=Needs.READ_APPLICATIONS)
    assert needs in text and "cannot be checked: needs Application.Read.All" in text
    # The rest of the plan is there: every other item, to approve as usual.
    for words in (*GDAP_NAMES, *GUESTS, *PARTNER_CONTACTS):
        assert words in text, words
    assert Counter(item.kind for item in case.teardown_items) == FABRIKAM_ITEMS - Counter({BlockerKind.PARTNER_APP: 1})

    final = await _approve_everything(chat, step)
    case, result = await _confirm(chat, final)

    customer = await clients.client.get_customer(FABRIKAM)
    assert customer.relationship_to_partner is Relationship.NONE and customer.allow_delegated_access is False
    assert {r.status for r in await clients.graph.relationships_with(FABRIKAM)} == {GdapStatus.TERMINATED}
    directory = sandbox.app[STATE].graph.directory(FABRIKAM)
    assert not [user for user in directory.users.values() if PARTNER_DOMAIN in (user.mail or "")]
    assert PARTNER_DOMAIN not in str(directory.organization)
    # What could not be checked was not touched, and is not said to be gone.
    assert PARTNER_APP in [principal.display_name for principal in directory.service_principals.values()]
    assert len(await _done_records(chat, case)) == sum(FABRIKAM_ITEMS.values()) - 1
    assert not case.no_access_remains
    assert t("en-US", "result.access.none") not in card_text(result)
    assert t("en-US", "access.check.service_principals") in card_text(result)  # to check by hand


async def test_the_access_section_and_the_timing_button_in_french(chat: Conversation) -> None:
    chat.locale = "fr-FR"
    plan, _, case = await _ask_to_remove_fabrikam(chat)
    text = card_text(plan)
    assert t("fr-FR", "access.heading") == "Accès que le partenaire conserve" and "Accès que le partenaire conserve" in text
    assert "Fabrikam - Offboard support : statut active" in text
    assert t("fr-FR", "access.guests.heading") in text and t("fr-FR", "access.contacts.heading") in text
    assert t("fr-FR", "access.service_principals.heading") in text
    [title] = [title for title, button in buttons(plan).items() if button["verb"] == "teardown_timing"]
    assert title == t("fr-FR", "access.timing.switch.before")
    assert title != t("en-US", "access.timing.switch.before")
    assert t("fr-FR", "access.timing.after") in text  # the timing in force, said in French
    # The answer to the click is the plan, still in French.
    chosen = await chat.click("teardown_timing", button_data(plan, "teardown_timing"))
    assert t("fr-FR", "access.timing.before") in card_text(chosen.invoke_card)
    assert (await _stored(chat, case.id)).teardown_timing is TeardownTiming.BEFORE
