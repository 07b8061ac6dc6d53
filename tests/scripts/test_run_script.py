"""scripts/run refuses live Partner Center credentials (security review row 17).

The script starts the Agents Playground, which listens on every network interface; with
``OFFBOARD_PARTNER_CLIENT_ID`` configured (environment or ``.env``) it must exit before installing
or starting anything. Each test runs a copy of the script in a temporary layout ``tmp/scripts/run``
(the script works from its parent directory, so ``tmp/.env`` is the one it reads); the copy has no
``scripts/setup-python`` beside it, so even a failed refusal could not install anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from dotenv import dotenv_values

RUN = Path(__file__).resolve().parents[2] / "scripts" / "run"
GUID = "4b1c2d3e-0000-4000-8000-00000000c1d0"


def _run(tmp_path: Path, env_file: str | None, **environment: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "scripts").mkdir(exist_ok=True)
    shutil.copy(RUN, tmp_path / "scripts" / "run")
    if env_file is not None:
        (tmp_path / ".env").write_bytes(env_file.encode("utf-8"))
    # The test's own environment must not decide: no OFFBOARD_* setting of any case comes through.
    base = {name: value for name, value in os.environ.items() if not name.upper().startswith("OFFBOARD_")}
    return subprocess.run(
        ["bash", str(tmp_path / "scripts" / "run")],
        cwd=tmp_path,
        env={**base, **environment},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _assert_refused(result: subprocess.CompletedProcess[str], tmp_path: Path, where: str) -> None:
    assert result.returncode != 0, result.stderr
    assert f"live Partner Center credentials are configured (OFFBOARD_PARTNER_CLIENT_ID in {where})" in result.stderr
    assert "every network" in result.stderr and "sandbox demo" in result.stderr
    assert ".venv/bin/python app.py" in result.stderr and "behind Teams" in result.stderr
    _assert_nothing_started(tmp_path, result)


def _assert_nothing_started(tmp_path: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert sorted(p.name for p in tmp_path.iterdir()) in (["scripts"], [".env", "scripts"])  # no .venv, node_modules, devTools
    assert "starting the bot" not in result.stderr and "Agents Playground on" not in result.stderr


LIVE_ENV_FILES = {
    "plain": f"OFFBOARD_PARTNER_TENANT=contoso.onmicrosoft.com\nOFFBOARD_PARTNER_CLIENT_ID={GUID}\n",
    "double quotes, spaces and a comment": f'# Partner Center\n  export OFFBOARD_PARTNER_CLIENT_ID = "{GUID}"   # the app\n',
    "single quotes": f"OFFBOARD_PARTNER_CLIENT_ID='{GUID}'\n",
    "windows line ends, no final newline": f"MicrosoftAppId=\r\nOFFBOARD_PARTNER_CLIENT_ID={GUID}",
    "lower case (pydantic-settings ignores case)": f"offboard_partner_client_id={GUID}\n",
    "the last assignment wins": f"OFFBOARD_PARTNER_CLIENT_ID=\nOFFBOARD_PARTNER_CLIENT_ID={GUID}\n",
    "a value starting with #": "OFFBOARD_PARTNER_CLIENT_ID=#abc\n",
}

SANDBOX_ENV_FILES = {
    "commented out": f"# OFFBOARD_PARTNER_CLIENT_ID={GUID}\n#OFFBOARD_PARTNER_CLIENT_ID={GUID}\n",
    "empty": "OFFBOARD_PARTNER_CLIENT_ID=\n",
    "empty quotes": 'OFFBOARD_PARTNER_CLIENT_ID=""\n',
    "only a comment after =": "OFFBOARD_PARTNER_CLIENT_ID= # fill in for live use\n",
    "only spaces": "OFFBOARD_PARTNER_CLIENT_ID=   \n",
    "another setting": f"OFFBOARD_PARTNER_CLIENT_SECRET=s3cret\nOFFBOARD_PARTNER_CLIENT_ID_OLD={GUID}\nMicrosoftAppId=\n",
    "emptied by a later line": f"OFFBOARD_PARTNER_CLIENT_ID={GUID}\nOFFBOARD_PARTNER_CLIENT_ID=\n",
}


def _python_dotenv_reads(env_file: str, tmp_path: Path) -> str:
    """What the bot itself (python-dotenv under pydantic-settings, names in any case) reads."""
    path = tmp_path / "probe.env"
    path.write_bytes(env_file.encode("utf-8"))
    values = {name.upper(): value for name, value in dotenv_values(path).items()}
    path.unlink()
    return values.get("OFFBOARD_PARTNER_CLIENT_ID") or ""


@pytest.mark.parametrize("env_file", LIVE_ENV_FILES.values(), ids=LIVE_ENV_FILES.keys())
def test_refuses_with_a_partner_client_id_in_dotenv(tmp_path: Path, env_file: str) -> None:
    assert _python_dotenv_reads(env_file, tmp_path)  # the bot would run live with this .env
    _assert_refused(_run(tmp_path, env_file), tmp_path, ".env")


@pytest.mark.parametrize("name", ["OFFBOARD_PARTNER_CLIENT_ID", "offboard_partner_client_id"])
def test_refuses_with_a_partner_client_id_in_the_environment(tmp_path: Path, name: str) -> None:
    _assert_refused(_run(tmp_path, None, **{name: GUID}), tmp_path, "the environment")
    # Even when asked only to check.
    _assert_refused(_run(tmp_path, None, **{name: GUID, "OFFBOARD_RUN_CHECK_ONLY": "1"}), tmp_path, "the environment")


def test_names_both_places_when_both_hold_one(tmp_path: Path) -> None:
    result = _run(tmp_path, f"OFFBOARD_PARTNER_CLIENT_ID={GUID}\n", OFFBOARD_PARTNER_CLIENT_ID=GUID)
    _assert_refused(result, tmp_path, "the environment and .env")


@pytest.mark.parametrize("env_file", [None, *SANDBOX_ENV_FILES.values()], ids=["no .env", *SANDBOX_ENV_FILES.keys()])
def test_the_sandbox_demo_passes_the_check(tmp_path: Path, env_file: str | None) -> None:
    if env_file is not None:
        assert not _python_dotenv_reads(env_file, tmp_path)  # the bot would run on the sandbox
    result = _run(tmp_path, env_file, OFFBOARD_RUN_CHECK_ONLY="1", OFFBOARD_PARTNER_CLIENT_SECRET="not the id")
    assert result.returncode == 0, result.stderr
    assert "no live Partner Center credentials configured" in result.stderr
    assert "error" not in result.stderr
    _assert_nothing_started(tmp_path, result)


def test_an_empty_variable_in_the_environment_is_no_credential(tmp_path: Path) -> None:
    result = _run(tmp_path, None, OFFBOARD_PARTNER_CLIENT_ID="", OFFBOARD_RUN_CHECK_ONLY="1")
    assert result.returncode == 0, result.stderr
