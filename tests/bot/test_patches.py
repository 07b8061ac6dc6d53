"""The SDK patches are made once, and refused on an SDK they were not written for."""

from __future__ import annotations

import pytest
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from msrest.universal_http.requests import ClientRetryPolicy

from bot import _patches
from bot.signing_keys import SigningKeys


def test_apply_patches_both_and_is_idempotent() -> None:
    _patches.apply()
    _patches.apply()
    assert isinstance(ClientRetryPolicy.safe_codes, frozenset) and 200 in ClientRetryPolicy.safe_codes
    keys = JwtTokenExtractor.get_open_id_metadata("https://login.example.invalid/openid")
    assert isinstance(keys, SigningKeys) and keys is JwtTokenExtractor.get_open_id_metadata("https://login.example.invalid/openid")


def test_another_sdk_version_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_patches.PATCHED_DISTRIBUTIONS, "botbuilder-core", "4.16.0")
    with pytest.raises(
        _patches.SdkPatchError, match=r"botbuilder-core 4\.17\.1 is installed, but bot/_patches\.py was written for 4\.16\.0"
    ):
        _patches.apply()


def test_a_missing_attribute_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(JwtTokenExtractor, "get_open_id_metadata")
    with pytest.raises(_patches.SdkPatchError, match=r"JwtTokenExtractor\.get_open_id_metadata is gone"):
        _patches.apply()
