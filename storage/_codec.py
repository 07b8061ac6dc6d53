"""Checks and JSON encoding shared by every backend, so that all of them accept the same input."""

from __future__ import annotations

import json
from typing import Any

from .base import MAX_KEY_LENGTH


def check_key(key: object, *, what: str = "key") -> str:
    """Return ``key`` if it is a usable key or stream name; raise TypeError / ValueError if not."""
    if not isinstance(key, str):
        raise TypeError(f"a storage {what} must be a str, not {type(key).__name__}")
    if not key:
        raise ValueError(f"a storage {what} must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"a storage {what} has at most {MAX_KEY_LENGTH} characters, this one {len(key)}")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate: no backend can store it faithfully
        raise ValueError(f"a storage {what} must be valid Unicode: {error}") from None
    return key


def check_prefix(prefix: object) -> str:
    """A ``list_keys`` prefix: like a key, but may be empty."""
    return "" if prefix == "" else check_key(prefix, what="prefix")


def check_conditions(if_match: str | None, if_none_match: bool) -> None:
    if if_match is not None and if_none_match:
        raise ValueError("give if_match or if_none_match, not both")
    if if_match is not None and not isinstance(if_match, str):
        raise TypeError(f"if_match must be an ETag str, not {type(if_match).__name__}")


def dumps(document: object, *, what: str = "document") -> str:
    """JSON text for a document or record: a JSON object, strict JSON (no NaN), Unicode kept as is."""
    if not isinstance(document, dict):
        raise TypeError(f"a stored {what} must be a dict (a JSON object), not {type(document).__name__}")
    return json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def loads(text: str | bytes) -> dict[str, Any]:
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError(f"stored JSON is not an object: {type(document).__name__}")
    return document
