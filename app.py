"""Offboard's composition root and entry point.

settings → Partner Center (the embedded sandbox unless credentials are configured) → case store
→ adapter → bot → aiohttp app with ``POST /api/messages`` and ``GET /healthz``.

    python app.py            # serves http://127.0.0.1:3978/api/messages
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ActivityTypes
from pydantic import ValidationError

import cards
from bot.activity import locale_of
from bot.adapter import create_adapter
from bot.audit import open_audit_store
from bot.events_api import events_handler
from bot.http import messages_handler
from bot.installations import InstallationStore, KnownPersonalChats
from bot.messenger import AdapterMessenger
from bot.notifier import TeamsAnnouncer, TeamsNotifier
from bot.notify_api import notifications_handler
from bot.sandbox_banner import SandboxBanner
from bot.service_urls import ServiceUrlPolicy
from bot.settings import Settings, open_configured_store, open_key_vault
from bot.settings import partner_center_config as configured_partner_center
from bot.token_health import NOTICE_KEY, TOKEN_HEALTH, SandboxClockFollower, TokenHealthMonitor, health_word
from bot.windows import WINDOWS, WindowAnnouncements
from bot.wiring import CaseTimings, build_services
from partner_center import (
    LimitsRegistry,
    MsalTokenProvider,
    PartnerCenterClient,
    PartnerCenterConfig,
    PartnerCenterError,
    RateSettings,
    connect,
    connect_graph,
    token_provider,
)
from partner_center.webhooks import SignatureVerifier, load_ca_bundle
from removal.access import AccessPolicy
from removal.background import BackgroundTasks
from storage import DocumentStore

if TYPE_CHECKING:
    # Types only: a live deployment never imports the sandbox (``create_app`` does, lazily, when
    # sandbox mode is chosen).
    from pc_sandbox import RunningSandbox, SandboxOptions

__all__ = (
    "ADAPTER",
    "BACKGROUND",
    "CLIENT",
    "ENDPOINTS",
    "MAX_BODY_BYTES",
    "SANDBOX",
    "STORE",
    "TOKENS",
    "Endpoints",
    "access_policy",
    "create_app",
    "main",
)

_log = logging.getLogger("offboard")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoints:
    """What answers the bot's HTTP routes, made on startup once Partner Center and the store
    are open.

    Attributes:
        messages: ``POST /api/messages``, Teams' activities.
        notifications: ``POST /api/notifications``, signed announcements.
        events: ``POST /api/partnercenter/events``, Partner Center's callbacks.
    """

    messages: Handler
    notifications: Handler
    events: Handler


ADAPTER = web.AppKey("adapter", CloudAdapter)
CLIENT = web.AppKey("partner_center_client", PartnerCenterClient)
STORE = web.AppKey("store", DocumentStore)
BACKGROUND = web.AppKey("background", BackgroundTasks)
ENDPOINTS = web.AppKey("endpoints", Endpoints)
# The app+user token's provider: its last redemption and exercise() for the token-health check.
TOKENS = web.AppKey("tokens", MsalTokenProvider)
# The sandbox's type is named for type checkers only (see the import above).
SANDBOX: web.AppKey[RunningSandbox] = web.AppKey("sandbox")
_HEALTH_CACHE_SECONDS = 15.0
# Teams' activities are a few KiB (a card click with its data, a message with mentions); an
# anonymous caller must not make the bot read megabytes (security review, finding 11).
MAX_BODY_BYTES = 256 * 1024


def create_app(
    settings: Settings,
    *,
    sandbox_options: SandboxOptions | None = None,
    partner_center_config: PartnerCenterConfig | None = None,
) -> web.Application:
    """The aiohttp application; Partner Center and its session open on startup, close on cleanup.

    ``partner_center_config`` replaces where the settings say Partner Center is (tests run live-mode
    settings against a sandbox this way; nothing else changes).
    """
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    background = BackgroundTasks()
    app[BACKGROUND] = background
    service_urls = ServiceUrlPolicy(settings.allowed_service_urls)
    adapter = create_adapter(settings.bot_framework_configuration(), service_urls=service_urls)
    adapter.on_turn_error = _tell_the_user_something_went_wrong
    app[ADAPTER] = adapter
    if settings.uses_sandbox:
        adapter.use(SandboxBanner())  # every card shown on the sandbox says so

    async def partner_center(app: web.Application) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            clock: Callable[[], datetime]
            if partner_center_config is not None:
                config = partner_center_config
                clock = lambda: datetime.now(UTC)  # noqa: E731
            elif settings.uses_sandbox and settings.sandbox_url:
                config = await _configured(settings, stack)
                clock = lambda: datetime.now(UTC)  # noqa: E731
            elif settings.uses_sandbox:
                # Imported here only: a live deployment never loads the sandbox (its token
                # endpoint and operator API) at all.
                from pc_sandbox import SandboxOptions, running_sandbox

                sandbox = await stack.enter_async_context(
                    running_sandbox(options=sandbox_options or SandboxOptions(), host=settings.sandbox_host, port=settings.sandbox_port)
                )
                app[SANDBOX] = sandbox
                config = await _configured(settings, stack, sandbox_base_url=sandbox.base_url)
                clock = sandbox.clock.now
            else:
                config = await _configured(settings, stack)
                clock = lambda: datetime.now(UTC)  # noqa: E731
            _log.info("Cases and conversation state: %s storage", settings.effective_storage)
            store = open_configured_store(settings)
            stack.push_async_callback(store.close)
            app[STORE] = store
            session = await stack.enter_async_context(aiohttp.ClientSession())
            limits = LimitsRegistry(
                RateSettings(requests_per_period=settings.requests_per_minute, period_seconds=60, max_concurrency=settings.max_concurrency)
            )
            # One token provider for both clients: one MSAL cache, so the refresh token it rotates is one.
            # A sandbox elsewhere: the token's redeemed-at tag and its health follow that sandbox's clock.
            follower = (
                SandboxClockFollower(settings.sandbox_url, session)
                if settings.uses_sandbox and settings.sandbox_url and partner_center_config is None
                else None
            )
            token_clock = follower.now if follower is not None else clock
            if follower is not None:
                await follower.refresh()
            tokens = token_provider(config, clock=token_clock)
            await tokens.load()  # the stored token cache (a Key Vault secret): refused access shows at start
            app[TOKENS] = tokens
            client = connect(config, session=session, limits=limits.for_tenant(config.tenant), tokens=tokens)
            graph = connect_graph(config, session=session, limits=limits.for_tenant(config.tenant), tokens=tokens)
            app[CLIENT] = client
            installations = InstallationStore(store)
            notifier = TeamsNotifier(adapter, settings.app_id, installations)
            announcer = TeamsAnnouncer(notifier, installations, channel_ids=settings.notify_channels)
            audit_store = open_audit_store(settings) or store  # a container of its own, when set (README: "Audit trail")
            stack.push_async_callback(audit_store.close)  # closing the same store twice is harmless
            access = access_policy(settings)
            if not access.approvers:
                _log.warning("No approvers configured (OFFBOARD_APPROVERS): every member may approve removals")
            services = build_services(
                client=client,
                documents=store,
                audit_documents=audit_store,
                messenger=AdapterMessenger(adapter, settings.app_id),
                announcer=announcer,
                personal_chats=KnownPersonalChats(installations, notifier),
                installations=installations,
                background=background,
                clock=clock,
                lease_owner=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
                access=access,
                approvers=settings.approvers,
                timings=CaseTimings.from_settings(settings),
                graph=graph,
                partner=settings.partner_identity,
            )

            async def announce(card: dict[str, Any]) -> int:
                return await announcer.announce(card, text="", requester=None, tenant_id="", service_url="")

            app[TOKEN_HEALTH] = token_health = TokenHealthMonitor(
                tokens,
                store,
                announce=announce,
                clock=token_clock,
                before_check=follower.refresh if follower is not None else None,
                check_days=settings.token_check_days,
                warn_days=settings.token_warn_days,
                personal_chats=KnownPersonalChats(installations, notifier),
                approvers=settings.approvers,
                tenant_id=settings.teams_tenant_id,
                # One cheap app+user call after each redemption: Partner Center's MFA rule (900421).
                probe=client.get_relationship_request_url,
            )
            # Refund and cancellation windows closing soon: told to the approvers once, on the
            # bot's clock (the sandbox's, on the sandbox) like the token health.
            app[WINDOWS] = windows = WindowAnnouncements(
                services.cases,
                announcer,
                clock=token_clock,
                warn=timedelta(hours=settings.window_warn_hours),
                personal_chats=KnownPersonalChats(installations, notifier),
                approvers=settings.approvers,
                before_check=follower.refresh if follower is not None else None,
            )
            verifier = SignatureVerifier(
                session, allowed_hosts=settings.events_certificate_hosts, trusted=_trusted_cas(settings.events_ca_file)
            )
            app[ENDPOINTS] = Endpoints(
                messages=messages_handler(
                    adapter, services.bot, background,
                    authenticates=settings.authenticates, anonymous_allowed=settings.uses_sandbox, service_urls=service_urls,
                ),
                notifications=notifications_handler(settings.notify_secret.get_secret_value(), announce, audit=services.audit),
                events=events_handler(
                    verifier=verifier,
                    store=services.cases,
                    waiting=services.waiting,
                    client=lambda: client,
                    announce=announce,
                    background=background,
                    audit=services.audit,
                    documents=store,
                    workflow=services.workflow,
                ),
            )  # fmt: skip
            # Before any case changes: the Teams message ids older versions kept in the case itself.
            carried = await services.messages.carry_over(await services.cases.open_cases())
            if carried:
                _log.info("Teams message ids of %d open cases moved beside them (casemessages/)", carried)
            # Cases an earlier run (or a dead instance) left executing or removing: finish them.
            loops = [
                asyncio.create_task(_every(settings.resume_interval_seconds, services.workflow.resume), name="resume cases"),
                asyncio.create_task(_every(settings.recheck_interval_seconds, services.waiting.check_all), name="recheck waiting cases"),
                asyncio.create_task(token_health.run_every(), name="token health"),
                asyncio.create_task(windows.run_every(settings.resume_interval_seconds), name="closing windows"),
            ]
            yield
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await background.cancel_all()

    app.cleanup_ctx.append(partner_center)

    # The routes exist from the start; what answers them is made once Partner Center is open.
    async def messages(request: web.Request) -> web.StreamResponse:
        return await request.app[ENDPOINTS].messages(request)

    async def notifications(request: web.Request) -> web.StreamResponse:
        return await request.app[ENDPOINTS].notifications(request)

    async def events(request: web.Request) -> web.StreamResponse:
        return await request.app[ENDPOINTS].events(request)

    app.router.add_post("/api/messages", messages)
    app.router.add_post("/api/notifications", notifications)
    app.router.add_post("/api/partnercenter/events", events)
    app.router.add_get("/healthz", _health_handler())
    return app


def access_policy(settings: Settings) -> AccessPolicy:
    """Who may do what, as the settings say (README: "Who may do what")."""
    return AccessPolicy(
        approvers=frozenset(settings.approvers),
        requesters=settings.effective_requesters,
        four_eyes=settings.effective_four_eyes,
        tenant_id=settings.teams_tenant_id,
        protected_customers=settings.effective_protected_customers,
        verified_members_only=not settings.uses_sandbox,
        approvers_required=not settings.uses_sandbox,  # live with no approvers (insecure override): nobody approves
    )


async def _every(interval: float, work: Callable[[], Awaitable[Any]]) -> None:
    """Run ``work`` now, then every ``interval`` seconds, whatever happens to one run."""
    while True:
        try:
            await work()
        except Exception:  # storage or Partner Center briefly unreachable: try again at the next tick  # noqa: BLE001
            _log.exception("periodic work failed; trying again in %s s", interval)
        await asyncio.sleep(interval)


def _trusted_cas(path: Path | None) -> list[Any]:
    """The CAs a Partner Center callback certificate must come from: the configured bundle, or the
    system's roots."""
    bundle = Path(path) if path else Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
    try:
        return load_ca_bundle(bundle.read_bytes())
    except (OSError, ValueError):
        _log.warning("no CA bundle at %s: Partner Center callbacks will all be refused", bundle)
        return []


