"""MSAL's token cache file, which holds an admin agent's refresh token: private, written whole, and
a corrupt one does not stop the bot.

Tokens come from the sandbox's token endpoint, reached through MSAL, as in production.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from partner_center import AuthError, PartnerCenterConfig, auth, token_provider
from partner_center.auth import MsalTokenProvider


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _provider(sandbox: Any, cache: Path, *, refresh_token: str | None = "sandbox-refresh-token") -> MsalTokenProvider:
    return token_provider(PartnerCenterConfig.sandbox(sandbox.base_url, refresh_token=refresh_token, token_cache_path=cache))


async def test_a_new_cache_is_0600_in_a_0700_folder_with_nothing_left_beside_it(sandbox: Any, tmp_path: Path) -> None:
    cache = tmp_path / "offboard" / "msal-cache.json"
    assert await _provider(sandbox, cache).access_token(needs_user=True)
    assert _mode(cache) == 0o600
    assert _mode(cache.parent) == 0o700
    assert os.listdir(cache.parent) == ["msal-cache.json"]  # no temporary file left behind
    assert json.loads(cache.read_text())["RefreshToken"]


async def test_a_cache_that_came_with_a_wider_mode_is_made_private(sandbox: Any, tmp_path: Path) -> None:
    """A cache restored from a backup, or put in place by a deploy step, keeps the mode it came with."""
    folder = tmp_path / "offboard"
    folder.mkdir()
    os.chmod(folder, 0o755)
    cache = folder / "msal-cache.json"
    cache.write_text("{}", encoding="utf-8")
    os.chmod(cache, 0o644)

    provider = _provider(sandbox, cache)
    # Already on start, before any token is asked for.
    assert (_mode(cache), _mode(folder)) == (0o600, 0o700)

    os.chmod(cache, 0o644)  # widened again while the bot runs
    assert await provider.access_token(needs_user=True)
    assert (_mode(cache), _mode(folder)) == (0o600, 0o700)
    assert json.loads(cache.read_text())["RefreshToken"]


async def test_a_write_that_fails_before_the_rename_leaves_the_old_cache_whole(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new cache is written beside the old one and renamed over it: until the rename, the old
    file is untouched, so a crash mid-write cannot leave half a cache (and lose the refresh token)."""
    cache = tmp_path / "offboard" / "msal-cache.json"
    provider = _provider(sandbox, cache)
    token = await provider.access_token(needs_user=True)
    before = cache.read_text()

    def crash(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        # By now the new cache is written in full beside the old one.
        assert json.loads(Path(source).read_text()) != json.loads(before)
        assert cache.read_text() == before
        raise OSError("the process died here")

    monkeypatch.setattr(auth.os, "replace", crash)
    with pytest.raises(OSError, match="died here"):
        await provider.forget(token)  # drops the access token: the cache changes and is written
    monkeypatch.undo()

    assert cache.read_text() == before
    assert os.listdir(cache.parent) == ["msal-cache.json"]
    # A later start reads it and needs no refresh token.
    assert await _provider(sandbox, cache, refresh_token=None).access_token(needs_user=True)


@pytest.mark.parametrize(
    "content",
    [
        b"",  # emptied by an older version's crash between truncate and write
        b'{"RefreshToken": {"rt-1": {"secret": "rt-SECRET-0123',  # cut short
        b'["rt-SECRET-0123"]',  # JSON, but not a cache MSAL can read
        b'{"RefreshToken": "rt-SECRET-0123"}',
        b"\xff\xfert-SECRET-0123",  # not even text
    ],
    ids=["empty", "cut-short", "a-list", "wrong-shape", "not-utf8"],
)
async def test_a_corrupt_cache_is_moved_aside_and_the_configured_refresh_token_is_used(
    sandbox: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    cache = tmp_path / "offboard" / "msal-cache.json"
    cache.parent.mkdir()
    cache.write_bytes(content)
    os.chmod(cache, 0o644)

    with caplog.at_level(logging.WARNING, logger="partner_center.auth"):
        provider = _provider(sandbox, cache)
    assert await provider.access_token(needs_user=True)

    [aside] = [path for path in cache.parent.iterdir() if path.name.startswith("msal-cache.json.corrupt-")]
    assert aside.read_bytes() == content  # kept for a person to look at
    assert _mode(aside) == 0o600  # it may hold tokens
    assert json.loads(cache.read_text())["RefreshToken"]  # a fresh cache in its place
    [warning] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert str(cache) in warning.getMessage() and aside.name in warning.getMessage()
    assert "rt-SECRET" not in caplog.text  # the path, never the content


async def test_a_corrupt_cache_without_a_configured_refresh_token_still_lets_the_bot_start(sandbox: Any, tmp_path: Path) -> None:
    """Nothing to fall back on: app-only calls still work, app+user ones say what is missing."""
    cache = tmp_path / "msal-cache.json"
    cache.write_text("{not json", encoding="utf-8")
    provider = _provider(sandbox, cache, refresh_token=None)
    assert not provider.has_user_credential
    assert await provider.access_token(needs_user=False)
    with pytest.raises(AuthError) as caught:
        await provider.access_token(needs_user=True)
    assert caught.value.code == "app_user_not_configured"
