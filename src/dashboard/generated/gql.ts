/* eslint-disable */
import * as types from './graphql.ts';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation DashboardRotateApiKey($input: RotateApiKeyInput!) {\n    rotateApiKey(input: $input) {\n      secret\n      apiKey { id name prefix previousPrefix previousSecretExpiresAt }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n": typeof types.DashboardRotateApiKeyDocument,
    "\n  query DashboardKeyLifecycle($id: ID!) {\n    node(id: $id) {\n      ... on ApiKey { id name prefix previousPrefix previousSecretExpiresAt expiresAt expiresSoon expired }\n    }\n  }\n": typeof types.DashboardKeyLifecycleDocument,
    "\n  query DashboardProjectActivity($slug: String!, $first: Int!, $after: String, $types: [ProjectEventType!], $apiKeyId: ID, $deploymentId: ID) {\n    project(slug: $slug) {\n      id\n      events(first: $first, after: $after, types: $types, apiKeyId: $apiKeyId, deploymentId: $deploymentId) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { revision type at actor apiKeyId deploymentId apiKey { id name } deployment { id name } } }\n      }\n    }\n  }\n": typeof types.DashboardProjectActivityDocument,
    "\n  query DashboardKeyChoices($slug: String!) {\n    project(slug: $slug) { id apiKeys(first: 500, orderBy: NAME_ASC) { edges { node { id name } } } }\n  }\n": typeof types.DashboardKeyChoicesDocument,
    "\n  query DashboardViewer {\n    viewer { tokenName role project { id slug } }\n  }\n": typeof types.DashboardViewerDocument,
    "\n  query DashboardProjects {\n    projects(first: 100) {\n      totalCount\n      edges { node { id slug name createdAt } }\n    }\n  }\n": typeof types.DashboardProjectsDocument,
    "\n  mutation DashboardCreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id slug } }\n  }\n": typeof types.DashboardCreateProjectDocument,
    "\n  query DashboardProjectRevision($slug: String!) {\n    project(slug: $slug) { id revision }\n  }\n": typeof types.DashboardProjectRevisionDocument,
    "\n  query DashboardProject($slug: String!) {\n    project(slug: $slug) {\n      id\n      slug\n      name\n      deployments(first: 1000) {\n        totalCount\n        edges {\n          node {\n            id name model upstreamUrl endpointUrl authEnabled updatedAt\n            apiKeys { id name prefix expired expiresAt expiresSoon }\n          }\n        }\n      }\n    }\n  }\n": typeof types.DashboardProjectDocument,
    "\n  query DashboardKeyPage($slug: String!, $first: Int!, $after: String, $search: String, $orderBy: ApiKeyOrder) {\n    project(slug: $slug) {\n      id\n      apiKeys(first: $first, after: $after, search: $search, orderBy: $orderBy) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges {\n          node {\n            id name description prefix expiresAt expired lastUsedAt createdAt\n            expiresSoon previousPrefix previousSecretExpiresAt\n            rateLimit { requestsPerMinute tokensPerMinute }\n            deployments { id name }\n          }\n        }\n      }\n    }\n  }\n": typeof types.DashboardKeyPageDocument,
    "\n  mutation DashboardUpdateApiKey($input: UpdateApiKeyInput!) {\n    updateApiKey(input: $input) {\n      apiKey { id name }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n": typeof types.DashboardUpdateApiKeyDocument,
    "\n  mutation DashboardUpdateDeployment($input: UpdateDeploymentInput!) {\n    updateDeployment(input: $input) {\n      deployment { id model upstreamUrl }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n": typeof types.DashboardUpdateDeploymentDocument,
    "\n  mutation DashboardCreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey { id name prefix }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n": typeof types.DashboardCreateApiKeyDocument,
    "\n  mutation DashboardDeleteApiKey($input: DeleteApiKeyInput!) {\n    deleteApiKey(input: $input) { deletedApiKeyId propagation { revision appliedBy expected confirmed } }\n  }\n": typeof types.DashboardDeleteApiKeyDocument,
    "\n  mutation DashboardCreateDeployment($input: CreateDeploymentInput!) {\n    createDeployment(input: $input) {\n      deployment { id name }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n": typeof types.DashboardCreateDeploymentDocument,
    "\n  mutation DashboardDeleteDeployment($input: DeleteDeploymentInput!) {\n    deleteDeployment(input: $input) { deletedDeploymentId propagation { revision appliedBy expected confirmed } }\n  }\n": typeof types.DashboardDeleteDeploymentDocument,
    "\n  mutation DashboardSetDeploymentAuth($input: SetDeploymentAuthInput!) {\n    setDeploymentAuth(input: $input) {\n      deployment { id authEnabled apiKeys { id } }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n": typeof types.DashboardSetDeploymentAuthDocument,
    "\n  subscription DashboardProjectEvents($projectId: ID!, $afterRevision: Int) {\n    projectEvents(projectId: $projectId, afterRevision: $afterRevision) { revision }\n  }\n": typeof types.DashboardProjectEventsDocument,
    "\n  query DashboardKeyRateLimit($id: ID!) {\n    node(id: $id) {\n      ... on ApiKey { id rateLimit { requestsPerMinute tokensPerMinute } rateLimitUsage { requests tokens resetsAt } }\n    }\n  }\n": typeof types.DashboardKeyRateLimitDocument,
    "\n  fragment DashboardUsageCounts on UsageBucket {\n    requests errors rejected rateLimited promptTokens completionTokens\n  }\n": typeof types.DashboardUsageCountsFragmentDoc,
    "\n  query DashboardProjectUsage($slug: String!, $from: DateTime!, $granularity: UsageGranularity!) {\n    project(slug: $slug) {\n      id\n      usage(from: $from, granularity: $granularity) {\n        from to\n        total { ...DashboardUsageCounts }\n        buckets { start ...DashboardUsageCounts }\n      }\n    }\n  }\n": typeof types.DashboardProjectUsageDocument,
    "\n  query DashboardTopUsage($slug: String!, $from: DateTime!, $granularity: UsageGranularity!, $top: Int!) {\n    project(slug: $slug) {\n      usageByDeployment(from: $from, granularity: $granularity, first: $top) {\n        deploymentId deployment { id name } total { ...DashboardUsageCounts }\n      }\n      usageByKey(from: $from, granularity: $granularity, first: $top) {\n        apiKeyId apiKey { id name } total { ...DashboardUsageCounts }\n      }\n    }\n  }\n": typeof types.DashboardTopUsageDocument,
    "\n  query DashboardKeyRequests($slug: String!, $from: DateTime!, $ids: [ID!]!, $count: Int!) {\n    project(slug: $slug) {\n      usageByKey(from: $from, granularity: HOUR, apiKeyIds: $ids, first: $count) { apiKeyId total { requests } }\n    }\n  }\n": typeof types.DashboardKeyRequestsDocument,
    "\n  query DashboardNodeUsage($id: ID!, $from: DateTime!, $granularity: UsageGranularity!) {\n    node(id: $id) {\n      id\n      ... on ApiKey {\n        usage(from: $from, granularity: $granularity) {\n          from to\n          total { ...DashboardUsageCounts }\n          buckets { start ...DashboardUsageCounts }\n        }\n      }\n      ... on Deployment {\n        usage(from: $from, granularity: $granularity) {\n          from to\n          total { ...DashboardUsageCounts }\n          buckets { start ...DashboardUsageCounts }\n        }\n      }\n    }\n  }\n": typeof types.DashboardNodeUsageDocument,
    "\n  query DashboardApiKey($id: ID!) {\n    node(id: $id) {\n      id\n      ... on ApiKey { name description prefix expiresAt expired lastUsedAt createdAt deployments { id name } }\n    }\n  }\n": typeof types.DashboardApiKeyDocument,
    "\n  subscription DashboardUsageUpdates($projectId: ID!) {\n    usageUpdates(projectId: $projectId) {\n      at deploymentId apiKeyId requests errors rejected rateLimited promptTokens completionTokens\n    }\n  }\n": typeof types.DashboardUsageUpdatesDocument,
};
const documents: Documents = {
    "\n  mutation DashboardRotateApiKey($input: RotateApiKeyInput!) {\n    rotateApiKey(input: $input) {\n      secret\n      apiKey { id name prefix previousPrefix previousSecretExpiresAt }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n": types.DashboardRotateApiKeyDocument,
    "\n  query DashboardKeyLifecycle($id: ID!) {\n    node(id: $id) {\n      ... on ApiKey { id name prefix previousPrefix previousSecretExpiresAt expiresAt expiresSoon expired }\n    }\n  }\n": types.DashboardKeyLifecycleDocument,
    "\n  query DashboardProjectActivity($slug: String!, $first: Int!, $after: String, $types: [ProjectEventType!], $apiKeyId: ID, $deploymentId: ID) {\n    project(slug: $slug) {\n      id\n      events(first: $first, after: $after, types: $types, apiKeyId: $apiKeyId, deploymentId: $deploymentId) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { revision type at actor apiKeyId deploymentId apiKey { id name } deployment { id name } } }\n      }\n    }\n  }\n": types.DashboardProjectActivityDocument,
    "\n  query DashboardKeyChoices($slug: String!) {\n    project(slug: $slug) { id apiKeys(first: 500, orderBy: NAME_ASC) { edges { node { id name } } } }\n  }\n": types.DashboardKeyChoicesDocument,
    "\n  query DashboardViewer {\n    viewer { tokenName role project { id slug } }\n  }\n": types.DashboardViewerDocument,
    "\n  query DashboardProjects {\n    projects(first: 100) {\n      totalCount\n      edges { node { id slug name createdAt } }\n    }\n  }\n": types.DashboardProjectsDocument,
    "\n  mutation DashboardCreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id slug } }\n  }\n": types.DashboardCreateProjectDocument,
    "\n  query DashboardProjectRevision($slug: String!) {\n    project(slug: $slug) { id revision }\n  }\n": types.DashboardProjectRevisionDocument,
    "\n  query DashboardProject($slug: String!) {\n    project(slug: $slug) {\n      id\n      slug\n      name\n      deployments(first: 1000) {\n        totalCount\n        edges {\n          node {\n            id name model upstreamUrl endpointUrl authEnabled updatedAt\n            apiKeys { id name prefix expired expiresAt expiresSoon }\n          }\n        }\n      }\n    }\n  }\n": types.DashboardProjectDocument,
    "\n  query DashboardKeyPage($slug: String!, $first: Int!, $after: String, $search: String, $orderBy: ApiKeyOrder) {\n    project(slug: $slug) {\n      id\n      apiKeys(first: $first, after: $after, search: $search, orderBy: $orderBy) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges {\n          node {\n            id name description prefix expiresAt expired lastUsedAt createdAt\n            expiresSoon previousPrefix previousSecretExpiresAt\n            rateLimit { requestsPerMinute tokensPerMinute }\n            deployments { id name }\n          }\n        }\n      }\n    }\n  }\n": types.DashboardKeyPageDocument,
    "\n  mutation DashboardUpdateApiKey($input: UpdateApiKeyInput!) {\n    updateApiKey(input: $input) {\n      apiKey { id name }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n": types.DashboardUpdateApiKeyDocument,
    "\n  mutation DashboardUpdateDeployment($input: UpdateDeploymentInput!) {\n    updateDeployment(input: $input) {\n      deployment { id model upstreamUrl }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n": types.DashboardUpdateDeploymentDocument,
    "\n  mutation DashboardCreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey { id name prefix }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n": types.DashboardCreateApiKeyDocument,
    "\n  mutation DashboardDeleteApiKey($input: DeleteApiKeyInput!) {\n    deleteApiKey(input: $input) { deletedApiKeyId propagation { revision appliedBy expected confirmed } }\n  }\n": types.DashboardDeleteApiKeyDocument,
    "\n  mutation DashboardCreateDeployment($input: CreateDeploymentInput!) {\n    createDeployment(input: $input) {\n      deployment { id name }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n": types.DashboardCreateDeploymentDocument,
    "\n  mutation DashboardDeleteDeployment($input: DeleteDeploymentInput!) {\n    deleteDeployment(input: $input) { deletedDeploymentId propagation { revision appliedBy expected confirmed } }\n  }\n": types.DashboardDeleteDeploymentDocument,
    "\n  mutation DashboardSetDeploymentAuth($input: SetDeploymentAuthInput!) {\n    setDeploymentAuth(input: $input) {\n      deployment { id authEnabled apiKeys { id } }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n": types.DashboardSetDeploymentAuthDocument,
    "\n  subscription DashboardProjectEvents($projectId: ID!, $afterRevision: Int) {\n    projectEvents(projectId: $projectId, afterRevision: $afterRevision) { revision }\n  }\n": types.DashboardProjectEventsDocument,
    "\n  query DashboardKeyRateLimit($id: ID!) {\n    node(id: $id) {\n      ... on ApiKey { id rateLimit { requestsPerMinute tokensPerMinute } rateLimitUsage { requests tokens resetsAt } }\n    }\n  }\n": types.DashboardKeyRateLimitDocument,
    "\n  fragment DashboardUsageCounts on UsageBucket {\n    requests errors rejected rateLimited promptTokens completionTokens\n  }\n": types.DashboardUsageCountsFragmentDoc,
    "\n  query DashboardProjectUsage($slug: String!, $from: DateTime!, $granularity: UsageGranularity!) {\n    project(slug: $slug) {\n      id\n      usage(from: $from, granularity: $granularity) {\n        from to\n        total { ...DashboardUsageCounts }\n        buckets { start ...DashboardUsageCounts }\n      }\n    }\n  }\n": types.DashboardProjectUsageDocument,
    "\n  query DashboardTopUsage($slug: String!, $from: DateTime!, $granularity: UsageGranularity!, $top: Int!) {\n    project(slug: $slug) {\n      usageByDeployment(from: $from, granularity: $granularity, first: $top) {\n        deploymentId deployment { id name } total { ...DashboardUsageCounts }\n      }\n      usageByKey(from: $from, granularity: $granularity, first: $top) {\n        apiKeyId apiKey { id name } total { ...DashboardUsageCounts }\n      }\n    }\n  }\n": types.DashboardTopUsageDocument,
    "\n  query DashboardKeyRequests($slug: String!, $from: DateTime!, $ids: [ID!]!, $count: Int!) {\n    project(slug: $slug) {\n      usageByKey(from: $from, granularity: HOUR, apiKeyIds: $ids, first: $count) { apiKeyId total { requests } }\n    }\n  }\n": types.DashboardKeyRequestsDocument,
    "\n  query DashboardNodeUsage($id: ID!, $from: DateTime!, $granularity: UsageGranularity!) {\n    node(id: $id) {\n      id\n      ... on ApiKey {\n        usage(from: $from, granularity: $granularity) {\n          from to\n          total { ...DashboardUsageCounts }\n          buckets { start ...DashboardUsageCounts }\n        }\n      }\n      ... on Deployment {\n        usage(from: $from, granularity: $granularity) {\n          from to\n          total { ...DashboardUsageCounts }\n          buckets { start ...DashboardUsageCounts }\n        }\n      }\n    }\n  }\n": types.DashboardNodeUsageDocument,
    "\n  query DashboardApiKey($id: ID!) {\n    node(id: $id) {\n      id\n      ... on ApiKey { name description prefix expiresAt expired lastUsedAt createdAt deployments { id name } }\n    }\n  }\n": types.DashboardApiKeyDocument,
    "\n  subscription DashboardUsageUpdates($projectId: ID!) {\n    usageUpdates(projectId: $projectId) {\n      at deploymentId apiKeyId requests errors rejected rateLimited promptTokens completionTokens\n    }\n  }\n": types.DashboardUsageUpdatesDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardRotateApiKey($input: RotateApiKeyInput!) {\n    rotateApiKey(input: $input) {\n      secret\n      apiKey { id name prefix previousPrefix previousSecretExpiresAt }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardRotateApiKeyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardKeyLifecycle($id: ID!) {\n    node(id: $id) {\n      ... on ApiKey { id name prefix previousPrefix previousSecretExpiresAt expiresAt expiresSoon expired }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardKeyLifecycleDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardProjectActivity($slug: String!, $first: Int!, $after: String, $types: [ProjectEventType!], $apiKeyId: ID, $deploymentId: ID) {\n    project(slug: $slug) {\n      id\n      events(first: $first, after: $after, types: $types, apiKeyId: $apiKeyId, deploymentId: $deploymentId) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { revision type at actor apiKeyId deploymentId apiKey { id name } deployment { id name } } }\n      }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardProjectActivityDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardKeyChoices($slug: String!) {\n    project(slug: $slug) { id apiKeys(first: 500, orderBy: NAME_ASC) { edges { node { id name } } } }\n  }\n"): typeof import('./graphql.ts').DashboardKeyChoicesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardViewer {\n    viewer { tokenName role project { id slug } }\n  }\n"): typeof import('./graphql.ts').DashboardViewerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardProjects {\n    projects(first: 100) {\n      totalCount\n      edges { node { id slug name createdAt } }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardProjectsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardCreateProject($input: CreateProjectInput!) {\n    createProject(input: $input) { project { id slug } }\n  }\n"): typeof import('./graphql.ts').DashboardCreateProjectDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardProjectRevision($slug: String!) {\n    project(slug: $slug) { id revision }\n  }\n"): typeof import('./graphql.ts').DashboardProjectRevisionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardProject($slug: String!) {\n    project(slug: $slug) {\n      id\n      slug\n      name\n      deployments(first: 1000) {\n        totalCount\n        edges {\n          node {\n            id name model upstreamUrl endpointUrl authEnabled updatedAt\n            apiKeys { id name prefix expired expiresAt expiresSoon }\n          }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardProjectDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardKeyPage($slug: String!, $first: Int!, $after: String, $search: String, $orderBy: ApiKeyOrder) {\n    project(slug: $slug) {\n      id\n      apiKeys(first: $first, after: $after, search: $search, orderBy: $orderBy) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges {\n          node {\n            id name description prefix expiresAt expired lastUsedAt createdAt\n            expiresSoon previousPrefix previousSecretExpiresAt\n            rateLimit { requestsPerMinute tokensPerMinute }\n            deployments { id name }\n          }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardKeyPageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardUpdateApiKey($input: UpdateApiKeyInput!) {\n    updateApiKey(input: $input) {\n      apiKey { id name }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardUpdateApiKeyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardUpdateDeployment($input: UpdateDeploymentInput!) {\n    updateDeployment(input: $input) {\n      deployment { id model upstreamUrl }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardUpdateDeploymentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardCreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey { id name prefix }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardCreateApiKeyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardDeleteApiKey($input: DeleteApiKeyInput!) {\n    deleteApiKey(input: $input) { deletedApiKeyId propagation { revision appliedBy expected confirmed } }\n  }\n"): typeof import('./graphql.ts').DashboardDeleteApiKeyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardCreateDeployment($input: CreateDeploymentInput!) {\n    createDeployment(input: $input) {\n      deployment { id name }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardCreateDeploymentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardDeleteDeployment($input: DeleteDeploymentInput!) {\n    deleteDeployment(input: $input) { deletedDeploymentId propagation { revision appliedBy expected confirmed } }\n  }\n"): typeof import('./graphql.ts').DashboardDeleteDeploymentDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardSetDeploymentAuth($input: SetDeploymentAuthInput!) {\n    setDeploymentAuth(input: $input) {\n      deployment { id authEnabled apiKeys { id } }\n      propagation { revision appliedBy expected confirmed }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardSetDeploymentAuthDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardProjectEvents($projectId: ID!, $afterRevision: Int) {\n    projectEvents(projectId: $projectId, afterRevision: $afterRevision) { revision }\n  }\n"): typeof import('./graphql.ts').DashboardProjectEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardKeyRateLimit($id: ID!) {\n    node(id: $id) {\n      ... on ApiKey { id rateLimit { requestsPerMinute tokensPerMinute } rateLimitUsage { requests tokens resetsAt } }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardKeyRateLimitDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DashboardUsageCounts on UsageBucket {\n    requests errors rejected rateLimited promptTokens completionTokens\n  }\n"): typeof import('./graphql.ts').DashboardUsageCountsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardProjectUsage($slug: String!, $from: DateTime!, $granularity: UsageGranularity!) {\n    project(slug: $slug) {\n      id\n      usage(from: $from, granularity: $granularity) {\n        from to\n        total { ...DashboardUsageCounts }\n        buckets { start ...DashboardUsageCounts }\n      }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardProjectUsageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardTopUsage($slug: String!, $from: DateTime!, $granularity: UsageGranularity!, $top: Int!) {\n    project(slug: $slug) {\n      usageByDeployment(from: $from, granularity: $granularity, first: $top) {\n        deploymentId deployment { id name } total { ...DashboardUsageCounts }\n      }\n      usageByKey(from: $from, granularity: $granularity, first: $top) {\n        apiKeyId apiKey { id name } total { ...DashboardUsageCounts }\n      }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardTopUsageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardKeyRequests($slug: String!, $from: DateTime!, $ids: [ID!]!, $count: Int!) {\n    project(slug: $slug) {\n      usageByKey(from: $from, granularity: HOUR, apiKeyIds: $ids, first: $count) { apiKeyId total { requests } }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardKeyRequestsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardNodeUsage($id: ID!, $from: DateTime!, $granularity: UsageGranularity!) {\n    node(id: $id) {\n      id\n      ... on ApiKey {\n        usage(from: $from, granularity: $granularity) {\n          from to\n          total { ...DashboardUsageCounts }\n          buckets { start ...DashboardUsageCounts }\n        }\n      }\n      ... on Deployment {\n        usage(from: $from, granularity: $granularity) {\n          from to\n          total { ...DashboardUsageCounts }\n          buckets { start ...DashboardUsageCounts }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardNodeUsageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardApiKey($id: ID!) {\n    node(id: $id) {\n      id\n      ... on ApiKey { name description prefix expiresAt expired lastUsedAt createdAt deployments { id name } }\n    }\n  }\n"): typeof import('./graphql.ts').DashboardApiKeyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardUsageUpdates($projectId: ID!) {\n    usageUpdates(projectId: $projectId) {\n      at deploymentId apiKeyId requests errors rejected rateLimited promptTokens completionTokens\n    }\n  }\n"): typeof import('./graphql.ts').DashboardUsageUpdatesDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
