"""Partner Center error bodies and the codes the sandbox answers with.

Every ``/v1`` error is ``{"code": <int>, "description": "...", "data": [...],
"source": "PartnerFD"}`` (reference §12). The rules raise :class:`ApiFault`;
the middleware turns it into that body, so handlers never build error JSON.

Codes the reference confirms are used as documented. The ones the sandbox had
to choose, because the real value is NOT CONFIRMED, are marked ``# chosen``:

- **3012** (HTTP 400) refuses ``PATCH /v1/customers/{id}`` (remove the reseller
  relationship) while items block it. ASSUMPTION: Partner Center documents the
  preconditions but not the error it returns (../shared/reference/fidelity-audit.md §5, NOT CONFIRMED);
  3012 is the sandbox's choice. ``description`` names the blocking items
  ("kind id, ..."), truncated to 1024 characters; ``data`` lists their ids.
- **800002** (HTTP 400, "Invalid request input") is used for every malformed
  request (bad filter, continuation token, body) where the real code is unknown.
- Injected faults use **800003** ("Unexpected service error") at any 5xx status.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import partial
from typing import Any

from aiohttp import web

__all__ = (
    "ApiFault",
    "invalid_input",
    "json_response",
    "no_relationship",
)

_MAX_DESCRIPTION = 1024  # documented maximum length of `description`
_SOURCE = "PartnerFD"

# Confirmed codes (reference §2.1, §4.3, §6, §12).
ACCESS_DENIED = 400  # 401 "Access denied" (invalid/expired token)
TOKEN_MISSING = 800001  # 401 "Partner Token missing in request context"
APP_USER_REQUIRED = 2032  # 403 "Access denied"
NO_RELATIONSHIP = 20002  # 403 no commerce relationship
NOT_FOUND = 1000  # 404 "Not found"
SUBSCRIPTION_NOT_FOUND = 20003  # 404
TENANT_NOT_FOUND = 60003  # 404
DELETED_CANNOT_UPDATE = 2011  # 400
ETAG_INVALID = 2055  # 400 "Etag is no longer valid"
STATUS_CANNOT_UPDATE = 800096  # 400 "Cannot update the status for this subscription"
AZURE_PLAN_HAS_ACTIVE = 900115  # 403
WINDOW_PASSED = 900117  # 400 "You have passed your {0}-day cancellation window..."
ORDER_NOT_CANCELLABLE = 800063  # 400 "This order {0} cannot be cancelled..."
INVALID_INPUT = 800002  # 400 "Invalid request input" (chosen for all malformed input)
UNEXPECTED = 800003  # 500 "Unexpected service error" (chosen for injected faults)
NOT_SUPPORTED = 800042  # 400 "Not supported"

REMOVAL_BLOCKED = 3012  # chosen (ASSUMPTION): the real code is NOT CONFIRMED (../shared/reference/fidelity-audit.md §5)
INVALID_PROPERTY = 3000  # 400 "Invalid property" (PC-PR-2023 developer/error-codes.md)
# 401 + 900421: app+user call without MFA (Microsoft's 2026 MFA enforcement, per
# cloudcockpit.com/blog/mfa-enforcement-partner-center-apis; to be confirmed on learn.microsoft.com)
MFA_REQUIRED = 900421

_dumps = partial(json.dumps, ensure_ascii=False)


def json_response(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response the way Partner Center sends it (UTF-8, non-ASCII kept)."""
    return web.json_response(body, status=status, headers=headers, dumps=_dumps)


class ApiFault(Exception):
    """A Partner Center error: HTTP status + ``{code, description, data, source}``."""

    def __init__(
        self,
        status: int,
        code: int,
        description: str,
        *,
        data: Sequence[Any] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}/{code}: {description}")
        self.status = status
        self.code = code
        self.description = description[:_MAX_DESCRIPTION]
        self.data = list(data)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "description": self.description, "data": self.data, "source": _SOURCE}

    def to_response(self) -> web.Response:
        return json_response(self.body(), status=self.status, headers=self.headers)


def no_relationship() -> ApiFault:
    """What every call about a customer returns once the relationship is gone."""
    return ApiFault(403, NO_RELATIONSHIP, "No relationship between caller and account.")


def invalid_input(detail: str) -> ApiFault:
    return ApiFault(400, INVALID_INPUT, f"Invalid request input: {detail}")
