"""An embedded Partner Center: the REST subset the bot uses, served over real HTTP.

By default the bot talks to this sandbox instead of Microsoft. It follows the
facts in ``../shared/reference/partner-center-api.md``: URL templates, camelCase and
PascalCase quirks, etags, error bodies, paging, throttling with
``Retry-After``, App+User-only operations, the rules that block removing a
reseller relationship, seeded demo customers, and a clock that can be moved.

Example::

    from pc_sandbox import DEMO, SandboxOptions, running_sandbox

    async with running_sandbox(options=SandboxOptions(latency_ms=20)) as sandbox:
        print(sandbox.base_url, DEMO.client_id)
"""

from __future__ import annotations

from .app import create_sandbox_app
from .clock import SandboxClock
from .demo import DEMO, DemoIdentities
from .options import SandboxOptions
from .server import RunningSandbox, running_sandbox
from .world import World

__all__ = (
    "DEMO",
    "DemoIdentities",
    "RunningSandbox",
    "SandboxClock",
    "SandboxOptions",
    "World",
    "create_sandbox_app",
    "running_sandbox",
)
