/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type ApiKeyOrder =
  | 'CREATED_AT_ASC'
  | 'CREATED_AT_DESC'
  | 'EXPIRES_AT_ASC'
  | 'LAST_USED_AT_DESC'
  | 'NAME_ASC';

export type CreateApiKeyInput = {
  description?: string | null | undefined;
  expiresAt?: string | null | undefined;
  name: string;
  projectId: string | number;
  /** null or omitted: unlimited */
  rateLimit?: RateLimitInput | null | undefined;
};

export type CreateDeploymentInput = {
  apiKeyIds?: Array<string | number> | null | undefined;
  authEnabled?: boolean | null | undefined;
  model: string;
  name: string;
  projectId: string | number;
  upstreamUrl: string;
};

export type CreateProjectInput = {
  name?: string | null | undefined;
  slug: string;
};

/** a key still linked to a deployment is not deleted (CONFLICT) unless force: true, which unlinks it in the same change */
export type DeleteApiKeyInput = {
  force?: boolean | null | undefined;
  id: string | number;
};

export type DeleteDeploymentInput = {
  id: string | number;
};

export type ProjectEventType =
  | 'API_KEY_CREATED'
  | 'API_KEY_DELETED'
  | 'API_KEY_EXPIRED'
  /** once per key, within 5 s of its expiresAt being inside the warning window (also for a key created or updated inside it) */
  | 'API_KEY_EXPIRING'
  | 'API_KEY_LINKED'
  /** a new secret for the key (never in the event); the previous one works until the overlap ends */
  | 'API_KEY_ROTATED'
  | 'API_KEY_UNLINKED'
  | 'API_KEY_UPDATED'
  | 'DEPLOYMENT_AUTH_CHANGED'
  | 'DEPLOYMENT_CREATED'
  | 'DEPLOYMENT_DELETED'
  | 'DEPLOYMENT_UPDATED';

/** each value 1–10,000,000; omitted or null: no limit of that kind */
export type RateLimitInput = {
  requestsPerMinute?: number | null | undefined;
  tokensPerMinute?: number | null | undefined;
};

export type Role =
  | 'ADMIN'
  | 'PROJECT';

/** the current secret keeps working for overlapSeconds (0–2,592,000) after the rotation; 0: it stops at once */
export type RotateApiKeyInput = {
  id: string | number;
  overlapSeconds?: number | null | undefined;
};

/** apiKeyIds omitted: links stay as they are; given: the linked set becomes exactly these */
export type SetDeploymentAuthInput = {
  apiKeyIds?: Array<string | number> | null | undefined;
  deploymentId: string | number;
  enabled: boolean;
};

/** omitted fields stay as they are; an explicit expiresAt: null makes the key permanent */
export type UpdateApiKeyInput = {
  description?: string | null | undefined;
  expiresAt?: string | null | undefined;
  id: string | number;
  name?: string | null | undefined;
  /** rateLimit omitted: unchanged; null: removed */
  rateLimit?: RateLimitInput | null | undefined;
};

export type UpdateDeploymentInput = {
  id: string | number;
  model?: string | null | undefined;
  upstreamUrl?: string | null | undefined;
};

export type UsageGranularity =
  | 'DAY'
  | 'HOUR'
  | 'MINUTE';

export type DashboardRotateApiKeyMutationVariables = Exact<{
  input: RotateApiKeyInput;
}>;


export type DashboardRotateApiKeyMutation = { rotateApiKey: { secret: string, apiKey: { id: string, name: string, prefix: string, previousPrefix: string | null, previousSecretExpiresAt: string | null }, propagation: { revision: number, appliedBy: number, expected: number, confirmed: boolean } } };

export type DashboardKeyLifecycleQueryVariables = Exact<{
  id: string | number;
}>;


export type DashboardKeyLifecycleQuery = { node:
    | { id: string, name: string, prefix: string, previousPrefix: string | null, previousSecretExpiresAt: string | null, expiresAt: string | null, expiresSoon: boolean, expired: boolean }
    | Record<PropertyKey, never>
   | null };

