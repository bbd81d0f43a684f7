// Project.apiKeys(search, orderBy) and Project.deployments(search): every order pages through
// every key exactly once (pages of 3, compared with the same order asked of Postgres directly),
// nulls last, totalCount of the filtered set, LIKE wildcards taken literally, bad arguments refused.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/gql.ts';
import type { ApiKeyOrder } from '../generated/graphql.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { errorCode, errorField, useKeygate } from '../helpers/keygate.ts';
import { DeleteApiKey } from '../helpers/operations.ts';

const SearchKeys = graphql(`
  query SearchKeys($slug: String!, $first: Int, $after: String, $search: String, $orderBy: ApiKeyOrder) {
    project(slug: $slug) {
      apiKeys(first: $first, after: $after, search: $search, orderBy: $orderBy) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node { id name prefix lastUsedAt expiresAt } }
      }
    }
  }
`);

const SearchDeployments = graphql(`
  query SearchDeployments($slug: String!, $first: Int, $after: String, $search: String) {
    project(slug: $slug) {
      deployments(first: $first, after: $after, search: $search) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { name } }
      }
    }
  }
`);

const t = useKeygate();
const ORDER_SQL: Record<ApiKeyOrder, string> = {
  CREATED_AT_ASC: 'created_at ASC, id ASC',
  CREATED_AT_DESC: 'created_at DESC, id DESC',
  NAME_ASC: 'name ASC, id ASC',
  LAST_USED_AT_DESC: 'last_used_at DESC NULLS LAST, id ASC',
  EXPIRES_AT_ASC: 'expires_at ASC NULLS LAST, id ASC',
};