async def _configured(settings: Settings, stack: AsyncExitStack, *, sandbox_base_url: str | None = None) -> PartnerCenterConfig:
    """Partner Center as the settings describe it, the Key Vault (if any) opened for the app's life."""
    vault = open_key_vault(settings, sandbox_base_url=sandbox_base_url)
    if vault is not None:
        stack.push_async_callback(vault.close)
        _log.info("Secrets and the Partner Center token cache: Key Vault %s", vault.vault_url)
    return await configured_partner_center(settings, vault=vault, sandbox_base_url=sandbox_base_url)


def _health_handler() -> Any:
    """``GET /healthz``: ``ok`` or ``degraded`` per check, and nothing more. It answers anyone,
    so Partner Center's and the storage's own words (an AADSTS text names the app and tenant)
    go to the log, not into the answer."""
    last: dict[str, Any] = {"at": 0.0, "body": None}

    async def healthz(request: web.Request) -> web.Response:
        if time.monotonic() - last["at"] > _HEALTH_CACHE_SECONDS or last["body"] is None:
            # Side by side, 10 s each at most: the probes' timeout (infra/main.bicep) outwaits them.
            storage, partner_center, token = await asyncio.gather(
                _storage_check(request.app),
                _partner_center_check(request.app),
                health_word(request.app.get(TOKEN_HEALTH)),
            )
            checks = {"storage": storage, "partnerCenter": partner_center, "partnerCenterToken": token}
            # Ready (HTTP 200) on what this replica can do alone: started, and its storage answers.
            # Partner Center or the token degraded is "degraded" in the answer (what a monitor
            # alerts on) with 200: an outage at Microsoft is every replica's, and taking them all
            # out of ingress would refuse Teams' messages and the webhooks too (and a replica
            # starting meanwhile would never pass its startup probe).
            ready = storage == "ok" and partner_center != "starting"
            healthy = ready and all(value == "ok" for value in checks.values())
            last.update(at=time.monotonic(), body={"ready": ready, "status": "ok" if healthy else "degraded", "checks": checks})
        body = last["body"]
        return web.json_response(body, status=200 if body["ready"] else 503)

    return healthz


