"""Customer search filters and seek-based paging (reference §2.2, §2.3).

``filter`` is URL-encoded JSON ``{"Field": "CompanyName"|"Domain", "Value": "..",
"Operator": "starts_with"}``; only ``starts_with`` exists for customers. A page
that has more items carries ``continuationToken`` and ``links.next``; the next
page is fetched with ``seekOperation=Next`` and the token in the
``MS-ContinuationToken`` header, exactly as the .NET SDK's enumerator does.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from . import errors
from .models import Customer

__all__ = ("DEFAULT_PAGE_SIZE", "CustomerFilter", "PageCursor", "decode_cursor", "encode_cursor", "parse_filter")

# chosen: Partner Center's default/maximum page size is NOT CONFIRMED.
DEFAULT_PAGE_SIZE = 100

_FIELDS = {"companyname": "CompanyName", "domain": "Domain"}


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    field: str  # "CompanyName" | "Domain"
    value: str

    def matches(self, customer: Customer) -> bool:
        text = customer.company_name if self.field == "CompanyName" else customer.domain
        return text.casefold().startswith(self.value.casefold())


def parse_filter(raw: str | None) -> CustomerFilter | None:
    """Parse the decoded ``filter`` query value; keys are matched case-insensitively."""
    if raw is None or raw == "":
        return None
    try:
        spec = json.loads(raw)
    except ValueError:
        raise errors.invalid_input("filter is not valid JSON") from None
    if not isinstance(spec, dict):
        raise errors.invalid_input("filter must be a JSON object")
    spec = {str(key).lower(): value for key, value in spec.items()}
    field, value, operator = spec.get("field"), spec.get("value"), spec.get("operator")
    if not isinstance(field, str) or field.lower() not in _FIELDS:
        raise errors.invalid_input("filter Field must be CompanyName or Domain")
    if not isinstance(operator, str) or operator.lower() != "starts_with":
        raise errors.invalid_input("only the starts_with operator is supported for customers")
    if not isinstance(value, str):
        raise errors.invalid_input("filter Value must be a string")
    return CustomerFilter(_FIELDS[field.lower()], value)


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Where the next page starts, bound to the search that produced it."""

    offset: int
    filter: str  # the raw filter text ("" = none): a token is only valid for its search


def encode_cursor(cursor: PageCursor) -> str:
    raw = json.dumps({"o": cursor.offset, "f": cursor.filter}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str | None, *, expected_filter: str) -> PageCursor:
    """Read an ``MS-ContinuationToken``; anything missing, garbled or foreign is a 400."""
    if not token:
        raise errors.invalid_input("seekOperation=Next requires the MS-ContinuationToken header")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, filter_text = data["o"], data["f"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise errors.invalid_input("the continuation token is not valid") from None
    if not isinstance(offset, int) or offset < 0 or filter_text != expected_filter:
        raise errors.invalid_input("the continuation token is not valid for this query")
    return PageCursor(offset, filter_text)
