// The operations of the usage views (docs/api.md, "Usage"). `npm run codegen` types them like
// operations.ts. Per-key counts for the keys list are read by id in batches (key-usage.ts).
import { graphql } from '../generated/gql.ts';

export const UsageCountsFragment = graphql(`
  fragment DashboardUsageCounts on UsageBucket {
    requests errors rejected rateLimited promptTokens completionTokens
  }
`);

// The project's Usage view reads its series, its deployments' totals and its keys' totals in three
// requests: together, a 7-day hourly range (169 buckets) would cost more than an operation may
// (each bucket of each series counts, docs/api.md "Usage").

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

/** Each deployment's total over the range. */
export const DeploymentTotalsQuery = graphql(`
  query DashboardDeploymentTotals($slug: String!, $from: DateTime!, $granularity: UsageGranularity!) {
    project(slug: $slug) {
      deployments(first: 100) {
        edges { node { id name usage(from: $from, granularity: $granularity) { total { ...DashboardUsageCounts } } } }
      }
    }
  }
`);

/** The totals over the range of the `keys` most recently used keys. */
export const KeyTotalsQuery = graphql(`
  query DashboardKeyTotals($slug: String!, $from: DateTime!, $granularity: UsageGranularity!, $keys: Int!) {
    project(slug: $slug) {
      apiKeys(first: $keys, orderBy: LAST_USED_AT_DESC) {
        edges { node { id name usage(from: $from, granularity: $granularity) { total { ...DashboardUsageCounts } } } }
      }
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
