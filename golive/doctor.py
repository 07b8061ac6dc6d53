"""``python -m golive doctor``: everything a go-live needs, checked in order, as a table with the fix
for each failure. Exit code 0 when nothing failed (warnings allowed), 1 otherwise.

It reads the settings as the bot does (the environment and ``.env``) and goes the bot's own way to
each service (``bot.settings.open_key_vault``, ``partner_center_config``, the same token provider
and clients), so that what passes here works in the bot. Rows:

0. **Settings**: what live mode refuses to start without (``Settings.live_mode_gaps``), FAIL; WARN
   when ``OFFBOARD_INSECURE_DEV`` is on (live mode would start without them).
1. **Bot identity**: ``MicrosoftAppId``/``MicrosoftAppType``/``MicrosoftAppTenantId`` coherent (a
   password for MultiTenant and SingleTenant; a tenant for SingleTenant and UserAssignedMSI; for
   UserAssignedMSI, ``AZURE_CLIENT_ID`` naming the managed identity, which is the bot's app id:
   https://learn.microsoft.com/azure/bot-service/bot-builder-authentication?view=azure-bot-service-4.0).
2. **Teams tenant**: ``OFFBOARD_TEAMS_TENANT_ID`` a GUID.
3. **Approvers**: at least one; two different ones with four-eyes.
4. **Storage**: a probe document written, read back and deleted through the configured store.
5. **Key Vault**: the token secret read (401 → no credential for the identity; 403 → the role to grant).
6. **Partner Center app-only**: a token from the app's credential and one cheap GET.
7. **Partner Center app+user**: the refresh token redeemed now (what the bot's token-health check
   does) and one cheap app+user GET; 401/900421 means the sign-in had no MFA; a rotated token that
   could not be written back to the Key Vault (the identity may read but not write the secret) FAILs.
8. **Admin agent roles**: the groups of the signed-in account (Graph ``me/memberOf``,
   https://learn.microsoft.com/graph/api/user-list-memberof): ``AdminAgents`` or FAIL.
9. **Graph permissions**: one page of GDAP relationships (``$top=1``): a 403 names the permission.
10. **Webhook registration**: Partner Center's ``GET /webhooks/v1/registration``
    (https://learn.microsoft.com/rest/api/partner-center/webhook/get-registration-partner); the
    events URL must be the bot's ``/api/partnercenter/events``.

Nothing secret is printed: Entra ID's and Partner Center's messages are cut to their first line,
and no token or secret value is ever shown.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import aiohttp
from pydantic import ValidationError

from bot.settings import Settings, open_configured_store, open_key_vault, partner_center_config
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
from partner_center.errors import AuthError, GraphPermissionError, MfaRequiredError
from partner_center.graph import GraphClient
from partner_center.retry import RetryPolicy
from partner_center.token_health import CONSENT_COMMAND, Reason, assess, attempt_from_error
from storage import KeyVaultAccessDenied, KeyVaultError, KeyVaultSecrets

__all__ = ("HELP", "Row", "Status", "add_arguments", "diagnose", "render", "run")

HELP = "Check everything a go-live needs (bot identity, storage, Key Vault, Partner Center, Graph, webhooks) and print the fixes."
EVENTS_PATH = "/api/partnercenter/events"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_AADSTS = re.compile(r"AADSTS(\d+)")
# A call that does not answer within this long is a failure of its row, not a hang of the command.
_CALL_SECONDS = 30.0
# The Partner Center events Offboard acts on (bot/events_api.py).
_EVENTS = (
    "subscription-updated",
    "granular-admin-relationship-terminated",
    "granular-admin-relationship-expired",
    "reseller-relationship-accepted-by-customer",
)
_CONSENT_FIX = f"An admin agent runs `{CONSENT_COMMAND}` (signing in with MFA), then this doctor again."


class Status(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: the check, its status, what was found, and what to do."""

    check: str
    status: Status
    detail: str
    fix: str = ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events-url",
        default="",
        help=f"the bot's public events address (https://<bot host>{EVENTS_PATH}): the webhook registration must name it",
    )


def run(args: argparse.Namespace) -> int:
    rows = asyncio.run(_diagnose_from_environment(events_url=args.events_url))
    sys.stdout.write(render(rows, colour=sys.stdout.isatty()))
    return 1 if any(row.status is Status.FAIL for row in rows) else 0


