// Offboard's production stack in one resource group (README: "Going live").
//
//   user-assigned managed identity ── the bot's identity (Azure Bot, UserAssignedMSI), and the
//   │                                 identity the container uses for Key Vault, Blob storage and
//   │                                 the registry (DefaultAzureCredential with AZURE_CLIENT_ID)
//   ├─ Container Apps environment + container app (min 2 replicas, HTTPS ingress, probes)
//   ├─ Azure Bot (kind azurebot, UserAssignedMSI) + Microsoft Teams channel   (modules/azurebot.bicep)
//   ├─ Key Vault (RBAC, soft delete, purge protection): the Partner Center credential and the
//   │   rotating app+user token cache; the identity writes each rotated token back
//   ├─ Storage account (no shared keys, TLS 1.2, no public blobs): containers "cases" and
//   │   "audit" (version-level immutability with a default time-based retention)
//   ├─ Container registry (no admin user): the image, pulled with the identity
//   └─ Log Analytics + Application Insights (no shared keys either: diagnostic settings)
//
// No account key, connection string or secret is read, passed or output anywhere in this file
// (tests/infra/test_bicep.py checks it). The Agents Toolkit conventions are followed where they
// fit (resourceBaseName, outputs named as its templates name them, persisted to env/.env.<env>).
//
// Two passes, because the image lives in the registry this template creates: with
// containerImage empty everything but the container app is created (the bot's endpoint already
// points at the app's future address, known from the environment's default domain); once the
// image is pushed (az acr build), the same deployment with containerImage set creates or
// updates the app (a new revision).

targetScope = 'resourceGroup'

@description('Prefix of every resource name (letters and digits, 3-16).')
@minLength(3)
@maxLength(16)
param resourceBaseName string

param location string = resourceGroup().location

@description('The image to run, e.g. <registry>.azurecr.io/offboard:<tag>. Empty: first pass, no container app yet.')
param containerImage string = ''

@description('Partner Center app registration (Secure Application Model web app): its tenant (GUID or domain).')
param partnerTenant string

@description('Partner Center app registration: its application (client) id.')
param partnerClientId string

@description('Entra object ids of the approvers, comma-separated (at least two under four-eyes).')
param approvers string

@description('Entra object ids of who may request removals, comma-separated (empty: approvers only).')
param requesters string = ''

@description('The partner\'s own domains, comma-separated (its guests and contact addresses in customers\' tenants).')
param partnerDomains string = ''

@description('Customer tenant ids never to plan or remove, comma-separated.')
param protectedCustomers string = ''

@description('The Entra tenant the bot, Teams and the identity live in.')
param tenantId string = tenant().tenantId

@description('Audit records cannot be deleted or overwritten for this many days (2555: 7 years).')
@minValue(1)
param auditRetentionDays int = 2555

@description('Redundancy of the storage account (ZRS where the region offers it).')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSku string = 'Standard_ZRS'

@description('Replicas kept running: at least two (webhooks and proactive messages need a warm instance; one may be replaced at any time).')
@minValue(2)
param minReplicas int = 2

@minValue(2)
param maxReplicas int = 3

@allowed([
  'F0'
  'S1'
])
param botSku string = 'S1'

@description('Optional: object id of the admin agent who runs "python -m golive consent" (gets Key Vault Secrets Officer to write the token). Empty: assign it by hand.')
param consentOperatorPrincipalId string = ''

@description('The token-cache secret exists (the consent operator created it with "python -m golive consent"): true on the pass after the consent, which gives the bot\'s identity Key Vault Secrets Officer on that one secret. False: the identity can read secrets but not write the rotated token back yet.')
param tokenSecretExists bool = false

param tags object = {}

// ---- Names (global ones made unique per resource group, as the toolkit's templates do) ----
var suffix = uniqueString(resourceGroup().id, resourceBaseName)
var identityName = '${resourceBaseName}-id'
var containerAppName = take(toLower('${resourceBaseName}-app'), 32)
var environmentName = '${resourceBaseName}-env'
var botServiceName = '${resourceBaseName}-bot-${suffix}'
var keyVaultName = take('kv${toLower(resourceBaseName)}${suffix}', 24)
var storageAccountName = take('st${toLower(resourceBaseName)}${suffix}', 24)
var registryName = take('cr${toLower(resourceBaseName)}${suffix}', 50)
var workspaceName = '${resourceBaseName}-logs'
var appInsightsName = '${resourceBaseName}-appi'
var casesContainerName = 'cases'
var auditContainerName = 'audit'
var listenPort = 3978
var deployApp = !empty(containerImage)
// The secret the consent command writes and the bot rewrites on every rotation (bot/settings.py's
// OFFBOARD_TOKEN_SECRET_NAME default). Never declared here with a value: only its role is.
var tokenSecretName = 'partner-center-token-cache'

// ---- Built-in role definition ids: the same GUID in every tenant. Source:
// https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
// (…/built-in-roles/security#key-vault-secrets-officer, …/security#key-vault-secrets-user,
// …/storage#storage-blob-data-contributor, …/containers#acrpull, …/monitor#monitoring-metrics-publisher).
var roleKeyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
var roleKeyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var roleStorageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var roleAcrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'
var roleMonitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