export type DashboardProjectActivityQueryVariables = Exact<{
  slug: string;
  first: number;
  after?: string | null | undefined;
  types?: Array<ProjectEventType> | ProjectEventType | null | undefined;
  apiKeyId?: string | number | null | undefined;
  deploymentId?: string | number | null | undefined;
}>;


export type DashboardProjectActivityQuery = { project: { id: string, events: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { revision: number, type: ProjectEventType, at: string, actor: string | null, apiKeyId: string | null, deploymentId: string | null, apiKey: { id: string, name: string } | null, deployment: { id: string, name: string } | null } }> } } | null };

export type DashboardKeyChoicesQueryVariables = Exact<{
  slug: string;
}>;


export type DashboardKeyChoicesQuery = { project: { id: string, apiKeys: { edges: Array<{ node: { id: string, name: string } }> } } | null };

export type DashboardViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardViewerQuery = { viewer: { tokenName: string, role: Role, project: { id: string, slug: string } | null } };

export type DashboardProjectsQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardProjectsQuery = { projects: { totalCount: number, edges: Array<{ node: { id: string, slug: string, name: string, createdAt: string } }> } };

export type DashboardCreateProjectMutationVariables = Exact<{
  input: CreateProjectInput;
}>;


export type DashboardCreateProjectMutation = { createProject: { project: { id: string, slug: string } } };

export type DashboardProjectRevisionQueryVariables = Exact<{
  slug: string;
}>;


export type DashboardProjectRevisionQuery = { project: { id: string, revision: number } | null };

export type DashboardProjectQueryVariables = Exact<{
  slug: string;
}>;


export type DashboardProjectQuery = { project: { id: string, slug: string, name: string, deployments: { totalCount: number, edges: Array<{ node: { id: string, name: string, model: string, upstreamUrl: string, endpointUrl: string, authEnabled: boolean, updatedAt: string, apiKeys: Array<{ id: string, name: string, prefix: string, expired: boolean, expiresAt: string | null, expiresSoon: boolean }> } }> } } | null };

export type DashboardKeyPageQueryVariables = Exact<{
  slug: string;
  first: number;
  after?: string | null | undefined;
  search?: string | null | undefined;
  orderBy?: ApiKeyOrder | null | undefined;
}>;


export type DashboardKeyPageQuery = { project: { id: string, apiKeys: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, name: string, description: string | null, prefix: string, expiresAt: string | null, expired: boolean, lastUsedAt: string | null, createdAt: string, expiresSoon: boolean, previousPrefix: string | null, previousSecretExpiresAt: string | null, rateLimit: { requestsPerMinute: number | null, tokensPerMinute: number | null } | null, deployments: Array<{ id: string, name: string }> } }> } } | null };

export type DashboardUpdateApiKeyMutationVariables = Exact<{
  input: UpdateApiKeyInput;
}>;


export type DashboardUpdateApiKeyMutation = { updateApiKey: { apiKey: { id: string, name: string }, propagation: { revision: number, appliedBy: number, expected: number, confirmed: boolean } } };

export type DashboardUpdateDeploymentMutationVariables = Exact<{
  input: UpdateDeploymentInput;
}>;


export type DashboardUpdateDeploymentMutation = { updateDeployment: { deployment: { id: string, model: string, upstreamUrl: string }, propagation: { revision: number, appliedBy: number, expected: number, confirmed: boolean } } };

export type DashboardCreateApiKeyMutationVariables = Exact<{
  input: CreateApiKeyInput;
}>;


export type DashboardCreateApiKeyMutation = { createApiKey: { secret: string, apiKey: { id: string, name: string, prefix: string }, propagation: { revision: number, appliedBy: number, expected: number, confirmed: boolean } } };

export type DashboardDeleteApiKeyMutationVariables = Exact<{
  input: DeleteApiKeyInput;
}>;


export type DashboardDeleteApiKeyMutation = { deleteApiKey: { deletedApiKeyId: string, propagation: { revision: number, appliedBy: number, expected: number, confirmed: boolean } } };

export type DashboardCreateDeploymentMutationVariables = Exact<{
  input: CreateDeploymentInput;
}>;


