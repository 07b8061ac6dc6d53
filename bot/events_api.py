"""``POST /api/partnercenter/events``: Partner Center's webhook callbacks.

A callback whose signature does not verify gets 401 and nothing happens (the reason is logged,
never told to the caller). A verified one is answered 200 at once and acted on in the background:

- ``subscription-updated``: the customer's open case, if waiting, is re-checked now (the
  subscription may have ended, been cancelled in the portal, or been reactivated).
- ``granular-admin-relationship-terminated`` and ``-expired``: the same, so that a GDAP
  relationship that ended (terminated by the partner or the customer, or expired) leaves the
  case's "Access the partner still has" now rather than at the next hourly re-check. And a
  removed case whose result says that relationship's termination is under way (the customer has
  no open case any more: :meth:`CaseStore.with_access_ending`) has its access read again
  (:meth:`RemovalWorkflow.access_changed`): its result card then says the access ended.
- ``reseller-relationship-accepted-by-customer``: "relationship re-established" is announced.
- ``transfer-*`` (assumption: see :data:`_TRANSFER_EVENT_PREFIX`): the customer's open case reads
  its transfer requests afresh (:meth:`RemovalWorkflow.follow_transfers`).
- anything else (``test-created`` …): acknowledged, ignored.

Callbacks carry no nonce, so a captured one could be sent again: each event (its name, resource
and change date) is acted on once. The first delivery creates ``pcevents/{fingerprint}`` (a
create-once document, whichever instance gets it), kept 72 hours past the change (Partner
Center may deliver an event 48 hours late); a copy finds it and is answered 200 with nothing
done. An event whose ``ResourceChangeUtcDate`` is older than that (or more than 10 minutes
ahead) is not acted on either: its record may already be gone. Each event acted on is audited
(``partnercenter.event``) before anything is done about it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import ValidationError

import cards
from bot.request_body import read_body
from partner_center import PartnerCenterClient, PartnerCenterError
from partner_center.blockers import BlockerKind
from partner_center.webhooks import InvalidCallback, PartnerCenterEvent, SignatureVerifier
from removal.audit import AuditEvent, AuditTrail
from removal.background import BackgroundTasks
from removal.case import CaseState, RemovalCase
from removal.scheduler import WaitingCases
from removal.store import CaseStore
from removal.workflow import RemovalWorkflow
from storage import DocumentStore, PreconditionFailed

__all__ = ("SeenEvents", "events_handler")

_log = logging.getLogger(__name__)
_MAX_BODY_BYTES = 64 * 1024
_SEEN = "pcevents/"
# Partner Center may deliver subscription-updated up to 48 hours after the change (its webhook
# event list says so): an event is acted on for 72 hours after its change date, and remembered
# as long, so that a copy arriving within that time is recognised.
_KEEP = timedelta(hours=72)
_AHEAD = timedelta(minutes=10)  # Partner Center's clock and ours may differ a little, not more
_CLEANUP_EVERY_SECONDS = 3600.0
_ACTOR = "Partner Center"
# The events after which a waiting case is re-checked. The GDAP ones ("terminated by the
# partner/customer tenant", and expired) are Partner Center's webhook events, 2023-10 revision of
# learn.microsoft.com/partner-center/developer/partner-center-webhook-events
# (../shared/reference/anchors.md §3.1).
_RECHECKING = frozenset({"subscription-updated", "granular-admin-relationship-terminated", "granular-admin-relationship-expired"})
_GDAP_EVENTS = frozenset({"granular-admin-relationship-terminated", "granular-admin-relationship-expired"})

# Transfer events ("transfer-completed" and the like): assumption. Partner Center's webhook
# event list (learn.microsoft.com/partner-center/developer/partner-center-webhook-events) is not
# known to name transfer events; should it send any whose name starts with "transfer-", the open
# case of the customer reads its transfers afresh. The resume sweep follows them anyway.
_TRANSFER_EVENT_PREFIX = "transfer-"

Announce = Callable[[dict], Awaitable[int]]
Clock = Callable[[], datetime]


class SeenEvents:
    """The events already acted on: ``pcevents/{fingerprint}`` → ``{"expires": …}``, created once
    and removed ``keep`` after the later of its arrival and its change date.

    Only verified events get here, so what is kept is bounded by what Partner Center sends in
    ``keep``; :meth:`forget_expired` removes the older ones.
    """

    def __init__(self, documents: DocumentStore, *, keep: timedelta = _KEEP) -> None:
        self._documents = documents
        self._keep = keep

    async def claim(self, event: PartnerCenterEvent, now: datetime) -> str | None:
        """The claim's ETag when this is the event's first delivery (or its record expired),
        None when it was seen already."""
        key = _SEEN + event.fingerprint
        changed = event.changed_at() or now
        document = {
            "event": event.event_name,
            "resource": event.resource_uri,
            "changed": event.resource_change_utc_date,
            "received": now.isoformat(),
            # Kept at least until the change date is older than what is acted on at all.
            "expires": (max(now, changed) + self._keep).isoformat(),
        }
        try:
            return await self._documents.write(key, document, if_none_match=True)
        except PreconditionFailed:
            stored = await self._documents.read(key)
        if stored is not None and not _expired(stored.document, now):
            return None
        # An expired record (or one just removed as expired) is taken over, by one instance only.
        try:
            if stored is None:
                return await self._documents.write(key, document, if_none_match=True)
            return await self._documents.write(key, document, if_match=stored.etag)
        except PreconditionFailed:  # another instance took it over first: theirs to act on
            return None

    async def release(self, event: PartnerCenterEvent, etag: str) -> None:
        """Forget a claim whose event was not acted on after all, so a retry will be."""
        try:
            await self._documents.delete(_SEEN + event.fingerprint, if_match=etag)
        except PreconditionFailed:
            pass

    async def forget_expired(self, now: datetime) -> int:
        found = await self._documents.read_many(await self._documents.list_keys(_SEEN))
        forgotten = 0
        for key, stored in found.items():
            if _expired(stored.document, now):
                try:
                    await self._documents.delete(key, if_match=stored.etag)
                    forgotten += 1
                except PreconditionFailed:
                    continue  # claimed again meanwhile
        return forgotten


def _expired(document: dict[str, Any], now: datetime) -> bool:
    try:
        # Strictly before: at the very end of the window the event is still acted on, so its
        # record must still count.
        return datetime.fromisoformat(str(document.get("expires"))) < now
    except ValueError:
        return True  # not a date this code wrote: nothing to keep it for


def events_handler(
    *,
    verifier: SignatureVerifier,
    store: CaseStore,
    waiting: WaitingCases,
    client: Callable[[], PartnerCenterClient],
    announce: Announce,
    background: BackgroundTasks,
    audit: AuditTrail,
    documents: DocumentStore,
    clock: Clock = lambda: datetime.now(UTC),
    workflow: RemovalWorkflow,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """
    :param workflow: reads a removed case's access again after a GDAP event.
    """
    seen = SeenEvents(documents)
    last_cleanup = float("-inf")

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
        ignored = await _accept(event, clock())
        if ignored:
            _log.warning("Partner Center event %s for %s not acted on: %s", event.event_name, event.resource_uri, ignored)
            # 200 all the same: the callback is genuine, and Partner Center must not send it again.
            return web.json_response({"status": 200, "detail": f"not acted on: {ignored}"})
        return web.json_response({"status": 200})

    async def _accept(event: PartnerCenterEvent, now: datetime) -> str:
        """Act on a verified event once, audited first; why it was not acted on ("" when it was)."""
        nonlocal last_cleanup
        stale = _stale(event, now)
        if stale:
            return stale
        claim = await seen.claim(event, now)
        if claim is None:
            return f"already received (changed {event.resource_change_utc_date or 'at no given date'})"
        try:
            await audit.record(_audited(event, now))
        except Exception:
            await seen.release(event, claim)  # unaudited, so not acted on: Partner Center's retry will be
            raise
        _act_on(event)
        if time.monotonic() - last_cleanup > _CLEANUP_EVERY_SECONDS:
            last_cleanup = time.monotonic()
            background.start(seen.forget_expired(now), name="forget old Partner Center events")
        return ""

    def _act_on(event: PartnerCenterEvent) -> None:
        if _is_transfer_event(event.event_name) and event.customer_id:
            background.start(_transfer_changed(event.customer_id, event.event_name), name=f"event {event.event_name}")
        elif event.event_name in _RECHECKING:
            background.start(_recheck(event), name=f"event {event.event_name}")
        elif event.event_name == "reseller-relationship-accepted-by-customer" and event.customer_id:
            background.start(_relationship_back(event.customer_id), name=f"event {event.event_name}")

    async def _recheck(event: PartnerCenterEvent) -> None:
        case = await _open_case_of(event)
        if case is not None and case.state is CaseState.WAITING:
            await waiting.check(case.id)
        if event.event_name in _GDAP_EVENTS:
            for removed in await _removed_cases_of(event):
                try:
                    await workflow.access_changed(removed.id, why=event.event_name)
                except Exception:  # one case's trouble must not stop the others  # noqa: BLE001
                    _log.exception("reading the access of removed case %s again failed", removed.id)

    async def _transfer_changed(customer_id: str, event_name: str) -> None:
        """A transfer of the customer changed: the open case reads its transfers afresh (and,
        when an accepted one completed, re-checks: the blockers it moved away leave the plan)."""
        case = await store.open_for_customer(customer_id)
        if case is not None:
            await workflow.follow_transfers(case.id, why=event_name)

    async def _removed_cases_of(event: PartnerCenterEvent) -> list[RemovalCase]:
        """The removed cases whose result says a relationship of the event is ending: the
        customer's (named in the resource), else those holding the relationship the resource
        names (a path segment equal to the GDAP item's id; see :func:`_open_case_of`)."""
        named = _path_segments(event)
        return [
            case
            for case in await store.with_access_ending()
            if (case.customer.id == event.customer_id if event.customer_id else any(item.item_id in named for item in case.access_ending))
        ]

    async def _open_case_of(event: PartnerCenterEvent) -> RemovalCase | None:
        """The open case the event is about: its customer's, from ``/customers/{id}`` in the
        resource. Assumption: a GDAP event's ResourceUri names the customer as the customer events
        do; should it name only the relationship, the open case holding that relationship (a path
        segment equal to a GDAP item's id) is the one."""
        if event.customer_id:
            return await store.open_for_customer(event.customer_id)
        if event.event_name not in _GDAP_EVENTS:
            return None
        named = _path_segments(event)
        for case in await store.open_cases():
            if any(item.kind is BlockerKind.GDAP and item.item_id in named for item in case.items):
                return case
        return None

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


def _is_transfer_event(name: str) -> bool:
    return name.lower().startswith(_TRANSFER_EVENT_PREFIX)


def _path_segments(event: PartnerCenterEvent) -> set[str]:
    """The segments of the event's resource path: a GDAP relationship's id may be one of them."""
    return set(urlsplit(event.resource_uri).path.split("/")) - {""}


def _stale(event: PartnerCenterEvent, now: datetime) -> str:
    """Why an event is too old or too new to act on ("" when it is not)."""
    changed = event.changed_at()
    if changed is None:
        return ""  # nothing to judge by: the record of it still makes it count once
    if changed < now - _KEEP:
        return f"changed {event.resource_change_utc_date}, more than {_KEEP.total_seconds() / 3600:g} hours ago (a replay, or delivered too late)"
    if changed > now + _AHEAD:
        return f"changed {event.resource_change_utc_date}, in the future"
    return ""


def _audited(event: PartnerCenterEvent, now: datetime) -> AuditEvent:
    """A verified event, as the trail keeps it (under its customer, whose name it does not give)."""
    return AuditEvent(
        at=now,
        action="partnercenter.event",
        actor=_ACTOR,
        customer_id=event.customer_id,
        item=event.resource_uri,
        detail=f"{event.event_name}, changed {event.resource_change_utc_date or '(no date)'}",
        extra={
            "event": event.event_name,
            "resource_name": event.resource_name,
            "changed": event.resource_change_utc_date,
            "fingerprint": event.fingerprint,
        },
    )
