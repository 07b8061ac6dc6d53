"""What a person typed, as a command: ``remove Contoso`` → Command("remove", "Contoso").

Text is read as a person sees it: Unicode NFC, without the invisible format characters (zero-width
spaces, bidirectional marks, soft hyphens; joiners stay) and control characters pasted text
carries, runs of white space (newlines too) as one space. A command longer than
:data:`MAX_COMMAND_LENGTH` is not read at all: it becomes ``too_long``, answered with a clear
message rather than a Partner Center search for a name no customer can have.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ("COMMAND_NAMES", "MAX_COMMAND_LENGTH", "Command", "parse_command")

# A command word and a customer: company names and domains in Partner Center are at most a few
# hundred characters (a DNS name at most 253), tenant ids 36.
MAX_COMMAND_LENGTH = 300

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
# Every name a Command can have: the words' meanings, and what text that is no command reads as.
COMMAND_NAMES = frozenset(_ALIASES.values()) | {"unknown", "too_long"}
_SPACES = re.compile(r"\s+")
_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})  # controls, format characters, lone surrogates
_JOINERS = frozenset("\u200c\u200d")  # format characters that belong to some words (Persian, emoji)


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # one of COMMAND_NAMES: remove, plan, history, status, cancel, notify, help, "unknown" or "too_long"
    argument: str = ""
    text: str = ""


def parse_command(text: str) -> Command:
    """Read a command; an unknown word or a command missing its customer becomes help."""
    cleaned = _SPACES.sub(" ", _visible(text or "")).strip()
    if len(cleaned) > MAX_COMMAND_LENGTH:
        return Command("too_long", "", cleaned[:MAX_COMMAND_LENGTH])
    word, _, rest = cleaned.partition(" ")
    name = _ALIASES.get(word.casefold().rstrip(".!:"), "unknown")
    argument = rest.strip().strip("\"'«»“”")
    if name in _NEEDS_ARGUMENT and not argument:
        return Command("help", "", cleaned)
    return Command(name, argument, cleaned)


def _visible(text: str) -> str:
    """``text`` in NFC without the characters that do not show (white space stays: it separates)."""
    kept = "".join(c for c in text if c.isspace() or c in _JOINERS or unicodedata.category(c) not in _INVISIBLE)
    return unicodedata.normalize("NFC", kept)
