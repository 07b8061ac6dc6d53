"""Reading a request body whole, up to a limit: the bytes a signed endpoint verifies.

``StreamReader.read(n)`` returns what has arrived so far, up to ``n`` bytes: one call can stop in
the middle of a body sent in several pieces, and a signature checked over that part fails.
"""

from __future__ import annotations

from aiohttp import web

__all__ = ("read_body",)


async def read_body(request: web.Request, *, limit: int) -> bytes | None:
    """The whole body, or None when it is longer than ``limit`` bytes (nothing more is read)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    while chunk := await request.content.read(limit + 1 - len(body)):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
