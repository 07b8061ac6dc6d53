"""The README's layer table ("Developing Offboard") says what the import-linter contracts in
pyproject.toml say, row by row: the layers and their order, what each may import, the exceptions,
which packages may import the Bot Framework SDK, and what each may never import.

Only the contracts hold the code (``lint-imports``); this keeps the table a person reads from
drifting away from them. Both are read as text, so a change to either that the other does not
follow fails here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
_NAME = re.compile(r"`([\w.]+)`")
_EXCEPTION = re.compile(r"`([\w.]+)` → `([\w.]+)`")
_NOT_LAYERED = "—"


@dataclass(frozen=True, slots=True)
class Row:
    layer: str  # "1", "2"… or "—" outside the layers
    package: str
    may_import: frozenset[str]  # our packages (dotted names are exceptions, kept apart)
    exceptions: frozenset[tuple[str, str]]  # (importer, imported) allowed against the layers
    never: frozenset[str]
    sdk: bool


def section(readme: str, title: str) -> str:
    start = readme.index(f"\n## {title}\n")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else None]


def layer_table(text: str) -> list[Row]:
    """The rows of the table whose header starts ``| layer | package |``."""
    lines = text.splitlines()
    [header] = [i for i, line in enumerate(lines) if line.startswith("| layer | package |")]
    rows = []
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        layer, package, _owns, may_import, sdk = (cell.strip() for cell in line.strip().strip("|").split("|"))
        allowed, _, never = may_import.partition("; never ")
        rows.append(
            Row(
                layer=layer,
                package=_NAME.findall(package)[0],
                may_import=frozenset(name for name in _NAME.findall(allowed) if "." not in name),
                exceptions=frozenset(_EXCEPTION.findall(allowed)),
                never=frozenset(_NAME.findall(never)),
                sdk={"yes": True, "no": False}[sdk],
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class Contracts:
    names: list[str]
    layers: list[frozenset[str]]  # top to bottom
    ignored: frozenset[tuple[str, str]]
    sdk_forbidden_for: frozenset[str]
    never: dict[str, frozenset[str]]  # package → our packages a forbidden contract keeps from it


def contracts(pyproject: dict[str, Any]) -> Contracts:
    config = pyproject["tool"]["importlinter"]
    ours = set(config["root_packages"])
    [layered] = [contract for contract in config["contracts"] if contract["type"] == "layers"]
    layers = [frozenset(part.strip().strip("()") for part in layer.split("|")) for layer in layered["layers"]]
    ignored = frozenset(tuple(part.strip() for part in rule.split("->")) for rule in layered.get("ignore_imports", ()))
    sdk: set[str] = set()
    never: dict[str, frozenset[str]] = {}
    for contract in config["contracts"]:
        if contract["type"] != "forbidden":
            continue
        forbidden = set(contract["forbidden_modules"])
        if forbidden <= ours:  # one of our packages kept from others: the "never" lists
            for source in contract["source_modules"]:
                never[source] = never.get(source, frozenset()) | forbidden
        else:  # a third-party library: the SDK column
            sdk |= set(contract["source_modules"])
    return Contracts(
        names=[contract["name"] for contract in config["contracts"]],
        layers=layers,
        ignored=frozenset((a, b) for a, b in ignored),
        sdk_forbidden_for=frozenset(sdk),
        never=never,
    )


@pytest.fixture(scope="module")
def readme() -> str:
    return section((REPO / "README.md").read_text(encoding="utf-8"), "Developing Offboard")


@pytest.fixture(scope="module")
def rows(readme: str) -> list[Row]:
    return layer_table(readme)


@pytest.fixture(scope="module")
def said() -> Contracts:
    return contracts(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8")))


def test_the_readme_names_every_contract(readme: str, said: Contracts) -> None:
    flowing = " ".join(readme.split())  # the names are wrapped across lines
    assert [name for name in said.names if f'"{name}"' not in flowing] == []


def test_the_table_has_a_row_for_every_package_a_contract_names(rows: list[Row], said: Contracts) -> None:
    named = set().union(*said.layers) | said.sdk_forbidden_for | set(said.never)
    packages = [row.package for row in rows]
    assert sorted(packages) == sorted(named)  # each once


def test_the_layer_column_is_the_layers_contract(rows: list[Row], said: Contracts) -> None:
    layered = [row for row in rows if row.layer != _NOT_LAYERED]
    numbers = [int(row.layer) for row in layered]
    assert numbers == sorted(numbers), "the table lists the layers top to bottom"
    table = [frozenset(row.package for row in layered if int(row.layer) == number) for number in range(1, max(numbers) + 1)]
    assert table == said.layers


def test_each_layer_may_import_exactly_the_layers_below_it(rows: list[Row], said: Contracts) -> None:
    layered = set().union(*said.layers)
    wrong = {}
    for index, layer in enumerate(said.layers):
        below = frozenset().union(*said.layers[index + 1 :])
        for row in rows:
            if row.package in layer and row.may_import & layered != below:
                wrong[row.package] = sorted(row.may_import & layered)
    assert wrong == {}


def test_what_a_row_may_import_besides_the_layers_no_contract_forbids(rows: list[Row], said: Contracts) -> None:
    layered = set().union(*said.layers)
    assert {
        row.package: sorted(row.may_import - layered) for row in rows if (row.may_import - layered) & said.never.get(row.package, set())
    } == {}


def test_the_exceptions_are_the_contracts_ignored_imports(rows: list[Row], said: Contracts) -> None:
    assert frozenset().union(*(row.exceptions for row in rows)) == said.ignored
    for row in rows:  # each in the row of the package that imports
        assert all(importer.split(".")[0] == row.package for importer, _ in row.exceptions), row


def test_the_never_lists_are_the_forbidden_contracts(rows: list[Row], said: Contracts) -> None:
    assert {row.package: row.never for row in rows if row.never} == said.never


def test_the_sdk_column_is_the_sdk_contract(rows: list[Row], said: Contracts) -> None:
    assert {row.package for row in rows if not row.sdk} == said.sdk_forbidden_for


def test_the_reading_catches_a_difference() -> None:
    """The parsers are not so lenient that any table passes: one word changed is seen."""
    readme = section((REPO / "README.md").read_text(encoding="utf-8"), "Developing Offboard")
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    rows, said = layer_table(readme), contracts(pyproject)
    [removal] = [row for row in rows if row.package == "removal"]
    assert removal.may_import == {"partner_center", "storage"} and removal.never == {"pc_sandbox"} and not removal.sdk
    swapped = layer_table(readme.replace("| 4 | `cards` |", "| 5 | `cards` |").replace("| 5 | `removal` |", "| 4 | `removal` |"))
    assert [row.package for row in swapped if row.layer == "4"] == ["removal"]
    pyproject["tool"]["importlinter"]["contracts"][0]["layers"].remove("cards")
    assert len(contracts(pyproject).layers) == len(said.layers) - 1
