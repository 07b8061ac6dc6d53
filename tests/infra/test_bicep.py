"""infra/: the production stack, read from the Bicep files (no Bicep compiler can be installed
from the registries this CI reaches: PyPI's "bicep" is an unrelated package and the Bicep CLI
ships on NuGet). What a compiler would add (types, API schemas, expression evaluation) is NOT
checked here; what a reviewer checks first is: each resource there with its safe settings, the
identity wiring, no keys and no secrets in outputs, and the outputs the README promises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.infra.bicep import BicepFile, Expr, Resource, read_bicep

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"

# Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"

# What env/.env.<env> and the "Going live" steps rely on (README draft, m365agents.yml).
PROMISED_OUTPUTS = {
    "BOT_ID",
    "BOT_DOMAIN",
    "BOT_ENDPOINT",
    "BOT_TENANT_ID",
    "AZURE_CLIENT_ID",
    "KEY_VAULT_NAME",
    "KEY_VAULT_URL",
    "STORAGE_ACCOUNT_NAME",
    "BLOB_ACCOUNT_URL",
    "BLOB_CONTAINER",
    "BLOB_AUDIT_CONTAINER",
    "AZURE_CONTAINER_REGISTRY_NAME",
    "AZURE_CONTAINER_REGISTRY_ENDPOINT",
    "CONTAINER_APP_NAME",
    "CONTAINER_APP_RESOURCE_ID",
}


@pytest.fixture(scope="module")
def main() -> BicepFile:
    return read_bicep(INFRA / "main.bicep")


@pytest.fixture(scope="module")
def bot_module() -> BicepFile:
    return read_bicep(INFRA / "modules" / "azurebot.bicep")


def _bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


def _env(app: Resource) -> dict[str, object]:
    (container,) = app.properties["template"]["containers"]
    return {entry["name"]: entry["value"] for entry in container["env"]}


def _role_assignments(main: BicepFile, role: str) -> list[Resource]:
    role_variable = next(name for name, value in main.variables.items() if value == f"'{role}'")
    return [
        assignment
        for assignment in main.of_type("Microsoft.Authorization/roleAssignments")
        if re.search(rf"\b{role_variable}\b", str(assignment.properties["roleDefinitionId"]))
    ]


# ---- The resources and their safe settings ----


def test_the_stack_holds_every_resource_the_issue_asks_for(main: BicepFile, bot_module: BicepFile) -> None:
    for type_ in (
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.App/managedEnvironments",
        "Microsoft.App/containerApps",
        "Microsoft.KeyVault/vaults",
        "Microsoft.Storage/storageAccounts",
        "Microsoft.OperationalInsights/workspaces",
        "Microsoft.Insights/components",
        "Microsoft.ContainerRegistry/registries",
    ):
        main.one(type_)
    main.one("modules/azurebot.bicep")
    bot_module.one("Microsoft.BotService/botServices")
    bot_module.one("Microsoft.BotService/botServices/channels")


def test_the_container_app_keeps_two_replicas_behind_https_with_health_probes(main: BicepFile) -> None:
    app = main.one("Microsoft.App/containerApps")
    scale = app.properties["template"]["scale"]
    assert str(scale["minReplicas"]) == "minReplicas"
    assert "@minValue(2)" in main.params["minReplicas"].decorators and main.params["minReplicas"].default == "2"
    ingress = app.properties["configuration"]["ingress"]
    assert ingress["external"] is True and ingress["allowInsecure"] is False
    (container,) = app.properties["template"]["containers"]
    probes = {probe["type"]: probe for probe in container["probes"]}
    assert probes["Readiness"]["httpGet"]["path"] == "/healthz"
    assert probes["Startup"]["httpGet"]["path"] == "/healthz"
    # Liveness restarts a hung process only, not every replica when a dependency is down.
    assert str(probes["Liveness"]["tcpSocket"]["port"]) == str(ingress["targetPort"])
    assert str(ingress["targetPort"]) == "listenPort" and main.variables["listenPort"] == "3978"


# ContainerAppProbe's limits, as the API states them (https://learn.microsoft.com/javascript/api/@azure/arm-appcontainers/containerappprobe,
# the same in the .NET and PowerShell references): a value outside them fails the deployment.
PROBE_LIMITS = {
    "failureThreshold": (1, 10),
    "periodSeconds": (1, 240),
    "timeoutSeconds": (1, 240),
    "initialDelaySeconds": (1, 60),
    "successThreshold": (1, 10),
}
# /healthz runs its checks side by side, 10 s each at most (app.py); the first answer may take that long.
HEALTHZ_SLOWEST_SECONDS = 10


def test_every_probe_value_is_within_the_container_apps_limits(main: BicepFile) -> None:
    (container,) = main.one("Microsoft.App/containerApps").properties["template"]["containers"]
    for probe in container["probes"]:
        for name, value in probe.items():
            if name in PROBE_LIMITS:
                low, high = PROBE_LIMITS[name]
                assert isinstance(value, int) and low <= value <= high, (probe["type"], name, value)
        # Startup and liveness take successThreshold 1 only (the same reference).
        if probe["type"] in ("Startup", "Liveness"):
            assert probe.get("successThreshold", 1) == 1
        # The default timeout is 1 s: every probe says its own, and an HTTP one outwaits /healthz.
        assert "timeoutSeconds" in probe, probe["type"]
        if "httpGet" in probe:
            assert HEALTHZ_SLOWEST_SECONDS < probe["timeoutSeconds"] <= probe["periodSeconds"], probe
    startup = next(probe for probe in container["probes"] if probe["type"] == "Startup")
    # A cold start (Key Vault, the first token redemption) gets two minutes before a restart.
    assert startup.get("initialDelaySeconds", 0) + startup["periodSeconds"] * startup["failureThreshold"] >= 120


def test_the_container_listens_on_every_interface_on_the_ingress_port(main: BicepFile) -> None:
    env = _env(main.one("Microsoft.App/containerApps"))
    assert env["OFFBOARD_HOST"] == "0.0.0.0"
    assert str(env["OFFBOARD_PORT"]) == "string(listenPort)"


def test_key_vault_is_rbac_only_with_soft_delete_and_purge_protection(main: BicepFile) -> None:
    vault = main.one("Microsoft.KeyVault/vaults").properties
    assert vault["enableRbacAuthorization"] is True
    assert vault["enableSoftDelete"] is True
    assert vault["enablePurgeProtection"] is True
    assert "accessPolicies" not in vault


def test_storage_refuses_keys_old_tls_and_public_blobs(main: BicepFile) -> None:
    account = main.one("Microsoft.Storage/storageAccounts").properties
    assert account["allowSharedKeyAccess"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False
    assert account["supportsHttpsTrafficOnly"] is True


def test_cases_and_audit_have_containers_and_the_audit_one_a_retention_policy(main: BicepFile) -> None:
    containers = {
        main.variables[str(resource.body["name"])].strip("'"): resource
        for resource in main.of_type("Microsoft.Storage/storageAccounts/blobServices/containers")
    }
    assert set(containers) == {"cases", "audit"}
    assert all(container.properties["publicAccess"] == "None" for container in containers.values())
    # Version-level immutability: the audit store rewrites its counters/ hints (README "Audit trail").
    assert containers["audit"].properties["immutableStorageWithVersioning"]["enabled"] is True
    assert main.one("Microsoft.Storage/storageAccounts/blobServices").properties["isVersioningEnabled"] is True
    policy = main.one("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies")
    assert str(policy.body["parent"]) == containers["audit"].name
    assert str(policy.properties["immutabilityPeriodSinceCreationInDays"]) == "auditRetentionDays"
    assert int(main.params["auditRetentionDays"].default or 0) >= 365


def test_the_bot_is_an_azure_bot_of_the_managed_identity_with_the_teams_channel(main: BicepFile, bot_module: BicepFile) -> None:
    bot = bot_module.one("Microsoft.BotService/botServices")
    assert bot.body["kind"] == "azurebot" and bot.body["location"] == "global"
    assert bot.properties["msaAppType"] == "UserAssignedMSI"
    assert str(bot.properties["endpoint"]) == "'https://${botAppDomain}/api/messages'"
    channel = bot_module.one("Microsoft.BotService/botServices/channels")
    assert channel.body["name"] == "MsTeamsChannel" and channel.properties["properties"]["isEnabled"] is True
    # Wired to the identity and to the container app's address.
    params = main.one("modules/azurebot.bicep").body["params"]
    assert str(params["identityClientId"]) == "identity.properties.clientId"
    assert str(params["identityResourceId"]) == "identity.id"
    assert str(params["botAppDomain"]) == "botDomain"
    assert main.variables["botDomain"] == "'${containerAppName}.${appEnvironment.properties.defaultDomain}'"
    for name, source in (
        ("msaAppId", "identityClientId"),
        ("msaAppMSIResourceId", "identityResourceId"),
        ("msaAppTenantId", "identityTenantId"),
    ):
        assert str(bot.properties[name]) == source


# ---- Identity wiring ----


def test_the_container_app_runs_as_the_managed_identity_and_the_bot_knows_it(main: BicepFile) -> None:
    app = main.one("Microsoft.App/containerApps")
    assert app.body["identity"]["type"] == "UserAssigned"
    assert list(app.body["identity"]["userAssignedIdentities"]) == ["${identity.id}"]
    (registry,) = app.properties["configuration"]["registries"]
    assert str(registry["identity"]) == "identity.id"
    env = _env(app)
    assert env["MicrosoftAppType"] == "UserAssignedMSI"
    assert str(env["MicrosoftAppId"]) == str(env["AZURE_CLIENT_ID"]) == "identity.properties.clientId"
    assert str(env["MicrosoftAppTenantId"]) == "tenantId"
    assert str(env["OFFBOARD_KEY_VAULT_URL"]) == "keyVault.properties.vaultUri"
    assert env["OFFBOARD_STORAGE"] == "blob"
    assert str(env["OFFBOARD_BLOB_ACCOUNT_URL"]) == "storage.properties.primaryEndpoints.blob"
    assert (env["OFFBOARD_BLOB_CONTAINER"], env["OFFBOARD_BLOB_AUDIT_CONTAINER"]) == (
        Expr("casesContainerName"),
        Expr("auditContainerName"),
    )
    assert (
        "MicrosoftAppPassword" not in env and "OFFBOARD_BLOB_CONNECTION_STRING" not in env and "OFFBOARD_PARTNER_CLIENT_SECRET" not in env
    )


def test_the_identity_may_write_secrets_and_blobs_and_pull_the_image(main: BicepFile) -> None:
    # Reads every secret, writes only the token cache: never the Partner Center app's own credential.
    readers = _role_assignments(main, KEY_VAULT_SECRETS_USER)
    assert [(str(role.body["scope"]), str(role.properties["principalId"])) for role in readers] == [
        ("keyVault", "identity.properties.principalId")
    ]
    vault_roles = _role_assignments(main, KEY_VAULT_SECRETS_OFFICER)
    to_identity = [role for role in vault_roles if str(role.properties["principalId"]) == "identity.properties.principalId"]
    assert [str(role.body["scope"]) for role in to_identity] == ["tokenSecret"]
    # Scoped to a secret that exists once the consent created it: the second pass says so.
    assert to_identity[0].condition == "tokenSecretExists" and main.params["tokenSecretExists"].default == "false"
    secret = main.named("tokenSecret")
    assert secret.type == "Microsoft.KeyVault/vaults/secrets" and str(secret.body["parent"]) == "keyVault"
    assert "properties" not in secret.body  # declared as existing, never with a value
    assert re.search(r"resource\s+tokenSecret\s+'[^']+'\s+existing\s*=", main.text)
    assert str(secret.body["name"]) == "tokenSecretName" and main.variables["tokenSecretName"] == "'partner-center-token-cache'"
    assert Settings.model_fields["token_secret_name"].default == "partner-center-token-cache"
    blob_roles = _role_assignments(main, STORAGE_BLOB_DATA_CONTRIBUTOR)
    assert {str(role.body["scope"]) for role in blob_roles} == {"casesContainer", "auditContainer"}
    assert all(str(role.properties["principalId"]) == "identity.properties.principalId" for role in blob_roles)
    (pull,) = _role_assignments(main, ACR_PULL)
    assert str(pull.body["scope"]) == "registry" and str(pull.properties["principalId"]) == "identity.properties.principalId"
    for role in main.of_type("Microsoft.Authorization/roleAssignments"):
        assert "subscriptionResourceId('Microsoft.Authorization/roleDefinitions'" in str(role.properties["roleDefinitionId"])


def test_role_ids_are_builtin_guids_with_their_source_cited() -> None:
    source = (INFRA / "main.bicep").read_text(encoding="utf-8")
    assert "learn.microsoft.com/azure/role-based-access-control/built-in-roles" in source
    for guid in (KEY_VAULT_SECRETS_OFFICER, KEY_VAULT_SECRETS_USER, STORAGE_BLOB_DATA_CONTRIBUTOR, ACR_PULL):
        assert f"'{guid}'" in source


# ---- No keys, no secrets out ----


@pytest.mark.parametrize("path", _bicep_files(), ids=lambda path: path.name)
def test_no_key_is_read_or_passed(path: Path) -> None:
    text = read_bicep(path).text
    for forbidden in (
        "listKeys(",
        "listkeys(",
        "AccountKey",
        "primarySharedKey",
        "listCredentials(",
        "connectionString",
        "ConnectionString",
    ):
        assert forbidden not in text, f"{path.name} uses {forbidden}"


@pytest.mark.parametrize("path", _bicep_files(), ids=lambda path: path.name)
def test_no_output_carries_a_secret(path: Path) -> None:
    parsed = read_bicep(path)
    secure = {name for name, param in parsed.params.items() if "@secure()" in param.decorators}
    for output in parsed.outputs.values():
        assert "@secure()" not in output.decorators
        assert not re.search(r"(?i)secret|password|connection_?string|token|_key$|account_?key|instrumentation_?key", output.name), (
            output.name
        )
        assert not re.search(r"(?i)list\w*\(|secret|password|instrumentationkey|connectionstring", output.value), output.value
        assert not any(re.search(rf"\b{name}\b", output.value) for name in secure)


def test_the_registry_has_no_admin_user(main: BicepFile) -> None:
    registry = main.one("Microsoft.ContainerRegistry/registries").properties
    assert registry["adminUserEnabled"] is False and registry["anonymousPullEnabled"] is False


def test_the_outputs_the_readme_promises_are_there(main: BicepFile) -> None:
    assert PROMISED_OUTPUTS <= set(main.outputs)
    assert main.outputs["BOT_ID"].value == "identity.properties.clientId"
    assert main.outputs["KEY_VAULT_URL"].value == "keyVault.properties.vaultUri"


# ---- Parameters and the Agents Toolkit files ----


def test_the_parameters_file_names_only_parameters_main_declares(main: BicepFile) -> None:
    parameters = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    assert set(parameters) <= set(main.params)
    required = {name for name, param in main.params.items() if param.default is None}
    assert required <= set(parameters), required - set(parameters)


def test_every_placeholder_has_a_line_in_the_dev_env_file() -> None:
    env_names = {
        line.split("=", 1)[0]
        for line in (ROOT / "env" / ".env.dev").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    }
    used: set[str] = set()
    for path in (INFRA / "main.parameters.json", ROOT / "m365agents.yml", ROOT / "appPackage" / "manifest.json"):
        used |= set(re.findall(r"\$\{\{([A-Z_]+)\}\}", path.read_text(encoding="utf-8")))
    assert used - {"TEAMSFX_ENV"} <= env_names, used - env_names


def test_the_dev_env_file_holds_no_secret() -> None:
    for line in (ROOT / "env" / ".env.dev").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            name, value = line.split("=", 1)
            assert not re.search(r"(?i)secret|password|token|key$", name) or not value, name
            assert not re.search(r"(?i)AccountKey=|SharedAccessSignature|sig=", value)


def test_the_toolkit_file_provisions_in_the_toolkit_order() -> None:
    text = (ROOT / "m365agents.yml").read_text(encoding="utf-8")
    provision = text.split("\nprovision:", 1)[1].split("\ndeploy:", 1)[0]
    actions = re.findall(r"- uses: (\S+)", provision)
    assert actions == [
        "teamsApp/create",
        "arm/deploy",
        "teamsApp/validateManifest",
        "teamsApp/zipAppPackage",
        "teamsApp/validateAppPackage",
        "teamsApp/update",
    ]
    assert "path: ./infra/main.bicep" in provision and "parameters: ./infra/main.parameters.json" in provision
    assert "environmentFolderPath: ./env" in text


@pytest.mark.parametrize("path", _bicep_files(), ids=lambda path: path.name)
def test_the_reader_reads_every_declaration(path: Path) -> None:
    """The checks above see every resource and output: none is skipped by the reader."""
    parsed = read_bicep(path)
    assert len(parsed.resources) == len(re.findall(r"^\s*(?:resource|module)\s", parsed.text, re.M))
    assert len(parsed.outputs) == len(re.findall(r"^output\s", parsed.text, re.M))
    assert len(parsed.params) == len(re.findall(r"^param\s", parsed.text, re.M))
