"""A free TCP port on 127.0.0.1, for a child process told which port to listen on."""

from __future__ import annotations

import socket

__all__ = ("free_port",)


def free_port() -> int:
    """A port nobody listens on right now (someone may take it before the caller binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
