"""Blob names for keys and streams: any key, one blob name, reversible, prefix-preserving.

A key is percent-encoded as UTF-8 with only ``A-Z a-z 0-9 - _ ~`` left as they are (so no ``/``,
``.`` or ``\\`` ever reaches a blob name: no virtual folders, no trailing dot, nothing a proxy
could normalise). Encoding character by character keeps prefixes: ``encode(p)`` starts
``encode(p + rest)``, so ``list_keys(prefix)`` can list blobs by name prefix.

Blob names have at most 1,024 characters, and a 1,000-character key can take 12,000 once
encoded. An encoding longer than ``_ENCODED_LIMIT`` is cut (between two escapes) and followed by
``!`` and the SHA-256 of the key: ``!`` never occurs in an encoding, so the two forms cannot meet.
Such names cannot be decoded; the blob carries its key in metadata (``_KEY_METADATA``, base64).
"""

from __future__ import annotations

import base64
import hashlib
import string
from urllib.parse import unquote

_SAFE = frozenset(string.ascii_letters + string.digits + "-_~")
_ENCODED_LIMIT = 900  # leaves room for the folder ("documents/", "streams/…/000000000001.json")
_HASH_MARK = "!"
KEY_METADATA = "offboardkey"  # Azure metadata names are C# identifiers: letters only is safest


def encode(key: str) -> str:
    """The key percent-encoded; reversible with ``unquote``."""
    return "".join(char if char in _SAFE else _percent(char) for char in key)


def name_part(key: str) -> str:
    """The part of a blob name standing for ``key``: its encoding, or a cut encoding + hash."""
    encoded = encode(key)
    if len(encoded) <= _ENCODED_LIMIT:
        return encoded
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{cut(encoded)}{_HASH_MARK}{digest}"


def listing_prefix(prefix: str) -> str:
    """A name prefix shared by the name parts of every key starting with ``prefix``."""
    return cut(encode(prefix))


def is_hashed(part: str) -> bool:
    return _HASH_MARK in part


def decode(part: str) -> str:
    """The key of a name part that is not hashed."""
    return unquote(part, encoding="utf-8", errors="strict")


def key_metadata(key: str) -> dict[str, str]:
    """Metadata that names the key, for blobs whose name cannot be decoded (metadata is ASCII)."""
    return {KEY_METADATA: base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii")}


def key_from_metadata(metadata: dict[str, str]) -> str | None:
    value = metadata.get(KEY_METADATA)
    return None if value is None else base64.urlsafe_b64decode(value.encode("ascii")).decode("utf-8")


def cut(encoded: str, limit: int = _ENCODED_LIMIT) -> str:
    """``encoded`` cut to at most ``limit`` characters without splitting a ``%XX`` escape.

    Cuts depend only on the encoding before them, so a cut prefix of a key's encoding is a prefix
    of the cut encoding of every longer key.
    """
    if len(encoded) <= limit:
        return encoded
    end = limit
    # An escape is 3 characters; if one of the last two kept characters is its "%", drop it whole.
    for back in (1, 2):
        if encoded[end - back] == "%":
            end -= back
            break
    return encoded[:end]


def _percent(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
