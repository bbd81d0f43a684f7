// A query a client repeats runs compiled from its second execution (src/graphql-server/
// compiled-queries.ts): its answers, errors included, are the ones the generic executor gave.
import { describe, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { useKeygate } from '../helpers/keygate.ts';

const t = useKeygate();

const EVERYTHING = `
  query Everything($slug: String!, $keyId: ID!, $first: Int) {
    viewer { role tokenName }
    project(slug: $slug) {
      id slug name createdAt
      apiKeys(first: $first) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id name prefix description expired expiresAt expiresSoon previousPrefix createdAt lastUsedAt rateLimit { requestsPerMinute } project { slug } deployments { id name model authEnabled endpointUrl apiKeys { name } } } }
      }
      deployments(first: 10) { totalCount edges { node { __typename id name upstreamUrl apiKeys { id name deployments { name } } } } }
    }
    node(id: $keyId) { __typename id ... on ApiKey { name } }
  }`;

describe('compiled queries', () => {
  it('answer a repeated query as its first execution did, data and errors', async () => {
    const project = await createProject(t.kg);
    const one = await createKey(t.kg, project.id, 'key-one', { description: 'first' });
    const two = await createKey(t.kg, project.id, 'key-two', { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    await createDeployment(t.kg, project.id, 'dep-a', { apiKeyIds: [one.apiKey.id, two.apiKey.id], authEnabled: true });
    await createDeployment(t.kg, project.id, 'dep-b', { apiKeyIds: [two.apiKey.id] });

    for (const variables of [
      { slug: project.slug, keyId: one.apiKey.id, first: 10 },
      { slug: project.slug, keyId: two.apiKey.id, first: 1 },
      { slug: project.slug, keyId: one.apiKey.id, first: 0 }, // BAD_USER_INPUT on first
      { slug: 'no-such-project', keyId: one.apiKey.id, first: 10 },
    ]) {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await t.kg.gql(EVERYTHING, variables));
      expect(runs[0]!.status).toBe(200);
      expect(runs[1]).toEqual(runs[0]);
      expect(runs[2]).toEqual(runs[0]);
    }
    const [first] = [await t.kg.gql(EVERYTHING, { slug: project.slug, keyId: one.apiKey.id, first: 0 })];
    expect(first.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    const page = (await t.kg.gql(EVERYTHING, { slug: project.slug, keyId: one.apiKey.id, first: 10 })).data!.project.apiKeys;
    expect(page.edges.map((e: { node: { name: string; deployments: { name: string }[] } }) => [e.node.name, e.node.deployments.map((d) => d.name)])).toEqual([
      ['key-one', ['dep-a']],
      ['key-two', ['dep-a', 'dep-b']],
    ]);
  });
});
