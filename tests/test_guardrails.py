"""Guardrails of the test run itself: live-looking settings exported in the shell never reach a
test, a session fixture or a process a test starts, so the run stays on the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PARTNER_TENANT = "7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34"
# A complete live configuration (bot.settings refuses an incomplete one), as a developer trying
# live mode would have exported it; one name in lower case, which pydantic-settings reads too.
LIVE_SHELL = {
    "OFFBOARD_PARTNER_CLIENT_ID": "2b8e4f6a-1c3d-4e5f-8a9b-0c1d2e3f4a5b",
    "OFFBOARD_PARTNER_TENANT": PARTNER_TENANT,
    "offboard_partner_client_secret": "live-looking-secret",
    "MicrosoftAppId": "11111111-2222-3333-4444-555555555555",
    "MicrosoftAppPassword": "live-looking-bot-password",
    "MicrosoftAppType": "SingleTenant",
    "MicrosoftAppTenantId": PARTNER_TENANT,
    "OFFBOARD_TEAMS_TENANT_ID": PARTNER_TENANT,
    "OFFBOARD_APPROVERS": "00000000-0000-0000-0000-0000000000b2,00000000-0000-0000-0000-0000000000a1",
    "OFFBOARD_STORAGE": "sqlite",
}
# What the bot's settings say, read in a fresh process.
_PROBE = (
    "from bot.settings import Settings; s = Settings(_env_file=None); "
    "print('sandbox' if s.uses_sandbox else 'live', 'authenticated' if s.authenticates else 'anonymous')"
)
_INNER_TESTS = f"""
import os, subprocess, sys

import pytest

from bot.settings import Settings

LIVE = {sorted(LIVE_SHELL)!r}


@pytest.fixture(scope="session")
def environment_at_session_start():
    return dict(os.environ)


def test_no_live_setting_reaches_a_session_fixture_or_a_test(environment_at_session_start):
    assert [name for name in LIVE if name in environment_at_session_start] == []
    assert [name for name in LIVE if name in os.environ] == []
    settings = Settings(_env_file=None)
    assert settings.uses_sandbox and not settings.authenticates


def test_a_process_started_with_the_tests_environment_runs_on_the_sandbox():
    probe = subprocess.run([sys.executable, "-c", {_PROBE!r}], env={{**os.environ}}, capture_output=True, text=True, check=True)
    assert probe.stdout.split() == ["sandbox", "anonymous"]


def test_switches_of_the_test_run_itself_stay():
    assert os.environ["OFFBOARD_BAD_INPUT_SCALE"] == "3"
"""


def _environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def test_the_live_looking_shell_would_point_the_bot_at_a_real_tenant() -> None:
    """The control: these variables, passed on as they are, make the bot live."""
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO, env=_environment(**LIVE_SHELL), capture_output=True, text=True, check=True
    )
    assert probe.stdout.split() == ["live", "authenticated"]


def test_a_test_run_with_live_settings_exported_stays_entirely_on_the_sandbox(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(_INNER_TESTS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-c", "pytest.ini", "-q", "test_inner.py"],
        cwd=tmp_path,
        env=_environment(**LIVE_SHELL, OFFBOARD_BAD_INPUT_SCALE="3"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
