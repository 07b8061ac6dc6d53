"""The Bot Framework adapter Offboard runs on, built in one place (app.py and the turns bench's
echo bot both use it, so the bench compares bots, not adapters).

botbuilder 4.17.1 builds two msrest clients on every turn (the connector that replies, the user
token client) and one more for every proactive message; each builds an msrest configuration
(a ConfigParser), a requests session with its own connection pool, and msrest's
``ClientRetryPolicy``, whose constructor tests 999 status codes for membership in a 502-item
*list*. Measured with py-spy (``python -m bench turns --profile DIR``), that was 40-60 % of a
busy bot's CPU, and every reply opened a new TCP connection. Two remedies, both here:

- the retry policy's list becomes a frozenset (msrest is no longer maintained; the patch is in
  :mod:`bot._patches`): the policy it builds is the same, built in microseconds;
- connector and user-token clients are kept per (app id, service URL, audience) and reused, so
  replies reuse their HTTP connections. Reuse is safe: the clients hold no per-turn state, and
  their credentials fetch and renew the bearer token on each request.

The Bot Framework's signing keys are read through :mod:`bot.signing_keys` (patched in by
:mod:`bot._patches` too): the SDK's own fetch blocks the event loop without a timeout and misses
keys published since. The patches are applied here, when the adapter is built, so a bot never
runs on an SDK they were not checked against.

The connector serialises an outgoing activity with msrest's ``Serializer.body``, which first
*deserialises* the activity into msrest's models, then serialises it, walking the Adaptive Card
in the attachment (an ``object``: every node, every string) both ways before ``json.dumps``
writes it a third time. That was ~25 % of a busy bot's CPU. The clients made here serialise an
activity once (:class:`_CardsSerialisedOnce`): each card, already a JSON-ready dict, goes into the
body as it is, and the activity around it is written directly from the models' attribute maps
when it holds only plain values (else msrest writes it, as before). The bytes sent are the same
(checked against msrest's output on every send of the tests/bot suite while this was written). Before that, botbuilder's turn
context deep-copies every activity it sends, card and all (~8 %); the turn contexts of this
adapter copy the activity but share the card (:class:`_CardSharingTurnContext`): a card is built
for the message that shows it and never changed after.

Every connector client is made here, so this is also where the service-URL fence stands
(:mod:`bot.service_urls`): a reply, a proactive message or a roster read to a service URL that
is not allowed is refused before a connection is opened or a token handed over.
"""

from __future__ import annotations

import copy
import datetime
from enum import Enum
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, Attachment, DeliveryModes, ResourceResponse
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity, ConnectorFactory, UserTokenClient
from botframework.connector.auth.authentication_constants import AuthenticationConstants
from msrest.serialization import Model, Serializer

from . import _patches
from .service_urls import ServiceUrlPolicy

__all__ = ("create_adapter",)

# Stands in a card's place while msrest serialises the activity around it (never sent).
_CARD_PLACEHOLDER = "\x00offboard: card serialised once\x00"


class _CardsSerialisedOnce(Serializer):
    """msrest's serializer, except that an outgoing activity's attachment contents are left as
    they are: the cards are JSON-ready dicts, which msrest would otherwise take apart and put
    together again, node by node, only for ``json.dumps`` to write them anyway."""

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        attachments: list[Attachment] = list(data.attachments or []) if data_type == "Activity" and isinstance(data, Activity) else []
        contents = [attachment.content for attachment in attachments]
        if not any(isinstance(content, dict) for content in contents):
            return super().body(data, data_type, **kwargs)
        try:
            for attachment, content in zip(attachments, contents, strict=True):
                if isinstance(content, dict):
                    attachment.content = _CARD_PLACEHOLDER
            serialized = self._plainly(data)
            if serialized is None:
                serialized = super().body(data, data_type, **kwargs)
        finally:
            for attachment, content in zip(attachments, contents, strict=True):
                attachment.content = content
        # Each placeholder was serialised where its card goes, in order: the card takes its place
        # there, so the body's keys come in the order msrest writes them.
        for written, content in zip(serialized.get("attachments") or [], contents, strict=False):
            if written.get("content") == _CARD_PLACEHOLDER:
                written["content"] = content
        return serialized

    def _plainly(self, data: Any) -> dict[str, Any] | None:
        """What msrest writes for ``data`` (the activity around its cards), written directly when
        it holds only what that is plain for: models where models are declared, values of the
        declared basic types, datetimes, and plain JSON; None otherwise (msrest writes it then).

        msrest's ``body`` deserialises the activity into models, validates it (the Bot Framework's
        models declare no constraints) and serialises it, raising and catching an exception
        for every attribute left empty: ~0.2 ms for an activity with a card in it."""
        try:
            return self._model(data)
        except _NotPlain:
            return None

    def _model(self, model: Any) -> dict[str, Any]:
        if not isinstance(model, Model):
            raise _NotPlain
        written: dict[str, Any] = {}
        for attribute, description in type(model)._attribute_map.items():
            value = getattr(model, attribute, None)
            if value is not None:
                written[_json_key(description["key"])] = self._value(value, description["type"])
        return written

    def _value(self, value: Any, declared: Any) -> Any:
        if not isinstance(declared, str):
            raise _NotPlain
        if declared.startswith("[") and declared.endswith("]"):
            if type(value) is not list or any(item is None for item in value):
                raise _NotPlain
            return [self._value(item, declared[1:-1]) for item in value]
        if declared == "object":
            return _plain_json(value)
        if declared == "iso-8601":
            if type(value) is not datetime.datetime:
                raise _NotPlain
            return Serializer.serialize_iso(value)
        if declared in _BASIC:
            if type(value) is _BASIC[declared]:
                return value
            if declared == "str" and isinstance(value, str) and isinstance(value, Enum):
                return value.value
            raise _NotPlain
        model_class = self.dependencies.get(declared)
        if isinstance(model_class, type) and issubclass(model_class, Model):
            return self._model(value)
        raise _NotPlain


