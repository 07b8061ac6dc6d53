"""The Bot Framework's signing keys as the bot holds them (:mod:`bot.signing_keys`), against OpenID
metadata and keys served on loopback: fetched once for many callers, fetched again when a token
names a newly published key (but not for every forged one), kept when the host fails, and a
clear "unavailable" when none could ever be fetched. Time is a fake clock; HTTP is real."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot import signing_keys
from bot.signing_keys import SigningKeys, SigningKeysUnavailable
from tests._openid import OpenIdProvider, SigningKey

DAY = 24 * 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def provider() -> Iterator[OpenIdProvider]:
    with OpenIdProvider([SigningKey("teams-key", ("msteams",))]) as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _fetch_rounds(provider: OpenIdProvider) -> int:
    """How many times the metadata was fetched (each is followed by the keys)."""
    return sum(path.endswith("openidconfiguration") for path in provider.fetches)


async def test_many_first_callers_share_one_fetch_and_get_the_key_with_its_endorsements(provider: OpenIdProvider, clock: Clock) -> None:
    keys = SigningKeys(provider.metadata_url, clock=clock)
    found = await asyncio.gather(*(keys.get("teams-key") for _ in range(20)))
    assert {key.endorsements == ["msteams"] for key in found} == {True}
    assert found[0].public_key.public_numbers() == provider.key("teams-key").private.public_key().public_numbers()
    assert provider.fetches == ["/v1/.well-known/openidconfiguration", "/v1/keys"]


async def test_a_newly_published_key_is_fetched_but_forged_kids_do_not_make_the_bot_fetch_each_time(
    provider: OpenIdProvider, clock: Clock
) -> None:
    keys = SigningKeys(provider.metadata_url, clock=clock)
    await keys.get("teams-key")
    clock.now += 3600  # an hour later Microsoft publishes a new key and signs with it
    provider.keys.append(SigningKey("rolled-key"))
    assert (await keys.get("rolled-key")).endorsements == ["msteams"]
    assert _fetch_rounds(provider) == 2
    for number in range(10):  # forged kids, one after the other: at most one fetch per five minutes
        with pytest.raises(PermissionError, match="unknown signing key"):
            await keys.get(f"forged-{number}")
    assert _fetch_rounds(provider) == 2
    clock.now += signing_keys.UNKNOWN_KEY_INTERVAL_SECONDS
    with pytest.raises(PermissionError):
        await keys.get("forged-again")
    assert _fetch_rounds(provider) == 3
    assert (await keys.get("teams-key")) and _fetch_rounds(provider) == 3  # known keys need no fetch


async def test_a_token_without_a_kid_is_refused_without_a_fetch(provider: OpenIdProvider, clock: Clock) -> None:
    keys = SigningKeys(provider.metadata_url, clock=clock)
    for kid in (None, ""):
        with pytest.raises(PermissionError, match="no kid"):
            await keys.get(kid)
    assert provider.fetches == []


async def test_keys_held_keep_working_while_the_host_fails_and_are_replaced_once_it_answers(provider: OpenIdProvider, clock: Clock) -> None:
    keys = SigningKeys(provider.metadata_url, clock=clock)
    await keys.get("teams-key")
    provider.broken = True
    clock.now += DAY  # the daily refresh fails: the keys held still verify tokens
    assert await keys.get("teams-key")
    assert _fetch_rounds(provider) == 2
    clock.now += 1  # and the failing host is not asked again on every request
    assert await keys.get("teams-key")
    assert _fetch_rounds(provider) == 2
    provider.broken = False
    provider.keys = [SigningKey("next-key")]  # meanwhile the old key was withdrawn
    clock.now += signing_keys.RETRY_AFTER_FAILURE_SECONDS
    assert await keys.get("next-key")
    with pytest.raises(PermissionError, match="unknown signing key 'teams-key'"):
        await keys.get("teams-key")


async def test_with_no_keys_held_an_unreachable_or_broken_host_is_unavailable_not_a_refusal(provider: OpenIdProvider, clock: Clock) -> None:
    provider.broken = True
    keys = SigningKeys(provider.metadata_url, clock=clock)
    with pytest.raises(SigningKeysUnavailable):
        await keys.get("teams-key")
    provider.keys = []
    provider.broken = False
    clock.now += signing_keys.RETRY_AFTER_FAILURE_SECONDS
    with pytest.raises(SigningKeysUnavailable):  # a JWKS with no usable key
        await keys.get("teams-key")


async def test_a_hanging_host_is_given_up_after_the_timeout(
    provider: OpenIdProvider, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signing_keys, "FETCH_TIMEOUT_SECONDS", 0.5)
    provider.stall_seconds = 2
    keys = SigningKeys(provider.metadata_url, clock=clock)
    started = asyncio.get_running_loop().time()
    with pytest.raises(SigningKeysUnavailable):
        await keys.get("teams-key")
    assert asyncio.get_running_loop().time() - started < 3
