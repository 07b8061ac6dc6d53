"""Reading a command: what a person sees is what is read."""

from __future__ import annotations

import pytest

from dialogs.commands import MAX_COMMAND_LENGTH, Command, parse_command


@pytest.mark.parametrize(
    "typed",
    [
        "remove Contoso\u200b",  # a zero-width space, pasted with the name
        "remove \u202aContoso\u202c",  # bidirectional embedding
        "remove \ufeffContoso",  # a byte-order mark
        "remove Conto\u00adso",  # a soft hyphen
        "remove Conto\x00so",  # a control character
        "remove \ud800Contoso",  # a lone surrogate (valid in JSON, not in Unicode)
        "remove\nContoso",
    ],
)
def test_invisible_characters_are_not_read(typed: str) -> None:
    assert parse_command(typed) == Command("remove", "Contoso", "remove Contoso")


def test_text_is_read_in_nfc_and_joiners_stay() -> None:
    assert parse_command("plan Cafe\u0301").argument == "Café"
    assert parse_command("plan 👩\u200d💻 Lab").argument == "👩\u200d💻 Lab"


def test_a_command_longer_than_the_limit_is_not_read() -> None:
    assert parse_command("remove " + "x" * (MAX_COMMAND_LENGTH - 7)).name == "remove"
    too_long = parse_command("remove " + "x" * MAX_COMMAND_LENGTH)
    assert too_long.name == "too_long" and too_long.argument == ""


def test_no_text_is_an_unknown_command() -> None:
    assert parse_command(None).name == "unknown"  # type: ignore[arg-type]
    assert parse_command("\u200b").name == "unknown"
