"""The verb registry: one route per verb, payloads as one discriminated union, refusals as before."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.activity import locale_of, person_of, tenant_ids, typed_text
from bot.card_actions import ChooseCustomer, Decide, InvalidCardAction, card_action_of
from bot.routes import Routes
from cards import CardDecision, Verb
from removal.access import Permission


def _invoke(verb: Any, data: Any) -> Activity:
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}}
    return Activity(type=ActivityTypes.invoke, name="adaptiveCard/action", value=value)


def test_each_verb_parses_to_its_own_payload_type() -> None:
    decide = card_action_of(_invoke("decide", {"caseId": "c1", "itemKey": "k", "decision": "skip", "approver": "forged"}))
    assert isinstance(decide, Decide) and decide.decision is CardDecision.SKIP and decide.verb is Verb.DECIDE
    submitted = card_action_of(Activity(type=ActivityTypes.message, value={"verb": "choose_customer", "customerId": "x-1"}))
    assert isinstance(submitted, ChooseCustomer) and submitted.customer_id == "x-1"
    assert card_action_of(Activity(type=ActivityTypes.message, text="status")) is None


@pytest.mark.parametrize(
    ("verb", "data"),
    [
        ("unknown", {"caseId": "c1"}),
        (None, {"caseId": "c1"}),
        ({"nested": 1}, {"caseId": "c1"}),
        ("cancel_case", {}),  # a case verb without its case
        ("decide", {"caseId": "c1", "itemKey": "k"}),  # a decision without its decision
        ("decide", {"caseId": "c1", "decision": "approve"}),
        ("choose_customer", {"customerId": ""}),
        ("choose_customer", {"customerId": "x", "caseId": "../cases"}),  # checked whatever the verb
        ("plan_page", {"caseId": "c1", "page": -1}),
        ("approve_all", [1, 2]),
    ],
)
def test_malformed_or_unknown_payloads_are_refused_without_echoing_them(verb: Any, data: Any) -> None:
    with pytest.raises(InvalidCardAction) as refused:
        card_action_of(_invoke(verb, data))
    assert "nested" not in str(refused.value) and "../" not in str(refused.value)


def test_a_verb_routed_twice_or_not_at_all_fails_when_the_table_is_built() -> None:
    routes: Routes[Verb, Any] = Routes()
    routes.add(Verb.DECIDE, print, needs=Permission.DECIDE)
    with pytest.raises(ValueError, match="routed twice"):
        routes.add(Verb.DECIDE, print, needs=Permission.DECIDE)
    with pytest.raises(LookupError):
        routes.covering(Verb)
    assert routes.route(Verb.CANCEL_CASE) is None


def test_the_activity_readers_read_and_never_change_the_activity() -> None:
    activity = Activity(
        type=ActivityTypes.message,
        text="<at>Offboard</at> status",
        locale=None,
        channel_data=None,
        from_property=ChannelAccount(id="29:a", name="Ann"),
        recipient=ChannelAccount(id="28:bot"),
        conversation=ConversationAccount(id="19:c", tenant_id="t1"),
    )
    before = activity.serialize()
    assert typed_text(activity) == "status"
    assert locale_of(activity) == "en-US" and tenant_ids(activity) == ["t1"] and person_of(activity).name == "Ann"
    assert activity.serialize() == before
