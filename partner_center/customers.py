"""Find the customer a person means: by tenant id, domain, or company-name prefix."""

from __future__ import annotations

import asyncio
import uuid

from .client import PartnerCenterClient
from .errors import NotFoundError
from .models import Customer

__all__ = ("resolve_customers",)


async def resolve_customers(client: PartnerCenterClient, query: str, *, limit: int = 25) -> list[Customer]:
    """Customers matching ``query``, best first; empty when none.

    A tenant id is read directly (it also finds customers no longer in the customer list);
    anything else is a prefix of the company name or of the domain, both searched at once.
    An exact name or domain match, when there is one, is the only answer.
    """
    text = query.strip()
    if not text:
        return []
    if _is_tenant_id(text):
        try:
            return [await client.get_customer(text)]
        except NotFoundError:
            return []
    by_name, by_domain = await asyncio.gather(
        client.find_customers("CompanyName", text, limit=limit),
        client.find_customers("Domain", text, limit=limit),
    )
    found: dict[str, Customer] = {}
    for customer in [*by_name, *by_domain]:
        found.setdefault(customer.id or customer.domain, customer)
    matches = list(found.values())
    exact = [c for c in matches if text.lower() in (c.name.lower(), c.domain.lower())]
    return exact if len(exact) == 1 else matches[:limit]


def _is_tenant_id(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
