// The key list reads only what it shows: the project, one page of keys (never their hash), an
// index count for totalCount, and the deployments of every key on the page in one statement.
import { describe, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { useKeygate } from '../helpers/keygate.ts';
import { LinkApiKey, ProjectKeys } from '../helpers/operations.ts';

const t = useKeygate();

/** What the list itself sends: transactions, token checks and background polls left out. */
const listStatements = (queries: string[]) => queries.filter((q) => !/^(BEGIN|COMMIT)/i.test(q) && !/access_tokens|feed_state|expiry_announced|expiring_announced/.test(q));

describe('the key list', () => {
  it('pages with the right totalCount and each key\'s deployments in link order, in 4 statements without the hash', async () => {
    const project = await createProject(t.kg);
    const keys = [];
    for (const name of ['k-one', 'k-two', 'k-three']) keys.push((await createKey(t.kg, project.id, name)).apiKey);
    const first = await createDeployment(t.kg, project.id, 'dep-first', { apiKeyIds: [keys[1]!.id] });
    const second = await createDeployment(t.kg, project.id, 'dep-second');
    await t.kg.gql(LinkApiKey, { input: { deploymentId: second.id, apiKeyId: keys[1]!.id } });
    await t.kg.gql(LinkApiKey, { input: { deploymentId: second.id, apiKeyId: keys[0]!.id } });

    t.kg.queries.length = 0;
    const page = await t.kg.gql(ProjectKeys, { slug: project.slug, first: 2 });
    const statements = listStatements(t.kg.queries);
    const connection = page.data!.project!.apiKeys;
    expect(connection.totalCount).toBe(3);
    expect(connection.pageInfo.hasNextPage).toBe(true);
    expect(connection.edges.map((e) => [e.node.name, e.node.deployments.map((d) => d.name)])).toEqual([
      ['k-one', ['dep-second']],
      ['k-two', ['dep-first', 'dep-second']],
    ]);
    expect(connection.edges[1]!.node.deployments[0]!.id).toBe(first.id);
    expect(statements.length).toBeLessThanOrEqual(4);
    expect(statements.join('\n')).not.toMatch(/hash/);
    // The page is cut by Postgres, not by reading every key of the project.
    expect(statements.find((q) => /FROM "public"\."api_keys" WHERE/.test(q) && !/COUNT/.test(q))).toMatch(/LIMIT/);

    const rest = await t.kg.gql(ProjectKeys, { slug: project.slug, first: 2, after: connection.pageInfo.endCursor });
    expect(rest.data!.project!.apiKeys.totalCount).toBe(3);
    expect(rest.data!.project!.apiKeys.edges.map((e) => [e.node.name, e.node.deployments])).toEqual([['k-three', []]]);
  });

  it('counts only the project\'s own deployments and keys', async () => {
    const mine = await createProject(t.kg);
    const other = await createProject(t.kg);
    await createKey(t.kg, mine.id, 'mine');
    await createKey(t.kg, other.id, 'theirs-1');
    await createKey(t.kg, other.id, 'theirs-2');
    await createDeployment(t.kg, other.id, 'theirs');
    const r = await t.kg.gql(`query($slug: String!) { project(slug: $slug) { apiKeys { totalCount } deployments { totalCount } } }`, { slug: mine.slug });
    expect(r.data).toEqual({ project: { apiKeys: { totalCount: 1 }, deployments: { totalCount: 0 } } });
  });
});
