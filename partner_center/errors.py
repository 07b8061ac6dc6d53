"""Errors raised by the Partner Center client.

The tree, narrowest last; callers catch the narrowest one they can act on::

    PartnerCenterError                 any failed call; carries code, description and the ids
    ├── ThrottledError                 429; ``retry_after`` seconds (the retry policy handles it)
    ├── NotFoundError                  404 (unknown customer, subscription, order, ...)
    ├── ConflictError                  409 and stale ETag (400 / 2055)
    ├── CancellationWindowPassedError  400 / 900117: cancel is no longer possible
    ├── NoRelationshipError            403 / 20002 (or 900159): no commerce relationship *or* no
    │                                  delegated access: never proof that a removal happened
    ├── RemovalUnclearError            the removal's outcome cannot be confirmed either way
    ├── AuthError                      401, and 403 that says the token or role lacks the right
    │   ├── MfaRequiredError           401 / 900421: the app+user consent lacks MFA
    │   └── GraphPermissionError       Graph 403 (``Authorization_RequestDenied``): the app's
    │                                  permission or the GDAP role a call needs is missing
    └── UnavailableError               5xx, timeouts and connection failures (retried first)

:func:`is_unavailable` tells the two families apart once the retries are spent: Partner Center
not answering (``UnavailableError``, ``ThrottledError``: wait and carry on later) versus a refusal
about one item (every other error: report it on that item).

Every error keeps Partner Center's ``code`` (as a string, whatever the wire type) and
``description``, plus ``MS-CorrelationId`` and ``MS-RequestId``: the three things a Partner
Center support ticket asks for.

Microsoft Graph's errors (:func:`graph_error_from_response`) go into the same tree: its
``error.code`` and ``error.message`` become ``code`` and ``description``, the ``client-request-id``
we sent is ``request_id`` and Graph's ``innerError`` (its own ``request-id`` and ``date``, what a
Graph support ticket asks for) is kept in ``data``.
"""

from __future__ import annotations

from typing import Any

__all__ = (
    "AuthError",
    "CancellationWindowPassedError",
    "ConflictError",
    "GraphPermissionError",
    "MfaRequiredError",
    "NoRelationshipError",
    "NotFoundError",
    "PartnerCenterError",
    "RemovalUnclearError",
    "ThrottledError",
    "UnavailableError",
    "error_from_response",
    "graph_error_from_response",
    "is_unavailable",
)

# Partner Center error codes this client gives a meaning to (../shared/reference/partner-center-api.md §4.3, §12).
_CODE_STALE_ETAG = "2055"
_CODE_WINDOW_PASSED = "900117"
# 403 / 20002 "The partner ID {0} has no commerce relationship with the customer ID {1}" and
# 403 / 900159 (the Azure-cancel API's word for it): PC-PR-2023 developer/error-codes.md,
# developer/cancel-an-azure-subscription.md. A Microsoft maintainer: 20002 "can be caused by a
# customer leaving a partner or the customer revoking the delegated admin privileges"
# (microsoft/Partner-Smart-Office#12), so it is never read as "the relationship is none".
# 3000 is "400 Invalid property" (error-codes.md), a refusal like any other: not here.
_CODES_NO_RELATIONSHIP = frozenset({"20002", "900159"})
# 401 / 900421: an app+user call whose token has no MFA claim (Microsoft's MFA enforcement for
# Partner Center APIs, announced for 2026-04-01, as summarised by
# cloudcockpit.com/blog/mfa-enforcement-partner-center-apis; the Microsoft page itself was not
# retrievable: the code is to be confirmed on learn.microsoft.com).
_CODE_MFA_REQUIRED = "900421"
_CODES_AUTH = frozenset({"400", "800001", "1002", "2032", "900150"})


