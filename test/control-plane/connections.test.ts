import { describe, expect, it } from 'vitest';
import { createProject } from '../helpers/fixtures.ts';
import { errorCode, errorField, useKeygate } from '../helpers/keygate.ts';
import { CreateApiKey, ProjectKeys, Projects } from '../helpers/operations.ts';

const t = useKeygate();

describe('connections', () => {
  it('order by creation, default to 50, page with after, and count everything', async () => {
    const project = await createProject(t.kg);
    for (let i = 0; i < 55; i++) {
      const r = await t.kg.gql(CreateApiKey, { input: { projectId: project.id, name: `key-${String(i).padStart(3, '0')}` } });
      expect(r.errors).toBeUndefined();
    }
    const page1 = await t.kg.gql(ProjectKeys, { slug: project.slug });
    const c1 = page1.data!.project!.apiKeys;
    expect(c1.totalCount).toBe(55);
    expect(c1.edges).toHaveLength(50);
    expect(c1.pageInfo.hasNextPage).toBe(true);
    expect(c1.edges.map((e) => e.node.name)).toEqual(Array.from({ length: 50 }, (_, i) => `key-${String(i).padStart(3, '0')}`));
    const page2 = await t.kg.gql(ProjectKeys, { slug: project.slug, after: c1.pageInfo.endCursor });
    const c2 = page2.data!.project!.apiKeys;
    expect(c2.edges.map((e) => e.node.name)).toEqual(['key-050', 'key-051', 'key-052', 'key-053', 'key-054']);
    expect(c2.pageInfo.hasNextPage).toBe(false);
    expect(c2.totalCount).toBe(55);
  });

  it('reject first outside 1–1000 and a bad after with BAD_USER_INPUT naming the argument', async () => {
    const project = await createProject(t.kg);
    for (const first of [0, -1, 1001]) {
      const r = await t.kg.gql(ProjectKeys, { slug: project.slug, first });
      expect([errorCode(r), errorField(r)]).toEqual(['BAD_USER_INPUT', 'first']);
      const p = await t.kg.gql(Projects, { first });
      expect([errorCode(p), errorField(p)]).toEqual(['BAD_USER_INPUT', 'first']);
    }
    for (const after of ['garbage', Buffer.from('GPC:S:not-a-uuid').toString('base64'), '']) {
      const r = await t.kg.gql(ProjectKeys, { slug: project.slug, after });
      expect([errorCode(r), errorField(r)]).toEqual(['BAD_USER_INPUT', 'after']);
    }
    expect((await t.kg.gql(ProjectKeys, { slug: project.slug, first: 1000 })).errors).toBeUndefined();
  });
});

describe('GraphQL limits and errors', () => {
  it('refuses deep queries and alias floods with the limit codes, and masks nothing expected', async () => {
    const deep = await t.kg.gql(`{ projects { edges { node { apiKeys { edges { node { deployments { apiKeys { deployments { apiKeys { deployments { id } } } } } } } } } } } }`);
    expect(deep.errors?.[0]?.message).toMatch(/depth/i);
    const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: viewer { role }`).join(' ');
    const flood = await t.kg.gql(`{ ${aliases} }`);
    expect(flood.errors?.[0]?.message).toMatch(/alias/i);
    const parse = await t.kg.gql('{ viewer { ');
    expect(errorCode(parse)).toBe('GRAPHQL_PARSE_FAILED');
    const validation = await t.kg.gql('{ nope }');
    expect(errorCode(validation)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('answers a null for a required input with an error, not a crash', async () => {
    const r = await t.kg.gql('mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }', { i: { projectId: null, name: 'x' } });
    expect(r.errors?.length).toBeGreaterThan(0);
    expect(r.data ?? null).toBeNull();
    const badDate = await t.kg.gql(CreateApiKey, { input: { projectId: 'UHJvamVjdDp4', name: 'date-key', expiresAt: 'tomorrow' } });
    expect(badDate.errors?.[0]?.message).toMatch(/DateTime/);
  });
});