async def _diagnose_from_environment(*, events_url: str) -> list[Row]:
    try:
        settings = Settings()
    except ValidationError as refused:
        # Live mode refuses to start without approvers, a Teams tenant...: the doctor reads the
        # settings anyway (its rows say what is missing, with the fix).
        try:
            # Read as the override would, then the override taken back: the Settings row must
            # list the gaps as FAIL, not hide them behind a WARN the operator never asked for.
            settings = Settings(insecure_dev=True).model_copy(update={"insecure_dev": False})
        except ValidationError:
            problems = "; ".join(_setting_problem(detail) for detail in refused.errors())
            return [Row("Settings", Status.FAIL, problems, "Fix these settings (environment or .env); README: Configuration.")]
    return await diagnose(settings, events_url=events_url)


async def diagnose(
    settings: Settings,
    *,
    events_url: str = "",
    adjust: Callable[[PartnerCenterConfig], PartnerCenterConfig] | None = None,
) -> list[Row]:
    """Every row, in order (each check runs even when an earlier one failed, unless it needs it).

    :param adjust: changes Partner Center's configuration once the settings made it (tests give the
        sandbox's app a wrong secret this way: on the sandbox the settings hold none).
    """
    rows = [_settings(settings), _bot_identity(settings), _teams_tenant(settings), _approvers(settings), await _storage(settings)]
    try:
        vault = open_key_vault(settings)
    except ValueError as error:
        rows.append(Row("Key Vault", Status.FAIL, str(error), "Fix OFFBOARD_KEY_VAULT_URL and the settings it names."))
        return rows + _skipped("the Key Vault")
    try:
        rows.append(await _key_vault(settings, vault))
        if settings.uses_sandbox and not settings.sandbox_url:
            rows.append(
                Row(
                    "Partner Center app-only",
                    Status.FAIL,
                    "no Partner Center configured: the bot would start its embedded demo sandbox",
                    "Set OFFBOARD_PARTNER_CLIENT_ID, OFFBOARD_PARTNER_TENANT and the app's credential (or OFFBOARD_KEY_VAULT_URL); "
                    "to rehearse on the sandbox, start `python -m pc_sandbox` and set OFFBOARD_SANDBOX_URL.",
                )
            )
            return rows + _skipped("Partner Center's settings")[1:]
        try:
            config = await asyncio.wait_for(partner_center_config(settings, vault=vault), _CALL_SECONDS)
        except (ValueError, KeyVaultError, TimeoutError) as error:
            rows.append(
                Row(
                    "Partner Center app-only",
                    Status.FAIL,
                    f"no app credential: {_first_line(error)}",
                    "Set OFFBOARD_PARTNER_CLIENT_SECRET (or the certificate), or store it in the Key Vault "
                    f"secret {settings.partner_secret_name!r}.",
                )
            )
            return rows + _skipped("the app credential")[1:]
        rows.extend(await _partner_center(settings, adjust(config) if adjust else config, events_url=events_url))
    finally:
        if vault is not None:
            await vault.close()
    return rows


# ---- Settings only ----


def _settings(settings: Settings) -> Row:
    name = "Settings"
    gaps = settings.live_mode_gaps()
    if gaps:
        started = " (OFFBOARD_INSECURE_DEV is on: it would start anyway, unsafe)" if settings.insecure_dev else ""
        return Row(
            name,
            Status.FAIL,
            "live mode refuses to start without: " + "; ".join(gaps) + started,
            'Set them (environment or .env); README: "Running it for real safely".',
        )
    if settings.insecure_dev:
        return Row(
            name,
            Status.WARN,
            "OFFBOARD_INSECURE_DEV is on: live mode would start with settings missing",
            "Unset OFFBOARD_INSECURE_DEV outside development.",
        )
    return Row(name, Status.OK, "the sandbox: no live-mode settings needed" if settings.uses_sandbox else "live mode: every setting set")


