// The operations of the key lifecycle views (docs/api.md): rotating a key, its overlap state, and
// the project's audit trail (Project.events). `npm run codegen` types them like operations.ts.
import { graphql } from '../generated/gql.ts';

export const RotateApiKeyMutation = graphql(`
  mutation DashboardRotateApiKey($input: RotateApiKeyInput!) {
    rotateApiKey(input: $input) {
      secret
      apiKey { id name prefix previousPrefix previousSecretExpiresAt }
      propagation { revision appliedBy expected confirmed }
    }
  }
`);

/** What the key's page shows of its lifecycle: the previous secret while it works, the expiry warning. */
export const KeyLifecycleQuery = graphql(`
  query DashboardKeyLifecycle($id: ID!) {
    node(id: $id) {
      ... on ApiKey { id name prefix previousPrefix previousSecretExpiresAt expiresAt expiresSoon expired }
    }
  }
`);

/** One page of the audit trail, newest first, narrowed by the filters given. */
export const ProjectActivityQuery = graphql(`
  query DashboardProjectActivity($slug: String!, $first: Int!, $after: String, $types: [ProjectEventType!], $apiKeyId: ID, $deploymentId: ID) {
    project(slug: $slug) {
      id
      events(first: $first, after: $after, types: $types, apiKeyId: $apiKeyId, deploymentId: $deploymentId) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { revision type at actor apiKeyId deploymentId apiKey { id name } deployment { id name } } }
      }
    }
  }
`);

/** The keys the Activity view's key filter offers (by name). */
export const KeyChoicesQuery = graphql(`
  query DashboardKeyChoices($slug: String!) {
    project(slug: $slug) { id apiKeys(first: 500, orderBy: NAME_ASC) { edges { node { id name } } } }
  }
`);