class PartnerCenterError(Exception):
    """A Partner Center call failed.

    :param status: the HTTP status (0 when no response arrived).
    :param code: Partner Center's error code, as a string ("" when the body had none).
    :param description: Partner Center's description, or a summary of what happened.
    :param correlation_id: the ``MS-CorrelationId`` of the call.
    :param request_id: the ``MS-RequestId`` of the call (the idempotency key).
    """

    def __init__(
        self,
        description: str,
        *,
        status: int = 0,
        code: str = "",
        correlation_id: str = "",
        request_id: str = "",
        data: list[Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.correlation_id = correlation_id
        self.request_id = request_id
        self.data = data or []

    def __str__(self) -> str:
        code = f" code {self.code}" if self.code else ""
        return (
            f"{self.description} (HTTP {self.status}{code}; "
            f"correlation id {self.correlation_id or '-'}; request id {self.request_id or '-'})"
        )


class ThrottledError(PartnerCenterError):
    """429: Partner Center asks us to wait ``retry_after`` seconds."""

    def __init__(self, description: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(description, **kwargs)
        self.retry_after = retry_after


class NotFoundError(PartnerCenterError):
    """404: the customer, subscription, order or entitlement does not exist."""


class ConflictError(PartnerCenterError):
    """409, or 400 / 2055 "Etag is no longer valid": someone changed the resource first.

    A 409 on a subscription write means a renewal is still being processed; "Partners can
    resubmit the request after waiting for two minutes" (learn.microsoft.com/partner-center/
    create-a-new-subscription): the client waits and resubmits (``RetryPolicy``), it is not a
    refusal of the item. 400 / 2055 is a stale ETag (error-codes.md): read again, send again.
    """


class CancellationWindowPassedError(PartnerCenterError):
    """400 / 900117: the purchase is past its cancellation window."""


class NoRelationshipError(PartnerCenterError):
    """403 / 20002 (or 900159): Partner Center says the partner has no commerce relationship with
    the customer. The same code comes from a customer revoking DAP/GDAP, so this is *not* proof
    that the reseller relationship is none (microsoft/Partner-Smart-Office#12)."""


class RemovalUnclearError(PartnerCenterError):
    """The removal PATCH was sent (or refused), but nothing Partner Center said confirms either
    that the relationship is now ``none`` or that it is still there: a person must check in
    Partner Center. Never to be reported as "removed"."""


class AuthError(PartnerCenterError):
    """401, or a 403 saying the credential (app-only vs app+user, role) lacks the right."""


class MfaRequiredError(AuthError):
    """401 / 900421: the app+user token was not obtained with MFA. A fresh token from the same
    refresh token cannot help ("The refresh token must be created through MFA", PC-PR-2023
    developer/gdap-and-secure-application-model.md): a person with MFA must renew the consent."""


class GraphPermissionError(AuthError):
    """Microsoft Graph answered 403: the partner app lacks a delegated permission, or the admin
    agent lacks the Entra role (through GDAP, in a customer tenant) the call needs. Graph says
    ``Authorization_RequestDenied`` "Insufficient privileges to complete the operation." and no
    more; ``needs`` is what the calling operation knows it needed, so that a plan can say
    "cannot be checked: needs <needs>".

    :param needs: the permission and role the call needed ("" until the operation names it).
    """

    def __init__(self, description: str, *, needs: str = "", **kwargs: Any) -> None:
        super().__init__(description, **kwargs)
        self.needs = needs

    def needing(self, needs: str) -> GraphPermissionError:
        """The same refusal, naming what the call needed."""
        named = GraphPermissionError(
            self.description,
            needs=needs,
            status=self.status,
            code=self.code,
            correlation_id=self.correlation_id,
            request_id=self.request_id,
            data=self.data,
        )
        named.__cause__ = self.__cause__
        return named

    def __str__(self) -> str:
        needs = f"; needs {self.needs}" if self.needs else ""
        return f"{super().__str__()}{needs}"


def is_mfa_refusal(status: int, body: Any) -> bool:
    """401 / 900421: refused because the app+user sign-in had no MFA (no point in a new token)."""
    return status == 401 and _read_fault(body)[0] == _CODE_MFA_REQUIRED


class UnavailableError(PartnerCenterError):
    """5xx, a timeout or a broken connection: worth retrying with the same MS-RequestId."""


def is_unavailable(error: BaseException) -> bool:
    """Partner Center is not answering (no connection, timeouts, 5xx, or still throttling) — as
    opposed to refusing one request. Meant for an error that already went through the retries."""
    return isinstance(error, (UnavailableError, ThrottledError))


def error_from_response(
    status: int,
    body: Any,
    *,
    correlation_id: str,
    request_id: str,
    retry_after: float | None = None,
) -> PartnerCenterError:
    """Map an HTTP error response to the narrowest error of the tree.

    Accepts the documented body ``{code, description, data, source}`` (``code`` a number or a
    string), the 429 body ``{statusCode, message}``, and anything else (non-JSON, empty).
    """
    code, description, data = _read_fault(body)
    if not description:
        description = f"Partner Center answered HTTP {status}"
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "correlation_id": correlation_id,
        "request_id": request_id,
        "data": data,
    }
    if status == 429:
        return ThrottledError(description, retry_after=retry_after or 0.0, **kwargs)
    if code == _CODE_WINDOW_PASSED:
        return CancellationWindowPassedError(description, **kwargs)
    if code == _CODE_STALE_ETAG or status in (409, 412):
        return ConflictError(description, **kwargs)
    if status == 403 and code in _CODES_NO_RELATIONSHIP:
        return NoRelationshipError(description, **kwargs)
    if status == 404:
        return NotFoundError(description, **kwargs)
    if status == 401 and code == _CODE_MFA_REQUIRED:
        return MfaRequiredError(description, **kwargs)
    if status == 401 or (status == 403 and code in _CODES_AUTH):
        return AuthError(description, **kwargs)
    if status >= 500 or status == 408:
        return UnavailableError(description, **kwargs)
    return PartnerCenterError(description, **kwargs)


def _read_fault(body: Any) -> tuple[str, str, list[Any]]:
    if not isinstance(body, dict):
        return "", str(body or "").strip()[:1024], []
    lowered = {str(key).lower(): value for key, value in body.items()}
    code = lowered.get("code", lowered.get("statuscode", ""))
    description = lowered.get("description") or lowered.get("message") or ""
    data = lowered.get("data")
    return (
        "" if code is None else str(code),
        str(description),
        data if isinstance(data, list) else [],
    )


def graph_error_from_response(
    status: int,
    body: Any,
    *,
    correlation_id: str,
    request_id: str,
    retry_after: float | None = None,
) -> PartnerCenterError:
    """Map a Microsoft Graph error answer to the narrowest error of the tree.

    Graph's body is ``{"error": {"code", "message", "innerError": {"date", "request-id",
    "client-request-id"}}}`` (https://learn.microsoft.com/graph/errors). Its status codes read as
    Partner Center's do, except 403: Graph's "Access is denied to the requested resource. The
    user might not have enough permission" (same page), ``Authorization_RequestDenied`` for a
    missing permission or directory role, is always a :class:`GraphPermissionError`.
    """
    code, description, inner = _read_graph_fault(body)
    if not description:
        description = f"Microsoft Graph answered HTTP {status}"
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "correlation_id": correlation_id,
        "request_id": request_id,
        "data": [inner] if inner else [],
    }
    if status == 429:
        return ThrottledError(description, retry_after=retry_after or 0.0, **kwargs)
    if status == 403:
        return GraphPermissionError(description, **kwargs)
    if status == 404:
        return NotFoundError(description, **kwargs)
    if status in (409, 412):
        return ConflictError(description, **kwargs)
    if status == 401:
        return AuthError(description, **kwargs)
    if status >= 500 or status == 408:
        return UnavailableError(description, **kwargs)
    return PartnerCenterError(description, **kwargs)


def _read_graph_fault(body: Any) -> tuple[str, str, dict[str, Any]]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        code, description, _ = _read_fault(body)  # not Graph's shape: a proxy's page, plain text
        return code, description, {}
    inner = error.get("innerError") or error.get("innererror")
    return (
        str(error.get("code") or ""),
        str(error.get("message") or ""),
        dict(inner) if isinstance(inner, dict) else {},
    )