def _bot_identity(settings: Settings) -> Row:
    name = "Bot identity"
    app_type, app_id, tenant = settings.app_type, settings.app_id.lower(), settings.app_tenant_id.lower()
    portal = "Azure portal → the Azure Bot → Configuration"
    if not app_id:
        return Row(name, Status.FAIL, "MicrosoftAppId is not set", f"Set MicrosoftAppId to the Azure Bot's Microsoft App ID ({portal}).")
    if not _GUID.match(app_id):
        return Row(name, Status.FAIL, "MicrosoftAppId is not a GUID", f"Copy the Microsoft App ID from {portal}.")
    if app_type in ("SingleTenant", "UserAssignedMSI") and not _GUID.match(tenant):
        return Row(
            name,
            Status.FAIL,
            f"MicrosoftAppType={app_type} needs MicrosoftAppTenantId (a GUID)",
            f"Set MicrosoftAppTenantId to the tenant the bot's identity lives in ({portal}: App Tenant ID).",
        )
    if app_type in ("MultiTenant", "SingleTenant") and not settings.app_password.get_secret_value():
        return Row(
            name,
            Status.FAIL,
            f"MicrosoftAppType={app_type} needs MicrosoftAppPassword",
            "Create a client secret for the bot's app registration and set MicrosoftAppPassword, "
            "or use MicrosoftAppType=UserAssignedMSI (a managed identity, no secret).",
        )
    if app_type == "UserAssignedMSI":
        if not settings.azure_client_id:
            return Row(
                name,
                Status.FAIL,
                "MicrosoftAppType=UserAssignedMSI but AZURE_CLIENT_ID is not set",
                "Set AZURE_CLIENT_ID to the user-assigned managed identity's client id (the same as MicrosoftAppId).",
            )
        if settings.azure_client_id.lower() != app_id:
            return Row(
                name,
                Status.WARN,
                "AZURE_CLIENT_ID differs from MicrosoftAppId: Key Vault and storage are reached as another identity than the bot's",
                "Use one identity for both unless on purpose (infra/ creates one).",
            )
    if tenant and _GUID.match(settings.teams_tenant_id.lower()) and tenant != settings.teams_tenant_id.lower():
        return Row(
            name,
            Status.WARN,
            "MicrosoftAppTenantId differs from OFFBOARD_TEAMS_TENANT_ID",
            "Register the bot in the partner's own tenant, unless it is hosted elsewhere on purpose.",
        )
    return Row(name, Status.OK, f"{app_type}, app {app_id}" + (f", tenant {tenant}" if tenant else ""))


def _teams_tenant(settings: Settings) -> Row:
    if _GUID.match(settings.teams_tenant_id.lower()):
        return Row("Teams tenant", Status.OK, settings.teams_tenant_id.lower())
    found = "not set" if not settings.teams_tenant_id else "not a GUID"
    return Row(
        "Teams tenant",
        Status.FAIL,
        f"OFFBOARD_TEAMS_TENANT_ID is {found}",
        "Set OFFBOARD_TEAMS_TENANT_ID to the partner's Entra tenant id (Entra admin center → Overview → Tenant ID).",
    )


def _approvers(settings: Settings) -> Row:
    count = len(set(settings.approvers))
    four_eyes = settings.effective_four_eyes
    if count == 0:
        return Row(
            "Approvers",
            Status.FAIL,
            "OFFBOARD_APPROVERS is empty",
            "Set OFFBOARD_APPROVERS to the Entra object ids of the people who approve removals (comma-separated).",
        )
    if four_eyes and count < 2:
        return Row(
            "Approvers",
            Status.FAIL,
            "one approver, and four-eyes is on (the requester may not approve alone)",
            "Add a second approver to OFFBOARD_APPROVERS, or set OFFBOARD_FOUR_EYES=false.",
        )
    return Row("Approvers", Status.OK, f"{count} approver(s), four-eyes {'on' if four_eyes else 'off'}")


# ---- Storage and Key Vault ----


