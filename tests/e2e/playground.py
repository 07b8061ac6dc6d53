"""What a person does on the Agents Playground page, in Playwright terms (selectors: bot-stack.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHAT_INPUT = '[data-lexical-editor="true"][role="textbox"]'
CARD = ".ac-adaptiveCard"


def open_conversation(page: Any, name: str) -> None:
    """Click a conversation in the left pane: "Personal Chat", "General", "Offboarding requests"."""
    page.get_by_role("treeitem").filter(has_text=re.compile(f"^{re.escape(name)}")).first.click()
    page.locator(CHAT_INPUT).first.wait_for()


def say(page: Any, text: str) -> None:
    """Type a message in a chat and press Enter."""
    box = page.locator(CHAT_INPUT).first
    box.click()
    box.type(text)
    page.keyboard.press("Enter")


def post_mentioning_the_bot(page: Any, text: str) -> None:
    """In a channel: a new post that @mentions Offboard (typed "@Off", picked from the list)."""
    box = page.locator(CHAT_INPUT).first  # "Start a new post"; the others answer existing threads
    box.click()
    box.type("@Off")
    page.get_by_role("menuitem", name="Offboard").click()
    box.type(f" {text}")
    page.get_by_role("button", name="Post", exact=True).click()


def card(page: Any, text: str | re.Pattern[str]) -> Any:
    """The newest card showing ``text``."""
    return page.locator(CARD).filter(has_text=text).last


def cards_with_button(page: Any, name: str) -> Any:
    return page.locator(CARD).filter(has=page.get_by_role("button", name=name, exact=True))


def click(page: Any, on_card: Any, button: str) -> tuple[int, float]:
    """Click ``button`` on a card and wait until the bot's answer has replaced that card.

    Returns the card's index among the page's cards (it now holds the answer) and the seconds the
    answer took to show.
    """
    index = on_card.evaluate(f"element => [...document.querySelectorAll('{CARD}')].indexOf(element)")
    before = on_card.inner_text()
    started = time.monotonic()
    on_card.get_by_role("button", name=button, exact=True).click()
    page.wait_for_function(
        "([selector, index, before]) => document.querySelectorAll(selector)[index]?.innerText !== before",
        arg=[CARD, index, before],
    )
    return index, time.monotonic() - started


def nth_card(page: Any, index: int) -> Any:
    return page.locator(CARD).nth(index)


def buttons_of(a_card: Any) -> list[str]:
    """The labels of a card's actions, whatever their kind (an Action.OpenUrl may not be a "button")."""
    return [name.strip() for name in a_card.locator(".ac-actionSet").locator("button, a").all_inner_texts()]


def shot(page: Any, a_card: Any, path: Path) -> None:
    """The page with the card's top in view (the chat scrolls inside its own pane)."""
    a_card.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))


def eventually(check: Callable[[], Any], seconds: float = 30, what: str = "") -> Any:
    """Poll ``check`` until it returns something true (for what happens behind the page)."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not after {seconds:.0f} s: {what}")
        time.sleep(0.25)