async def _storage_check(app: web.Application) -> str:
    store = app.get(STORE)
    if store is None:
        return "starting"
    try:
        # A read (the properties of the token-health notice, there or not): a round trip with the
        # identity's token, and no write, so no blob version every 15 s per replica (versioning is
        # on, infra/main.bicep). A lost write permission shows in the first write and in the doctor.
        await asyncio.wait_for(store.etag(NOTICE_KEY), timeout=10)
    except Exception:  # any failure of the backend is the reason to report  # noqa: BLE001
        _log.exception("health check: storage unavailable")
        return "degraded"
    return "ok"


async def _partner_center_check(app: web.Application) -> str:
    client = app.get(CLIENT)
    if client is None:
        return "starting"
    try:
        await asyncio.wait_for(client.find_customers("CompanyName", "a", limit=1, page_size=1), timeout=10)
    except (TimeoutError, PartnerCenterError) as error:
        _log.warning("health check: Partner Center unreachable: %s", getattr(error, "description", None) or type(error).__name__)
        return "degraded"
    return "ok"


async def _tell_the_user_something_went_wrong(turn_context: TurnContext, error: Exception) -> None:
    activity = turn_context.activity
    if activity.type == ActivityTypes.event and activity.name == "ContinueConversation":
        # A proactive send failed (throttled, bot removed …): its caller retries or prunes, and
        # answering "something went wrong" into that same conversation would fail too.
        raise error
    _log.exception("unhandled error in a turn", exc_info=error)
    try:
        await turn_context.send_activity(cards.t(locale_of(activity), "error.unexpected"))
    except Exception:  # Teams unreachable too: the log above is all we can do  # noqa: BLE001
        _log.exception("could not tell the user about the error")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # azure-core's HttpLoggingPolicy logs every request and response (Key Vault, Blob) at INFO:
    # quiet unless someone asked for DEBUG (then they want those lines) or set its level themselves.
    azure = logging.getLogger("azure")
    if azure.level == logging.NOTSET and logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        azure.setLevel(logging.WARNING)
    try:
        settings = Settings()
    except ValidationError as error:
        # One clear message naming every missing or wrong setting; never the values (secrets).
        problems = "\n".join(f"  - {_setting_problem(detail)}" for detail in error.errors())
        _log.critical("Offboard refuses to start:\n%s", problems)
        raise SystemExit(2) from None
    # The first line says how safe this run is; an insecure override is shouted on every start.
    _log.log(logging.ERROR if settings.insecure_dev else logging.INFO, "%s", settings.posture())
    if settings.uses_sandbox and settings.sandbox_url:
        _log.info("Using the Partner Center sandbox at %s", settings.sandbox_url)
    elif settings.uses_sandbox:
        _log.info(
            "No Partner Center credentials configured: using the embedded sandbox on http://%s:%s (demo data, nothing real changes)",
            settings.sandbox_host,
            settings.sandbox_port,
        )
    else:
        _log.info("Using the real Partner Center for partner tenant %s", settings.partner_tenant)
    _log.info("Offboard listens on http://%s:%s/api/messages", settings.host, settings.port)
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)


def _setting_problem(detail: Any) -> str:
    where = ".".join(str(part) for part in detail.get("loc", ()) if part != "__root__")
    message = str(detail.get("msg", "")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


if __name__ == "__main__":
    main()
