"""Prints the transcript of a full removal over HTTP (bot messages, card titles, invoke times).

    .venv/bin/python -m bench.transcript
"""
import asyncio, aiohttp, json
from aiohttp.test_utils import TestServer
from app import create_app, BACKGROUND
from bot.settings import Settings
from tests.bot.connector import RecordingConnector
from tests.bot.test_http import Teams, _card_with
from tests.dialogs.harness import button_data as _data, buttons

def title(card):
    for el in card.get("body", []):
        if el.get("type") == "TextBlock": return el["text"]
        for sub in el.get("items", []) if isinstance(el, dict) else []:
            if sub.get("type") == "TextBlock": return sub["text"]
    return card.get("fallbackText", "")

async def main():
    connector = RecordingConnector()
    cs = TestServer(connector.app()); await cs.start_server()
    app = create_app(Settings(_env_file=None, sandbox_port=0, storage="memory")); bs = TestServer(app); await bs.start_server()
    async with aiohttp.ClientSession() as http:
        bot = Teams(http, str(bs.make_url("")).rstrip("/"), str(cs.make_url("")).rstrip("/"), connector)
        seen = 0
        def dump(prefix=""):
            nonlocal seen
            for c in connector.calls[seen:]:
                what = title(c.card) if c.card else c.body.get("text")
                print(f"  bot {c.method:6} {c.activity_id}: {what!r}  buttons={[b for b in buttons(c.card)] if c.card else []}")
            seen = len(connector.calls)
        print("Ann: @Offboard remove Contoso Ltd"); await bot.say("remove Contoso Ltd"); dump()
        cid, card = _card_with(connector, "decide")
        while any(b["verb"] == "decide" for b in buttons(card).values()):
            d = _data(card, "decide", decision="approve")
            st, body, el = await bot.click(cid, "decide", d)
            print(f"Ann clicks approve on {title(card)!r} -> invoke {st} in {el*1000:.0f} ms: {title(body['value'])!r}")
            card = body["value"]
        await app[BACKGROUND].drain(); dump()
        fid, final = _card_with(connector, "confirm_removal")
        st, body, el = await bot.click(fid, "confirm_removal", _data(final, "confirm_removal"))
        print(f"Ann clicks 'Remove relationship' -> invoke {st} in {el*1000:.0f} ms: {title(body['value'])!r}")
        await app[BACKGROUND].drain(); dump()
    await bs.close(); await cs.close()
asyncio.run(main())
