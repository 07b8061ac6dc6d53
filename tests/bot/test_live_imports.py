"""A live deployment never imports the sandbox (issue 18, item 4): ``pc_sandbox`` serves a token
endpoint and an operator API that must not ship in a live process's memory.

``app.py`` imports it lazily, inside the branch that starts the embedded sandbox, and names its
type for type checkers only. The check runs in a fresh interpreter, because the test process
itself has the sandbox loaded (the fixtures use it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Live-mode settings (as tests/bot/test_live_mode.py makes them): Partner Center credentials,
# a Bot Framework app, a Teams tenant, approvers. The app is built and started (its cleanup
# context opens the store and the Partner Center client), then stopped; nothing is called.
_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from aiohttp import web
    from app import create_app
    from bot.settings import Settings

    settings = Settings(
        _env_file=None,
        partner_client_id="partner-app",
        partner_tenant="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        partner_client_secret="partner-secret",
        app_id="5c0a1f4e-9b7d-4e2a-8c3f-1d6e7f8a9b0c",
        app_password="bot-password-for-live-tests",
        teams_tenant_id="7f3e9b52-4c1a-4d8e-9a6b-2c5d8e1f0a34",
        approvers=["00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000b2"],
        storage="sqlite",
        sqlite_path=sys.argv[1] + "/offboard.db",
        token_cache_path=sys.argv[1] + "/msal-cache.json",
    )
    assert not settings.uses_sandbox, settings.posture()

    async def start_and_stop() -> None:
        runner = web.AppRunner(create_app(settings))
        await runner.setup()
        await runner.cleanup()

    asyncio.run(start_and_stop())
    print(sorted(name for name in sys.modules if name == "pc_sandbox" or name.startswith("pc_sandbox.")))
    """
)


def test_a_live_app_starts_and_stops_without_importing_the_sandbox(tmp_path: Path) -> None:
    # Nothing from the shell: a developer's exported settings must not change what is checked.
    env = {name: value for name, value in os.environ.items() if not name.startswith(("OFFBOARD_", "Microsoft"))}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path)],
        cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
