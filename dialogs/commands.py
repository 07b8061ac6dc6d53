"""What a person typed, as a command: ``remove Contoso`` → Command("remove", "Contoso")."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ("Command", "parse_command")

# The command words in each language of the catalogs (cards/locales); English always works, whatever
# the user's locale, because runbooks and colleagues quote it. The help card lists the words of the
# user's language.
_ALIASES = {
    # English
    "remove": "remove",
    "offboard": "remove",
    "plan": "plan",
    "status": "status",
    "cancel": "cancel",
    "stop": "cancel",
    "history": "history",
    "notify": "notify",
    "help": "help",
    "?": "help",
    # French
    "supprimer": "remove",
    "retirer": "remove",
    "planifier": "plan",
    "statut": "status",
    "état": "status",
    "etat": "status",
    "annuler": "cancel",
    "arrêter": "cancel",
    "arreter": "cancel",
    "historique": "history",
    "notifier": "notify",
    "aide": "help",
    # Russian
    "удалить": "remove",
    "удали": "remove",
    "план": "plan",
    "статус": "status",
    "состояние": "status",
    "отменить": "cancel",
    "отмена": "cancel",
    "стоп": "cancel",
    "история": "history",
    "уведомлять": "notify",
    "уведомления": "notify",
    "справка": "help",
    "помощь": "help",
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
    name = _ALIASES.get(word.casefold().rstrip(".!:"), "unknown")
    argument = rest.strip().strip("\"'«»“”")
    if name in _NEEDS_ARGUMENT and not argument:
        return Command("help", "", cleaned)
    return Command(name, argument, cleaned)
