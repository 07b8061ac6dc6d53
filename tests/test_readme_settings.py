"""The README's configuration table ("Configuration") names every setting ``bot.settings`` reads,
and only those: a setting added without its row, or a row left behind, fails here."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from bot.settings import ENV_FILE_VARIABLE, Settings

REPO = Path(__file__).resolve().parents[1]
_NAME = re.compile(r"`([A-Za-z_]+)`")


def documented_names() -> set[str]:
    """The backticked names in the first column of the configuration table."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## Configuration\n")
    table = readme[start : readme.index("\n## ", start + 1)].split("| variable | default | what it is |", 1)[1]
    names: set[str] = set()
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        names.update(_NAME.findall(line.split("|")[1]))
    return names


def setting_names() -> set[str]:
    """The first name each field is read by (``OFFBOARD_…``, or the Bot Framework's ``Microsoft…``)."""
    names = {ENV_FILE_VARIABLE}
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        first = alias.choices[0] if isinstance(alias, AliasChoices) else alias
        assert isinstance(first, str), field
        names.add(first)
    return names


def test_every_setting_has_a_row_and_every_row_a_setting() -> None:
    documented, read = documented_names(), setting_names()
    assert sorted(read - documented) == [], "settings the README does not name"
    assert sorted(documented - read) == [], "README rows naming no setting"
