"""Drive a whole removal in the Microsoft 365 Agents Playground and save screenshots to docs/.

With the bot and the playground already running (``scripts/run``), in headless Debian Chromium:
open the Personal Chat, type ``remove Wingtip Toys``, wait for the plan and the first
confirmation card, click the approve button of each confirmation card (Action.Execute: the
answer replaces the clicked card), then "Remove relationship" on the final confirmation, and wait
for the result. Prints how long each click took to be answered.

Not a project dependency: install Playwright into the venv for this script only, and use the
system Chromium (never ``playwright install``)::

    apt-get install -y chromium && .venv/bin/pip install playwright
    scripts/run &                                   # or let --start do it
    .venv/bin/python scripts/screenshot.py

Loopback only (no way out to the network for the bot, the playground or the browser)::

    unshare -n sh -c 'ip link set lo up && .venv/bin/python scripts/screenshot.py --start'
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NamedTuple

from playwright.async_api import Locator, Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Nothing but the machine itself resolves (the page also asks a font CDN: that fails harmlessly).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
VIEWPORT = {"width": 1280, "height": 900}
CHAT_INPUT = '[data-lexical-editor="true"][role="textbox"]'
CARD = ".ac-adaptiveCard"
TIMEOUT_MS = 30_000


class Timing(NamedTuple):
    click: str
    invoke_ms: float  # the page's POST /v1/invoke, answered by the playground once the bot answered
    shown_ms: float  # until the returned card has replaced the clicked one


@contextmanager
def running_stack(start: bool) -> Iterator[None]:
    """With ``start``: scripts/run in the background until the block ends (then Ctrl-C to it).

    Its cases are kept in memory (``OFFBOARD_STORAGE=memory`` unless set otherwise).
    """
    if not start:
        yield
        return
    log = ROOT / "devTools" / "screenshot-run.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as out:
        # The sandbox starts afresh every time; so must the cases, or an earlier run's unfinished
        # removal answers "already in progress".
        env = {**os.environ, "OFFBOARD_STORAGE": os.environ.get("OFFBOARD_STORAGE", "memory")}
        run = subprocess.Popen(
            [str(ROOT / "scripts" / "run")], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            deadline = time.monotonic() + 180
            while "Offboard is running" not in log.read_text():
                if run.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"scripts/run did not start:\n{log.read_text()}")
                time.sleep(0.2)
            yield
        finally:
            run.send_signal(signal.SIGINT)
            run.wait(timeout=30)


def card_with(page: Page, text: str | re.Pattern[str]) -> Locator:
    return page.locator(CARD).filter(has_text=text)


async def shot(page: Page, card: Locator, path: Path) -> None:
    """The chat scrolls inside its own pane: bring the card's top into view, then take the page."""
    await card.evaluate("element => element.scrollIntoView({block: 'start'})")
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(path), full_page=True)
    print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({path.stat().st_size // 1024} KB)")


async def index_of(page: Page, card: Locator) -> int:
    return await card.evaluate(f"element => [...document.querySelectorAll('{CARD}')].indexOf(element)")


async def click_and_time(page: Page, card: Locator, button: Locator, label: str, timings: list[Timing]) -> int:
    """Click an Action.Execute button; time the invoke round trip and until the card is replaced.

    Returns the index of the card (among the page's cards) that now holds the answer.
    """
    index = await index_of(page, card)
    before = await card.inner_text()
    started = time.monotonic()
    answered = asyncio.ensure_future(page.wait_for_event("response", lambda r: r.url.endswith("/v1/invoke")))
    threw = asyncio.ensure_future(page.wait_for_event("pageerror"))
    await button.click()
    await asyncio.wait([answered, threw], return_when=asyncio.FIRST_COMPLETED)
    invoke_ms = (time.monotonic() - started) * 1000
    if not answered.done():
        answered.cancel()
        sys.exit(f"{label}: the page threw and sent nothing to the bot: {threw.result()}")
    threw.cancel()
    response = answered.result()
    if not response.ok:
        sys.exit(f"{label}: the invoke was answered HTTP {response.status}: {await response.text()}")
    await page.wait_for_function(
        "([selector, index, before]) => document.querySelectorAll(selector)[index]?.innerText !== before",
        arg=[CARD, index, before],
    )
    shown_ms = (time.monotonic() - started) * 1000
    timings.append(Timing(label, invoke_ms, shown_ms))
    print(f"  {label}: invoke answered in {invoke_ms:.0f} ms; card replaced after {shown_ms:.0f} ms")
    return index


async def drive(url: str, customer: str, out: Path) -> list[Timing]:
    out.mkdir(parents=True, exist_ok=True)
    timings: list[Timing] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport=VIEWPORT)
        try:
            page.set_default_timeout(TIMEOUT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(url)
            await page.get_by_role("treeitem", name=re.compile("^Personal Chat")).click()
            await card_with(page, "Offboard removes the reseller relationship").first.wait_for()  # the welcome card

            started = time.monotonic()
            chat = page.locator(CHAT_INPUT)
            await chat.click()
            await chat.type(f"remove {customer}")
            await page.keyboard.press("Enter")
            plan = card_with(page, f"Removal plan for {customer}").last
            await plan.wait_for()
            print(f"  plan card shown {(time.monotonic() - started) * 1000:.0f} ms after Enter")
            pending = page.locator(CARD).filter(has=page.get_by_role("button", name="Skip", exact=True))
            await pending.first.wait_for()
            print(f"  first confirmation card shown {(time.monotonic() - started) * 1000:.0f} ms after Enter")
            await shot(page, plan, out / "playground-plan.png")
            await shot(page, pending.first, out / "playground-confirm.png")

            # Approve each item with the first button of its confirmation card ("Suspend", "Cancel
            # order", ...); the answer replaces the card with the next item's, then with the status.
            for _ in range(50):
                if page.is_closed() or errors or await pending.count() == 0:
                    break
                card = pending.first
                item = (await card.get_by_text(re.compile(r"^Item \d+ of \d+$")).first.inner_text()).strip()
                button = card.get_by_role("button").first
                await click_and_time(page, card, button, f'{item}: "{(await button.inner_text()).strip()}"', timings)
            if errors:
                sys.exit("the page threw (nothing reached the bot):\n  " + "\n  ".join(errors))

            final = page.locator(CARD).filter(has=page.get_by_role("button", name="Remove relationship", exact=True)).first
            await final.wait_for(timeout=60_000)
            await shot(page, final, out / "playground-final.png")
            index = await click_and_time(
                page, final, final.get_by_role("button", name="Remove relationship", exact=True), '"Remove relationship"', timings
            )
            result = page.locator(CARD).nth(index)
            await result.wait_for()
            await page.wait_for_timeout(300)
            await shot(page, result, out / "playground-result.png")
            if errors:
                sys.exit("the page threw:\n  " + "\n  ".join(errors))
        except BaseException:
            failure = ROOT / "devTools" / "screenshot-failure.png"
            failure.parent.mkdir(exist_ok=True)
            await page.screenshot(path=str(failure))
            print(f"failed: the page as it was is in {failure.relative_to(ROOT)}", file=sys.stderr)
            raise
        finally:
            await browser.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:56150/", help="the Agents Playground")
    parser.add_argument("--customer", default="Wingtip Toys")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--start", action="store_true", help="start scripts/run first and stop it at the end")
    args = parser.parse_args()
    with running_stack(args.start):
        timings = asyncio.run(drive(args.url, args.customer, args.out.resolve()))
    print("click → invoke answered / card replaced (ms):")
    for timing in timings:
        print(f"  {timing.click:<60} {timing.invoke_ms:6.0f} {timing.shown_ms:6.0f}")


if __name__ == "__main__":
    main()
