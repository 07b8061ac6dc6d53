"""The conversation in French and Russian: commands in the user's words, answers in their language.

The locale comes from each activity, as Teams sends it. English commands keep working whatever the
locale, and a language without a catalog gets English.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.buttons import button_data, buttons
from cards import t
from partner_center import PartnerCenterClient
from removal import CaseState
from tests.dialogs.harness import Conversation, card_text


@pytest.fixture
def chat(client: PartnerCenterClient, sandbox: Any) -> Conversation:
    return Conversation(client, clock=sandbox.clock.now)


async def _in(chat: Conversation, locale: str, text: str) -> Any:
    chat.locale = locale
    return await chat.say(text)


@pytest.mark.parametrize(
    ("locale", "command", "title"),
    [
        ("fr-FR", "supprimer Wingtip Toys", "Plan de suppression pour Wingtip Toys"),
        ("fr-FR", "remove Wingtip Toys", "Plan de suppression pour Wingtip Toys"),  # English always works
        ("ru-RU", "удалить Wingtip Toys", "План удаления: клиент Wingtip Toys"),
        ("ru-RU", "Удалить «Wingtip Toys»", "План удаления: клиент Wingtip Toys"),
        ("en-US", "supprimer Wingtip Toys", "Removal plan for Wingtip Toys"),  # the words of any language
        ("de-DE", "remove Wingtip Toys", "Removal plan for Wingtip Toys"),  # no German catalog: English
    ],
)
async def test_remove_in_the_users_words_answers_in_their_language(chat: Conversation, locale: str, command: str, title: str) -> None:
    turn = await _in(chat, locale, f"<at>Offboard</at> {command}")
    plan, confirmation = turn.cards
    assert title in card_text(plan)
    assert t(locale, "button.skip") in buttons(confirmation)


async def test_a_plan_in_french_is_a_dry_run_with_french_dates_and_counts(chat: Conversation) -> None:
    turn = await _in(chat, "fr-FR", "plan Contoso Ltd")
    [plan] = turn.cards
    text = card_text(plan)
    assert "Plan de suppression pour Contoso Ltd" in text
    assert t("fr-FR", "plan.dry_run") in text
    assert "(25 licences)" in text and "dans 3 jours" in text  # Contoso Ltd's NCE window ends in 3 days
    assert await chat.store.current_for("Convo1") is None


async def test_russian_counts_take_the_right_plural_form(chat: Conversation) -> None:
    turn = await _in(chat, "ru-RU", "план ООО «Ромашка»")
    text = card_text(turn.cards[0])
    assert "(20 лицензий)" in text and "(30 лицензий)" in text
    turn = await _in(chat, "ru-RU", "план Contoso Ltd")
    assert "(25 лицензий)" in card_text(turn.cards[0]) and "через 3 дня" in card_text(turn.cards[0])


async def test_a_removal_cancelled_in_russian_midway(chat: Conversation) -> None:
    turn = await _in(chat, "ru-RU", "удалить ООО «Ромашка»")
    _, confirmation = turn.cards
    case = await chat.store.current_for("Convo1")
    assert case is not None and len(case.items) == 2
    await chat.click("decide", button_data(confirmation, "decide", decision="skip"))  # one decided, one to go
    turn = await _in(chat, "ru-RU", "отменить")
    assert t("ru-RU", "cancelled.title", customer="ООО «Ромашка»") in " ".join(card_text(card) for card in turn.cards)
    assert (await chat.store.get(case.id)).state is CaseState.CANCELLED


@pytest.mark.parametrize(
    ("locale", "words"),
    [("fr-FR", ("**supprimer**", "**annuler**", "**aide**")), ("ru-RU", ("**удалить**", "**отменить**", "**справка**"))],
)
async def test_help_lists_the_commands_in_the_users_language(chat: Conversation, locale: str, words: tuple[str, ...]) -> None:
    for ask in ({"fr-FR": "aide", "ru-RU": "справка"}[locale], "help"):
        turn = await _in(chat, locale, ask)
        text = card_text(turn.cards[0])
        assert all(word in text for word in words), text


async def test_status_in_french_when_nothing_is_in_progress(chat: Conversation) -> None:
    turn = await _in(chat, "fr-FR", "statut")
    assert turn.texts == [t("fr-FR", "status.nothing")]
