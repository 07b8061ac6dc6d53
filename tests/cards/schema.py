"""Validate a card against the official Adaptive Card 1.5 JSON schema (shared/schemas/).

Other packages' tests import :func:`assert_valid_card`; keep its name and signature.

Only the root ``msteams`` key (Teams' one documented extension: ``{"width": "Full"}``, mention
entities) is set aside before validating; the schema forbids unknown root properties.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

__all__ = ("SCHEMA_PATH", "assert_valid_card")

# tests/cards/schema.py → parents[3] is the directory holding the repository and shared/.
SCHEMA_PATH = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "adaptive-card-1.5.json"


@cache
def _validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)  # Draft 6, from the schema's "$schema"
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid_card(card: dict[str, Any]) -> None:
    """Fail with the most relevant schema error (and where it is) unless ``card`` is a valid
    Adaptive Card 1.5 once its root ``msteams`` key is set aside. The card is not modified."""
    assert isinstance(card, dict), f"a card is a dict, not {type(card).__name__}"
    checked = {key: value for key, value in card.items() if key != "msteams"}
    best = best_match(_validator().iter_errors(checked))
    if best is not None:
        reasons = "\n".join(f"  at {_where(e)}: {e.message}" for e in _reasons(best)[:5])
        raise AssertionError(f"invalid Adaptive Card at {_where(best)}: {best.message}\n{reasons}")


def _reasons(error: Any) -> list[Any]:
    """The errors under an ``anyOf``, from the branches meant for this element's ``type`` only."""
    if not error.context:
        return [error]
    branches: dict[Any, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    meant = [subs for subs in branches.values() if not any(_wrong_type(sub) for sub in subs)]
    return [leaf for subs in meant or branches.values() for sub in subs for leaf in _reasons(sub)]


def _wrong_type(error: Any) -> bool:
    return error.validator == "enum" and list(error.path)[-1:] == ["type"]


def _where(error: Any) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "(root)"
