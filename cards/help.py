"""What the bot understands, with examples."""

from __future__ import annotations

from typing import Any

from .adaptive import adaptive_card, text
from .texts import DEFAULT_LOCALE, t

__all__ = ("help_card",)

# Each command: its explanation, then its examples if it has some.
_COMMANDS = (
    ("help.remove", "help.remove.example"),
    ("help.plan", "help.plan.example"),
    ("help.history", None),
    ("help.status", None),
    ("help.cancel", None),
    ("help.notify", None),
    ("help.help", None),
)


def help_card(*, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """The commands ``remove`` (also ``offboard``), ``plan``, ``history``, ``status``, ``cancel``, ``help``."""
    title = t(locale, "help.title")
    body = [text(title, size="Medium", weight="Bolder"), text(t(locale, "help.intro"))]
    for explanation, example in _COMMANDS:
        body.append(text(t(locale, explanation), spacing="Medium"))
        if example:
            body.append(text(t(locale, example), subtle=True, spacing="None"))
    return adaptive_card(body, fallback_text=title, lang=locale)
