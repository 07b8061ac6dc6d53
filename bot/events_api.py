"""``POST /api/partnercenter/events``: Partner Center's webhook callbacks.

A callback whose signature does not verify gets 401 and nothing happens (the reason is logged,
never told to the caller). A verified one is answered 200 at once and acted on in the background:

- ``subscription-updated``: the customer's open case, if waiting, is re-checked now (the
  subscription may have ended, been cancelled in the portal, or been reactivated).
- ``reseller-relationship-accepted-by-customer``: "relationship re-established" is announced.
- anything else (``test-created`` …): acknowledged, ignored.
"""

from __future__ import annotations

import logging
from typing import Awaitable, Callable

from aiohttp import web
from pydantic import ValidationError

import cards
from bot.request_body import read_body
from partner_center import PartnerCenterClient, PartnerCenterError
from partner_center.webhooks import InvalidCallback, PartnerCenterEvent, SignatureVerifier
from removal.background import BackgroundTasks
from removal.case import CaseState
from removal.scheduler import WaitingCases
from removal.store import CaseStore

__all__ = ("events_handler",)

_log = logging.getLogger(__name__)
_MAX_BODY_BYTES = 64 * 1024

Announce = Callable[[dict], Awaitable[int]]


def events_handler(
    *,
    verifier: SignatureVerifier,
    store: CaseStore,
    waiting: WaitingCases,
    client: Callable[[], PartnerCenterClient],
    announce: Announce,
    background: BackgroundTasks,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        body = await read_body(request, limit=_MAX_BODY_BYTES)
        if body is None:
            return web.json_response({"status": 413}, status=413)
        try:
            await verifier.verify(request.headers, body)
        except InvalidCallback as refused:
            _log.warning("refused a Partner Center callback: %s", refused)
            return web.json_response({"status": 401, "detail": "signature not verified"}, status=401)
        try:
            event = PartnerCenterEvent.model_validate_json(body)
        except ValidationError:
            return web.json_response({"status": 400, "detail": "not a Partner Center event"}, status=400)
        _log.info("Partner Center event %s for %s", event.event_name, event.resource_uri)
        if event.event_name == "subscription-updated" and event.customer_id:
            background.start(_recheck(event.customer_id), name=f"event {event.event_name}")
        elif event.event_name == "reseller-relationship-accepted-by-customer" and event.customer_id:
            background.start(_relationship_back(event.customer_id), name=f"event {event.event_name}")
        return web.json_response({"status": 200})

    async def _recheck(customer_id: str) -> None:
        case = await store.open_for_customer(customer_id)
        if case is not None and case.state is CaseState.WAITING:
            await waiting.check(case.id)

    async def _relationship_back(customer_id: str) -> None:
        try:
            name = (await client().get_customer(customer_id)).name or customer_id
        except PartnerCenterError:
            name = customer_id
        locale = cards.DEFAULT_LOCALE
        card = cards.external_notification_card(
            cards.t(locale, "notify.relationship_back.title", customer=name),
            cards.t(locale, "notify.relationship_back.text", customer=name),
            from_elsewhere=False,
            locale=locale,
        )
        await announce(card)

    return handle
