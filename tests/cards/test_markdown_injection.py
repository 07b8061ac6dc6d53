"""Names from outside the bot are shown as written, never as markdown (security review, row 18).

A Partner Center company name is chosen by the customer, a guest's Teams display name by their
home tenant, a subscription's name comes from Partner Center: named ``[Approve here](https://…)``,
any of them would otherwise become a link in the bot's own words, on a card that also carries
Approve buttons.

Every card of the catalogue is drawn again with every such name replaced by :data:`EVIL_NAME`:
the customer, the requester, the approver, whoever decided an item, every item, the people and
items of the history, another system's notification.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

import cards
from partner_center.money import ClosingWindow
from removal.case import CaseItem, CaseState, CaseTransfer, CaseTransferLine, CustomerRef, Person, RemovalCase

from .catalogue import ALL_CARDS, CARD_FUNCTIONS
from .factories import NOW, every_row, make_case
from .markdown import EVIL_NAME, as_read, live_bold, live_link, markdown_texts
from .reading import buttons, seen

EVIL_PERSON = Person(id="29:1evil", name=EVIL_NAME, aad_object_id="6f1c0a52-2222-4c4e-9f7a-0a1b2c3d4e5f")
# The names the catalogue's cards show that come from outside the bot.
_OUTSIDE_NAMES = (
    "Contoso",
    "Fabrikam",
    "Ann Lee",
    "Bob Martin",
    "Carol Diaz",
    "Ann Admin",
    "Office 365",
    "Microsoft 365",
    "Exchange Online",
    "Visio",
    "Teams Premium",
    "Azure plan",
    "Azure reservation",
    "Windows",
    "SQL Server",
    "Ticket 4711",
)


def _poisoned(value: Any) -> Any:
    """``value`` with every name from outside the bot replaced by :data:`EVIL_NAME`."""
    if isinstance(value, RemovalCase):
        return value.model_copy(
            update={
                "customer": _poisoned(value.customer),
                "requested_by": EVIL_PERSON,
                "approved_by": EVIL_PERSON if value.approved_by is not None else None,
                "items": [_poisoned(item) for item in value.items],
                "transfers": [_poisoned(transfer) for transfer in value.transfers],
            }
        )
    if isinstance(value, CaseTransfer):  # the other partner's name and its line items' names (issue 21)
        return value.model_copy(
            update={
                "target_partner": EVIL_NAME,
                "decided_by": EVIL_PERSON if value.decided_by is not None else None,
                "line_items": [_poisoned(line) for line in value.line_items],
            }
        )
    if isinstance(value, CaseTransferLine):
        return value.model_copy(update={"name": EVIL_NAME})
    if isinstance(value, ClosingWindow):
        return value._replace(item=_poisoned(value.item))
    if isinstance(value, CaseItem):
        return value.model_copy(update={"name": EVIL_NAME, "decided_by": EVIL_PERSON if value.decided_by is not None else None})
    if isinstance(value, CustomerRef):
        return value.model_copy(update={"name": EVIL_NAME})
    if isinstance(value, (list, tuple)):
        return type(value)(_poisoned(element) for element in value)
    return value


def _history(customer: str, events: list[dict[str, Any]], **options: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    outside = ("actor", "item", "detail")
    return (EVIL_NAME, [{**event, **{key: EVIL_NAME for key in outside if event.get(key)}} for event in events]), options


def _external(title: str, message: str, *args: Any, **options: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (EVIL_NAME, EVIL_NAME if message else "", *args), options


# Cards drawn from texts their callers wrote, already in the reader's language: nothing to replace.
_CALLERS_TEXTS = ("error", "partner", "help")
# The card functions whose inputs are plain strings from outside, and which of them to replace.
_STRING_INPUTS: dict[str, Callable[..., tuple[tuple[Any, ...], dict[str, Any]]]] = {
    "history_card": _history,
    "external_notification_card": _external,
}


@pytest.fixture
def poisoned_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each card function of the package draws from poisoned inputs (the catalogue calls them
    through ``cards.``, so every entry of the catalogue is drawn again)."""
    for name in CARD_FUNCTIONS:
        draw = getattr(cards, name)

        @functools.wraps(draw)
        def poisoned(*args: Any, __draw: Callable[..., Any] = draw, __name: str = name, **options: Any) -> Any:
            if __name in _STRING_INPUTS:
                args, options = _STRING_INPUTS[__name](*args, **options)
            return __draw(*(_poisoned(arg) for arg in args), **{key: _poisoned(value) for key, value in options.items()})

        monkeypatch.setattr(cards, name, poisoned)


@pytest.mark.parametrize("name", sorted(ALL_CARDS))
def test_a_name_from_outside_is_shown_as_written_never_as_a_link(name: str, request: pytest.FixtureRequest) -> None:
    clean = ALL_CARDS[name]()
    request.getfixturevalue("poisoned_cards")
    card = ALL_CARDS[name]()

    texts = markdown_texts(card)
    assert not [text for text in texts if live_link(text)], "a link in the bot's words"
    assert not [text for text in texts if live_bold(text)], "bold text the name asked for"
    # Escaped once, not twice: no backslash is left for the reader to see.
    assert not [text for text in texts if "\\" in as_read(text)]
    if not name.startswith(_CALLERS_TEXTS) and any(outside in seen(clean) for outside in _OUTSIDE_NAMES):
        # Still readable: once rendered, the name reads exactly as it was given.
        assert EVIL_NAME in "\n".join(as_read(text) for text in texts) + "\n" + "\n".join(b["title"] for b in buttons(card))
    # Button titles are plain text: a name there is shown as it is, with no backslash.
    assert not [button["title"] for button in buttons(card) if "\\" in button["title"]]


def test_the_catalogue_draws_names_from_outside_on_every_kind_of_card(poisoned_cards: None) -> None:
    """The test above means something: the poisoned name reaches most cards."""
    showing = {name.split("-", 1)[0] for name, draw in ALL_CARDS.items() if EVIL_NAME in as_read(seen(draw()))}
    assert showing >= {
        "plan",
        "confirmation",
        "decision",
        "status",
        "final",
        "still",
        "cancelled",
        "removing",
        "result",
        "history",
        "case",
        "notification",
        "paused",
        "resumed",
        "choice",
        "transfer",
        "window",
    }


def test_a_customer_known_only_by_its_name_is_escaped_in_what_to_type() -> None:
    """Without a domain or tenant id, the "type **remove …**" hints fall back to the name."""
    nameless = CustomerRef(id="", name=EVIL_NAME)
    for card in (
        cards.plan_card(make_case([], customer=nameless), dry_run=True, now=NOW),
        cards.still_blocked_card(make_case(every_row(), state=CaseState.WAITING, customer=nameless), now=NOW),
    ):
        texts = markdown_texts(card)
        assert not [text for text in texts if live_link(text) or live_bold(text)]
        assert any(f"**remove {EVIL_NAME}**" in as_read(text) for text in texts)
