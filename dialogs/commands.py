"""What a person typed, as a command: ``remove Contoso`` → Command("remove", "Contoso")."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ("Command", "parse_command")

_ALIASES = {
    "remove": "remove",
    "offboard": "remove",
    "plan": "plan",
    "status": "status",
    "cancel": "cancel",
    "history": "history",
    "notify": "notify",
    "stop": "cancel",
    "help": "help",
    "?": "help",
}
_NEEDS_ARGUMENT = {"remove", "plan", "history"}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # remove, plan, history, status, cancel, notify, help, or "unknown"
    argument: str = ""
    text: str = ""


def parse_command(text: str) -> Command:
    """Read a command; an unknown word or a command missing its customer becomes help."""
    cleaned = _SPACES.sub(" ", (text or "").replace("\u00a0", " ")).strip()
    word, _, rest = cleaned.partition(" ")
    name = _ALIASES.get(word.lower().rstrip(".!:"), "unknown")
    argument = rest.strip().strip("\"'«»“”")
    if name in _NEEDS_ARGUMENT and not argument:
        return Command("help", "", cleaned)
    return Command(name, argument, cleaned)
