"""The OData query options the sandbox's Graph routes understand: the few ``$filter`` forms
Offboard (and CIPP) send, ``$select``, ``$top`` and ``$skiptoken`` paging.

Anything else in a ``$filter`` is a 400 ``BadRequest``: the sandbox would rather refuse a
query than answer one it did not really evaluate.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from . import graph_errors

__all__ = (
    "Page",
    "RelationshipFilter",
    "page_of",
    "parse_owner_filter",
    "parse_relationship_filter",
    "parse_select",
    "parse_user_filter",
)

_TENANT_CLAUSE = re.compile(r"^customer/tenantId\s+eq\s+'([^']*)'$", re.IGNORECASE)
_STATUS_CLAUSE = re.compile(r"^status\s+eq\s+'([^']*)'$", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_GUEST_FILTER = re.compile(r"^userType\s+eq\s+'Guest'$", re.IGNORECASE)
# appOwnerOrganizationId is an Edm.Guid: Graph's literal is unquoted; quoted is accepted too.
_OWNER_FILTER = re.compile(r"^appOwnerOrganizationId\s+eq\s+'?([0-9a-fA-F-]{36})'?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RelationshipFilter:
    tenant_id: str | None = None
    status: str | None = None


def _strip_parens(text: str) -> str:
    """Drop parentheses that wrap the whole text (not those of ``(a) and (b)``)."""
    text = text.strip()
    while text.startswith("(") and _closing_paren(text) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _closing_paren(text: str) -> int:
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return index
    return -1


def parse_relationship_filter(raw: str | None) -> RelationshipFilter:
    """``customer/tenantId eq '{tid}'``, optionally ``and status eq '{status}'`` (either order,
    parentheses allowed: CIPP's ``(status eq 'active') AND (customer/tenantId eq '…')``)."""
    if raw is None or not raw.strip():
        return RelationshipFilter()
    tenant_id = status = None
    clauses = [_strip_parens(clause) for clause in _AND.split(_strip_parens(raw))]
    for clause in clauses:
        tenant = _TENANT_CLAUSE.match(clause)
        state = _STATUS_CLAUSE.match(clause)
        if tenant is not None and tenant_id is None:
            tenant_id = tenant.group(1).lower()
        elif state is not None and status is None:
            status = state.group(1)
        else:
            raise graph_errors.bad_request(f"Invalid filter clause: {clause!r}.")
    if tenant_id is None or len(clauses) > 2:
        raise graph_errors.bad_request("The sandbox supports $filter=customer/tenantId eq '{id}' [and status eq '{status}'].")
    return RelationshipFilter(tenant_id=tenant_id, status=status)


def parse_user_filter(raw: str | None) -> bool:
    """``True`` for ``userType eq 'Guest'``, ``False`` for no filter; anything else 400."""
    if raw is None or not raw.strip():
        return False
    if _GUEST_FILTER.match(_strip_parens(raw)):
        return True
    raise graph_errors.bad_request("The sandbox supports $filter=userType eq 'Guest' on users.")


def parse_owner_filter(raw: str | None) -> str | None:
    """The tenant id of ``appOwnerOrganizationId eq {guid}``; ``None`` for no filter."""
    if raw is None or not raw.strip():
        return None
    match = _OWNER_FILTER.match(_strip_parens(raw))
    if match is None:
        raise graph_errors.bad_request("The sandbox supports $filter=appOwnerOrganizationId eq {guid} on servicePrincipals.")
    return match.group(1).lower()


def parse_select(raw: str | None) -> list[str] | None:
    if raw is None or not raw.strip():
        return None
    return [name.strip() for name in raw.split(",") if name.strip()]


@dataclass(frozen=True, slots=True)
class Page:
    offset: int
    size: int
    next_link: str | None


def page_of(request: web.Request, total: int, *, default_size: int) -> Page:
    """The slice ``$top``/``$skiptoken`` ask for, and the absolute ``@odata.nextLink`` if more remain.

    The skiptoken is bound to the query it came from (a token replayed on another filter is a 400).
    """
    query = request.query
    size = default_size
    if "$top" in query:
        try:
            size = int(query["$top"])
        except ValueError:
            raise graph_errors.bad_request("$top must be an integer.") from None
        if size < 1:
            raise graph_errors.bad_request("$top must be positive.")
    signature = query.get("$filter", "")
    offset = 0
    token = query.get("$skiptoken")
    if token is not None:
        offset = _decode_skiptoken(token, signature)
    next_link = None
    if offset + size < total:
        params = [(key, value) for key, value in query.items() if key != "$skiptoken"]
        params.append(("$skiptoken", _encode_skiptoken(offset + size, signature)))
        next_link = f"{request.scheme}://{request.host}{request.path}?{urlencode(params, safe='$/,')}"
    return Page(offset=offset, size=size, next_link=next_link)


def _encode_skiptoken(offset: int, signature: str) -> str:
    raw = json.dumps({"o": offset, "f": signature}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_skiptoken(token: str, signature: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, filter_text = data["o"], data["f"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise graph_errors.bad_request("The $skiptoken is not valid.") from None
    if not isinstance(offset, int) or offset < 0 or filter_text != signature:
        raise graph_errors.bad_request("The $skiptoken is not valid for this query.")
    return offset
