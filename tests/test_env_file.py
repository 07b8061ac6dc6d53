"""A developer's live ``.env`` never reaches a test (issue 18): ``Settings`` reads the file
``OFFBOARD_ENV_FILE`` names (unset: ``.env``; empty: none), and tests/conftest.py sets it empty for
the whole run, so the tests, and the processes they start with the repository as their working
directory (``python app.py``, ``python -m bot.audit``), stay on the sandbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import ENV_FILE_VARIABLE, Settings

REPO = Path(__file__).resolve().parents[1]
PARTNER_TENANT = "7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34"
CLIENT_ID = "2b8e4f6a-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
# A complete live configuration (bot.settings refuses an incomplete one), as a developer trying
# live mode would keep it in .env beside the clone.
LIVE_ENV_FILE = "".join(
    f"{name}={value}\n"
    for name, value in {
        "OFFBOARD_PARTNER_CLIENT_ID": CLIENT_ID,
        "OFFBOARD_PARTNER_TENANT": PARTNER_TENANT,
        "OFFBOARD_PARTNER_CLIENT_SECRET": "live-looking-secret",
        "MicrosoftAppId": "11111111-2222-3333-4444-555555555555",
        "MicrosoftAppPassword": "live-looking-bot-password",
        "MicrosoftAppType": "SingleTenant",
        "MicrosoftAppTenantId": PARTNER_TENANT,
        "OFFBOARD_TEAMS_TENANT_ID": PARTNER_TENANT,
        "OFFBOARD_APPROVERS": "00000000-0000-0000-0000-0000000000b2,00000000-0000-0000-0000-0000000000a1",
        "OFFBOARD_STORAGE": "sqlite",
    }.items()
)
# What the settings say in a fresh process, built as app.py builds them (no _env_file).
_PROBE = (
    "from bot.settings import Settings; s = Settings(); "
    "print('sandbox' if s.uses_sandbox else 'live', 'authenticated' if s.authenticates else 'anonymous')"
)


@pytest.fixture
def live_env_file_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A live ``.env`` in the working directory, as in a developer's clone."""
    env_file = tmp_path / ".env"
    env_file.write_text(LIVE_ENV_FILE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return env_file


def _probe(cwd: Path, env: dict[str, str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=cwd, env={**env, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_the_test_run_reads_no_env_file() -> None:
    assert os.environ[ENV_FILE_VARIABLE] == ""


def test_a_live_env_file_in_the_working_directory_does_not_reach_a_test(live_env_file_here: Path) -> None:
    settings = Settings()
    assert settings.uses_sandbox and not settings.authenticates
    assert settings.partner_client_id == ""


def test_without_the_switch_the_same_env_file_would_make_the_bot_live(live_env_file_here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: the file above is read when nothing says otherwise."""
    monkeypatch.delenv(ENV_FILE_VARIABLE)
    settings = Settings()
    assert not settings.uses_sandbox and settings.authenticates
    assert settings.partner_client_id == CLIENT_ID


def test_the_switch_names_the_file_to_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "live.env"
    elsewhere.write_text(LIVE_ENV_FILE, encoding="utf-8")
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(elsewhere))
    assert Settings().partner_client_id == CLIENT_ID


def test_an_explicit_env_file_wins_over_the_default(live_env_file_here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_FILE_VARIABLE)
    assert Settings(_env_file=None).uses_sandbox


def test_a_process_a_test_starts_beside_a_live_env_file_stays_on_the_sandbox(live_env_file_here: Path) -> None:
    assert _probe(live_env_file_here.parent, dict(os.environ)) == ["sandbox", "anonymous"]
    without_the_switch = {name: value for name, value in os.environ.items() if name != ENV_FILE_VARIABLE}
    assert _probe(live_env_file_here.parent, without_the_switch) == ["live", "authenticated"]


def test_scripts_run_refuses_live_credentials_in_the_file_the_switch_names(tmp_path: Path) -> None:
    """scripts/run starts the Playground only without live credentials: it reads the env file the
    bot would read, not only .env."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "run", tmp_path / "scripts" / "run")
    (tmp_path / "live.env").write_text(LIVE_ENV_FILE, encoding="utf-8")
    base = {name: value for name, value in os.environ.items() if not name.upper().startswith("OFFBOARD_")}
    done = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "run")],
        cwd=tmp_path,
        env={**base, ENV_FILE_VARIABLE: "live.env", "OFFBOARD_RUN_CHECK_ONLY": "1"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1, done.stderr
    assert "live Partner Center credentials are configured (OFFBOARD_PARTNER_CLIENT_ID in live.env)" in done.stderr
