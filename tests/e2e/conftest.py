"""End-to-end fixtures: one running stack per session, a fresh browser page per test.

Failing tests leave ``<name>.png`` and ``<name>.html`` (the page as it was) in
``test-results/e2e/``, next to the bot's, the sandbox's and the Playground's logs.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .stack import REPO, Stack, running_stack

RESULTS = REPO / "test-results" / "e2e"
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests ``e2e`` and run them last: Playwright's sync API keeps an event loop
    running in the main thread while the browser is open, which the async tests cannot share."""
    browser_tests = [item for item in items if "tests/e2e/" in item.nodeid]
    for item in browser_tests:
        item.add_marker(pytest.mark.e2e)
    items[:] = [item for item in items if item not in browser_tests] + browser_tests


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Debian's chromium is not installed: scripts/setup-chromium installs it (or skip these: -m 'not e2e')")
    return path


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("e2e")
    with running_stack(folder) as running:
        yield running
    RESULTS.mkdir(parents=True, exist_ok=True)
    for log in running.logs.iterdir():
        shutil.copy(log, RESULTS / log.name)


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, stack: Stack, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new tab on the Playground, in English unless the test sets ``stack.language.locale``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(stack.playground)
    stack.language.locale = None
    yield tab
    stack.language.locale = None
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        RESULTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        tab.screenshot(path=str(RESULTS / f"{name}.png"), full_page=True)
        (RESULTS / f"{name}.html").write_text(tab.content())
    context.close()
    assert not errors, f"the Playground page threw: {errors}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the README's screenshots go: docs/ when OFFBOARD_E2E_SCREENSHOTS=docs, else test-results."""
    wanted = os.environ.get("OFFBOARD_E2E_SCREENSHOTS", "")
    folder = REPO / "docs" if wanted == "docs" else RESULTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
