// Every GraphQL operation the dashboard sends. `npm run codegen` turns them into typed documents
// in ./generated from the committed schema.graphql.
import { graphql } from '../generated/gql.ts';

export const ViewerQuery = graphql(`
  query DashboardViewer {
    viewer { tokenName role project { id slug } }
  }
`);

export const ProjectsQuery = graphql(`
  query DashboardProjects {
    projects(first: 100) {
      totalCount
      edges { node { id slug name createdAt } }
    }
  }
`);

export const CreateProjectMutation = graphql(`
  mutation DashboardCreateProject($input: CreateProjectInput!) {
    createProject(input: $input) { project { id slug } }
  }
`);

/** Read before the project's state: the revision to follow its change feed from (Project.revision). */
export const ProjectRevisionQuery = graphql(`
  query DashboardProjectRevision($slug: String!) {
    project(slug: $slug) { id revision }
  }
`);

/** The project and its deployments (few); its keys (possibly 100,000s) are read page by page (KeyPageQuery). */
export const ProjectQuery = graphql(`
  query DashboardProject($slug: String!) {
    project(slug: $slug) {
      id
      slug
      name
      deployments(first: 1000) {
        totalCount
        edges {
          node {
            id name model upstreamUrl endpointUrl authEnabled updatedAt
            apiKeys { id name prefix expired expiresAt expiresSoon }
          }
        }
      }
    }
  }
`);

/** One page of the project's keys, searched on the server, in the order asked for. */
export const KeyPageQuery = graphql(`
  query DashboardKeyPage($slug: String!, $first: Int!, $after: String, $search: String, $orderBy: ApiKeyOrder) {
    project(slug: $slug) {
      id
      apiKeys(first: $first, after: $after, search: $search, orderBy: $orderBy) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges {
          node {
            id name description prefix expiresAt expired lastUsedAt createdAt
            expiresSoon previousPrefix previousSecretExpiresAt
            rateLimit { requestsPerMinute tokensPerMinute }
            deployments { id name }
          }
        }
      }
    }
  }
`);

export const UpdateApiKeyMutation = graphql(`
  mutation DashboardUpdateApiKey($input: UpdateApiKeyInput!) {
    updateApiKey(input: $input) {
      apiKey { id name }
      propagation { revision appliedBy expected confirmed }
    }
  }
`);

export const UpdateDeploymentMutation = graphql(`
  mutation DashboardUpdateDeployment($input: UpdateDeploymentInput!) {
    updateDeployment(input: $input) {
      deployment { id model upstreamUrl }
      propagation { revision appliedBy expected confirmed }
    }
  }
`);

export const CreateApiKeyMutation = graphql(`
  mutation DashboardCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      secret
      apiKey { id name prefix }
      propagation { revision appliedBy expected confirmed }
    }
  }
`);

export const DeleteApiKeyMutation = graphql(`
  mutation DashboardDeleteApiKey($input: DeleteApiKeyInput!) {
    deleteApiKey(input: $input) { deletedApiKeyId propagation { revision appliedBy expected confirmed } }
  }
`);

export const CreateDeploymentMutation = graphql(`
  mutation DashboardCreateDeployment($input: CreateDeploymentInput!) {
    createDeployment(input: $input) {
      deployment { id name }
      propagation { revision appliedBy expected confirmed }
    }
  }
`);

export const DeleteDeploymentMutation = graphql(`
  mutation DashboardDeleteDeployment($input: DeleteDeploymentInput!) {
    deleteDeployment(input: $input) { deletedDeploymentId propagation { revision appliedBy expected confirmed } }
  }
`);

export const SetDeploymentAuthMutation = graphql(`
  mutation DashboardSetDeploymentAuth($input: SetDeploymentAuthInput!) {
    setDeploymentAuth(input: $input) {
      deployment { id authEnabled apiKeys { id } }
      propagation { revision appliedBy expected confirmed }
    }
  }
`);

export const ProjectEventsSubscription = graphql(`
  subscription DashboardProjectEvents($projectId: ID!, $afterRevision: Int) {
    projectEvents(projectId: $projectId, afterRevision: $afterRevision) { revision }
  }
`);