// ---- Identity ----
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
  tags: tags
}

// ---- Monitoring ----
resource workspace 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Telemetry only with an Entra token (the identity's Monitoring Metrics Publisher role below),
    // so the connection string alone cannot be used to write into it.
    DisableLocalAuth: true
  }
}

// ---- Key Vault: secrets through RBAC only ----
resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Access through Azure RBAC only: no access policies (a vault with policies gives anyone
    // who can edit the vault its secrets).
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // The token cache is the partner's admin power over every customer: a deleted vault or
    // secret stays recoverable, and nobody can purge it early.
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

// The identity reads every secret it needs (the Partner Center client secret or certificate, the
// token cache) but writes only one: Secrets User on the vault, Secrets Officer on the token-cache
// secret alone, so that the bot cannot overwrite the app's own credential. Key Vault RBAC roles
// can be scoped to a single secret
// (https://learn.microsoft.com/azure/key-vault/general/rbac-guide#secret-scope-role-assignment).
resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, identity.id, roleKeyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleKeyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// A role is scoped to a secret only once the secret exists: the consent operator creates it
// (python -m golive consent), then this template runs again with tokenSecretExists=true. Until
// then the bot reads the sign-in but cannot write a rotated token back (/healthz and Teams say so).
resource tokenSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: keyVault
  name: tokenSecretName
}

resource tokenSecretOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (tokenSecretExists) {
  name: guid(keyVault.id, tokenSecretName, identity.id, roleKeyVaultSecretsOfficer)
  scope: tokenSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleKeyVaultSecretsOfficer)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource consentOperatorSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(consentOperatorPrincipalId)) {
  name: guid(keyVault.id, consentOperatorPrincipalId, roleKeyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleKeyVaultSecretsOfficer)
    principalId: consentOperatorPrincipalId
    principalType: 'User'
  }
}

// ---- Storage: cases and the audit trail, through RBAC only ----
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: storageSku
  }
  properties: {
    // No account keys and no SAS signed with them: Entra (the managed identity) only.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    accessTier: 'Hot'
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    // Version-level immutability (the audit container) needs versioning on the account.
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: 30
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 30
    }
  }
}

resource casesContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: casesContainerName
  properties: {
    publicAccess: 'None'
  }
}

// README "Audit trail": records are created once and never rewritten; the counters/ and
// auditindex/ hints are rewritten, which version-level immutability allows (the older version
// is kept), while a container-level (legal-hold style) policy would refuse them.
resource auditContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: auditContainerName
  properties: {
    publicAccess: 'None'
    immutableStorageWithVersioning: {
      enabled: true
    }
  }
}

// Time-based retention, left unlocked: lock it (README "Going live") once a test removal went
// through; a locked policy can only be extended. Locking is an action, not a property, so it
// stays a deliberate step.
resource auditRetention 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  parent: auditContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: auditRetentionDays
    allowProtectedAppendWrites: false
  }
}

// Versioning keeps every rewrite of a case document: older versions in the cases container go
// after 30 days (the audit container is governed by its retention policy instead).
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'cases-old-versions'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${casesContainerName}/'
              ]
            }
            actions: {
              version: {
                delete: {
                  daysAfterCreationGreaterThan: 30
                }
              }
            }
          }
        }
      ]
    }
  }
}

// Scoped to the two containers, not the account (README "Audit trail").
resource casesBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(casesContainer.id, identity.id, roleStorageBlobDataContributor)
  scope: casesContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleStorageBlobDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource auditBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(auditContainer.id, identity.id, roleStorageBlobDataContributor)
  scope: auditContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleStorageBlobDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roleMonitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleMonitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Container registry: pulled with the identity, no admin user ----
resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: registryName
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

resource registryPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identity.id, roleAcrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleAcrPull)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Container Apps ----
resource appEnvironment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    // Logs through a diagnostic setting (below) rather than the workspace's shared key.
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    zoneRedundant: false
  }
}

resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: appEnvironment
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

// The app's address is known before the app exists: <name>.<environment default domain>.
var botDomain = '${containerAppName}.${appEnvironment.properties.defaultDomain}'

