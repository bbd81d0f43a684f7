/* eslint-disable */
import * as types from './graphql.ts';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

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
    "\n  query SearchKeys($slug: String!, $first: Int, $after: String, $search: String, $orderBy: ApiKeyOrder) {\n    project(slug: $slug) {\n      apiKeys(first: $first, after: $after, search: $search, orderBy: $orderBy) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { cursor node { id name prefix lastUsedAt expiresAt } }\n      }\n    }\n  }\n": typeof types.SearchKeysDocument,
    "\n  query SearchDeployments($slug: String!, $first: Int, $after: String, $search: String) {\n    project(slug: $slug) {\n      deployments(first: $first, after: $after, search: $search) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { name } }\n      }\n    }\n  }\n": typeof types.SearchDeploymentsDocument,
    "\n  query HugeKeyPage($slug: String!) {\n    project(slug: $slug) {\n      apiKeys(first: 50, orderBy: CREATED_AT_DESC) {\n        totalCount\n        edges { node { id name description prefix expiresAt expired lastUsedAt createdAt deployments { id name } } }\n      }\n    }\n  }\n": typeof types.HugeKeyPageDocument,
    "\n  mutation CreateProject($slug: String!, $name: String) {\n    createProject(input: { slug: $slug, name: $name }) { project { id slug name createdAt } }\n  }\n": typeof types.CreateProjectDocument,
    "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey { id name description prefix expiresAt expired createdAt lastUsedAt project { slug } deployments { id } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": typeof types.CreateApiKeyDocument,
    "\n  mutation UpdateApiKey($input: UpdateApiKeyInput!) {\n    updateApiKey(input: $input) {\n      apiKey { id name description expiresAt expired }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": typeof types.UpdateApiKeyDocument,
    "\n  mutation DeleteApiKey($input: DeleteApiKeyInput!) {\n    deleteApiKey(input: $input) { deletedApiKeyId propagation { revision confirmed appliedBy expected } }\n  }\n": typeof types.DeleteApiKeyDocument,
    "\n  mutation CreateDeployment($input: CreateDeploymentInput!) {\n    createDeployment(input: $input) {\n      deployment { id name model upstreamUrl endpointUrl authEnabled apiKeys { id name } createdAt updatedAt project { slug } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": typeof types.CreateDeploymentDocument,
    "\n  mutation UpdateDeployment($input: UpdateDeploymentInput!) {\n    updateDeployment(input: $input) {\n      deployment { id model upstreamUrl updatedAt }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": typeof types.UpdateDeploymentDocument,
    "\n  mutation DeleteDeployment($input: DeleteDeploymentInput!) {\n    deleteDeployment(input: $input) { deletedDeploymentId propagation { revision confirmed appliedBy expected } }\n  }\n": typeof types.DeleteDeploymentDocument,
    "\n  mutation SetDeploymentAuth($input: SetDeploymentAuthInput!) {\n    setDeploymentAuth(input: $input) {\n      deployment { id authEnabled apiKeys { id name } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": typeof types.SetDeploymentAuthDocument,
    "\n  mutation LinkApiKey($input: LinkApiKeyInput!) {\n    linkApiKey(input: $input) {\n      deployment { id apiKeys { id } }\n      apiKey { id deployments { id } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": typeof types.LinkApiKeyDocument,
    "\n  mutation UnlinkApiKey($input: UnlinkApiKeyInput!) {\n    unlinkApiKey(input: $input) {\n      deployment { id apiKeys { id } }\n      apiKey { id deployments { id } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": typeof types.UnlinkApiKeyDocument,
    "\n  mutation CreateAccessToken($input: CreateAccessTokenInput!) {\n    createAccessToken(input: $input) { id token }\n  }\n": typeof types.CreateAccessTokenDocument,
    "\n  mutation DeleteAccessToken($input: DeleteAccessTokenInput!) {\n    deleteAccessToken(input: $input) { deletedAccessTokenId }\n  }\n": typeof types.DeleteAccessTokenDocument,
    "\n  query ProjectKeys($slug: String!, $first: Int, $after: String) {\n    project(slug: $slug) {\n      id\n      apiKeys(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { cursor node { id name prefix expired deployments { id name } } }\n      }\n    }\n  }\n": typeof types.ProjectKeysDocument,
    "\n  query ProjectDeployments($slug: String!, $first: Int, $after: String) {\n    project(slug: $slug) {\n      deployments(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { id name authEnabled endpointUrl apiKeys { id name } } }\n      }\n    }\n  }\n": typeof types.ProjectDeploymentsDocument,
    "\n  query Projects($first: Int, $after: String) {\n    projects(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { cursor node { id slug } }\n    }\n  }\n": typeof types.ProjectsDocument,
    "\n  query Node($id: ID!) {\n    node(id: $id) {\n      id\n      __typename\n      ... on ApiKey { name }\n      ... on Deployment { name }\n      ... on Project { slug }\n      ... on AccessToken { name role }\n    }\n  }\n": typeof types.NodeDocument,
    "\n  query Viewer { viewer { role tokenName project { slug } } }\n": typeof types.ViewerDocument,
    "\n  query AccessTokens($first: Int) {\n    accessTokens(first: $first) { totalCount edges { node { id name role project { slug } } } }\n  }\n": typeof types.AccessTokensDocument,
};
const documents: Documents = {
    "\n  query SearchKeys($slug: String!, $first: Int, $after: String, $search: String, $orderBy: ApiKeyOrder) {\n    project(slug: $slug) {\n      apiKeys(first: $first, after: $after, search: $search, orderBy: $orderBy) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { cursor node { id name prefix lastUsedAt expiresAt } }\n      }\n    }\n  }\n": types.SearchKeysDocument,
    "\n  query SearchDeployments($slug: String!, $first: Int, $after: String, $search: String) {\n    project(slug: $slug) {\n      deployments(first: $first, after: $after, search: $search) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { name } }\n      }\n    }\n  }\n": types.SearchDeploymentsDocument,
    "\n  query HugeKeyPage($slug: String!) {\n    project(slug: $slug) {\n      apiKeys(first: 50, orderBy: CREATED_AT_DESC) {\n        totalCount\n        edges { node { id name description prefix expiresAt expired lastUsedAt createdAt deployments { id name } } }\n      }\n    }\n  }\n": types.HugeKeyPageDocument,
    "\n  mutation CreateProject($slug: String!, $name: String) {\n    createProject(input: { slug: $slug, name: $name }) { project { id slug name createdAt } }\n  }\n": types.CreateProjectDocument,
    "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey { id name description prefix expiresAt expired createdAt lastUsedAt project { slug } deployments { id } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": types.CreateApiKeyDocument,
    "\n  mutation UpdateApiKey($input: UpdateApiKeyInput!) {\n    updateApiKey(input: $input) {\n      apiKey { id name description expiresAt expired }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": types.UpdateApiKeyDocument,
    "\n  mutation DeleteApiKey($input: DeleteApiKeyInput!) {\n    deleteApiKey(input: $input) { deletedApiKeyId propagation { revision confirmed appliedBy expected } }\n  }\n": types.DeleteApiKeyDocument,
    "\n  mutation CreateDeployment($input: CreateDeploymentInput!) {\n    createDeployment(input: $input) {\n      deployment { id name model upstreamUrl endpointUrl authEnabled apiKeys { id name } createdAt updatedAt project { slug } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": types.CreateDeploymentDocument,
    "\n  mutation UpdateDeployment($input: UpdateDeploymentInput!) {\n    updateDeployment(input: $input) {\n      deployment { id model upstreamUrl updatedAt }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": types.UpdateDeploymentDocument,
    "\n  mutation DeleteDeployment($input: DeleteDeploymentInput!) {\n    deleteDeployment(input: $input) { deletedDeploymentId propagation { revision confirmed appliedBy expected } }\n  }\n": types.DeleteDeploymentDocument,
    "\n  mutation SetDeploymentAuth($input: SetDeploymentAuthInput!) {\n    setDeploymentAuth(input: $input) {\n      deployment { id authEnabled apiKeys { id name } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": types.SetDeploymentAuthDocument,
    "\n  mutation LinkApiKey($input: LinkApiKeyInput!) {\n    linkApiKey(input: $input) {\n      deployment { id apiKeys { id } }\n      apiKey { id deployments { id } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": types.LinkApiKeyDocument,
    "\n  mutation UnlinkApiKey($input: UnlinkApiKeyInput!) {\n    unlinkApiKey(input: $input) {\n      deployment { id apiKeys { id } }\n      apiKey { id deployments { id } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n": types.UnlinkApiKeyDocument,
    "\n  mutation CreateAccessToken($input: CreateAccessTokenInput!) {\n    createAccessToken(input: $input) { id token }\n  }\n": types.CreateAccessTokenDocument,
    "\n  mutation DeleteAccessToken($input: DeleteAccessTokenInput!) {\n    deleteAccessToken(input: $input) { deletedAccessTokenId }\n  }\n": types.DeleteAccessTokenDocument,
    "\n  query ProjectKeys($slug: String!, $first: Int, $after: String) {\n    project(slug: $slug) {\n      id\n      apiKeys(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { cursor node { id name prefix expired deployments { id name } } }\n      }\n    }\n  }\n": types.ProjectKeysDocument,
    "\n  query ProjectDeployments($slug: String!, $first: Int, $after: String) {\n    project(slug: $slug) {\n      deployments(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { id name authEnabled endpointUrl apiKeys { id name } } }\n      }\n    }\n  }\n": types.ProjectDeploymentsDocument,
    "\n  query Projects($first: Int, $after: String) {\n    projects(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { cursor node { id slug } }\n    }\n  }\n": types.ProjectsDocument,
    "\n  query Node($id: ID!) {\n    node(id: $id) {\n      id\n      __typename\n      ... on ApiKey { name }\n      ... on Deployment { name }\n      ... on Project { slug }\n      ... on AccessToken { name role }\n    }\n  }\n": types.NodeDocument,
    "\n  query Viewer { viewer { role tokenName project { slug } } }\n": types.ViewerDocument,
    "\n  query AccessTokens($first: Int) {\n    accessTokens(first: $first) { totalCount edges { node { id name role project { slug } } } }\n  }\n": types.AccessTokensDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SearchKeys($slug: String!, $first: Int, $after: String, $search: String, $orderBy: ApiKeyOrder) {\n    project(slug: $slug) {\n      apiKeys(first: $first, after: $after, search: $search, orderBy: $orderBy) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { cursor node { id name prefix lastUsedAt expiresAt } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query SearchKeys($slug: String!, $first: Int, $after: String, $search: String, $orderBy: ApiKeyOrder) {\n    project(slug: $slug) {\n      apiKeys(first: $first, after: $after, search: $search, orderBy: $orderBy) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { cursor node { id name prefix lastUsedAt expiresAt } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SearchDeployments($slug: String!, $first: Int, $after: String, $search: String) {\n    project(slug: $slug) {\n      deployments(first: $first, after: $after, search: $search) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { name } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query SearchDeployments($slug: String!, $first: Int, $after: String, $search: String) {\n    project(slug: $slug) {\n      deployments(first: $first, after: $after, search: $search) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { name } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query HugeKeyPage($slug: String!) {\n    project(slug: $slug) {\n      apiKeys(first: 50, orderBy: CREATED_AT_DESC) {\n        totalCount\n        edges { node { id name description prefix expiresAt expired lastUsedAt createdAt deployments { id name } } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query HugeKeyPage($slug: String!) {\n    project(slug: $slug) {\n      apiKeys(first: 50, orderBy: CREATED_AT_DESC) {\n        totalCount\n        edges { node { id name description prefix expiresAt expired lastUsedAt createdAt deployments { id name } } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateProject($slug: String!, $name: String) {\n    createProject(input: { slug: $slug, name: $name }) { project { id slug name createdAt } }\n  }\n"): (typeof documents)["\n  mutation CreateProject($slug: String!, $name: String) {\n    createProject(input: { slug: $slug, name: $name }) { project { id slug name createdAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey { id name description prefix expiresAt expired createdAt lastUsedAt project { slug } deployments { id } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey { id name description prefix expiresAt expired createdAt lastUsedAt project { slug } deployments { id } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateApiKey($input: UpdateApiKeyInput!) {\n    updateApiKey(input: $input) {\n      apiKey { id name description expiresAt expired }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateApiKey($input: UpdateApiKeyInput!) {\n    updateApiKey(input: $input) {\n      apiKey { id name description expiresAt expired }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteApiKey($input: DeleteApiKeyInput!) {\n    deleteApiKey(input: $input) { deletedApiKeyId propagation { revision confirmed appliedBy expected } }\n  }\n"): (typeof documents)["\n  mutation DeleteApiKey($input: DeleteApiKeyInput!) {\n    deleteApiKey(input: $input) { deletedApiKeyId propagation { revision confirmed appliedBy expected } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateDeployment($input: CreateDeploymentInput!) {\n    createDeployment(input: $input) {\n      deployment { id name model upstreamUrl endpointUrl authEnabled apiKeys { id name } createdAt updatedAt project { slug } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateDeployment($input: CreateDeploymentInput!) {\n    createDeployment(input: $input) {\n      deployment { id name model upstreamUrl endpointUrl authEnabled apiKeys { id name } createdAt updatedAt project { slug } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateDeployment($input: UpdateDeploymentInput!) {\n    updateDeployment(input: $input) {\n      deployment { id model upstreamUrl updatedAt }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateDeployment($input: UpdateDeploymentInput!) {\n    updateDeployment(input: $input) {\n      deployment { id model upstreamUrl updatedAt }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteDeployment($input: DeleteDeploymentInput!) {\n    deleteDeployment(input: $input) { deletedDeploymentId propagation { revision confirmed appliedBy expected } }\n  }\n"): (typeof documents)["\n  mutation DeleteDeployment($input: DeleteDeploymentInput!) {\n    deleteDeployment(input: $input) { deletedDeploymentId propagation { revision confirmed appliedBy expected } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetDeploymentAuth($input: SetDeploymentAuthInput!) {\n    setDeploymentAuth(input: $input) {\n      deployment { id authEnabled apiKeys { id name } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"): (typeof documents)["\n  mutation SetDeploymentAuth($input: SetDeploymentAuthInput!) {\n    setDeploymentAuth(input: $input) {\n      deployment { id authEnabled apiKeys { id name } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LinkApiKey($input: LinkApiKeyInput!) {\n    linkApiKey(input: $input) {\n      deployment { id apiKeys { id } }\n      apiKey { id deployments { id } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"): (typeof documents)["\n  mutation LinkApiKey($input: LinkApiKeyInput!) {\n    linkApiKey(input: $input) {\n      deployment { id apiKeys { id } }\n      apiKey { id deployments { id } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnlinkApiKey($input: UnlinkApiKeyInput!) {\n    unlinkApiKey(input: $input) {\n      deployment { id apiKeys { id } }\n      apiKey { id deployments { id } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"): (typeof documents)["\n  mutation UnlinkApiKey($input: UnlinkApiKeyInput!) {\n    unlinkApiKey(input: $input) {\n      deployment { id apiKeys { id } }\n      apiKey { id deployments { id } }\n      propagation { revision confirmed appliedBy expected }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateAccessToken($input: CreateAccessTokenInput!) {\n    createAccessToken(input: $input) { id token }\n  }\n"): (typeof documents)["\n  mutation CreateAccessToken($input: CreateAccessTokenInput!) {\n    createAccessToken(input: $input) { id token }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteAccessToken($input: DeleteAccessTokenInput!) {\n    deleteAccessToken(input: $input) { deletedAccessTokenId }\n  }\n"): (typeof documents)["\n  mutation DeleteAccessToken($input: DeleteAccessTokenInput!) {\n    deleteAccessToken(input: $input) { deletedAccessTokenId }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProjectKeys($slug: String!, $first: Int, $after: String) {\n    project(slug: $slug) {\n      id\n      apiKeys(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { cursor node { id name prefix expired deployments { id name } } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ProjectKeys($slug: String!, $first: Int, $after: String) {\n    project(slug: $slug) {\n      id\n      apiKeys(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { cursor node { id name prefix expired deployments { id name } } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProjectDeployments($slug: String!, $first: Int, $after: String) {\n    project(slug: $slug) {\n      deployments(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { id name authEnabled endpointUrl apiKeys { id name } } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ProjectDeployments($slug: String!, $first: Int, $after: String) {\n    project(slug: $slug) {\n      deployments(first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        edges { node { id name authEnabled endpointUrl apiKeys { id name } } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Projects($first: Int, $after: String) {\n    projects(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { cursor node { id slug } }\n    }\n  }\n"): (typeof documents)["\n  query Projects($first: Int, $after: String) {\n    projects(first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges { cursor node { id slug } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Node($id: ID!) {\n    node(id: $id) {\n      id\n      __typename\n      ... on ApiKey { name }\n      ... on Deployment { name }\n      ... on Project { slug }\n      ... on AccessToken { name role }\n    }\n  }\n"): (typeof documents)["\n  query Node($id: ID!) {\n    node(id: $id) {\n      id\n      __typename\n      ... on ApiKey { name }\n      ... on Deployment { name }\n      ... on Project { slug }\n      ... on AccessToken { name role }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer { viewer { role tokenName project { slug } } }\n"): (typeof documents)["\n  query Viewer { viewer { role tokenName project { slug } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AccessTokens($first: Int) {\n    accessTokens(first: $first) { totalCount edges { node { id name role project { slug } } } }\n  }\n"): (typeof documents)["\n  query AccessTokens($first: Int) {\n    accessTokens(first: $first) { totalCount edges { node { id name role project { slug } } } }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;