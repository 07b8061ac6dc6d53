// The Azure Bot registration, as the Microsoft 365 Agents Toolkit's templates write it
// (infra/botRegistration/azurebot.bicep): kind azurebot, location global, a user-assigned
// managed identity as the bot's identity (no app password exists), and the Teams channel.
// Multi-tenant bot creation is deprecated after 2025-07-31: single-tenant or UAMI only
// (https://learn.microsoft.com/azure/bot-service/bot-service-quickstart-registration).

@description('Name of the Azure Bot resource (globally unique among bots).')
@maxLength(42)
param botServiceName string

@description('Name shown in the Azure portal.')
param botDisplayName string

@description('Host name the bot is reached on (the container app\'s FQDN); Teams posts to https://<it>/api/messages.')
param botAppDomain string

@description('Client id of the user-assigned managed identity: the bot\'s Microsoft App ID.')
param identityClientId string

@description('Resource id of that identity.')
param identityResourceId string

@description('Tenant of that identity (the partner\'s tenant).')
param identityTenantId string

// Teams is a "standard channel": its messages cost nothing on F0 or S1; S1 has the SLA
// (https://azure.microsoft.com/pricing/details/bot-services/).
@allowed([
  'F0'
  'S1'
])
param botSku string = 'S1'

param tags object = {}

resource botService 'Microsoft.BotService/botServices@2022-09-15' = {
  name: botServiceName
  kind: 'azurebot'
  location: 'global'
  tags: tags
  sku: {
    name: botSku
  }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${botAppDomain}/api/messages'
    msaAppId: identityClientId
    msaAppMSIResourceId: identityResourceId
    msaAppTenantId: identityTenantId
    msaAppType: 'UserAssignedMSI'
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: botService
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
    }
  }
}

output botServiceName string = botService.name
output botEndpoint string = botService.properties.endpoint