describe('searching and ordering a project\'s keys', () => {
  let sql: pg.Client;
  let project: { id: string; slug: string };
  beforeAll(async () => {
    sql = new pg.Client({ connectionString: t.db.url });
    await sql.connect();
    project = await createProject(t.kg);
    const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    for (let i = 0; i < 14; i++) {
      const name = i % 3 === 0 ? `svc-${100 + i}` : `web.app-${String.fromCharCode(122 - i)}${i}`;
      // expiry: some never, some sharing a date (ties go by id)
      await createKey(t.kg, project.id, name, i % 4 === 0 ? {} : { expiresAt: future(i % 3 === 0 ? 5 : 10 + i) });
    }
    await createKey(t.kg, project.id, 'per-cent', { description: 'has no % in its name' });
    // last use: some never, some tied
    await sql.query(`UPDATE api_keys SET last_used_at = now() - (interval '1 minute' * (ascii(right(name, 1)) % 4)) WHERE project_id = (SELECT id FROM projects WHERE slug = $1) AND name NOT LIKE 'svc-10%'`, [project.slug]);
  });
  afterAll(() => sql?.end());

  const page = (vars: { first?: number; after?: string | null; search?: string; orderBy?: ApiKeyOrder }) =>
    t.kg.gql(SearchKeys, { slug: project.slug, ...vars });

  async function walk(orderBy: ApiKeyOrder, search?: string) {
    const names: string[] = [];
    let after: string | null = null;
    for (;;) {
      const r = await page({ first: 3, after, orderBy, search });
      expect(r.errors).toBeUndefined();
      const c = r.data!.project!.apiKeys;
      names.push(...c.edges.map((e) => e.node.name));
      if (!c.pageInfo.hasNextPage) return { names, total: c.totalCount };
      after = c.pageInfo.endCursor!;
    }
  }

  for (const orderBy of Object.keys(ORDER_SQL) as ApiKeyOrder[]) {
    it(`pages through every key exactly once in ${orderBy}`, async () => {
      const expected = (await sql.query(`SELECT name FROM api_keys WHERE project_id = (SELECT id FROM projects WHERE slug = $1) ORDER BY ${ORDER_SQL[orderBy]}`, [project.slug])).rows.map((r) => r.name);
      const { names, total } = await walk(orderBy);
      expect(names).toEqual(expected);
      expect(total).toBe(15);
    });
  }

  it('orders by meaning: latest use first and never-used last; soonest expiry first and never-expiring last', async () => {
    const used = (await page({ first: 100, orderBy: 'LAST_USED_AT_DESC' })).data!.project!.apiKeys.edges.map((e) => e.node);
    const stamps = used.map((k) => (k.lastUsedAt ? Date.parse(k.lastUsedAt) : null));
    const firstNull = stamps.indexOf(null);
    expect(firstNull).toBeGreaterThan(0);
    expect(stamps.slice(firstNull).every((s) => s === null)).toBe(true);
    expect(stamps.slice(0, firstNull)).toEqual([...stamps.slice(0, firstNull)].sort((a, b) => b! - a!));
    const expiring = (await page({ first: 100, orderBy: 'EXPIRES_AT_ASC' })).data!.project!.apiKeys.edges.map((e) => e.node.expiresAt);
    const lastDate = expiring.findLastIndex((e) => e !== null);
    expect(expiring.slice(lastDate + 1).length).toBeGreaterThan(0);
    expect(expiring.slice(0, lastDate + 1)).toEqual([...expiring.slice(0, lastDate + 1)].sort());
    const byName = (await page({ first: 2, orderBy: 'NAME_ASC', search: 'svc' })).data!.project!.apiKeys.edges.map((e) => e.node.name);
    expect(byName).toEqual(['svc-100', 'svc-103']);
  });

  it('searches name or prefix, case-insensitively, counting only the matches, in every order', async () => {
    const svc = await walk('NAME_ASC', 'SVC-1');
    expect(svc).toEqual({ names: ['svc-100', 'svc-103', 'svc-106', 'svc-109', 'svc-112'], total: 5 });
    expect((await walk('LAST_USED_AT_DESC', 'svc-10')).total).toBe(4);
    const one = (await page({ first: 1, search: 'per-cent' })).data!.project!.apiKeys.edges[0]!.node;
    const byPrefix = await walk('CREATED_AT_DESC', one.prefix.slice(3).toUpperCase());
    expect(byPrefix.names).toContain('per-cent');
    const none = (await page({ search: 'no-such-key' })).data!.project!.apiKeys;
    expect([none.totalCount, none.edges.length, none.pageInfo.hasNextPage]).toEqual([0, 0, false]);
    // wildcards are literal: '%' matches nothing, '_' only itself; '.' matches the dotted names only
    expect((await page({ search: '%' })).data!.project!.apiKeys.totalCount).toBe(0);
    expect((await page({ search: '_' })).data!.project!.apiKeys.totalCount).toBe(15); // every prefix is kg_…
    expect((await page({ search: 'p_r' })).data!.project!.apiKeys.totalCount).toBe(0);
    expect((await page({ search: '.' })).data!.project!.apiKeys.totalCount).toBe(9);
    // blank search is no search
    expect((await page({ search: '   ' })).data!.project!.apiKeys.totalCount).toBe(15);
  });

  it('continues after a page when keys are added in between, and refuses a cursor whose key was deleted', async () => {
    const first = (await page({ first: 5, orderBy: 'NAME_ASC' })).data!.project!.apiKeys;
    const added = await createKey(t.kg, project.id, 'aaa-added-first');
    await createKey(t.kg, project.id, 'zzz-added-last');
    const rest = await page({ first: 100, after: first.pageInfo.endCursor, orderBy: 'NAME_ASC' });
    const names = rest.data!.project!.apiKeys.edges.map((e) => e.node.name);
    expect(names).toContain('zzz-added-last');
    expect(names).not.toContain('aaa-added-first');
    expect(names.some((n) => first.edges.some((e) => e.node.name === n))).toBe(false);
    const added2 = (await page({ first: 1, search: 'aaa-added' })).data!.project!.apiKeys;
    expect(added2.edges[0]!.node.id).toBe(added.apiKey.id);
    await t.kg.gql(DeleteApiKey, { input: { id: added.apiKey.id } });
    const gone = await page({ first: 3, after: added2.pageInfo.endCursor, orderBy: 'EXPIRES_AT_ASC' });
    expect([errorCode(gone), errorField(gone)]).toEqual(['BAD_USER_INPUT', 'after']);
  });

  it('refuses a search longer than 100 characters', async () => {
    const r = await page({ search: 'x'.repeat(101) });
    expect([errorCode(r), errorField(r)]).toEqual(['BAD_USER_INPUT', 'search']);
  });

  it('searches deployments by name and pages the matches', async () => {
    for (const name of ['chat-a', 'chat-b', 'embed', 'chat-c']) await createDeployment(t.kg, project.id, name);
    const r = await t.kg.gql(SearchDeployments, { slug: project.slug, first: 2, search: 'CHAT' });
    const c = r.data!.project!.deployments;
    expect([c.totalCount, c.edges.map((e) => e.node.name), c.pageInfo.hasNextPage]).toEqual([3, ['chat-a', 'chat-b'], true]);
    const next = await t.kg.gql(SearchDeployments, { slug: project.slug, first: 2, search: 'CHAT', after: c.pageInfo.endCursor });
    expect(next.data!.project!.deployments.edges.map((e) => e.node.name)).toEqual(['chat-c']);
  });
});
