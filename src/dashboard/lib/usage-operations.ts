// The operations of the usage views (docs/api.md, "Usage"). `npm run codegen` types them like
// operations.ts.
import { graphql } from '../generated/gql.ts';

export const UsageCountsFragment = graphql(`
  fragment DashboardUsageCounts on UsageBucket {
    requests errors rejected rateLimited promptTokens completionTokens
  }
`);

// The project's Usage view reads its series in one request and its top deployments and keys
// (Project.usageByDeployment/usageByKey, one grouped read each) in another: each bucket of a
// series counts towards an operation's cost, each ranked row too (docs/api.md "Usage").

/** The project's series. */
export const ProjectUsageQuery = graphql(`
  query DashboardProjectUsage($slug: String!, $from: DateTime!, $granularity: UsageGranularity!) {
    project(slug: $slug) {
      id
      usage(from: $from, granularity: $granularity) {
        from to
        total { ...DashboardUsageCounts }
        buckets { start ...DashboardUsageCounts }
      }
    }
  }
`);

/** The `top` deployments and keys with the most requests over the range. */
export const TopUsageQuery = graphql(`
  query DashboardTopUsage($slug: String!, $from: DateTime!, $granularity: UsageGranularity!, $top: Int!) {
    project(slug: $slug) {
      usageByDeployment(from: $from, granularity: $granularity, first: $top) {
        deploymentId deployment { id name } total { ...DashboardUsageCounts }
      }
      usageByKey(from: $from, granularity: $granularity, first: $top) {
        apiKeyId apiKey { id name } total { ...DashboardUsageCounts }
      }
    }
  }
`);

/** The requests since `from` of the keys given (the keys list's column); keys without any are absent. */
export const KeyRequestsQuery = graphql(`
  query DashboardKeyRequests($slug: String!, $from: DateTime!, $ids: [ID!]!, $count: Int!) {
    project(slug: $slug) {
      usageByKey(from: $from, granularity: HOUR, apiKeyIds: $ids, first: $count) { apiKeyId total { requests } }
    }
  }
`);

/** One key's or one deployment's series. */
export const NodeUsageQuery = graphql(`
  query DashboardNodeUsage($id: ID!, $from: DateTime!, $granularity: UsageGranularity!) {
    node(id: $id) {
      id
      ... on ApiKey {
        usage(from: $from, granularity: $granularity) {
          from to
          total { ...DashboardUsageCounts }
          buckets { start ...DashboardUsageCounts }
        }
      }
      ... on Deployment {
        usage(from: $from, granularity: $granularity) {
          from to
          total { ...DashboardUsageCounts }
          buckets { start ...DashboardUsageCounts }
        }
      }
    }
  }
`);

/** A key as its page shows it. */
export const ApiKeyQuery = graphql(`
  query DashboardApiKey($id: ID!) {
    node(id: $id) {
      id
      ... on ApiKey { name description prefix expiresAt expired lastUsedAt createdAt deployments { id name } }
    }
  }
`);

export const UsageUpdatesSubscription = graphql(`
  subscription DashboardUsageUpdates($projectId: ID!) {
    usageUpdates(projectId: $projectId) {
      at deploymentId apiKeyId requests errors rejected rateLimited promptTokens completionTokens
    }
  }
`);
