"""The app over HTTP with a recording connector: the fixture the HTTP tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from app import create_app
from bench.connector import RecordingConnector
from bot.settings import Settings
from pc_sandbox import SandboxOptions
from tests.bot.teams import Teams
from tests.cards.schema import assert_valid_card


@pytest.fixture
async def teams(aiohttp_server: Any, tmp_path: Any) -> AsyncIterator[tuple[Teams, Any]]:
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    # A real SQLite file holds the cases and the conversation state, as in production.
    # Azure shows a cancelled Azure subscription as inactive at once here: these tests are about
    # the HTTP edge (the ~10 minutes Microsoft documents, and the wait, are in
    # tests/dialogs/test_azure_plan.py and tests/sandbox/test_azure_cancellation.py).
    app = create_app(
        Settings(_env_file=None, sandbox_port=0, storage="sqlite", sqlite_path=tmp_path / "offboard.db"),
        sandbox_options=SandboxOptions(azure_cancel_delay=timedelta(0)),
    )
    bot_server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        yield Teams(http, str(bot_server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector), app
    # Every card the bot sent or updated during the test is a valid Adaptive Card 1.5.
    for call in connector.calls:
        if call.card:
            assert_valid_card(call.card)