export type DashboardCreateDeploymentMutation = { createDeployment: { deployment: { id: string, name: string }, propagation: { revision: number, appliedBy: number, expected: number, confirmed: boolean } } };

export type DashboardDeleteDeploymentMutationVariables = Exact<{
  input: DeleteDeploymentInput;
}>;


export type DashboardDeleteDeploymentMutation = { deleteDeployment: { deletedDeploymentId: string, propagation: { revision: number, appliedBy: number, expected: number, confirmed: boolean } } };

export type DashboardSetDeploymentAuthMutationVariables = Exact<{
  input: SetDeploymentAuthInput;
}>;


export type DashboardSetDeploymentAuthMutation = { setDeploymentAuth: { deployment: { id: string, authEnabled: boolean, apiKeys: Array<{ id: string }> }, propagation: { revision: number, appliedBy: number, expected: number, confirmed: boolean } } };

export type DashboardProjectEventsSubscriptionVariables = Exact<{
  projectId: string | number;
  afterRevision?: number | null | undefined;
}>;


export type DashboardProjectEventsSubscription = { projectEvents: { revision: number } };

export type DashboardKeyRateLimitQueryVariables = Exact<{
  id: string | number;
}>;


export type DashboardKeyRateLimitQuery = { node:
    | { id: string, rateLimit: { requestsPerMinute: number | null, tokensPerMinute: number | null } | null, rateLimitUsage: { requests: number, tokens: number, resetsAt: string } | null }
    | Record<PropertyKey, never>
   | null };

export type DashboardUsageCountsFragment = { requests: number, errors: number, rejected: number, rateLimited: number, promptTokens: number, completionTokens: number };

export type DashboardProjectUsageQueryVariables = Exact<{
  slug: string;
  from: string;
  granularity: UsageGranularity;
}>;


export type DashboardProjectUsageQuery = { project: { id: string, usage: { from: string, to: string, total: { requests: number, errors: number, rejected: number, rateLimited: number, promptTokens: number, completionTokens: number }, buckets: Array<{ start: string, requests: number, errors: number, rejected: number, rateLimited: number, promptTokens: number, completionTokens: number }> } } | null };

export type DashboardTopUsageQueryVariables = Exact<{
  slug: string;
  from: string;
  granularity: UsageGranularity;
  top: number;
}>;


export type DashboardTopUsageQuery = { project: { usageByDeployment: Array<{ deploymentId: string, deployment: { id: string, name: string } | null, total: { requests: number, errors: number, rejected: number, rateLimited: number, promptTokens: number, completionTokens: number } }>, usageByKey: Array<{ apiKeyId: string, apiKey: { id: string, name: string } | null, total: { requests: number, errors: number, rejected: number, rateLimited: number, promptTokens: number, completionTokens: number } }> } | null };

export type DashboardKeyRequestsQueryVariables = Exact<{
  slug: string;
  from: string;
  ids: Array<string | number> | string | number;
  count: number;
}>;


export type DashboardKeyRequestsQuery = { project: { usageByKey: Array<{ apiKeyId: string, total: { requests: number } }> } | null };

export type DashboardNodeUsageQueryVariables = Exact<{
  id: string | number;
  from: string;
  granularity: UsageGranularity;
}>;


export type DashboardNodeUsageQuery = { node:
    | { id: string }
    | { id: string, usage: { from: string, to: string, total: { requests: number, errors: number, rejected: number, rateLimited: number, promptTokens: number, completionTokens: number }, buckets: Array<{ start: string, requests: number, errors: number, rejected: number, rateLimited: number, promptTokens: number, completionTokens: number }> } }
    | { id: string, usage: { from: string, to: string, total: { requests: number, errors: number, rejected: number, rateLimited: number, promptTokens: number, completionTokens: number }, buckets: Array<{ start: string, requests: number, errors: number, rejected: number, rateLimited: number, promptTokens: number, completionTokens: number }> } }
    | { id: string }
   | null };

export type DashboardApiKeyQueryVariables = Exact<{
  id: string | number;
}>;


export type DashboardApiKeyQuery = { node:
    | { id: string }
    | { name: string, description: string | null, prefix: string, expiresAt: string | null, expired: boolean, lastUsedAt: string | null, createdAt: string, id: string, deployments: Array<{ id: string, name: string }> }
    | { id: string }
    | { id: string }
   | null };

