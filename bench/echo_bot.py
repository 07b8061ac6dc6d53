"""The turns bench's baseline: the smallest bot on the same botbuilder adapter as Offboard.

Same adapter (bot/adapter.py), same ``/api/messages`` handler (bot/http.py, which works round
the SDK's invoke bug), same aiohttp server and logging; the bot itself does nothing but echo a
message as text and answer a card click with a one-line card. What Offboard spends beyond this
is its own work. ``--stock-adapter`` runs it on botbuilder's CloudAdapter as shipped instead.

    python -m bench.echo_bot --port 3979
"""

from __future__ import annotations

import argparse
import logging
from types import SimpleNamespace

from aiohttp import web
from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from bot.adapter import create_adapter
from bot.http import messages_handler
from removal.background import BackgroundTasks


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(f"echo: {turn_context.activity.text}")

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        verb = ((turn_context.activity.value or {}).get("action") or {}).get("verb", "")
        card = {
            "type": "AdaptiveCard",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.5",
            "body": [{"type": "TextBlock", "text": f"echo: {verb}", "wrap": True}],
        }
        return InvokeResponse(status=200, body={"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": card})


def create_echo_app(*, stock_adapter: bool = False) -> web.Application:
    configuration = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="")
    if stock_adapter:  # botbuilder's CloudAdapter exactly as shipped, for comparison
        adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(configuration))
    else:
        adapter = create_adapter(configuration)
    app = web.Application()
    app.router.add_post("/api/messages", messages_handler(adapter, EchoBot(), BackgroundTasks()))
    app.router.add_get("/healthz", lambda request: _ok())
    return app


async def _ok() -> web.Response:
    return web.json_response({"ready": True})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3979)
    parser.add_argument(
        "--stock-adapter", action="store_true", help="botbuilder's CloudAdapter as shipped, without bot/adapter.py's remedies"
    )
    args = parser.parse_args()
    # Logged and served exactly as app.py does, access log included: only the bot differs.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(create_echo_app(stock_adapter=args.stock_adapter), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