async def _storage(settings: Settings) -> Row:
    kind = settings.effective_storage
    where = {"sqlite": f"SQLite file {settings.sqlite_path}", "blob": f"blob container {settings.blob_container}"}.get(kind, kind)
    fixes = {
        "sqlite": "Make OFFBOARD_SQLITE_PATH's folder exist and writable by the bot's user (or use blob storage).",
        "blob": "Check OFFBOARD_BLOB_* and grant 'Storage Blob Data Contributor' on the storage account to the bot's identity.",
    }
    if kind == "memory":
        return Row(
            "Storage", Status.FAIL, "memory: cases and their audit trail are lost on restart", "Set OFFBOARD_STORAGE=sqlite or blob."
        )
    key = f"doctor/probe-{uuid.uuid4().hex}"
    probe = {"probe": key}
    try:
        store = open_configured_store(settings)
    except Exception as error:  # whatever the backend raises is the reason to report  # noqa: BLE001
        return Row("Storage", Status.FAIL, f"{where}: cannot open ({_first_line(error)})", fixes[kind])
    try:
        await asyncio.wait_for(store.write(key, probe), _CALL_SECONDS)
        stored = await asyncio.wait_for(store.read(key), _CALL_SECONDS)
        await asyncio.wait_for(store.delete(key), _CALL_SECONDS)
        if stored is None or stored.document != probe:
            return Row("Storage", Status.FAIL, f"{where}: the probe document did not read back as written", fixes[kind])
    except Exception as error:  # noqa: BLE001
        return Row("Storage", Status.FAIL, f"{where}: cannot write ({_first_line(error)})", fixes[kind])
    finally:
        await store.close()
    return Row("Storage", Status.OK, f"{where}: written, read back and deleted")


async def _key_vault(settings: Settings, vault: KeyVaultSecrets | None) -> Row:
    if vault is None:
        return Row(
            "Key Vault",
            Status.WARN,
            f"not configured: the token cache is the file {settings.token_cache_path}, secrets come from the environment",
            "For production set OFFBOARD_KEY_VAULT_URL (README: Going live).",
        )
    name = settings.token_secret_name
    identity = f" (AZURE_CLIENT_ID {settings.azure_client_id})" if settings.azure_client_id else ""
    try:
        stored = await asyncio.wait_for(vault.get(name), _CALL_SECONDS)
    except KeyVaultAccessDenied as denied:
        if denied.status == 403:
            return Row(
                "Key Vault",
                Status.FAIL,
                f"{settings.key_vault_url}: 403, the bot's identity may not read secrets",
                f"Grant the bot's identity{identity} the role 'Key Vault Secrets User' on the vault and "
                f"'Key Vault Secrets Officer' on the secret {name!r} (it writes back the rotated token); infra/ does both.",
            )
        # 401, or no token at all: no identity the vault knows (README: Going live).
        said = f"{denied.status}, " if denied.status else ""
        return Row(
            "Key Vault",
            Status.FAIL,
            f"{settings.key_vault_url}: {said}no credential the vault accepts: {_first_line(denied)}",
            f"Check AZURE_CLIENT_ID{identity} names the managed identity (or sign in with `az login` locally), in the vault's tenant.",
        )
    except (KeyVaultError, TimeoutError) as error:
        return Row(
            "Key Vault", Status.FAIL, f"{settings.key_vault_url}: {_first_line(error)}", "Check OFFBOARD_KEY_VAULT_URL and the network."
        )
    if stored is None:
        return Row("Key Vault", Status.WARN, f"reachable; no sign-in stored yet (secret {name!r})", _CONSENT_FIX)
    tags = stored.tags
    by = f" of {tags['consented-by']}" if tags.get("consented-by") else ""
    when = f" (consented {tags['consented-at']})" if tags.get("consented-at") else ""
    return Row("Key Vault", Status.OK, f"reachable; {name!r} holds the sign-in{by}{when}")


# ---- Partner Center and Graph ----


async def _partner_center(settings: Settings, config: PartnerCenterConfig, *, events_url: str) -> list[Row]:
    tokens = token_provider(config)
    limits = LimitsRegistry(RateSettings(requests_per_period=settings.requests_per_minute, period_seconds=60, max_concurrency=4))
    retry = RetryPolicy(attempts=2, timeout_seconds=_CALL_SECONDS, wait_initial=0.2, wait_max=1.0, wait_jitter=0.1)
    async with aiohttp.ClientSession() as session:
        client = connect(config, session=session, limits=limits.for_tenant(config.tenant), retry=retry, tokens=tokens)
        graph = connect_graph(config, session=session, limits=limits.for_tenant(config.tenant), tokens=tokens, retry=retry)
        app_only = await _app_only(client)
        app_user = await _app_user(tokens, client, settings)
        user_ok = app_user.status is not Status.FAIL
        rows = [app_only, app_user]
        rows.append(await _roles(tokens, config, session) if user_ok else _needs("Admin agent roles", "the app+user sign-in"))
        rows.append(await _graph_permissions(graph) if user_ok else _needs("Graph permissions", "the app+user sign-in"))
        rows.append(
            await _webhook(tokens, config, session, events_url)
            if app_only.status is Status.OK
            else _needs("Webhook registration", "an app-only token")
        )
    return rows


