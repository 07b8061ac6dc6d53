"""``python -m pc_sandbox`` serves until stopped."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp

from bench.ports import free_port
from pc_sandbox import DEMO

PROJECT_ROOT = Path(__file__).resolve().parents[2]


async def test_cli_serves_the_operator_summary():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pc_sandbox", "--host", "127.0.0.1", "--port", str(port), "--latency-ms", "1", "--rate-limit", "100"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = None
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/_sandbox/customers") as response:
                        assert response.status == 200
                        body = await response.json()
                        break
                except aiohttp.ClientConnectionError:
                    assert process.poll() is None, "the sandbox exited early"
                    await asyncio.sleep(0.1)
        assert body is not None and len(body["items"]) == 13
        # ... and serves the demo world on /v1 to the demo identity.
        async with aiohttp.ClientSession() as session:
            form = {
                "grant_type": "client_credentials",
                "client_id": DEMO.client_id,
                "client_secret": DEMO.client_secret,
                "scope": "https://api.partnercenter.microsoft.com/.default",
            }
            async with session.post(f"http://127.0.0.1:{port}/{DEMO.tenant}/oauth2/v2.0/token", data=form) as response:
                token = (await response.json())["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            async with session.get(f"http://127.0.0.1:{port}/v1/customers?size=100", headers=headers) as response:
                assert response.status == 200
                names = [item["companyProfile"]["companyName"] for item in (await response.json())["items"]]
        assert "Contoso Ltd" in names and "ООО «Ромашка»" in names
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}" in stderr
    assert DEMO.client_id in stderr and DEMO.partner_tenant_id in stderr
