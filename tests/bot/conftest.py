"""The app over HTTP with a recording connector: the fixture the HTTP tests share."""

from __future__ import annotations

from typing import Any, AsyncIterator

import aiohttp
import pytest

from app import create_app
from bot.settings import Settings
from tests.bot.connector import RecordingConnector
from tests.bot.teams import Teams
from tests.cards.schema import assert_valid_card


@pytest.fixture
async def teams(aiohttp_server: Any, tmp_path: Any) -> AsyncIterator[tuple[Teams, Any]]:
    connector = RecordingConnector()
    connector_server = await aiohttp_server(connector.app())
    # A real SQLite file holds the cases and the conversation state, as in production.
    app = create_app(Settings(_env_file=None, sandbox_port=0, storage="sqlite", sqlite_path=tmp_path / "offboard.db"))
    bot_server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        yield Teams(http, str(bot_server.make_url("")).rstrip("/"), str(connector_server.make_url("")).rstrip("/"), connector), app
    # Every card the bot sent or updated during the test is a valid Adaptive Card 1.5.
    for call in connector.calls:
        if call.card:
            assert_valid_card(call.card)
