"""Microsoft Graph's error bodies, as the sandbox's ``/graph/v1.0`` routes send them.

Every Graph error is ``{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}`` (learn.microsoft.com/graph/errors). The Graph rules raise
:class:`GraphFault`; the Graph middleware (``graph.py``) renders it with the request's ids.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from .clock import format_iso
from .errors import json_response

__all__ = (
    "GraphFault",
    "bad_request",
    "insufficient_privileges",
    "invalid_token",
    "not_found",
)

# Codes from learn.microsoft.com/graph/errors and the pages cited where each is raised.
BAD_REQUEST = "BadRequest"
INVALID_TOKEN = "InvalidAuthenticationToken"
REQUEST_DENIED = "Authorization_RequestDenied"
NOT_FOUND = "Request_ResourceNotFound"
PRECONDITION_FAILED = "PreconditionFailed"
TOO_MANY_REQUESTS = "TooManyRequests"
METHOD_NOT_ALLOWED = "MethodNotAllowed"
GENERAL_EXCEPTION = "generalException"

# What Graph sends in WWW-Authenticate with a 401 (client_id is Microsoft Graph's app id).
_CHALLENGE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)


class GraphFault(Exception):
    """A Graph error: HTTP status, ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}/{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def to_response(self, *, now: datetime, request_id: str, client_request_id: str) -> web.Response:
        body = {
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": format_iso(now.replace(microsecond=0)),
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                },
            }
        }
        return json_response(body, status=self.status, headers=self.headers)


def bad_request(message: str) -> GraphFault:
    return GraphFault(400, BAD_REQUEST, message)


def invalid_token(message: str) -> GraphFault:
    return GraphFault(401, INVALID_TOKEN, message, headers={"WWW-Authenticate": _CHALLENGE})


def insufficient_privileges() -> GraphFault:
    """A missing delegated permission or directory (GDAP) role: the message Graph sends."""
    return GraphFault(403, REQUEST_DENIED, "Insufficient privileges to complete the operation.")


def not_found(what: str, object_id: str) -> GraphFault:
    return GraphFault(
        404, NOT_FOUND, f"Resource '{object_id}' does not exist or one of its queried reference-property objects are not present. ({what})"
    )
