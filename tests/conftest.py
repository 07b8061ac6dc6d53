"""Shared fixtures: a real sandbox on loopback and a real client talking to it over HTTP."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest

from partner_center import (
    PartnerCenterClient,
    PartnerCenterConfig,
    PartnerLimits,
    RateSettings,
    connect,
)
from pc_sandbox import SandboxOptions, running_sandbox
from tests._helpers import FAST_RETRY

# Offboard's settings are OFFBOARD_* and the Bot Framework's Microsoft* names (MicrosoftAppId,
# MicrosoftAppPassword, MicrosoftAppType, MicrosoftAppTenantId, MICROSOFT_APP_ID...); pydantic-settings
# reads them in any case, so they are matched in any case too.
_SETTING_PREFIXES = ("OFFBOARD_", "MICROSOFT")
# Which env file Settings reads (bot.settings.ENV_FILE_VARIABLE, spelled out so that this file
# imports no botbuilder): empty for the whole run, so a developer's .env in the repo, which
# `python app.py` and `bot.audit` started with cwd=the repo would read, reaches no test.
_ENV_FILE_SWITCH = "OFFBOARD_ENV_FILE"
# Switches of the test run itself, not settings of the bot: they stay. The env-file switch is
# among them so that the clearing below keeps the value set here (subprocesses inherit it).
_TEST_SWITCHES = frozenset({"OFFBOARD_BAD_INPUT_SCALE", "OFFBOARD_E2E_SCREENSHOTS", _ENV_FILE_SWITCH})
# The per-test limit is pytest-timeout's `timeout` (pyproject.toml); these tests run whole stacks.
_LONG_TEST_TIMEOUT = 900


def settings_in(environment: Mapping[str, str]) -> list[str]:
    """The names in ``environment`` the bot would read as its settings."""
    return [name for name in environment if name.upper().startswith(_SETTING_PREFIXES) and name not in _TEST_SWITCHES]


def pytest_configure(config: pytest.Config) -> None:
    """Drop the shell's settings once for the whole run, before any fixture or subprocess: a
    developer with live Partner Center credentials exported must not point a test run at a real
    tenant. Session fixtures and the processes the stacks start (tests/e2e/stack.py and
    bench/stack.py pass ``os.environ`` on) would otherwise see them before the fixture below.
    No env file either: a live ``.env`` in the working directory is as real as an exported one."""
    for name in settings_in(os.environ):
        del os.environ[name]
    os.environ[_ENV_FILE_SWITCH] = ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests and the benchmark command run whole stacks: a longer limit for them."""
    for item in items:
        whole_stack = item.get_closest_marker("e2e") is not None or item.path.parent.name == "bench"
        if whole_stack and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(_LONG_TEST_TIMEOUT))


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with none of Offboard's settings in the environment, whatever an earlier
    test or fixture set there (subprocesses inherit the cleaned environment too), and no env file."""
    for name in settings_in(os.environ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(_ENV_FILE_SWITCH, "")


@pytest.fixture
def sandbox_options() -> SandboxOptions:
    return SandboxOptions()


@pytest.fixture
async def sandbox(sandbox_options: SandboxOptions) -> AsyncIterator[Any]:
    async with running_sandbox(options=sandbox_options, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(sandbox: Any, http: aiohttp.ClientSession) -> PartnerCenterClient:
    return connect(
        PartnerCenterConfig.sandbox(sandbox.base_url),
        session=http,
        limits=PartnerLimits(RateSettings(requests_per_period=100_000, period_seconds=60, max_concurrency=32)),
        retry=FAST_RETRY,
    )