async def _app_only(client: PartnerCenterClient) -> Row:
    name = "Partner Center app-only"
    try:
        await asyncio.wait_for(client.find_customers("CompanyName", "a", limit=1, page_size=1), _CALL_SECONDS)
    except KeyVaultError as error:
        # The token cache (with the app-only token too) lives in the vault: read first.
        return Row(
            name, Status.FAIL, f"the token cache in the Key Vault cannot be read ({type(error).__name__})", "Fix the Key Vault row first."
        )
    except (PartnerCenterError, TimeoutError) as error:
        return Row(name, Status.FAIL, _said(error), _app_credential_fix(error))
    return Row(name, Status.OK, "token from the app's credential; GET /v1/customers answered")


def _app_credential_fix(error: BaseException) -> str:
    code = _aadsts(error)
    if code in (7000215, 7000222):
        return (
            "The app's client secret is wrong or expired: create a new one (Entra admin center → App registrations → "
            "the Partner Center app → Certificates & secrets) and put it in OFFBOARD_PARTNER_CLIENT_SECRET or the Key Vault."
        )
    if code in (700016, 90002) or getattr(error, "code", "") == "invalid_authority":
        return "OFFBOARD_PARTNER_CLIENT_ID or OFFBOARD_PARTNER_TENANT names no app in that tenant: copy them from the app registration."
    if code in (700027, 700024, 700021):
        return (
            "The certificate is not the one registered on the app: upload its public part to the app registration, or fix the thumbprint."
        )
    if isinstance(error, AuthError):
        return "Register the app in Partner Center (Account settings → App management) and check its credential."
    return "Partner Center or Entra ID did not answer: check the network, then run the doctor again."


async def _app_user(tokens: MsalTokenProvider, client: PartnerCenterClient, settings: Settings) -> Row:
    name = "Partner Center app+user (MFA)"
    try:
        await asyncio.wait_for(tokens.load(), _CALL_SECONDS)
    except KeyVaultError as error:
        return Row(
            name, Status.FAIL, f"the sign-in in the Key Vault cannot be read ({type(error).__name__})", "Fix the Key Vault row first."
        )
    except Exception as error:  # the store's own failure (a cache file) is the reason  # noqa: BLE001
        return Row(name, Status.FAIL, f"the stored sign-in cannot be read: {_first_line(error)}", _CONSENT_FIX)
    if not tokens.has_user_credential:
        return Row(name, Status.FAIL, "no admin agent's sign-in is stored", _CONSENT_FIX)
    try:
        await asyncio.wait_for(tokens.exercise(), _CALL_SECONDS)
    except (PartnerCenterError, TimeoutError) as error:
        attempt = attempt_from_error(error, datetime.now(UTC))
        health = assess(has_user_credential=True, last_redeemed_at=None, now=attempt.at, latest=attempt)
        if health.reason is Reason.APP_CREDENTIAL:
            return Row(name, Status.FAIL, _said(error), _app_credential_fix(error))
        why = {
            Reason.EXPIRED: "the refresh token lapsed (90 days unused)",
            Reason.REVOKED: "the sign-in was revoked",
            Reason.MFA: "Entra ID asks for MFA again",
            Reason.CONSENT: "Entra ID refused the refresh token",
            Reason.UNREACHABLE: "Entra ID did not answer",
        }.get(health.reason, "refused")
        return Row(name, Status.FAIL, f"{why}: {_said(error)}", health.fix or _CONSENT_FIX)
    # The rotated token was not stored (partner_center/auth.py keeps why).
    persist_error = tokens.persist_error
    if persist_error:
        return Row(
            name,
            Status.FAIL,
            f"the rotated sign-in cannot be written back to Key Vault: {_first_line(persist_error)}",
            f"Grant Key Vault Secrets Officer to the bot's identity on the secret {settings.token_secret_name!r} "
            "(infra/: tokenSecretExists=true), then this doctor again.",
        )
    try:
        await asyncio.wait_for(client.get_relationship_request_url(), _CALL_SECONDS)
    except MfaRequiredError as error:
        return Row(
            name,
            Status.FAIL,
            f"Partner Center refuses the sign-in: it had no MFA (900421): {_said(error)}",
            f"An admin agent runs `{CONSENT_COMMAND}` again, signing in WITH multi-factor authentication.",
        )
    except (PartnerCenterError, TimeoutError) as error:
        return Row(name, Status.FAIL, _said(error), _CONSENT_FIX)
    tags = tokens.stored_tags
    who = f" of {tags['consented-by']}" if tags.get("consented-by") else ""
    if tags.get("mfa") not in (None, "true"):
        return Row(name, Status.WARN, f"the sign-in{who} works but is not recorded as MFA", _CONSENT_FIX)
    return Row(name, Status.OK, f"refresh token redeemed now (renewed for 90 days); the sign-in{who} passes Partner Center's MFA check")