export type DashboardUsageUpdatesSubscriptionVariables = Exact<{
  projectId: string | number;
}>;


export type DashboardUsageUpdatesSubscription = { usageUpdates: { at: string, deploymentId: string, apiKeyId: string | null, requests: number, errors: number, rejected: number, rateLimited: number, promptTokens: number, completionTokens: number } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const DashboardUsageCountsFragmentDoc = new TypedDocumentString(`
    fragment DashboardUsageCounts on UsageBucket {
  requests
  errors
  rejected
  rateLimited
  promptTokens
  completionTokens
}
    `, {"fragmentName":"DashboardUsageCounts"}) as unknown as TypedDocumentString<DashboardUsageCountsFragment, unknown>;
export const DashboardRotateApiKeyDocument = new TypedDocumentString(`
    mutation DashboardRotateApiKey($input: RotateApiKeyInput!) {
  rotateApiKey(input: $input) {
    secret
    apiKey {
      id
      name
      prefix
      previousPrefix
      previousSecretExpiresAt
    }
    propagation {
      revision
      appliedBy
      expected
      confirmed
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardRotateApiKeyMutation, DashboardRotateApiKeyMutationVariables>;
export const DashboardKeyLifecycleDocument = new TypedDocumentString(`
    query DashboardKeyLifecycle($id: ID!) {
  node(id: $id) {
    ... on ApiKey {
      id
      name
      prefix
      previousPrefix
      previousSecretExpiresAt
      expiresAt
      expiresSoon
      expired
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardKeyLifecycleQuery, DashboardKeyLifecycleQueryVariables>;
export const DashboardProjectActivityDocument = new TypedDocumentString(`
    query DashboardProjectActivity($slug: String!, $first: Int!, $after: String, $types: [ProjectEventType!], $apiKeyId: ID, $deploymentId: ID) {
  project(slug: $slug) {
    id
    events(
      first: $first
      after: $after
      types: $types
      apiKeyId: $apiKeyId
      deploymentId: $deploymentId
    ) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          revision
          type
          at
          actor
          apiKeyId
          deploymentId
          apiKey {
            id
            name
          }
          deployment {
            id
            name
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardProjectActivityQuery, DashboardProjectActivityQueryVariables>;
export const DashboardKeyChoicesDocument = new TypedDocumentString(`
    query DashboardKeyChoices($slug: String!) {
  project(slug: $slug) {
    id
    apiKeys(first: 500, orderBy: NAME_ASC) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardKeyChoicesQuery, DashboardKeyChoicesQueryVariables>;
export const DashboardViewerDocument = new TypedDocumentString(`
    query DashboardViewer {
  viewer {
    tokenName
    role
    project {
      id
      slug
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardViewerQuery, DashboardViewerQueryVariables>;
export const DashboardProjectsDocument = new TypedDocumentString(`
    query DashboardProjects {
  projects(first: 100) {
    totalCount
    edges {
      node {
        id
        slug
        name
        createdAt
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardProjectsQuery, DashboardProjectsQueryVariables>;
export const DashboardCreateProjectDocument = new TypedDocumentString(`
    mutation DashboardCreateProject($input: CreateProjectInput!) {
  createProject(input: $input) {
    project {
      id
      slug
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardCreateProjectMutation, DashboardCreateProjectMutationVariables>;
export const DashboardProjectRevisionDocument = new TypedDocumentString(`
    query DashboardProjectRevision($slug: String!) {
  project(slug: $slug) {
    id
    revision
  }
}
    `) as unknown as TypedDocumentString<DashboardProjectRevisionQuery, DashboardProjectRevisionQueryVariables>;
export const DashboardProjectDocument = new TypedDocumentString(`
    query DashboardProject($slug: String!) {
  project(slug: $slug) {
    id
    slug
    name
    deployments(first: 1000) {
      totalCount
      edges {
        node {
          id
          name
          model
          upstreamUrl
          endpointUrl
          authEnabled
          updatedAt
          apiKeys {
            id
            name
            prefix
            expired
            expiresAt
            expiresSoon
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardProjectQuery, DashboardProjectQueryVariables>;
export const DashboardKeyPageDocument = new TypedDocumentString(`
    query DashboardKeyPage($slug: String!, $first: Int!, $after: String, $search: String, $orderBy: ApiKeyOrder) {
  project(slug: $slug) {
    id
    apiKeys(first: $first, after: $after, search: $search, orderBy: $orderBy) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          name
          description
          prefix
          expiresAt
          expired
          lastUsedAt
          createdAt
          expiresSoon
          previousPrefix
          previousSecretExpiresAt
          rateLimit {
            requestsPerMinute
            tokensPerMinute
          }
          deployments {
            id
            name
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardKeyPageQuery, DashboardKeyPageQueryVariables>;
export const DashboardUpdateApiKeyDocument = new TypedDocumentString(`
    mutation DashboardUpdateApiKey($input: UpdateApiKeyInput!) {
  updateApiKey(input: $input) {
    apiKey {
      id
      name
    }
    propagation {
      revision
      appliedBy
      expected
      confirmed
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardUpdateApiKeyMutation, DashboardUpdateApiKeyMutationVariables>;
export const DashboardUpdateDeploymentDocument = new TypedDocumentString(`
    mutation DashboardUpdateDeployment($input: UpdateDeploymentInput!) {
  updateDeployment(input: $input) {
    deployment {
      id
      model
      upstreamUrl
    }
    propagation {
      revision
      appliedBy
      expected
      confirmed
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardUpdateDeploymentMutation, DashboardUpdateDeploymentMutationVariables>;
export const DashboardCreateApiKeyDocument = new TypedDocumentString(`
    mutation DashboardCreateApiKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    secret
    apiKey {
      id
      name
      prefix
    }
    propagation {
      revision
      appliedBy
      expected
      confirmed
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardCreateApiKeyMutation, DashboardCreateApiKeyMutationVariables>;
export const DashboardDeleteApiKeyDocument = new TypedDocumentString(`
    mutation DashboardDeleteApiKey($input: DeleteApiKeyInput!) {
  deleteApiKey(input: $input) {
    deletedApiKeyId
    propagation {
      revision
      appliedBy
      expected
      confirmed
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardDeleteApiKeyMutation, DashboardDeleteApiKeyMutationVariables>;
export const DashboardCreateDeploymentDocument = new TypedDocumentString(`
    mutation DashboardCreateDeployment($input: CreateDeploymentInput!) {
  createDeployment(input: $input) {
    deployment {
      id
      name
    }
    propagation {
      revision
      appliedBy
      expected
      confirmed
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardCreateDeploymentMutation, DashboardCreateDeploymentMutationVariables>;
export const DashboardDeleteDeploymentDocument = new TypedDocumentString(`
    mutation DashboardDeleteDeployment($input: DeleteDeploymentInput!) {
  deleteDeployment(input: $input) {
    deletedDeploymentId
    propagation {
      revision
      appliedBy
      expected
      confirmed
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardDeleteDeploymentMutation, DashboardDeleteDeploymentMutationVariables>;
export const DashboardSetDeploymentAuthDocument = new TypedDocumentString(`
    mutation DashboardSetDeploymentAuth($input: SetDeploymentAuthInput!) {
  setDeploymentAuth(input: $input) {
    deployment {
      id
      authEnabled
      apiKeys {
        id
      }
    }
    propagation {
      revision
      appliedBy
      expected
      confirmed
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardSetDeploymentAuthMutation, DashboardSetDeploymentAuthMutationVariables>;
export const DashboardProjectEventsDocument = new TypedDocumentString(`
    subscription DashboardProjectEvents($projectId: ID!, $afterRevision: Int) {
  projectEvents(projectId: $projectId, afterRevision: $afterRevision) {
    revision
  }
}
    `) as unknown as TypedDocumentString<DashboardProjectEventsSubscription, DashboardProjectEventsSubscriptionVariables>;
export const DashboardKeyRateLimitDocument = new TypedDocumentString(`
    query DashboardKeyRateLimit($id: ID!) {
  node(id: $id) {
    ... on ApiKey {
      id
      rateLimit {
        requestsPerMinute
        tokensPerMinute
      }
      rateLimitUsage {
        requests
        tokens
        resetsAt
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardKeyRateLimitQuery, DashboardKeyRateLimitQueryVariables>;
export const DashboardProjectUsageDocument = new TypedDocumentString(`
    query DashboardProjectUsage($slug: String!, $from: DateTime!, $granularity: UsageGranularity!) {
  project(slug: $slug) {
    id
    usage(from: $from, granularity: $granularity) {
      from
      to
      total {
        ...DashboardUsageCounts
      }
      buckets {
        start
        ...DashboardUsageCounts
      }
    }
  }
}
    fragment DashboardUsageCounts on UsageBucket {
  requests
  errors
  rejected
  rateLimited
  promptTokens
  completionTokens
}`) as unknown as TypedDocumentString<DashboardProjectUsageQuery, DashboardProjectUsageQueryVariables>;
export const DashboardTopUsageDocument = new TypedDocumentString(`
    query DashboardTopUsage($slug: String!, $from: DateTime!, $granularity: UsageGranularity!, $top: Int!) {
  project(slug: $slug) {
    usageByDeployment(from: $from, granularity: $granularity, first: $top) {
      deploymentId
      deployment {
        id
        name
      }
      total {
        ...DashboardUsageCounts
      }
    }
    usageByKey(from: $from, granularity: $granularity, first: $top) {
      apiKeyId
      apiKey {
        id
        name
      }
      total {
        ...DashboardUsageCounts
      }
    }
  }
}
    fragment DashboardUsageCounts on UsageBucket {
  requests
  errors
  rejected
  rateLimited
  promptTokens
  completionTokens
}`) as unknown as TypedDocumentString<DashboardTopUsageQuery, DashboardTopUsageQueryVariables>;
export const DashboardKeyRequestsDocument = new TypedDocumentString(`
    query DashboardKeyRequests($slug: String!, $from: DateTime!, $ids: [ID!]!, $count: Int!) {
  project(slug: $slug) {
    usageByKey(from: $from, granularity: HOUR, apiKeyIds: $ids, first: $count) {
      apiKeyId
      total {
        requests
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardKeyRequestsQuery, DashboardKeyRequestsQueryVariables>;
export const DashboardNodeUsageDocument = new TypedDocumentString(`
    query DashboardNodeUsage($id: ID!, $from: DateTime!, $granularity: UsageGranularity!) {
  node(id: $id) {
    id
    ... on ApiKey {
      usage(from: $from, granularity: $granularity) {
        from
        to
        total {
          ...DashboardUsageCounts
        }
        buckets {
          start
          ...DashboardUsageCounts
        }
      }
    }
    ... on Deployment {
      usage(from: $from, granularity: $granularity) {
        from
        to
        total {
          ...DashboardUsageCounts
        }
        buckets {
          start
          ...DashboardUsageCounts
        }
      }
    }
  }
}
    fragment DashboardUsageCounts on UsageBucket {
  requests
  errors
  rejected
  rateLimited
  promptTokens
  completionTokens
}`) as unknown as TypedDocumentString<DashboardNodeUsageQuery, DashboardNodeUsageQueryVariables>;
export const DashboardApiKeyDocument = new TypedDocumentString(`
    query DashboardApiKey($id: ID!) {
  node(id: $id) {
    id
    ... on ApiKey {
      name
      description
      prefix
      expiresAt
      expired
      lastUsedAt
      createdAt
      deployments {
        id
        name
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardApiKeyQuery, DashboardApiKeyQueryVariables>;
export const DashboardUsageUpdatesDocument = new TypedDocumentString(`
    subscription DashboardUsageUpdates($projectId: ID!) {
  usageUpdates(projectId: $projectId) {
    at
    deploymentId
    apiKeyId
    requests
    errors
    rejected
    rateLimited
    promptTokens
    completionTokens
  }
}
    `) as unknown as TypedDocumentString<DashboardUsageUpdatesSubscription, DashboardUsageUpdatesSubscriptionVariables>;