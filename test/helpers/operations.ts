// The GraphQL operations the tests share, typed by `npm run codegen`.
import { graphql } from '../generated/gql.ts';

export const CreateProject = graphql(`
  mutation CreateProject($slug: String!, $name: String) {
    createProject(input: { slug: $slug, name: $name }) { project { id slug name createdAt } }
  }
`);

export const CreateApiKey = graphql(`
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      secret
      apiKey { id name description prefix expiresAt expired createdAt lastUsedAt project { slug } deployments { id } }
      propagation { revision confirmed appliedBy expected }
    }
  }
`);

export const UpdateApiKey = graphql(`
  mutation UpdateApiKey($input: UpdateApiKeyInput!) {
    updateApiKey(input: $input) {
      apiKey { id name description expiresAt expired }
      propagation { revision confirmed appliedBy expected }
    }
  }
`);

export const DeleteApiKey = graphql(`
  mutation DeleteApiKey($input: DeleteApiKeyInput!) {
    deleteApiKey(input: $input) { deletedApiKeyId propagation { revision confirmed appliedBy expected } }
  }
`);

export const CreateDeployment = graphql(`
  mutation CreateDeployment($input: CreateDeploymentInput!) {
    createDeployment(input: $input) {
      deployment { id name model upstreamUrl endpointUrl authEnabled apiKeys { id name } createdAt updatedAt project { slug } }
      propagation { revision confirmed appliedBy expected }
    }
  }
`);

export const UpdateDeployment = graphql(`
  mutation UpdateDeployment($input: UpdateDeploymentInput!) {
    updateDeployment(input: $input) {
      deployment { id model upstreamUrl updatedAt }
      propagation { revision confirmed appliedBy expected }
    }
  }
`);

export const DeleteDeployment = graphql(`
  mutation DeleteDeployment($input: DeleteDeploymentInput!) {
    deleteDeployment(input: $input) { deletedDeploymentId propagation { revision confirmed appliedBy expected } }
  }
`);

export const SetDeploymentAuth = graphql(`
  mutation SetDeploymentAuth($input: SetDeploymentAuthInput!) {
    setDeploymentAuth(input: $input) {
      deployment { id authEnabled apiKeys { id name } }
      propagation { revision confirmed appliedBy expected }
    }
  }
`);

export const LinkApiKey = graphql(`
  mutation LinkApiKey($input: LinkApiKeyInput!) {
    linkApiKey(input: $input) {
      deployment { id apiKeys { id } }
      apiKey { id deployments { id } }
      propagation { revision confirmed appliedBy expected }
    }
  }
`);

export const UnlinkApiKey = graphql(`
  mutation UnlinkApiKey($input: UnlinkApiKeyInput!) {
    unlinkApiKey(input: $input) {
      deployment { id apiKeys { id } }
      apiKey { id deployments { id } }
      propagation { revision confirmed appliedBy expected }
    }
  }
`);

export const CreateAccessToken = graphql(`
  mutation CreateAccessToken($input: CreateAccessTokenInput!) {
    createAccessToken(input: $input) { id token }
  }
`);

export const DeleteAccessToken = graphql(`
  mutation DeleteAccessToken($input: DeleteAccessTokenInput!) {
    deleteAccessToken(input: $input) { deletedAccessTokenId }
  }
`);

export const ProjectKeys = graphql(`
  query ProjectKeys($slug: String!, $first: Int, $after: String) {
    project(slug: $slug) {
      id
      apiKeys(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node { id name prefix expired deployments { id name } } }
      }
    }
  }
`);

export const ProjectDeployments = graphql(`
  query ProjectDeployments($slug: String!, $first: Int, $after: String) {
    project(slug: $slug) {
      deployments(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id name authEnabled endpointUrl apiKeys { id name } } }
      }
    }
  }
`);

export const Projects = graphql(`
  query Projects($first: Int, $after: String) {
    projects(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id slug } }
    }
  }
`);

export const Node = graphql(`
  query Node($id: ID!) {
    node(id: $id) {
      id
      __typename
      ... on ApiKey { name }
      ... on Deployment { name }
      ... on Project { slug }
      ... on AccessToken { name role }
    }
  }
`);

export const ViewerQuery = graphql(`
  query Viewer { viewer { role tokenName project { slug } } }
`);

export const AccessTokens = graphql(`
  query AccessTokens($first: Int) {
    accessTokens(first: $first) { totalCount edges { node { id name role project { slug } } } }
  }
`);