class _NotPlain(Exception):
    """An activity msrest must write itself."""


_BASIC: dict[str, type] = {"str": str, "bool": bool, "int": int, "float": float}


def _json_key(key: str) -> str:
    if "." in key or not key:  # msrest's flattened or additional-properties keys: its own way
        raise _NotPlain
    return key


def _plain_json(value: Any) -> Any:
    """``value`` if it is plain JSON (what msrest's ``serialize_object`` returns unchanged)."""
    kind = type(value)
    if value is None or kind in (str, bool, int, float):
        return value
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise _NotPlain
        return {key: _plain_json(item) for key, item in value.items()}
    if kind is list:
        return [_plain_json(item) for item in value]
    raise _NotPlain


class _SharedCard(dict[str, Any]):
    """A card in an activity being sent: botbuilder's deep copy of the activity shares it."""

    __slots__ = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> _SharedCard:
        return self


def _sharing_cards(activity: Activity) -> Activity:
    """A shallow copy of ``activity`` whose cards are :class:`_SharedCard` (``activity`` itself
    if it has none); nothing of ``activity`` changes."""
    attachments = activity.attachments or []
    if not any(type(attachment.content) is dict for attachment in attachments):
        return activity
    shared = copy.copy(activity)
    shared.attachments = []
    for attachment in attachments:
        if type(attachment.content) is dict:
            attachment = copy.copy(attachment)
            attachment.content = _SharedCard(attachment.content)
        shared.attachments.append(attachment)
    return shared


class _CardSharingTurnContext(TurnContext):
    async def send_activities(self, activities: list[Activity]) -> list[ResourceResponse]:
        if self.activity.delivery_mode == DeliveryModes.expect_replies:
            # Buffered replies are serialised by msrest itself, which knows only plain dicts.
            return await super().send_activities(activities)
        return await super().send_activities([_sharing_cards(activity) for activity in activities])


class _Adapter(CloudAdapter):
    def _create_turn_context(self, activity: Activity, *args: Any, **kwargs: Any) -> TurnContext:
        made = super()._create_turn_context(activity, *args, **kwargs)
        context = _CardSharingTurnContext(self, activity)
        context.turn_state.update(made.turn_state)
        return context


def _serialising_cards_once(client: ConnectorClient) -> ConnectorClient:
    """``client``, its conversation operations (send, reply, update) serialising cards once."""
    serializer = _CardsSerialisedOnce(client._serialize.dependencies)
    serializer.client_side_validation = client._serialize.client_side_validation
    client.conversations._serialize = serializer
    return client


class _ReusedConnectors(ConnectorFactory):
    """Hands out one connector client per (app id, service URL, audience) for the process."""

    def __init__(
        self, inner: ConnectorFactory, app_id: str, clients: dict[tuple[str, str, str], ConnectorClient], fence: ServiceUrlPolicy
    ) -> None:
        self._inner, self._app_id, self._clients, self._fence = inner, app_id, clients, fence

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        self._fence.check(service_url)
        key = (self._app_id, service_url, audience or "")
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = _serialising_cards_once(await self._inner.create(service_url, audience))
        return client


class _ReusingAuthentication(ConfigurationBotFrameworkAuthentication):
    def __init__(self, configuration: Any, fence: ServiceUrlPolicy) -> None:
        super().__init__(configuration)
        self._fence = fence
        self._connectors: dict[tuple[str, str, str], ConnectorClient] = {}
        self._user_token_clients: dict[str, UserTokenClient] = {}

    def _reusing(self, factory: ConnectorFactory | None, claims_identity: ClaimsIdentity | None) -> ConnectorFactory | None:
        if factory is None:
            return None
        return _ReusedConnectors(factory, _app_id(claims_identity), self._connectors, self._fence)

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        result = await super().authenticate_request(activity, auth_header)
        result.connector_factory = self._reusing(result.connector_factory, result.claims_identity)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._reusing(super().create_connector_factory(claims_identity), claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = _app_id(claims_identity)
        client = self._user_token_clients.get(key)
        if client is None:
            client = self._user_token_clients[key] = await super().create_user_token_client(claims_identity)
        return client


def _app_id(claims_identity: ClaimsIdentity | None) -> str:
    claims = (claims_identity.claims if claims_identity else None) or {}
    return str(claims.get(AuthenticationConstants.AUDIENCE_CLAIM) or claims.get(AuthenticationConstants.APP_ID_CLAIM) or "")


def create_adapter(configuration: Any, *, service_urls: ServiceUrlPolicy | None = None) -> CloudAdapter:
    """A CloudAdapter authenticating with ``configuration`` (the attribute bag of
    :meth:`Settings.bot_framework_configuration`), sending only where ``service_urls`` allows
    (default: anywhere, as on the sandbox)."""
    _patches.apply()
    return _Adapter(_ReusingAuthentication(configuration, service_urls or ServiceUrlPolicy(None)))
