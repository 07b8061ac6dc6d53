"""Blob names for keys: reversible, prefix-preserving, and within Azure's 1,024 characters."""

from __future__ import annotations

import re

import pytest

from storage import _blob_names as names

KEYS = ("19:abc@thread.tacv2;messageid=1", "a/b/../c.", "été 🚀", "%41!", "x" * 1000, ";" * 1000, "🚀" * 1000)


@pytest.mark.parametrize("key", KEYS, ids=lambda key: repr(key[:16]))
def test_names_use_safe_characters_and_fit(key: str) -> None:
    part = names.name_part(key)
    assert len("documents/" + part) <= 1024
    assert set(part) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~%!")
    if names.is_hashed(part):
        assert names.key_from_metadata(names.key_metadata(key)) == key
    else:
        assert names.decode(part) == key


def test_short_keys_are_plainly_encoded() -> None:
    assert names.name_part("19:abc@thread.tacv2;messageid=1") == "19%3Aabc%40thread%2Etacv2%3Bmessageid%3D1"
    assert names.name_part("é/~") == "%C3%A9%2F~"


def test_distinct_long_keys_get_distinct_names() -> None:
    first, second = ";" * 999 + "a", ";" * 999 + "b"
    assert names.name_part(first) != names.name_part(second)
    assert names.is_hashed(names.name_part(first))


@pytest.mark.parametrize("key", KEYS, ids=lambda key: repr(key[:16]))
def test_every_prefix_of_a_key_lists_it(key: str) -> None:
    part = names.name_part(key)
    for length in range(0, len(key) + 1, max(1, len(key) // 97)):
        assert part.startswith(names.listing_prefix(key[:length])), length


@pytest.mark.parametrize("limit", range(3, 12))
def test_cut_never_splits_an_escape(limit: int) -> None:
    encoded = names.encode("a;é🚀b")
    cut = names.cut(encoded, limit)
    assert encoded.startswith(cut) and len(cut) <= limit
    assert re.fullmatch(r"(?:[A-Za-z0-9_~-]|%[0-9A-F]{2})*", cut)  # whole escapes only