async def _roles(tokens: MsalTokenProvider, config: PartnerCenterConfig, session: aiohttp.ClientSession) -> Row:
    """The admin agent's groups. Partner Center's Admin agent role is membership of the partner
    tenant's ``AdminAgents`` group (https://learn.microsoft.com/partner-center/account-settings/permissions-overview;
    the group's name: assumption from the Secure Application Model samples)."""
    name = "Admin agent roles"
    fix = "Check in Partner Center → Account settings → User management that the consenting account has the Admin agent role."
    url = f"{config.graph_base_url.rstrip('/')}/me/memberOf?$select=displayName"
    try:
        status, body = await _get_json(session, url, await asyncio.wait_for(tokens.graph_token(), _CALL_SECONDS))
    except (PartnerCenterError, aiohttp.ClientError, TimeoutError, ValueError) as error:
        return Row(name, Status.WARN, f"could not be read: {_first_line(error)}", fix)
    if status != 200 or not isinstance(body, dict):
        return Row(name, Status.WARN, f"could not be read: Graph's me/memberOf answered {status}", fix)
    groups = sorted(str(item.get("displayName", "")) for item in body.get("value", []) if isinstance(item, dict))
    if "AdminAgents" in groups:
        return Row(name, Status.OK, "Admin agent (AdminAgents group)")
    return Row(name, Status.FAIL, f"the account is not an Admin agent (groups: {', '.join(groups) or 'none'})", fix)


async def _get_json(session: aiohttp.ClientSession, url: str, token: str) -> tuple[int, Any]:
    """One bearer GET the doctor reads itself: its status, and its JSON body when it is a 200."""
    async with session.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=aiohttp.ClientTimeout(total=_CALL_SECONDS)) as answer:
        return answer.status, (await answer.json(content_type=None) if answer.status == 200 else None)


async def _graph_permissions(graph: GraphClient) -> Row:
    name = "Graph permissions"
    try:
        # Any tenant id: one page of the partner's own GDAP relationships is what is checked.
        await asyncio.wait_for(graph.relationships_with("00000000-0000-0000-0000-000000000000"), _CALL_SECONDS)
    except GraphPermissionError as error:
        needs = error.needs or "DelegatedAdminRelationship.ReadWrite.All"
        return Row(
            name,
            Status.FAIL,
            f"Graph refused to list GDAP relationships (403): needs {needs}",
            f"Grant the Partner Center app the delegated Microsoft Graph permission {needs.split(' and ')[0]} "
            "(Entra admin center → App registrations → API permissions → Grant admin consent), then "
            f"`{CONSENT_COMMAND}` again.",
        )
    except (PartnerCenterError, TimeoutError) as error:
        return Row(name, Status.FAIL, _said(error), "Microsoft Graph did not answer: check the network, then run the doctor again.")
    return Row(name, Status.OK, "GDAP relationships readable (the access teardown's first step)")