resource containerApp 'Microsoft.App/containerApps@2024-03-01' = if (deployApp) {
  name: containerAppName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    managedEnvironmentId: appEnvironment.id
    workloadProfileName: 'Consumption'
    configuration: {
      // One active revision: a deployment replaces the previous one once the new one is ready;
      // rolling back is deploying the previous image tag again (README "Going live").
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: listenPort
        transport: 'http'
        // HTTPS only: plain http is refused, not redirected.
        allowInsecure: false
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
      registries: [
        {
          server: registry.properties.loginServer
          identity: identity.id
        }
      ]
      // No secrets here: the app reads Key Vault itself (it also writes the rotated token back).
    }
    template: {
      containers: [
        {
          name: 'offboard'
          image: containerImage
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: [
            { name: 'OFFBOARD_HOST', value: '0.0.0.0' }
            { name: 'OFFBOARD_PORT', value: string(listenPort) }
            // The bot's identity is the managed identity: no app password exists.
            { name: 'MicrosoftAppType', value: 'UserAssignedMSI' }
            { name: 'MicrosoftAppId', value: identity.properties.clientId }
            { name: 'MicrosoftAppTenantId', value: tenantId }
            // azure-identity's own variable: which identity DefaultAzureCredential uses.
            { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
            { name: 'OFFBOARD_KEY_VAULT_URL', value: keyVault.properties.vaultUri }
            { name: 'OFFBOARD_STORAGE', value: 'blob' }
            { name: 'OFFBOARD_BLOB_ACCOUNT_URL', value: storage.properties.primaryEndpoints.blob }
            { name: 'OFFBOARD_BLOB_CONTAINER', value: casesContainerName }
            { name: 'OFFBOARD_BLOB_AUDIT_CONTAINER', value: auditContainerName }
            { name: 'OFFBOARD_PARTNER_TENANT', value: partnerTenant }
            { name: 'OFFBOARD_PARTNER_CLIENT_ID', value: partnerClientId }
            { name: 'OFFBOARD_TEAMS_TENANT_ID', value: tenantId }
            { name: 'OFFBOARD_APPROVERS', value: approvers }
            { name: 'OFFBOARD_REQUESTERS', value: requesters }
            { name: 'OFFBOARD_PARTNER_DOMAINS', value: partnerDomains }
            { name: 'OFFBOARD_PROTECTED_CUSTOMERS', value: protectedCustomers }
          ]
          // Limits (ContainerAppProbe, https://learn.microsoft.com/javascript/api/@azure/arm-appcontainers/containerappprobe):
          // failureThreshold 1-10, periodSeconds 1-240, timeoutSeconds 1-240 (default 1),
          // initialDelaySeconds 1-60; tests/infra checks every probe against them. /healthz runs
          // its checks side by side, each given 10 s at most, so 12 s covers its slowest answer.
          probes: [
            {
              // Until the store and the Partner Center client are open (/healthz "starting"):
              // 10 + 10 x 12 s = 130 s for a cold start (Key Vault, the first token redemption).
              type: 'Startup'
              httpGet: {
                path: '/healthz'
                port: listenPort
              }
              initialDelaySeconds: 10
              periodSeconds: 12
              timeoutSeconds: 11
              failureThreshold: 10
            }
            {
              // Out of the load balancer while this replica's storage does not answer (503);
              // Partner Center or the token degraded stays 200 (every replica would be out).
              type: 'Readiness'
              httpGet: {
                path: '/healthz'
                port: listenPort
              }
              periodSeconds: 15
              timeoutSeconds: 12
              failureThreshold: 3
            }
            {
              // Restart only a process that no longer answers at all. Not on /healthz's
              // status: an outage of Partner Center or Storage makes every replica
              // "degraded", and restarting them all would not bring either back.
              type: 'Liveness'
              tcpSocket: {
                port: listenPort
              }
              periodSeconds: 30
              timeoutSeconds: 5
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
      }
    }
  }
  dependsOn: [
    registryPull
    keyVaultSecretsUser
    tokenSecretOfficer
    casesBlobContributor
    auditBlobContributor
  ]
}

// ---- Azure Bot + Teams channel ----
module bot 'modules/azurebot.bicep' = {
  name: 'azurebot'
  params: {
    botServiceName: botServiceName
    botDisplayName: 'Offboard'
    botAppDomain: botDomain
    identityClientId: identity.properties.clientId
    identityResourceId: identity.id
    identityTenantId: tenantId
    botSku: botSku
    tags: tags
  }
}

// ---- Outputs: written to env/.env.<env> by the Agents Toolkit; none is a secret or a key ----
output BOT_ID string = identity.properties.clientId
output BOT_DOMAIN string = botDomain
output BOT_ENDPOINT string = 'https://${botDomain}/api/messages'
output BOT_TENANT_ID string = tenantId
output BOT_AZURE_BOT_NAME string = bot.outputs.botServiceName
output AZURE_CLIENT_ID string = identity.properties.clientId
output MANAGED_IDENTITY_RESOURCE_ID string = identity.id
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output KEY_VAULT_NAME string = keyVault.name
output KEY_VAULT_URL string = keyVault.properties.vaultUri
output STORAGE_ACCOUNT_NAME string = storage.name
output BLOB_ACCOUNT_URL string = storage.properties.primaryEndpoints.blob
output BLOB_CONTAINER string = casesContainerName
output BLOB_AUDIT_CONTAINER string = auditContainerName
output AZURE_CONTAINER_REGISTRY_NAME string = registry.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.properties.loginServer
output CONTAINER_APPS_ENVIRONMENT_NAME string = appEnvironment.name
output CONTAINER_APP_NAME string = containerAppName
// Computed, not read from the conditional resource: the first pass has no app yet.
output CONTAINER_APP_RESOURCE_ID string = resourceId('Microsoft.App/containerApps', containerAppName)
output APPLICATIONINSIGHTS_RESOURCE_ID string = appInsights.id
output LOG_ANALYTICS_WORKSPACE_ID string = workspace.id