async def _webhook(tokens: MsalTokenProvider, config: PartnerCenterConfig, session: aiohttp.ClientSession, events_url: str) -> Row:
    name = "Webhook registration"
    url = f"{config.base_url.rstrip('/')}/webhooks/v1/registration"
    register = (
        f"Register it: POST {url} (PUT when one exists) with WebhookUrl = the bot's https://<host>{EVENTS_PATH} and WebhookEvents "
        f"{', '.join(_EVENTS)} (https://learn.microsoft.com/rest/api/partner-center/webhook/create-registration-partner)."
    )
    try:
        status, body = await _get_json(session, url, await asyncio.wait_for(tokens.access_token(needs_user=False), _CALL_SECONDS))
    except (PartnerCenterError, aiohttp.ClientError, TimeoutError, ValueError) as error:
        return Row(name, Status.WARN, f"could not be read: {_first_line(error)}", register)
    if status != 200 or not isinstance(body, dict):
        return Row(name, Status.WARN, f"no registration read (GET webhooks/v1/registration answered {status})", register)
    # Microsoft's pages disagree on the casing: the webhooks guide
    # (https://learn.microsoft.com/partner-center/developer/partner-center-webhooks) shows
    # PascalCase ``WebhookUrl``/``WebhookEvents``, the REST reference camelCase: read both.
    registered = str(body.get("WebhookUrl") or body.get("webhookUrl") or "")
    if events_url and registered.rstrip("/") != events_url.rstrip("/"):
        return Row(name, Status.FAIL, f"Partner Center calls {registered or 'nothing'}, not {events_url}", register)
    if not registered.startswith("https://") or not registered.rstrip("/").endswith(EVENTS_PATH):
        return Row(name, Status.FAIL, f"Partner Center calls {registered or 'nothing'}: not the bot's events endpoint", register)
    subscribed = body.get("WebhookEvents") or body.get("webhookEvents") or []
    missing = [event for event in _EVENTS if event not in subscribed]
    if missing:
        return Row(name, Status.WARN, f"{registered}; events not subscribed: {', '.join(missing)}", register)
    return Row(name, Status.OK, registered)


# ---- The table ----


def render(rows: Sequence[Row], *, colour: bool = False) -> str:
    """The table: one line per check (check, status, detail), its fix on the line below."""
    width = max(len("CHECK"), *(len(row.check) for row in rows))
    paint: Callable[[Status], str] = (
        (lambda status: f"{_COLOURS[status]}{status.value:<6}\033[0m") if colour else (lambda status: f"{status.value:<6}")
    )
    lines = [f"{'CHECK':<{width}}  {'STATUS':<6}  DETAIL"]
    for row in rows:
        lines.append(f"{row.check:<{width}}  {paint(row.status)}  {row.detail}")
        if row.fix and row.status is not Status.OK:
            lines.append(f"{'':<{width}}  {'':<6}  Fix: {row.fix}")
    failed = sum(row.status is Status.FAIL for row in rows)
    warned = sum(row.status is Status.WARN for row in rows)
    lines.append("")
    lines.append(f"{failed} failed, {warned} warning(s), {len(rows) - failed - warned} OK")
    return "\n".join(lines) + "\n"


_COLOURS = {Status.OK: "\033[32m", Status.WARN: "\033[33m", Status.FAIL: "\033[31m"}


def _skipped(because: str) -> list[Row]:
    names = ("Partner Center app-only", "Partner Center app+user (MFA)", "Admin agent roles", "Graph permissions", "Webhook registration")
    return [_needs(name, because) for name in names]


def _needs(name: str, what: str) -> Row:
    return Row(name, Status.WARN, f"not checked: needs {what}", f"Fix the row about {what} first.")


def _said(error: BaseException) -> str:
    """The service's own words, first line only (an AADSTS message carries a trace id after it)."""
    text = getattr(error, "description", None) or str(error) or type(error).__name__
    return _first_line(text)[:300]


def _first_line(error: object) -> str:
    text = str(error) or type(error).__name__
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def _aadsts(error: BaseException) -> int:
    found = _AADSTS.search(str(getattr(error, "description", "") or error))
    return int(found.group(1)) if found else 0


def _setting_problem(detail: Any) -> str:
    where = ".".join(str(part) for part in detail.get("loc", ()) if part != "__root__")
    message = str(detail.get("msg", "")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
